//! A TCP delay line for tests: listens on LISTEN, connects each client to TARGET, and holds
//! every byte the client sends for DELAY_MS before passing it on (the other direction passes
//! at once), without slowing the stream: a round trip through it takes DELAY_MS longer, the
//! rate is untouched. It stands in for `tc netem delay` on kernels built without netem.
//! With RATE_KBIT, both directions are also limited to that rate, with a deep buffer in front
//! of the client's (a home connection's upload) and the sender held back in the other.
//!
//! Usage: tether-delay-line LISTEN TARGET DELAY_MS [RATE_KBIT]

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::Instant;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (listen, target, delay, rate) = match args.as_slice() {
        [_, listen, target, delay] => (listen, target, delay, None),
        [_, listen, target, delay, rate] => (listen, target, delay, Some(rate)),
        _ => {
            eprintln!("usage: tether-delay-line LISTEN TARGET DELAY_MS [RATE_KBIT]");
            std::process::exit(64);
        }
    };
    let delay = Duration::from_millis(delay.parse().expect("DELAY_MS is a number"));
    // Bytes a second, if limited.
    let rate: Option<f64> = rate.map(|r| r.parse::<f64>().expect("RATE_KBIT is a number") * 125.0);
    let listener = TcpListener::bind(listen).await?;
    println!("delay line listening on {}", listener.local_addr()?);
    loop {
        let (client, _) = listener.accept().await?;
        let target = target.clone();
        tokio::spawn(async move {
            if let Ok(upstream) = TcpStream::connect(&target).await {
                relay(client, upstream, delay, rate).await;
            }
        });
    }
}

async fn relay(client: TcpStream, upstream: TcpStream, delay: Duration, rate: Option<f64>) {
    client.set_nodelay(true).ok();
    upstream.set_nodelay(true).ok();
    let (mut client_rx, mut client_tx) = client.into_split();
    let (mut up_rx, mut up_tx) = upstream.into_split();
    let back = tokio::spawn(async move {
        let Some(rate) = rate else {
            let _ = tokio::io::copy(&mut up_rx, &mut client_tx).await;
            return;
        };
        let mut buf = vec![0u8; 16 * 1024];
        let mut link_free = Instant::now();
        loop {
            match up_rx.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    link_free =
                        link_free.max(Instant::now()) + Duration::from_secs_f64(n as f64 / rate);
                    tokio::time::sleep_until(link_free).await;
                    if client_tx.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            }
        }
        let _ = client_tx.shutdown().await;
    });
    let (tx, mut rx) = mpsc::unbounded_channel::<(Instant, Vec<u8>)>();
    let reader = tokio::spawn(async move {
        // Limited: the link takes bytes at its rate, and what waits for it waits in this
        // (unbounded) buffer, like a modem's; delivery is DELAY_MS after the link sent them.
        let mut link_free = Instant::now();
        // Small reads when limited, so the link is fed packet-sized pieces.
        let mut buf = vec![0u8; if rate.is_some() { 16 * 1024 } else { 64 * 1024 }];
        loop {
            match client_rx.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let sent = match rate {
                        Some(rate) => {
                            link_free = link_free.max(Instant::now())
                                + Duration::from_secs_f64(n as f64 / rate);
                            link_free
                        }
                        None => Instant::now(),
                    };
                    if tx.send((sent + delay, buf[..n].to_vec())).is_err() {
                        break;
                    }
                }
            }
        }
    });
    while let Some((due, chunk)) = rx.recv().await {
        tokio::time::sleep_until(due).await;
        if up_tx.write_all(&chunk).await.is_err() {
            break;
        }
    }
    let _ = up_tx.shutdown().await;
    reader.abort();
    let _ = back.await;
}
