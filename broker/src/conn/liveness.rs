//! Liveness: when a connection last delivered any byte. A peer that vanishes without closing
//! (a pulled cable, a suspended laptop) sends nothing, not even the pong to the broker's ping;
//! one on a slow link may take longer than the timeout to deliver a large message but keeps
//! delivering bytes. Watching bytes rather than whole messages tells the two apart.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Instant;

/// When bytes last arrived, shared with whoever judges the silence.
#[derive(Debug, Clone)]
pub(crate) struct Heard {
    since: Instant,
    /// Milliseconds after `since`.
    last_ms: Arc<AtomicU64>,
}

impl Heard {
    fn new() -> Heard {
        Heard { since: Instant::now(), last_ms: Arc::new(AtomicU64::new(0)) }
    }

    fn now(&self) {
        let ms = self.since.elapsed().as_millis() as u64;
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    /// How long nothing has arrived.
    pub(crate) fn silent_for(&self) -> Duration {
        let last = Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
        self.since.elapsed().saturating_sub(last)
    }
}

/// A stream that notes when it reads bytes.
#[derive(Debug)]
pub(crate) struct Watched<S> {
    inner: S,
    heard: Heard,
}

impl<S> Watched<S> {
    /// Wraps `inner`.
    pub(crate) fn new(inner: S) -> (Watched<S>, Heard) {
        let heard = Heard::new();
        (Watched { inner, heard: heard.clone() }, heard)
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.heard.now();
        }
        poll
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, data)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn silence_is_the_time_since_the_last_byte() {
        let (mut near, far) = tokio::io::duplex(64);
        let (mut watched, heard) = Watched::new(far);
        tokio::time::advance(Duration::from_secs(5)).await;
        assert_eq!(heard.silent_for(), Duration::from_secs(5));
        near.write_all(b"x").await.unwrap();
        let mut one = [0u8; 1];
        watched.read_exact(&mut one).await.unwrap();
        assert_eq!(heard.silent_for(), Duration::ZERO);
        tokio::time::advance(Duration::from_secs(2)).await;
        assert_eq!(heard.silent_for(), Duration::from_secs(2));
    }
}
