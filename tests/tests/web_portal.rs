//! Customers without an account, over the API: asking for help from the portal with the
//! agent's checks and budget, following only their own ticket through its link, answering the
//! resolution, staff replacing and revoking links (as the policy allows), and guessed links
//! refused and then limited per address while everyone else is served.

use serde_json::{Value, json};
use tether_e2e::broker::Broker;
use tether_e2e::web::Web;

/// A request for help as the portal's form sends it.
fn request(name: &str, urgency: &str) -> Value {
    json!({
        "name": name, "contact": "ada@example.com", "urgency": urgency,
        "issue": "The printer prints only analytical engines",
    })
}

/// The token of a link `/t/TOKEN`.
fn token(link: &Value) -> String {
    let link = link.as_str().expect("a link");
    let token = link.strip_prefix("/t/").unwrap_or_else(|| panic!("not a ticket link: {link}"));
    assert!(token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit()), "{token}");
    token.to_string()
}

/// A dispatcher's bearer header, and a second technician's.
fn staff(broker: &Broker) -> (String, String) {
    broker.add_user("dana", "dispatcher", "dana-password");
    let dana = broker.console("dana");
    assert!(dana.login("dana", "dana-password").status.success());
    let tom = broker.technician("tom");
    broker.add_user("tim", "technician", "tim-password");
    (format!("Bearer {}", dana.token()), format!("Bearer {}", tom.token()))
}

#[test]
fn a_customer_asks_from_the_portal_and_follows_only_their_ticket_through_its_link() {
    let broker = Broker::start();
    let (dana, tom) = staff(&broker);
    let web = Web::http2(&broker);
    let (as_dana, as_tom) = ([("authorization", dana.as_str())], [("authorization", tom.as_str())]);

    // Refused requests change nothing and spend none of the address's budget.
    let mut bad = request("Ada", "high");
    bad["name"] = json!("   ");
    let reply = web.post("/api/v1/portal/requests", &[], &bad);
    assert_eq!((reply.status, reply.error_code().as_str()), (400, "malformed"), "{}", reply.text());
    bad["name"] = json!("Ada");
    bad["urgency"] = json!("apocalyptic");
    let reply = web.post("/api/v1/portal/requests", &[], &bad);
    assert_eq!((reply.status, reply.error_code().as_str()), (422, "invalid"));
    let mut extra = request("Ada", "high");
    extra["priority"] = json!("critical");
    let reply = web.post("/api/v1/portal/requests", &[], &extra);
    assert_eq!((reply.status, reply.error_code().as_str()), (422, "invalid"), "unknown field");
    let reply = web.send(
        "POST",
        "/api/v1/portal/requests",
        &[("content-type", "text/plain")],
        Some(b"name=Ada".to_vec()),
    );
    assert_eq!(reply.status, 415);
    let list = web.get("/api/v1/tickets?include_closed=true", &as_dana).json();
    assert_eq!(list["total"], 0, "a refused request became a ticket: {list}");

    // The request: a ticket, its link (shown once), and what the customer sees of it.
    let created = web.post("/api/v1/portal/requests", &[], &request("Ada Lovelace", "critical"));
    assert_eq!(created.status, 201, "{}", created.text());
    let created = created.json();
    let ada = token(&created["link"]);
    let id = created["ticket"]["id"].as_u64().expect("an id");
    assert_eq!(created["ticket"]["client"], "Ada Lovelace");
    assert_eq!(created["ticket"]["claimed_priority"], "critical");
    assert!(created["ticket"].get("contact").is_none(), "the view carries the contact");
    assert_eq!(created["ticket"]["updates"][0]["kind"], "created");

    let other = web.post("/api/v1/portal/requests", &[], &request("Charles", "low")).json();
    let charles = token(&other["link"]);
    let other_id = other["ticket"]["id"].as_u64().unwrap();
    assert_ne!(id, other_id);

    // Each link opens its own ticket only.
    let seen = web.get(&format!("/api/v1/portal/tickets/{ada}"), &[]).json();
    assert_eq!((seen["id"].as_u64(), seen["client"].as_str()), (Some(id), Some("Ada Lovelace")));
    let seen = web.get(&format!("/api/v1/portal/tickets/{charles}"), &[]).json();
    assert_eq!(seen["id"].as_u64(), Some(other_id));

    // The desk sees where it came from and the customer's claim.
    let t = web.get(&format!("/api/v1/tickets/{id}"), &as_dana).json();
    assert_eq!(t["summary"]["channel"], "portal");
    assert_eq!(t["summary"]["claimed_priority"], "critical");

    // A dispatcher gives it to tim; the customer sees who has it. Tom, not its owner, may
    // neither replace nor revoke its link.
    let reply = web.post(&format!("/api/v1/tickets/{id}/assign"), &as_dana, &json!({"to": "tim"}));
    assert_eq!(reply.status, 200, "{}", reply.text());
    let seen = web.get(&format!("/api/v1/portal/tickets/{ada}"), &[]).json();
    assert_eq!(
        (seen["technician"].as_str(), seen["status"].as_str()),
        (Some("tim"), Some("assigned"))
    );
    let reply = web.post(&format!("/api/v1/tickets/{id}/link"), &as_tom, &json!({}));
    assert_eq!((reply.status, reply.error_code().as_str()), (403, "forbidden"), "{}", reply.text());
    let reply = web.send("DELETE", &format!("/api/v1/tickets/{id}/link"), &as_tom, None);
    assert_eq!((reply.status, reply.error_code().as_str()), (403, "forbidden"));
    assert_eq!(web.get(&format!("/api/v1/portal/tickets/{ada}"), &[]).status, 200);

    // "Not solved" answers a resolution; there is none yet. A rating is 1 to 5.
    let answer = |link: &str, body: Value| {
        web.post(&format!("/api/v1/portal/tickets/{link}/answer"), &[], &body)
    };
    let reply = answer(&ada, json!({"solved": false}));
    assert_eq!((reply.status, reply.error_code().as_str()), (400, "malformed"), "{}", reply.text());
    assert!(reply.text().contains("still being worked on"), "{}", reply.text());
    let reply = answer(&ada, json!({"solved": true, "rating": 9}));
    assert_eq!(reply.status, 400, "{}", reply.text());
    let reply = answer(&ada, json!({"solved": true, "rating": 300}));
    assert_eq!((reply.status, reply.error_code().as_str()), (422, "invalid"));
    let reply = answer(&ada, json!({"solved": "yes"}));
    assert_eq!((reply.status, reply.error_code().as_str()), (422, "invalid"));
    assert_eq!(
        web.get(&format!("/api/v1/tickets/{id}"), &as_dana).json()["summary"]["status"],
        "assigned"
    );

    // A dispatcher replaces the link: the old one is refused as revoked, the new one works;
    // then revokes it.
    let reply = web.post(&format!("/api/v1/tickets/{id}/link"), &as_dana, &json!({}));
    assert_eq!(reply.status, 200, "{}", reply.text());
    let fresh = token(&reply.json()["link"]);
    let reply = web.get(&format!("/api/v1/portal/tickets/{ada}"), &[]);
    assert_eq!((reply.status, reply.error_code().as_str()), (404, "not_found"));
    assert!(reply.text().contains("revoked"), "{}", reply.text());
    assert_eq!(web.get(&format!("/api/v1/portal/tickets/{fresh}"), &[]).status, 200);
    let reply = web.send("DELETE", &format!("/api/v1/tickets/{id}/link"), &as_dana, None);
    assert_eq!((reply.status, reply.json()["revoked"].as_u64()), (200, Some(1)));
    assert_eq!(web.get(&format!("/api/v1/portal/tickets/{fresh}"), &[]).status, 404);
    let history = web.get(&format!("/api/v1/tickets/{id}"), &as_dana).text();
    assert!(history.contains("the customer's link was revoked"), "{history}");

    // Charles says his problem went away, with a rating and a comment: closed, on the desk too.
    let reply =
        answer(&charles, json!({"solved": true, "rating": 4, "comment": "  It fixed itself. "}));
    assert_eq!(reply.status, 200, "{}", reply.text());
    let seen = reply.json();
    assert_eq!((seen["status"].as_str(), seen["rating"].as_u64()), (Some("closed"), Some(4)));
    let reply = answer(&charles, json!({"solved": true}));
    assert_eq!(reply.status, 400, "answered twice: {}", reply.text());
    let t = web.get(&format!("/api/v1/tickets/{other_id}"), &as_dana).json();
    assert_eq!((t["rating"].as_u64(), t["comment"].as_str()), (Some(4), Some("It fixed itself.")));
    assert!(
        t.to_string().contains("the customer confirmed the problem is solved, rated 4/5"),
        "{t}"
    );

    // The portal shares the agent's budget per address: five requests in the window.
    for n in 3..=5 {
        let reply =
            web.post("/api/v1/portal/requests", &[], &request(&format!("Customer {n}"), "low"));
        assert_eq!(reply.status, 201, "request {n}: {}", reply.text());
    }
    let reply = web.post("/api/v1/portal/requests", &[], &request("One too many", "low"));
    assert_eq!(
        (reply.status, reply.error_code().as_str()),
        (429, "rate_limited"),
        "{}",
        reply.text()
    );
}

