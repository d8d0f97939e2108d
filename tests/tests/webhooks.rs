//! Webhooks end to end: desk events POSTed to real receivers, signed and retried; over HTTPS
//! to a receiver whose certificate comes from an operator's own CA, on a non-default port,
//! by name and by IPv6 literal (with the `Host` header each needs); and through the proxy
//! `HTTPS_PROXY` names, except for the hosts `NO_PROXY` names.

use serde_json::Value;
use tether_e2e::broker::Broker;
use tether_e2e::hooks::{ConnectProxy, OperatorCa, Receiver, Request};
use tether_e2e::proc::Console;

const SECRET: &str = "a shared secret of some length";

/// A dispatcher, logged in.
fn dispatcher(broker: &Broker) -> Console {
    broker.add_user("dora", "dispatcher", "dora-password");
    let dora = broker.console("dora");
    assert!(dora.login("dora", "dora-password").status.success());
    dora
}

/// Logs a phone ticket; its id (`T7`).
fn log_ticket(console: &Console) -> String {
    let out = console.run(&[
        "ticket",
        "new",
        "--channel",
        "phone",
        "--client",
        "Carla",
        "--contact",
        "555-0199",
        "--issue",
        "VPN drops every hour",
        "--priority",
        "high",
        "--json",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let reply: Value = serde_json::from_slice(&out.stdout).unwrap();
    format!("T{}", reply["summary"]["id"])
}

/// A hook for `created` events at `url`, with `extra` TOML lines.
fn hook(url: &str, extra: &str) -> String {
    format!(
        "[[webhooks]]\nurl = \"{url}\"\nsecret = \"{SECRET}\"\nevents = [\"created\"]\n{extra}\n"
    )
}

/// The event a request carries, after checking its signature.
fn signed_event(request: &Request) -> Value {
    let signature =
        request.header("x-tether-signature").and_then(|s| s.strip_prefix("sha256=")).unwrap();
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, SECRET.as_bytes());
    let bytes = tether_protocol::unhex(signature).expect("a hex signature");
    ring::hmac::verify(&key, &request.body, &bytes).expect("a valid signature");
    assert_eq!(request.header("x-tether-event"), Some("created"));
    serde_json::from_slice(&request.body).unwrap()
}

#[test]
fn webhooks_are_signed_and_retried_after_a_failure() {
    let receiver = Receiver::http("127.0.0.1");
    let url = format!("http://127.0.0.1:{}/hooks/tether", receiver.port());
    let broker = Broker::start_with_config(&hook(&url, ""));
    let t = log_ticket(&dispatcher(&broker));
    // The first delivery is refused with a 500, and retried.
    let first = receiver.serve_once(500);
    let second = receiver.serve_once(200);
    assert_eq!(first.line, "POST /hooks/tether HTTP/1.1");
    assert_eq!(first.body, second.body, "the retry carries the same event");
    assert_eq!(
        first.header("x-tether-delivery"),
        second.header("x-tether-delivery"),
        "the same delivery, retried"
    );
    for request in [&first, &second] {
        let event = signed_event(request);
        assert_eq!(
            (event["kind"].as_str(), format!("T{}", event["ticket"])),
            (Some("created"), t.clone())
        );
    }
}

#[test]
fn https_webhooks_trust_an_operator_ca_on_a_non_default_port() {
    let ca = OperatorCa::new(&["localhost"]);
    let receiver = Receiver::https("127.0.0.1", &ca);
    let port = receiver.port();
    let url = format!("https://localhost:{port}/in");
    let config = hook(&url, &format!("ca_file = \"{}\"", ca.ca_file().display()));
    let broker = Broker::start_with_config(&config);
    let t = log_ticket(&dispatcher(&broker));
    let request = receiver.serve_once(204);
    assert_eq!(request.header("host"), Some(format!("localhost:{port}").as_str()));
    assert_eq!(format!("T{}", signed_event(&request)["ticket"]), t);
}

#[test]
fn https_webhooks_reach_an_ipv6_literal_with_its_host_header() {
    let ca = OperatorCa::new(&["::1"]);
    let receiver = Receiver::https("::1", &ca);
    let port = receiver.port();
    let url = format!("https://[::1]:{port}/in");
    let config = hook(&url, &format!("ca_file = \"{}\"", ca.ca_file().display()));
    let broker = Broker::start_with_config(&config);
    let t = log_ticket(&dispatcher(&broker));
    let request = receiver.serve_once(200);
    assert_eq!(request.header("host"), Some(format!("[::1]:{port}").as_str()));
    assert_eq!(format!("T{}", signed_event(&request)["ticket"]), t);
}

#[test]
fn webhooks_go_through_the_proxy_except_where_no_proxy_says() {
    let ca = OperatorCa::new(&["localhost", "127.0.0.1"]);
    let (proxied, direct) = (Receiver::https("127.0.0.1", &ca), Receiver::https("127.0.0.1", &ca));
    let ca_line = format!("ca_file = \"{}\"", ca.ca_file().display());
    let config = format!(
        "{}{}",
        hook(&format!("https://127.0.0.1:{}/p", proxied.port()), &ca_line),
        hook(&format!("https://localhost:{}/d", direct.port()), &ca_line)
    );
    let proxy = ConnectProxy::start();
    let broker = Broker::start_with_env(
        &config,
        &[("HTTPS_PROXY", proxy.url().as_str()), ("NO_PROXY", "localhost")],
    );
    let t = log_ticket(&dispatcher(&broker));
    for receiver in [&proxied, &direct] {
        assert_eq!(format!("T{}", signed_event(&receiver.serve_once(200))["ticket"]), t);
    }
    assert_eq!(
        proxy.tunnels(),
        vec![format!("127.0.0.1:{}", proxied.port())],
        "only the receiver NO_PROXY does not name went through the proxy"
    );
}
