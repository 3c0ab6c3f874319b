//! One helper thread, started with the program and kept parked, that takes
//! the second half of work split in two: the parts of a large case file that
//! serde-saphyr parses (or of its parse-cache entry), and the JUnit report
//! written beside `summary.json`.
//!
//! A fresh thread per split gained little: on this 2-core VM, a thread
//! spawned while its parent stayed busy started running 0.3–3.2 ms later
//! (median 1.8 ms, 20 tries), often only once the parent blocked, so the two
//! halves ran one after the other; waking a parked thread took 9–19 µs
//! (19 of 20 tries). The helper is started first thing, so by the time work
//! is split it has long been parked.

use std::sync::OnceLock;
use std::sync::mpsc::{self, Receiver, Sender};

type Job = Box<dyn FnOnce() + Send>;

static HELPER: OnceLock<Option<Sender<Job>>> = OnceLock::new();

thread_local! {
    static ON_HELPER: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Starts the helper thread, if it is not running yet. Work given to
/// [`spawn`] before this starts it then (a thread started late).
pub fn start() {
    helper();
}

fn helper() -> Option<&'static Sender<Job>> {
    HELPER
        .get_or_init(|| {
            let (tx, rx) = mpsc::channel::<Job>();
            std::thread::Builder::new()
                .name("conform-helper".into())
                .spawn(move || {
                    ON_HELPER.with(|h| h.set(true));
                    for job in rx {
                        job();
                    }
                })
                .ok()
                .map(|_| tx)
        })
        .as_ref()
}

/// Work given to the helper; [`Pending::join`] waits for its result.
pub struct Pending<T>(Outcome<T>);

enum Outcome<T> {
    Queued(Receiver<std::thread::Result<T>>),
    Done(std::thread::Result<T>),
}

/// Runs `f` on the helper thread, or right here when there is no helper (it
/// could not be started) or this is the helper (a job waiting for a job
/// queued behind it would wait forever).
pub fn spawn<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Pending<T> {
    let run = |f: Box<dyn FnOnce() -> T + Send>| {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
    };
    let f: Box<dyn FnOnce() -> T + Send> = Box::new(f);
    if ON_HELPER.with(|h| h.get()) {
        return Pending(Outcome::Done(run(f)));
    }
    let Some(tx) = helper() else {
        return Pending(Outcome::Done(run(f)));
    };
    let (done, rx) = mpsc::sync_channel(1);
    let job: Job = Box::new(move || {
        let _ = done.send(run(f));
    });
    match tx.send(job) {
        Ok(()) => Pending(Outcome::Queued(rx)),
        // The helper is gone (it cannot be: it never returns); run here.
        Err(mpsc::SendError(job)) => {
            job();
            Pending(Outcome::Queued(rx))
        }
    }
}

impl<T> Pending<T> {
    /// The result, or the panic the work ended in.
    pub fn join(self) -> std::thread::Result<T> {
        match self.0 {
            Outcome::Done(r) => r,
            Outcome::Queued(rx) => rx
                .recv()
                .unwrap_or_else(|_| Err(Box::new("the helper dropped the work"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_runs_on_the_helper_and_comes_back() {
        start();
        let here = std::thread::current().id();
        let there = spawn(move || std::thread::current().id()).join().unwrap();
        assert_ne!(here, there);
        assert_eq!(spawn(|| 6 * 7).join().unwrap(), 42);
    }

    #[test]
    fn a_panic_is_returned_not_raised() {
        let r =
            spawn(|| -> u8 { panic!("a deliberate panic: the helper returns it to the caller") })
                .join();
        assert!(r.is_err());
        // The helper survives it.
        assert_eq!(spawn(|| 1).join().unwrap(), 1);
    }

    #[test]
    fn work_given_by_the_helper_runs_in_place() {
        let inner = spawn(|| {
            let me = std::thread::current().id();
            spawn(move || std::thread::current().id() == me)
                .join()
                .unwrap()
        });
        assert!(inner.join().unwrap());
    }
}