#[test]
fn guessed_links_are_refused_then_the_address_is_held_back_while_others_are_served() {
    let broker = Broker::start();
    let (dana, _) = staff(&broker);
    let web = Web::http1(&broker);
    let created = web.post("/api/v1/portal/requests", &[], &request("Ada", "medium")).json();
    let right = token(&created["link"]);

    // Twenty wrong links, hex-shaped or not, are each told they open nothing...
    for n in 0..20u32 {
        let guess = if n % 5 == 0 { format!("guess-{n}") } else { format!("{n:064x}") };
        let reply = web.get(&format!("/api/v1/portal/tickets/{guess}"), &[]);
        assert_eq!((reply.status, reply.error_code().as_str()), (404, "not_found"), "guess {n}");
    }
    // ...and then the address is held back, the right link included, answers too.
    let reply = web.get(&format!("/api/v1/portal/tickets/{right}"), &[]);
    assert_eq!(
        (reply.status, reply.error_code().as_str()),
        (429, "rate_limited"),
        "{}",
        reply.text()
    );
    assert!(reply.text().contains("too many wrong links"), "{}", reply.text());
    let reply =
        web.post(&format!("/api/v1/portal/tickets/{right}/answer"), &[], &json!({"solved": true}));
    assert_eq!(reply.status, 429);
    // Staff and the desk are served as before, and nothing changed.
    let t = web.get("/api/v1/tickets?include_closed=true", &[("authorization", dana.as_str())]);
    assert_eq!(t.status, 200);
    let status = &t.json()["tickets"][0]["status"];
    assert!(status == "queued" || status == "assigned", "{}", t.text());
}
