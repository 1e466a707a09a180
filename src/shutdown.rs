//! Stopping cleanly: a signal that background work watches, and a tracker of
//! that work, so the process exits only after the job step or the email in
//! progress has finished and been recorded.

use std::future::Future;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How long the process waits for background work after a shutdown signal.
/// A quarterly run commits its snapshot and queue in one transaction, so a
/// run cut off after this is rolled back, not half-written.
pub const GRACE: Duration = Duration::from_secs(30);

/// Shared by the server, the scheduler and the mail sender of one process.
#[derive(Clone, Default)]
pub struct Shutdown {
    token: CancellationToken,
    tasks: TaskTracker,
}

impl Shutdown {
    pub fn new() -> Self {
        Self::default()
    }

    /// Cancelled once shutdown starts; long loops check it between steps.
    pub fn token(&self) -> &CancellationToken {
        &self.token
    }

    /// Runs `work` in the background; shutdown waits for it.
    pub fn spawn<F>(&self, work: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.tasks.spawn(work);
    }

    /// Wraps `work` so that shutdown waits for it, wherever it is spawned.
    pub fn track<F: Future>(&self, work: F) -> impl Future<Output = F::Output> {
        self.tasks.track_future(work)
    }

    /// Signals shutdown and waits up to `grace` for tracked work; false when
    /// some was still running.
    pub async fn finish(&self, grace: Duration) -> bool {
        self.token.cancel();
        self.tasks.close();
        tokio::time::timeout(grace, self.tasks.wait()).await.is_ok()
    }
}
