//! Ctrl-C and SIGTERM: stop starting cases, cancel in-flight requests, still
//! run the cleanup steps of started cases (each bounded by a short deadline),
//! and write the reports with the unfinished cases marked as such.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::Notify;

/// How long a cleanup step may take once the run was interrupted.
pub const CLEANUP_DEADLINE: Duration = Duration::from_secs(5);

/// A run-wide interruption flag that tasks can await.
#[derive(Debug, Clone, Default)]
pub struct Interrupt {
    inner: Arc<(AtomicBool, Notify)>,
}

impl Interrupt {
    /// A flag that is not set.
    pub fn new() -> Interrupt {
        Interrupt::default()
    }

    /// Sets the flag and wakes every waiter.
    pub fn trigger(&self) {
        self.inner.0.store(true, Ordering::SeqCst);
        self.inner.1.notify_waiters();
    }

    /// True once triggered.
    pub fn is_set(&self) -> bool {
        self.inner.0.load(Ordering::SeqCst)
    }

    /// Resolves when the flag is set (at once if it already is).
    pub async fn wait(&self) {
        loop {
            let notified = self.inner.1.notified();
            if self.is_set() {
                return;
            }
            notified.await;
        }
    }

    /// Triggers on SIGINT or SIGTERM; the returned task lives as long as the runtime.
    pub fn listen(&self) -> tokio::task::JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move {
            #[cfg(unix)]
            {
                use tokio::signal::unix::{SignalKind, signal};
                let Ok(mut term) = signal(SignalKind::terminate()) else {
                    return;
                };
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            #[cfg(not(unix))]
            let _ = tokio::signal::ctrl_c().await;
            crate::report::human::write_pending_lines();
            crate::errln!(
                "\ninterrupted: cancelling requests, running cleanup steps (at most {}s each), writing reports",
                CLEANUP_DEADLINE.as_secs()
            );
            this.trigger();
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn waiters_wake_on_trigger_and_late_waiters_return_at_once() {
        let i = Interrupt::new();
        let w = tokio::spawn({
            let i = i.clone();
            async move { i.wait().await }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        i.trigger();
        tokio::time::timeout(Duration::from_secs(1), w)
            .await
            .unwrap()
            .unwrap();
        tokio::time::timeout(Duration::from_millis(50), i.wait())
            .await
            .unwrap();
    }
}
