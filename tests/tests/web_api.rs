//! The web side on the websocket port: HTTP/1.1 and HTTP/2 with the security headers on every
//! answer, while sessions keep running beside it; the JSON API driven by a script with a
//! bearer token and by a browser-style session with its cookie and CSRF token; every refusal a
//! 4xx in the JSON error shape that changes nothing.

use serde_json::json;
use tether_e2e::broker::Broker;
use tether_e2e::bystander::Bystander;
use tether_e2e::web::{Reply, Web};

/// The security headers every answer carries.
fn assert_secure(reply: &Reply) {
    let csp = reply.header("content-security-policy").unwrap_or_default();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(reply.header("strict-transport-security").is_some_and(|v| v.contains("max-age=")));
    assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(reply.header("referrer-policy"), Some("no-referrer"));
}

#[test]
fn the_web_answers_on_the_websocket_port_in_http1_and_http2_while_a_session_chats() {
    let broker = Broker::start();
    let mut bystander = Bystander::start(&broker);
    bystander.chat();

    for (web, version) in [
        (Web::http1(&broker), hyper::Version::HTTP_11),
        (Web::http2(&broker), hyper::Version::HTTP_2),
    ] {
        let reply = web.get("/api/v1/me", &[]);
        assert_eq!(reply.version, version);
        assert_eq!((reply.status, reply.error_code().as_str()), (401, "unauthenticated"));
        assert_secure(&reply);

        let reply = web.get("/no/such/page", &[]);
        assert_eq!((reply.status, reply.error_code().as_str()), (404, "not_found"));
        assert_secure(&reply);

        let reply = web.get("/v1/ws", &[]);
        assert_eq!(reply.status, 426, "{}", reply.text());
        assert!(reply.text().contains("tether broker"));
        assert_secure(&reply);

        let reply = web.send("DELETE", "/api/v1/tickets", &[], None);
        assert_eq!((reply.status, reply.error_code().as_str()), (405, "method_not_allowed"));
        bystander.chat();
    }
    bystander.chat();
}

