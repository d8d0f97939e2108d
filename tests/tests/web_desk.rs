//! The web desk in a real Chromium: signing in, the live desk (an agent's request appears
//! without a reload, its hostile text shown as text and never run), a ticket's page with the
//! dispatcher's actions, a ticket logged through the form, and signing out; a customer asking from
//! the portal, following their ticket by its link and confirming it solved. Every page is kept
//! as a screenshot under target/tmp/web-screens/.

use tether_e2e::broker::Broker;
use tether_e2e::browser::Browser;

/// What a customer's agent sends as its name; the issue repeats it.
const HOSTILE: &str = "<img src=x onerror=alert(1)>";

#[test]
fn a_dispatcher_works_the_desk_in_a_browser_and_hostile_text_stays_text() {
    let broker = Broker::start();
    broker.add_user("dana", "dispatcher", "dana-password");
    broker.add_user("tom", "technician", "tom-password");
    let browser = Browser::start(&broker);

    browser.open("/");
    browser.wait_for("form #user");
    assert!(
        !browser.displayed("#nav") && !browser.displayed("#sign-out"),
        "desk links before sign-in"
    );
    browser.screenshot("sign-in");
    browser.fill("#user", "dana");
    browser.fill("#password", "not-her-password");
    browser.click("button[type=submit]");
    browser.wait_for_text("p.error", "wrong user name or password");
    browser.fill("#password", "dana-password");
    browser.click("button[type=submit]");
    browser.wait_for_text("main h1", "Open tickets");
    browser.wait_for_text("#who", "dana (dispatcher)");
    assert!(browser.displayed("#nav") && browser.displayed("#sign-out"));
    browser.wait_for("#live:not([hidden])");
    assert!(browser.cookie_names().contains(&"tether_session".to_string()));
    let readable = browser.run("return document.cookie");
    assert!(!readable.as_str().unwrap_or("").contains("tether_session"), "scripts can read it");
    browser.screenshot("desk-empty");

    // A customer asks for help; the desk shows it without a reload.
    let _agent = broker.request(HOSTILE, "view");
    browser.wait_for_text("td.issue", "printer is on fire");
    let issue = browser.texts("td.issue").remove(0);
    assert_eq!(issue, format!("{HOSTILE}'s printer is on fire"));
    assert_eq!(browser.count("main img"), 0, "the issue's markup became an element");
    assert!(!browser.alert_open(), "the issue's script ran");
    browser.screenshot("desk-live");

    // Its page: fields, history, and the dispatcher's actions.
    browser.click("tbody tr a");
    browser.wait_for_text("#history-title", "History");
    browser.wait_for_text("dl.fields", HOSTILE);
    browser.fill("#assign-to", "tom");
    browser.click("#assign");
    browser.wait_for_text("ol.history", "assigned to tom (by dana)");
    browser.fill("#priority-reason", "the customer cannot work");
    browser.choose("#new-priority", "critical");
    browser.click("#set-priority");
    browser.wait_for_text("ol.history", "now critical: the customer cannot work");
    browser.fill("#escalate-reason", "tom needs a second pair of eyes");
    browser.click("#escalate");
    browser.wait_for_text("ol.history", "escalated to dana: tom needs a second pair of eyes");
    assert!(!browser.alert_open());
    browser.screenshot("ticket");

    // A change sent from the page with a forged CSRF token is refused (the page's own
    // changes above carried the right one).
    let forged = browser.run(
        "return fetch('/api/v1/tickets/1/ack', { method: 'POST', headers: { \
         'Content-Type': 'application/json', 'X-CSRF-Token': '0'.repeat(64) }, body: '{}' }) \
         .then((r) => r.status)",
    );
    assert_eq!(forged, serde_json::json!(403));

    // A ticket that came by phone, logged through the form.
    browser.open("/#/new");
    browser.wait_for("#client");
    browser.fill("#client", "Grace Hopper");
    browser.fill("#contact", "+1 555 0199");
    browser.fill("#issue", "The compiler found a moth");
    browser.choose("#priority", "high");
    browser.screenshot("new-ticket");
    browser.click("form button[type=submit]");
    browser.wait_for_text("dl.fields", "The compiler found a moth");
    browser.wait_for_text("ol.history", "high ticket from Grace Hopper by phone");
    browser.screenshot("ticket-created");

    browser.open("/");
    browser.wait_for_text("td.issue", "The compiler found a moth");
    assert_eq!(browser.count("tbody tr"), 2);

    // An onsite visit through the page, on the phone ticket: scheduled, a technician sent,
    // the arrival, a part and a photo logged, and the client's sign-off.
    browser.click("tbody tr:nth-child(2) a");
    browser.wait_for_text("dl.fields", "The compiler found a moth");
    browser.set_value("#visit-from", "2030-01-07T09:00");
    browser.set_value("#visit-to", "2030-01-07T12:00");
    browser.fill("#visit-address", "12 Analytical Row");
    browser.fill("#visit-lat", "51.5");
    browser.fill("#visit-lon", "-0.12");
    browser.click("#schedule-visit button[type=submit]");
    browser.wait_for_text("#onsite dl", "12 Analytical Row");
    browser.fill("#dispatch-to", "tom");
    browser.click("#dispatch button[type=submit]");
    browser.wait_for_text("#onsite dl", "tom");
    browser.set_value("#eta", "2030-01-07T09:30");
    browser.fill("#eta-reason", "traffic");
    browser.click("#set-eta button[type=submit]");
    browser.wait_for_text("ol.history", "traffic");
    browser.choose("#log-kind", "part");
    browser.fill("#log-text", "one toner cartridge");
    browser.click("#onsite-log button[type=submit]");
    browser.wait_for_text("ol.history", "part: one toner cartridge");
    let photo = tempfile::tempdir().unwrap();
    let path = photo.path().join("moth.txt");
    std::fs::write(&path, b"a moth, taped into the log book").unwrap();
    let digest = ring::digest::digest(&ring::digest::SHA256, b"a moth, taped into the log book");
    browser.choose("#log-kind", "attachment");
    browser.fill("#log-text", "the moth");
    browser.attach("#log-file", &path);
    browser.click("#onsite-log button[type=submit]");
    browser
        .wait_for_text("ol.history", &format!("sha256 {}", tether_protocol::hex(digest.as_ref())));
    browser.screenshot("ticket-onsite");
    browser.fill("#sign-name", "Grace Hopper");
    browser.click("#sign-off button[type=submit]");
    browser.wait_for_text("ol.history", "signed off by Grace Hopper");
    browser.wait_for_text("#onsite dl", "by Grace Hopper");
    assert_eq!(browser.count("#sign-off"), 0, "a signed-off visit still offers its forms");

    // Signing out ends the session: the page asks for a sign-in again, even after a reload.
    browser.click("#sign-out");
    browser.wait_for("form #user");
    browser.open("/");
    browser.wait_for("form #user");
    assert!(!browser.cookie_names().contains(&"tether_session".to_string()));
    assert!(!browser.displayed("#nav"));
    browser.screenshot("signed-out");
}

