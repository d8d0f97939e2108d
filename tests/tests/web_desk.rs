//! The web desk in a real Chromium: signing in, the live desk (an agent's request appears
//! without a reload, its hostile text shown as text and never run), a ticket's page with the
//! dispatcher's actions, a ticket logged through the form, and signing out. Every page is kept
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
    assert!(!browser.alert_open());
    browser.screenshot("ticket");

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

    // Signing out ends the session: the page asks for a sign-in again, even after a reload.
    browser.click("#sign-out");
    browser.wait_for("form #user");
    browser.open("/");
    browser.wait_for("form #user");
    assert!(!browser.cookie_names().contains(&"tether_session".to_string()));
    assert!(!browser.displayed("#nav"));
    browser.screenshot("signed-out");
}
