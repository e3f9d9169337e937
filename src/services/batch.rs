//! Group commit: concurrent callers hand their writes to one worker, which commits whatever
//! has queued up in one go and answers each caller with its own result.
//!
//! There is no waiting window: a write queued while the worker is idle commits at once, alone;
//! writes queued while a commit is in flight go together in the next one. Under load the
//! batches grow by themselves and one transaction (one fsync) serves many writes; at rest
//! nothing is delayed.

use futures_util::FutureExt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Mutex;
use tokio::sync::{mpsc, oneshot};

type Job<T, R> = (T, oneshot::Sender<R>);

/// A queue of writes `T` committed together by `commit`, which answers one `R` per write, in
/// the order given.
pub struct GroupCommit<T, R> {
    tx: mpsc::Sender<Job<T, R>>,
    /// The worker's end, until the first write starts the worker (on the caller's runtime).
    idle: Mutex<Option<Worker<T, R>>>,
}

struct Worker<T, R> {
    rx: mpsc::Receiver<Job<T, R>>,
    max: usize,
    commit: Box<dyn FnMut(Vec<T>) -> futures_util::future::BoxFuture<'static, Vec<R>> + Send>,
}

/// The write was not made: its commit panicked, or the worker is gone.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the commit worker has stopped")]
pub struct Stopped;

impl<T: Send + 'static, R: Send + 'static> GroupCommit<T, R> {
    /// At most `max` writes per commit; `queue` writes may wait before callers wait to queue.
    pub fn new<F, Fut>(max: usize, queue: usize, mut commit: F) -> Self
    where
        F: FnMut(Vec<T>) -> Fut + Send + 'static,
        Fut: Future<Output = Vec<R>> + Send + 'static,
    {
        let (tx, rx) = mpsc::channel(queue.max(1));
        GroupCommit {
            tx,
            idle: Mutex::new(Some(Worker {
                rx,
                max: max.max(1),
                commit: Box::new(move |batch| Box::pin(commit(batch))),
            })),
        }
    }

    /// Queues `item` and waits for its result.
    pub async fn submit(&self, item: T) -> Result<R, Stopped> {
        if let Some(worker) = self.idle.lock().unwrap_or_else(|e| e.into_inner()).take() {
            tokio::spawn(worker.run());
        }
        let (reply, answer) = oneshot::channel();
        self.tx.send((item, reply)).await.map_err(|_| Stopped)?;
        answer.await.map_err(|_| Stopped)
    }
}

impl<T: Send + 'static, R: Send + 'static> Worker<T, R> {
    async fn run(mut self) {
        let mut jobs = Vec::with_capacity(self.max);
        // Ends when every sender is gone (the services were dropped).
        while self.rx.recv_many(&mut jobs, self.max).await > 0 {
            let (items, replies): (Vec<T>, Vec<oneshot::Sender<R>>) = jobs.drain(..).unzip();
            metrics::histogram!("hub_group_commit_size").record(items.len() as f64);
            let started = std::time::Instant::now();
            // A commit that panics fails its own batch (its callers hear `Stopped`), not the
            // worker: the writes behind it still commit.
            let results = match AssertUnwindSafe((self.commit)(items)).catch_unwind().await {
                Ok(results) => results,
                Err(_) => {
                    metrics::counter!("hub_group_commit_panics_total").increment(1);
                    tracing::error!(writes = replies.len(), "a group commit panicked");
                    continue;
                }
            };
            metrics::histogram!("hub_group_commit_seconds").record(started.elapsed().as_secs_f64());
            debug_assert_eq!(results.len(), replies.len(), "one result per write");
            for (reply, result) in replies.into_iter().zip(results) {
                // A caller that went away no longer needs its answer; the write stands.
                let _ = reply.send(result);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn concurrent_writes_share_commits_and_each_gets_its_own_result() {
        let commits = Arc::new(AtomicUsize::new(0));
        let seen = commits.clone();
        let gate = Arc::new(tokio::sync::Semaphore::new(0));
        let opened = gate.clone();
        let group = Arc::new(GroupCommit::new(8, 64, move |batch: Vec<u32>| {
            seen.fetch_add(1, Ordering::SeqCst);
            let opened = opened.clone();
            async move {
                // The first commit waits, so the writes behind it queue up.
                let _ = opened.acquire().await.map(|p| p.forget());
                batch.into_iter().map(|n| n * 10).collect()
            }
        }));
        let first = tokio::spawn({
            let group = group.clone();
            async move { group.submit(1).await }
        });
        while commits.load(Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
        let rest: Vec<_> = (2..=20)
            .map(|n| {
                let group = group.clone();
                tokio::spawn(async move { group.submit(n).await })
            })
            .collect();
        // Let all 19 queue behind the first commit before any is taken.
        while group.tx.capacity() > 64 - 19 {
            tokio::task::yield_now().await;
        }
        gate.add_permits(100);
        assert_eq!(first.await.unwrap().unwrap(), 10);
        for (n, task) in (2..=20).zip(rest) {
            assert_eq!(task.await.unwrap().unwrap(), n * 10);
        }
        // 1 alone, then 19 queued writes in batches of at most 8: 8 + 8 + 3.
        assert_eq!(commits.load(Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn a_commit_that_panics_fails_its_batch_and_the_next_ones_commit() {
        let group = GroupCommit::new(4, 4, |batch: Vec<u8>| async move {
            assert!(!batch.contains(&0), "commit failed");
            batch
        });
        assert!(group.submit(0).await.is_err(), "the panicking batch fails");
        assert_eq!(group.submit(7).await.unwrap(), 7, "the worker goes on");
    }
}