#[test]
fn a_customer_asks_from_the_portal_follows_the_ticket_and_confirms_it_solved() {
    use serde_json::json;
    use tether_e2e::web::Web;

    let broker = Broker::start();
    broker.add_user("dana", "dispatcher", "dana-password");
    let dana = broker.console("dana");
    assert!(dana.login("dana", "dana-password").status.success());
    let as_dana = format!("Bearer {}", dana.token());
    let as_dana = [("authorization", as_dana.as_str())];
    broker.add_user("tim", "technician", "tim-password");
    let web = Web::http1(&broker);
    let browser = Browser::start(&broker);

    browser.open("/portal");
    browser.wait_for("form #name");
    assert!(!browser.displayed("#nav"), "the desk's links on the customer's page");
    browser.fill("#name", HOSTILE);
    browser.fill("#contact", "ada@example.com");
    browser.fill("#issue", "My screen shows only moths");
    browser.choose("#urgency", "critical");
    browser.screenshot("portal");
    browser.click("form button[type=submit]");
    browser.wait_for_text("#received-title", "Your request is T1");
    let link = browser.value("#ticket-link");
    assert!(link.starts_with(&format!("{}/t/", browser.origin)), "{link}");
    browser.screenshot("portal-received");

    // Their page: what they asked, the claim as a claim, nobody on it yet.
    browser.click("#open-ticket");
    browser.wait_for_text("#ticket-title", "Your request T1");
    browser.wait_for_text("dl.fields", "My screen shows only moths");
    browser.wait_for_text("dl.fields", "(you said critical)");
    browser.wait_for_text("ol.history", "Your request was received");
    assert_eq!(browser.count("main img"), 0, "the name's markup became an element");
    assert!(!browser.alert_open(), "the name's script ran");
    assert!(!browser.displayed("#not-solved"), "nothing was resolved yet");

    // The desk gives it to tim; the customer's page shows him.
    let reply = web.post("/api/v1/tickets/1/assign", &as_dana, &json!({"to": "tim"}));
    assert_eq!(reply.status, 200, "{}", reply.text());
    browser.open(link.strip_prefix(&browser.origin).unwrap());
    browser.wait_for_text("dl.fields", "tim");
    browser.wait_for_text("ol.history", "A technician took it");
    browser.screenshot("customer-ticket");
    browser.resize(412, 915);
    browser.screenshot("customer-ticket-phone");
    browser.resize(1366, 768);

    // The problem went away: they say so, with a rating and a comment.
    browser.choose("#rating", "5");
    browser.fill("#comment", "Thank you, tim!");
    browser.click("#solved");
    browser.wait_for_text("#answer-title + p", "This request is closed");
    browser.wait_for_text("dl.fields", "you rated it 5/5");
    browser.screenshot("customer-closed");
    let t = web.get("/api/v1/tickets/1", &as_dana).json();
    assert_eq!(t["summary"]["status"], "closed", "{t}");
    assert_eq!((t["rating"].as_u64(), t["comment"].as_str()), (Some(5), Some("Thank you, tim!")));

    // A guessed link shows the refusal, not a ticket.
    browser.open(&format!("/t/{}", "0".repeat(64)));
    browser.wait_for_text("p.error", "no ticket has this link");
    assert_eq!(browser.count("dl.fields"), 0);
}

