//! [`StoreHandle`]: the store as the rest of the broker holds it. Calls go straight to the
//! store's async methods (through `Deref`); writes that nobody waits for (history entries, a
//! session's start and end) are queued with [`StoreHandle::record`] for one writer task that
//! applies them in the order they were queued, so a session's end is never stored before its
//! start even though the code that records them does not await.

use std::future::Future;
use std::ops::Deref;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use tokio::sync::mpsc;

use crate::{Store, StoreError};

/// A write queued for the writer task.
type Job = Box<dyn FnOnce(Arc<dyn Store>) -> BoxFuture<'static, Result<(), StoreError>> + Send>;

/// A cloneable handle on the store.
#[derive(Clone)]
pub struct StoreHandle {
    store: Arc<dyn Store>,
    writes: mpsc::UnboundedSender<Job>,
}

impl std::fmt::Debug for StoreHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoreHandle")
    }
}

impl Deref for StoreHandle {
    type Target = dyn Store;

    fn deref(&self) -> &Self::Target {
        &*self.store
    }
}

impl StoreHandle {
    /// Wraps a store and starts its writer task (on the current tokio runtime), which ends
    /// when the last handle is dropped.
    pub fn new(store: impl Store) -> StoreHandle {
        let store: Arc<dyn Store> = Arc::new(store);
        let (writes, mut queue) = mpsc::unbounded_channel::<Job>();
        let writer = store.clone();
        tokio::spawn(async move {
            while let Some(job) = queue.recv().await {
                if let Err(err) = job(writer.clone()).await {
                    tracing::error!(%err, "a queued store write failed");
                }
            }
        });
        StoreHandle { store, writes }
    }

    /// The store itself, to hand to code that keeps its own reference.
    pub fn shared(&self) -> Arc<dyn Store> {
        self.store.clone()
    }

    /// Queues a write; writes run one at a time in the order queued. Failures are logged.
    pub fn record<F, Fut>(&self, write: F)
    where
        F: FnOnce(Arc<dyn Store>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), StoreError>> + Send + 'static,
    {
        let job: Job = Box::new(move |store| Box::pin(write(store)));
        if self.writes.send(job).is_err() {
            tracing::error!("the store writer has stopped; a write was lost");
        }
    }

    /// Waits until every write queued before this call is applied.
    pub async fn flush(&self) {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.record(move |_| async move {
            let _ = tx.send(());
            Ok(())
        });
        let _ = rx.await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SqliteStore;

    #[tokio::test]
    async fn queued_writes_apply_in_order_and_flush_waits_for_them() {
        let dir = tempfile::tempdir().unwrap();
        let store = StoreHandle::new(SqliteStore::open(&dir.path().join("t.db")).unwrap());
        let user = crate::tests::alice();
        let added = user.clone();
        store.record(move |s| async move { s.add_user(&added).await });
        store.record(|s| async move {
            // Runs after the add: disabling finds the account.
            assert!(s.set_disabled("alice", true).await?);
            Ok(())
        });
        store.flush().await;
        assert!(store.user("alice").await.unwrap().unwrap().disabled);
    }
}
