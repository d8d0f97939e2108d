//! A TCP delay line for tests: listens on LISTEN, connects each client to TARGET, and holds
//! every byte the client sends for DELAY_MS before passing it on (the other direction passes
//! at once), without slowing the stream: a round trip through it takes DELAY_MS longer, the
//! rate is untouched. It stands in for `tc netem delay` on kernels built without netem.
//!
//! Usage: tether-delay-line LISTEN TARGET DELAY_MS

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::Instant;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, listen, target, delay] = args.as_slice() else {
        eprintln!("usage: tether-delay-line LISTEN TARGET DELAY_MS");
        std::process::exit(64);
    };
    let delay = Duration::from_millis(delay.parse().expect("DELAY_MS is a number"));
    let listener = TcpListener::bind(listen).await?;
    println!("delay line listening on {}", listener.local_addr()?);
    loop {
        let (client, _) = listener.accept().await?;
        let target = target.clone();
        tokio::spawn(async move {
            if let Ok(upstream) = TcpStream::connect(&target).await {
                relay(client, upstream, delay).await;
            }
        });
    }
}

async fn relay(client: TcpStream, upstream: TcpStream, delay: Duration) {
    client.set_nodelay(true).ok();
    upstream.set_nodelay(true).ok();
    let (mut client_rx, mut client_tx) = client.into_split();
    let (mut up_rx, mut up_tx) = upstream.into_split();
    let back = tokio::spawn(async move {
        let _ = tokio::io::copy(&mut up_rx, &mut client_tx).await;
    });
    let (tx, mut rx) = mpsc::unbounded_channel::<(Instant, Vec<u8>)>();
    let reader = tokio::spawn(async move {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match client_rx.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if tx.send((Instant::now() + delay, buf[..n].to_vec())).is_err() {
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