/// A finished session between the customer `bob` and `alice`, with one chat line each way and
/// a shell that ran one command; its id, once its transcript is sealed.
fn chatted_session(broker: &Broker, alice: &tether_e2e::proc::Console) -> String {
    let mut agent = broker.request("bob", "all");
    let ticket = agent.wait_event("ticket")["ticket"].as_str().unwrap().to_string();
    let mut console = alice.join(&ticket);
    let session = console.wait_event("paired")["session"].as_str().unwrap().to_string();
    console.send("chat hello bob, what do you see?");
    agent.wait_event("chat");
    agent.send("it says PC LOAD LETTER");
    console.wait_event("chat");
    console.send("request shell");
    console.wait_for("shell", |e| {
        e["event"] == "consent" && e["capability"] == "shell" && e["granted"] == true
    });
    console.send("shell");
    console.wait_event("shell_opened");
    console.send("shell send echo answer-$((6*7))");
    let mut seen = String::new();
    while !seen.contains("answer-42\r\n") {
        let out = console.wait_for("answer-42", |e| e["event"] == "shell_output");
        seen.push_str(out["data"].as_str().unwrap_or(""));
    }
    console.send("shell send exit");
    console.wait_event("shell_closed");
    console.send("quit");
    console.wait_event("ended");
    assert!(console.finish().0.success());
    assert!(agent.finish().0.success());
    tether_e2e::wait_until("the transcript is sealed", || {
        broker.admin(&["verify", &session]).status.code() == Some(0)
    });
    session
}

