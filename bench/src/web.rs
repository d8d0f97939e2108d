//! The web desk's figures: what a browser's first visit to the desk transfers (the page and
//! every file it loads), and how fast the ticket list answers with 10,000 open tickets (one
//! kept-alive connection signed in as a browser is, the default page of 100 and a filtered
//! one), against the targets.

use std::time::Instant;

use anyhow::{Context, ensure};
use serde_json::json;
use tether_e2e::web::Connection;

use crate::procs::{BENCH_PASSWORD, Relay};

/// What to measure.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WebRun {
    /// Open tickets to log before timing the list.
    pub(crate) tickets: usize,
    /// List requests timed per query.
    pub(crate) requests: usize,
}

pub(crate) async fn run(run: WebRun) -> anyhow::Result<()> {
    let relay = Relay::broker()?;
    let port: u16 = relay.url.rsplit(':').next().context("port")?.parse()?;
    let mut conn = Connection::open(port, &relay.ca).await;

    // The first visit: the page, then every file it names, as the browser asks for them.
    let page = conn.send("GET", "/", &[], None).await;
    ensure!(page.status == 200, "GET / answered {}", page.status);
    let html = String::from_utf8_lossy(&page.body).into_owned();
    let mut files = vec![("/".to_string(), page.body.len())];
    for name in html.split('"').filter(|s| s.starts_with("/assets/")) {
        let reply = conn.send("GET", name, &[], None).await;
        ensure!(reply.status == 200, "GET {name} answered {}", reply.status);
        files.push((name.to_string(), reply.body.len()));
    }
    let first_load: usize = files.iter().map(|(_, n)| n).sum();

    // Signed in as a browser, then the tickets.
    let signed = conn
        .send(
            "POST",
            "/api/v1/sign-in",
            &[("content-type", "application/json")],
            Some(json!({"user": "bench", "password": BENCH_PASSWORD}).to_string().into_bytes()),
        )
        .await;
    ensure!(signed.status == 200, "sign-in answered {}", signed.status);
    let cookie = signed.header("set-cookie").context("no cookie")?.split(';').next().unwrap_or("");
    let cookie = cookie.to_string();
    let csrf = signed.json()["csrf"].as_str().context("no csrf")?.to_string();
    let headers = [
        ("cookie", cookie.as_str()),
        ("x-csrf-token", csrf.as_str()),
        ("content-type", "application/json"),
    ];
    let priorities = ["critical", "high", "medium", "low"];
    let started = Instant::now();
    for n in 0..run.tickets {
        let body = json!({
            "channel": "phone", "client": format!("Customer {n}"), "contact": "555-0100",
            "issue": format!("Problem number {n}: the printer is on fire"),
            "priority": priorities[n % 4],
        });
        let reply = conn
            .send("POST", "/api/v1/tickets", &headers, Some(body.to_string().into_bytes()))
            .await;
        ensure!(reply.status == 201, "ticket {n}: {} {}", reply.status, reply.text());
    }
    let logging = started.elapsed().as_secs_f64();

    println!(
        "tether-bench web: first load and the ticket list with {} open tickets\n",
        run.tickets
    );
    println!("| file | bytes |\n| --- | ---: |");
    for (name, bytes) in &files {
        println!("| `{name}` | {bytes} |");
    }
    println!("| **first load, in all (sent uncompressed)** | **{first_load}** |\n");
    println!(
        "logged {} tickets over the API in {logging:.1} s ({:.2} ms each)\n",
        run.tickets,
        logging * 1000.0 / run.tickets as f64
    );
    println!("| request ({} each) | p50 ms | p99 ms | max ms | target |", run.requests);
    println!("| --- | ---: | ---: | ---: | --- |");
    for query in [
        "/api/v1/tickets",
        "/api/v1/tickets?priority=critical&limit=100",
        "/api/v1/tickets?offset=5000&limit=100",
        "/api/v1/tickets?limit=1000",
    ] {
        let mut times = Vec::with_capacity(run.requests);
        for _ in 0..run.requests {
            let t = Instant::now();
            let reply = conn.send("GET", query, &headers[..1], None).await;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            ensure!(reply.status == 200, "{query}: {}", reply.status);
        }
        times.sort_by(f64::total_cmp);
        let at =
            |q: f64| times[((q * times.len() as f64).ceil() as usize).clamp(1, times.len()) - 1];
        println!(
            "| `GET {query}` | {:.2} | {:.2} | {:.2} | p99 ≤ 50 |",
            at(0.5),
            at(0.99),
            times[times.len() - 1]
        );
    }
    Ok(())
}