/// A dispatcher's and a technician's bearer tokens, from `tether-console login`.
fn staff(broker: &Broker) -> (String, String) {
    broker.add_user("dana", "dispatcher", "dana-password");
    let dana = broker.console("dana");
    assert!(dana.login("dana", "dana-password").status.success());
    let tom = broker.technician("tom");
    (dana.token(), tom.token())
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

#[test]
fn a_script_does_desk_work_over_the_api_and_every_refusal_changes_nothing() {
    let broker = Broker::start();
    let (dana, tom) = staff(&broker);
    let web = Web::http2(&broker);
    let (dana, tom) = (bearer(&dana), bearer(&tom));
    let as_dana = [("authorization", dana.as_str())];
    let as_tom = [("authorization", tom.as_str())];

    let new = json!({
        "channel": "phone", "client": "Ada Lovelace", "contact": "ada@example.com",
        "issue": "The printer prints only analytical engines", "priority": "high",
    });
    let created = web.post("/api/v1/tickets", &as_dana, &new);
    assert_eq!(created.status, 201, "{}", created.text());
    let ticket = created.json();
    let id = ticket["summary"]["id"].as_u64().expect("a ticket number");
    assert_eq!(ticket["summary"]["client"], "Ada Lovelace");

    let list = web.get("/api/v1/tickets?limit=10", &as_dana).json();
    assert_eq!(list["total"], 1);
    assert_eq!(list["tickets"][0]["id"], id);

    let reply = web.post(&format!("/api/v1/tickets/T{id}/assign"), &as_dana, &json!({"to": "tom"}));
    assert_eq!(reply.status, 200, "{}", reply.text());
    let reply = web.post(
        &format!("/api/v1/tickets/{id}/priority"),
        &as_dana,
        &json!({"priority": "critical", "reason": "the whole office is waiting"}),
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    let reply = web.post(
        &format!("/api/v1/tickets/{id}/escalate"),
        &as_tom,
        &json!({"to": "dana", "reason": "needs a new printer"}),
    );
    assert_eq!(reply.status, 200, "{}", reply.text());

    // Escalated, the ticket is the dispatcher's: the technician may no longer read it.
    let reply = web.get(&format!("/api/v1/tickets/{id}"), &as_tom);
    assert_eq!((reply.status, reply.error_code().as_str()), (403, "forbidden"), "{}", reply.text());
    let shown = web.get(&format!("/api/v1/tickets/{id}"), &as_dana);
    assert_eq!(shown.status, 200, "{}", shown.text());
    let shown = shown.json();
    assert_eq!(shown["summary"]["priority"], "critical");
    let kinds: Vec<&str> =
        shown["history"].as_array().unwrap().iter().filter_map(|h| h["kind"].as_str()).collect();
    for kind in ["created", "assigned", "priority_changed", "escalated"] {
        assert!(kinds.contains(&kind), "{kind} missing from {kinds:?}");
    }

    // The policy is the websocket's: a technician gets no deadline review, and nobody gets
    // anything without a live token.
    let reply = web.get("/api/v1/report?from=0&to=4000000000", &as_tom);
    assert_eq!((reply.status, reply.error_code().as_str()), (403, "forbidden"), "{}", reply.text());
    let reply = web.get("/api/v1/report?from=0&to=4000000000", &as_dana);
    assert_eq!(reply.status, 200, "{}", reply.text());
    let reply = web.get("/api/v1/tickets", &[("authorization", "Bearer not-a-token")]);
    assert_eq!((reply.status, reply.error_code().as_str()), (401, "bad_credentials"));

    // Hostile bodies and paths: each a 4xx with a code, none a 500, and nothing changes.
    let post_raw = |path: &str, content_type: &str, body: Vec<u8>| {
        let headers = [("authorization", dana.as_str()), ("content-type", content_type)];
        web.send("POST", path, &headers, Some(body))
    };
    let json = "application/json";
    let refusals: Vec<(Reply, u16, &str)> = vec![
        (post_raw("/api/v1/tickets", json, b"{not json".to_vec()), 400, "malformed"),
        (post_raw("/api/v1/tickets", json, br#"{"channel": 5}"#.to_vec()), 422, "invalid"),
        (
            post_raw("/api/v1/tickets", json, {
                let mut t = new.clone();
                t["sneaky"] = json!(true);
                t.to_string().into_bytes()
            }),
            422,
            "invalid",
        ),
        (
            post_raw("/api/v1/tickets", "text/plain", new.to_string().into_bytes()),
            415,
            "unsupported_media_type",
        ),
        (post_raw("/api/v1/tickets", json, vec![b' '; 300 * 1024]), 413, "too_large"),
        (
            post_raw("/api/v1/tickets", json, {
                let mut t = new.clone();
                t["channel"] = json!("carrier pigeon");
                t.to_string().into_bytes()
            }),
            400,
            "malformed",
        ),
        (post_raw("/api/v1/tickets/T999/claim", json, b"{}".to_vec()), 404, "not_found"),
        (post_raw("/api/v1/tickets/nonsense/claim", json, b"{}".to_vec()), 404, "not_found"),
        (web.get("/api/v1/tickets?limit=-1", &as_dana), 400, "malformed"),
        (web.get("/api/v1/tickets?colour=red", &as_dana), 400, "malformed"),
    ];
    for (i, (reply, status, code)) in refusals.iter().enumerate() {
        assert_eq!(
            (reply.status, reply.error_code().as_str()),
            (*status, *code),
            "refusal {i}: {}",
            reply.text()
        );
    }
    let list = web.get("/api/v1/tickets", &as_dana).json();
    assert_eq!(list["total"], 1, "a refusal changed something: {list}");
    assert!(
        broker.log().lines().all(|l| !l.contains(dana.trim_start_matches("Bearer "))),
        "a token reached the log"
    );
}

#[test]
fn a_browser_session_needs_its_csrf_token_for_changes_and_ends_at_sign_out() {
    let broker = Broker::start_with_config("[auth]\nmax_failures_per_source = 3\n");
    broker.add_user("dana", "dispatcher", "dana-password");
    let web = Web::http1(&broker);

    let signed =
        web.post("/api/v1/sign-in", &[], &json!({"user": "dana", "password": "dana-password"}));
    assert_eq!(signed.status, 200, "{}", signed.text());
    let cookie_header = signed.header("set-cookie").expect("a session cookie").to_string();
    for attribute in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
        assert!(cookie_header.contains(attribute), "{attribute} missing: {cookie_header}");
    }
    let cookie = cookie_header.split(';').next().unwrap().to_string();
    let csrf = signed.json()["csrf"].as_str().expect("a CSRF token").to_string();
    assert!(!signed.text().contains(cookie.split('=').nth(1).unwrap()), "the token is in the body");

    let me = web.get("/api/v1/me", &[("cookie", &cookie)]).json();
    assert_eq!((me["user"].as_str(), me["role"].as_str()), (Some("dana"), Some("dispatcher")));
    assert_eq!(me["csrf"].as_str(), Some(csrf.as_str()));

    let new = json!({
        "channel": "email", "client": "Grace", "contact": "grace@example.com",
        "issue": "COBOL compiler missing", "priority": "medium",
    });
    let reply = web.post("/api/v1/tickets", &[("cookie", &cookie)], &new);
    assert_eq!((reply.status, reply.error_code().as_str()), (403, "csrf"));
    let forged = "0".repeat(64);
    let reply =
        web.post("/api/v1/tickets", &[("cookie", &cookie), ("x-csrf-token", &forged)], &new);
    assert_eq!((reply.status, reply.error_code().as_str()), (403, "csrf"));
    let list = web.get("/api/v1/tickets", &[("cookie", &cookie)]).json();
    assert_eq!(list["total"], 0, "a refused change was made: {list}");
    let reply = web.post("/api/v1/tickets", &[("cookie", &cookie), ("x-csrf-token", &csrf)], &new);
    assert_eq!(reply.status, 201, "{}", reply.text());

    let out =
        web.post("/api/v1/sign-out", &[("cookie", &cookie), ("x-csrf-token", &csrf)], &json!({}));
    assert_eq!(out.status, 204, "{}", out.text());
    assert!(out.header("set-cookie").is_some_and(|c| c.contains("Max-Age=0")));
    let reply = web.get("/api/v1/me", &[("cookie", &cookie)]);
    assert_eq!((reply.status, reply.error_code().as_str()), (401, "bad_credentials"));

    // Failed sign-ins count toward the console's limit: past three, even the console with the
    // right password is turned away from this address.
    for _ in 0..4 {
        let reply = web.post("/api/v1/sign-in", &[], &json!({"user": "dana", "password": "guess"}));
        assert_eq!((reply.status, reply.error_code().as_str()), (401, "bad_credentials"));
    }
    let reply =
        web.post("/api/v1/sign-in", &[], &json!({"user": "dana", "password": "dana-password"}));
    assert_eq!(
        (reply.status, reply.error_code().as_str()),
        (429, "rate_limited"),
        "{}",
        reply.text()
    );
    let out = broker.console("dana").login("dana", "dana-password");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("rate_limited"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn an_admin_manages_accounts_over_the_api_and_nobody_else_may() {
    let broker = Broker::start();
    broker.add_user("root", "admin", "root-password");
    let (dana, tom) = staff(&broker);
    let admin = broker.console("root");
    assert!(admin.login("root", "root-password").status.success());
    let web = Web::http1(&broker);
    let (admin, dana, tom) = (bearer(&admin.token()), bearer(&dana), bearer(&tom));
    let as_admin = [("authorization", admin.as_str())];

    let ann = json!({"name": "ann", "role": "technician", "skills": ["Printers", "network"], "password": "ann-password-1"});
    let reply = web.post("/api/v1/users", &[("authorization", dana.as_str())], &ann);
    assert_eq!((reply.status, reply.error_code().as_str()), (403, "forbidden"), "{}", reply.text());
    let reply = web.post("/api/v1/users", &as_admin, &ann);
    assert_eq!(reply.status, 201, "{}", reply.text());
    let again = web.post("/api/v1/users", &as_admin, &ann);
    assert_eq!((again.status, again.error_code().as_str()), (400, "malformed"), "{}", again.text());
    let bad =
        json!({"name": "no spaces allowed", "role": "technician", "password": "long-enough-1"});
    assert_eq!(web.post("/api/v1/users", &as_admin, &bad).status, 400);
    let short = json!({"name": "bob", "role": "technician", "password": "short"});
    assert_eq!(web.post("/api/v1/users", &as_admin, &short).status, 400);
    let role = json!({"name": "bob", "role": "overlord", "password": "long-enough-1"});
    assert_eq!(web.post("/api/v1/users", &as_admin, &role).status, 422);

    // The new account signs in; every member of staff sees who is at the desk.
    let signed =
        web.post("/api/v1/sign-in", &[], &json!({"user": "ann", "password": "ann-password-1"}));
    assert_eq!(signed.status, 200, "{}", signed.text());
    let members = web.get("/api/v1/staff", &[("authorization", tom.as_str())]).json();
    let ann_row =
        members.as_array().unwrap().iter().find(|m| m["name"] == "ann").expect("ann listed");
    assert_eq!(ann_row["skills"], json!(["printers", "network"]));
    assert_eq!(ann_row["availability"], "available");
    assert_eq!(ann_row["open_tickets"], 0);

    // Disabled, the account's token stops working at once; a technician may not do this.
    let reply =
        web.post("/api/v1/users/tom/disable", &[("authorization", tom.as_str())], &json!({}));
    assert_eq!(reply.status, 403);
    let reply = web.post("/api/v1/users/tom/disable", &as_admin, &json!({}));
    assert_eq!(reply.status, 200, "{}", reply.text());
    let reply = web.get("/api/v1/tickets", &[("authorization", tom.as_str())]);
    assert_eq!(reply.status, 401, "{}", reply.text());
    let reply = web.post("/api/v1/users/nobody/enable", &as_admin, &json!({}));
    assert_eq!((reply.status, reply.error_code().as_str()), (404, "not_found"));
    let reply = web.post("/api/v1/users/tom/role", &as_admin, &json!({"role": "dispatcher"}));
    assert_eq!(reply.status, 200, "{}", reply.text());
    let reply = web.post("/api/v1/users/tom/enable", &as_admin, &json!({}));
    assert_eq!(reply.status, 200, "{}", reply.text());
    let members = web.get("/api/v1/staff", &as_admin).json();
    let tom_row =
        members.as_array().unwrap().iter().find(|m| m["name"] == "tom").expect("tom listed");
    assert_eq!(
        (tom_row["role"].as_str(), tom_row["disabled"].as_bool()),
        (Some("dispatcher"), Some(false))
    );
    assert!(!broker.log().contains("ann-password-1"), "a password reached the log");
}

#[test]
fn onsite_visits_availability_and_skills_over_the_api_by_the_same_policy() {
    let broker = Broker::start();
    let (dana, tom) = staff(&broker);
    broker.add_user("ada", "admin", "ada-password");
    let ada = broker.console("ada");
    assert!(ada.login("ada", "ada-password").status.success());
    let tim = broker.technician("tim");
    let web = Web::http1(&broker);
    let (dana, tom, ada, tim) =
        (bearer(&dana), bearer(&tom), bearer(&ada.token()), bearer(&tim.token()));
    let who = |b: &String| [("authorization", b.clone())];
    let post = |b: &String, path: &str, body: serde_json::Value| {
        let h = who(b);
        let headers: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
        web.post(path, &headers, &body)
    };
    let get = |b: &String, path: &str| {
        let h = who(b);
        let headers: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
        web.get(path, &headers)
    };

    let new = json!({
        "channel": "phone", "client": "Ada Lovelace", "contact": "555-0100",
        "issue": "The engine needs a new gear", "priority": "high",
    });
    let id = post(&dana, "/api/v1/tickets", new).json()["summary"]["id"].as_u64().unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let visit = json!({
        "window_start": now + 3600, "window_end": now + 7200, "address": "12 Analytical Row",
        "lat": 51.5, "lon": -0.12, "access": "ring twice", "contact_confirmed": true,
    });

    // Refusals first: a wrong type, a dispatch before the visit exists, a technician dispatching.
    let mut wrong = visit.clone();
    wrong["lat"] = json!("north");
    let reply = post(&dana, &format!("/api/v1/tickets/{id}/onsite"), wrong);
    assert_eq!((reply.status, reply.error_code().as_str()), (422, "invalid"));
    let reply = post(&dana, &format!("/api/v1/tickets/{id}/dispatch"), json!({"to": "tom"}));
    assert_eq!(reply.status, 400, "{}", reply.text());
    assert!(reply.text().contains("no onsite visit"), "{}", reply.text());
    let reply = post(&dana, &format!("/api/v1/tickets/{id}/onsite"), visit);
    assert_eq!(reply.status, 200, "{}", reply.text());
    let reply = post(&tom, &format!("/api/v1/tickets/{id}/dispatch"), json!({"to": "tom"}));
    assert_eq!((reply.status, reply.error_code().as_str()), (403, "forbidden"));

    // Tom says where he is and that he takes work; the dispatcher sends him.
    assert_eq!(post(&tom, "/api/v1/me/location", json!({"lat": 51.51, "lon": -0.1})).status, 200);
    let reply = post(&tom, "/api/v1/me/availability", json!({"availability": "asleep"}));
    assert_eq!((reply.status, reply.error_code().as_str()), (422, "invalid"));
    assert_eq!(
        post(&tom, "/api/v1/me/availability", json!({"availability": "available"})).status,
        200
    );
    let reply = post(&dana, &format!("/api/v1/tickets/{id}/dispatch"), json!({"to": "tom"}));
    assert_eq!(reply.status, 200, "{}", reply.text());
    let t = get(&dana, &format!("/api/v1/tickets/{id}")).json();
    assert_eq!(t["onsite"]["technician"], "tom", "{t}");

    // The visit is tom's: tim may not report on it.
    let eta = json!({"eta": now + 4000});
    let reply = post(&tim, &format!("/api/v1/tickets/{id}/eta"), eta.clone());
    assert_eq!((reply.status, reply.error_code().as_str()), (403, "forbidden"), "{}", reply.text());
    assert_eq!(post(&tom, &format!("/api/v1/tickets/{id}/eta"), eta).status, 200);
    let part = json!({"kind": "part", "text": "one brass gear"});
    let reply = post(&tom, &format!("/api/v1/tickets/{id}/onsite-log"), part);
    assert_eq!(reply.status, 200, "{}", reply.text());
    let bad = json!({"kind": "attachment", "text": "photo", "attachment": {"name": "gear.jpg", "data_base64": "%%%"}});
    let reply = post(&tom, &format!("/api/v1/tickets/{id}/onsite-log"), bad);
    assert_eq!(reply.status, 400, "{}", reply.text());
    let reply = post(
        &tom,
        &format!("/api/v1/tickets/{id}/sign-off"),
        json!({"name": "Ada", "solved": true}),
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    let t = get(&dana, &format!("/api/v1/tickets/{id}")).json();
    assert_eq!(t["summary"]["status"], "closed", "{t}");
    assert_eq!(t["onsite"]["signed_off"][0], "Ada", "{t}");

    // Skills: admins only, kept trimmed and lower case, a separator refused.
    let reply = post(&dana, "/api/v1/users/tom/skills", json!({"skills": ["printers"]}));
    assert_eq!((reply.status, reply.error_code().as_str()), (403, "forbidden"));
    let reply = post(&ada, "/api/v1/users/tom/skills", json!({"skills": ["a,b"]}));
    assert_eq!(reply.status, 400, "{}", reply.text());
    let reply = post(&ada, "/api/v1/users/nobody/skills", json!({"skills": []}));
    assert_eq!(reply.status, 404, "{}", reply.text());
    let reply = post(&ada, "/api/v1/users/tom/skills", json!({"skills": [" Printers ", "VPN"]}));
    assert_eq!(reply.status, 200, "{}", reply.text());
    let staff = get(&dana, "/api/v1/staff").json();
    let tom = staff.as_array().unwrap().iter().find(|m| m["name"] == "tom").unwrap().clone();
    assert_eq!(
        (tom["skills"].clone(), tom["availability"].clone()),
        (json!(["printers", "vpn"]), json!("available"))
    );
}

#[test]
fn the_openapi_document_describes_every_route_the_broker_serves() {
    let broker = Broker::start();
    let (dana, _) = staff(&broker);
    let web = Web::http2(&broker);
    let reply = web.get("/api/v1/openapi.json", &[]);
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_secure(&reply);
    let doc = reply.json();
    assert!(doc["openapi"].as_str().unwrap_or("").starts_with("3.1"), "{}", doc["openapi"]);
    for scheme in ["bearer", "cookie"] {
        assert!(doc["components"]["securitySchemes"][scheme].is_object(), "no {scheme} scheme");
    }
    for schema in
        ["TicketDetail", "TicketPage", "SlaReport", "CustomerTicket", "ErrorBody", "NewTicket"]
    {
        assert!(doc["components"]["schemas"][schema].is_object(), "no {schema} schema");
    }
    let paths = doc["paths"].as_object().expect("paths");
    assert!(paths.len() >= 30, "{} paths", paths.len());

    // Every operation it names is served: asked with made-up values, none is an unknown
    // route or a wrong method (a made-up ticket may well be refused, as not found or invalid).
    let dana = bearer(&dana);
    let mut asked = 0;
    for (path, ops) in paths {
        if path == "/api/v1/events" {
            continue; // a stream that does not end; its own test reads it
        }
        let concrete = path
            .replace("{id}", "T999")
            .replace("{name}", "nobody")
            .replace("{link}", &"0".repeat(64));
        for method in ops.as_object().unwrap().keys() {
            let method = method.to_uppercase();
            let body = (method == "POST").then(|| b"{}".to_vec());
            let reply = web.send(
                &method,
                &concrete,
                &[("authorization", dana.as_str()), ("content-type", "application/json")],
                body,
            );
            let text = reply.text();
            assert!(
                reply.status != 405 && !text.contains("no such page or API route"),
                "{method} {path}: {} {text}",
                reply.status
            );
            asked += 1;
        }
    }
    assert!(asked >= 37, "{asked} operations");
}