#[test]
fn an_admin_reviews_sessions_deadlines_and_staff_and_a_technician_only_their_own() {
    use tether_e2e::web::Web;

    let broker = Broker::start();
    broker.add_user("ada", "admin", "ada-password");
    let alice = broker.technician("alice");
    let tom = broker.technician("tom");
    let session = chatted_session(&broker, &alice);
    let browser = Browser::start(&broker);
    let sign_in = |user: &str| {
        browser.open("/");
        browser.wait_for("form #user");
        browser.fill("#user", user);
        browser.fill("#password", &format!("{user}-password"));
        browser.click("button[type=submit]");
        browser.wait_for_text("#who", user);
    };
    sign_in("ada");

    // Sessions, each transcript checked on demand.
    browser.open("/#/sessions");
    browser.wait_for_text("tbody tr", &session);
    browser.click("#verify-all");
    browser.wait_for_text("td.state", "intact and sealed");
    browser.screenshot("sessions");

    // The transcript, record by record, checked on the broker.
    browser.click(&format!("tr[data-session='{session}'] a"));
    browser.wait_for_text("#verdict", "intact and sealed");
    browser.wait_for_text("td.what q", "it says PC LOAD LETTER");
    assert_eq!(browser.count("tr.at-fault"), 0);
    // The shell plays as a terminal: at the start nothing has run; at the end, the command
    // and what it printed.
    browser.wait_for("#terminal");
    assert!(!browser.texts("#terminal").concat().contains("answer-42"), "shown before played");
    browser.click("#terminal-end");
    browser.wait_for_text("#terminal", "echo answer-$((6*7))");
    browser.wait_for_text("#terminal", "answer-42");
    browser.screenshot("transcript");

    // One byte changed in the customer's chat line: the page says so and marks that record.
    let path = broker.data_dir().join("transcripts").join(format!("{session}.jsonl"));
    let text = std::fs::read_to_string(&path).unwrap();
    let record = text.lines().position(|l| l.contains("PC LOAD LETTER")).unwrap();
    std::fs::write(&path, text.replace("PC LOAD LETTER", "PC LOAD LETTEX")).unwrap();
    browser.reload();
    browser.wait_for_text("#verdict", "TAMPERED");
    browser.wait_for_text("#verdict", &format!("Record {record}"));
    assert_eq!(browser.count(&format!("tr.at-fault[data-record='{record}']")), 1);
    browser.screenshot("transcript-tampered");

    // The deadline review: alice answered in time, so one medium ticket met its deadline.
    browser.open("/#/report");
    browser.wait_for("#chart-priority");
    assert_eq!(browser.count("#chart-priority rect.met"), 4, "one bar per priority");
    let label =
        browser.run("return document.getElementById('chart-priority').getAttribute('aria-label')");
    assert!(label.as_str().unwrap_or("").contains("medium: 1 met, 0 missed"), "{label}");
    assert!(browser.count("#chart-week rect") >= 8, "four weeks of bars");
    assert!(browser.displayed("#csv"));
    browser.click("#csv");
    let csv = browser.downloaded("deadline-review.csv");
    assert!(csv.starts_with("section,key,tickets,met,missed,"), "{csv}");
    assert!(csv.contains("\r\npriority,medium,1,1,0,"), "{csv}");
    assert!(csv.contains("\r\ntechnician,alice,1,1,0,"), "{csv}");
    browser.screenshot("report");

    // The session's ticket lists it, and shows the onsite visit a script scheduled.
    let ada = broker.console("ada");
    assert!(ada.login("ada", "ada-password").status.success());
    let ada = format!("Bearer {}", ada.token());
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let visit = serde_json::json!({
        "window_start": now + 3600, "window_end": now + 7200, "address": "12 Analytical Row",
        "lat": 51.5, "lon": -0.12, "access": "ring twice",
    });
    let reply =
        Web::http1(&broker).post("/api/v1/tickets/1/onsite", &[("authorization", &ada)], &visit);
    assert_eq!(reply.status, 200, "{}", reply.text());
    browser.open("/#/ticket/1");
    browser.wait_for_text("#ticket-sessions", &session);
    browser.wait_for_text("#onsite", "12 Analytical Row");
    browser.wait_for_text("#onsite", "not dispatched");
    browser.screenshot("ticket-review");

    // Staff: an admin adds an account from the page.
    browser.open("/#/staff");
    browser.wait_for_text("tbody", "alice");
    browser.fill("#new-user", "nina");
    browser.fill("#new-password", "nina-password");
    browser.click("form[aria-labelledby=add-user-title] button[type=submit]");
    browser.wait_for_text("tbody", "nina");
    browser.screenshot("staff");

    // Tom, a technician, may not read alice's session: the page and the API both refuse.
    browser.click("#sign-out");
    browser.wait_for("form #user");
    sign_in("tom");
    assert!(!browser.displayed("#nav-report"), "the review is offered to a technician");
    browser.open(&format!("/#/session/{session}"));
    browser.wait_for_text("p.error", "another technician's");
    assert_eq!(browser.count("td.what"), 0, "records were shown");
    browser.screenshot("transcript-refused");
    let web = Web::http1(&broker);
    let bearer = format!("Bearer {}", tom.token());
    let reply =
        web.get(&format!("/api/v1/sessions/{session}/transcript"), &[("authorization", &bearer)]);
    assert_eq!((reply.status, reply.error_code().as_str()), (403, "forbidden"), "{}", reply.text());
    assert!(!reply.text().contains("PC LOAD"));
}
