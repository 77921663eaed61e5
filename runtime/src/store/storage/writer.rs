//! Disk work off the calling thread, finished before the kernel answers the cell.
//!
//! In the kernel's cell process (a store folder is set, see [`super::location`]) writes and
//! deletions go to one background thread and run in the order they were asked for, so a
//! deletion asked after a write wins. Before it sends a cell's reply, the kernel asks the
//! runtime to wait for the queue ([`flush`], on the control channel), so an entry is on disk
//! when its cell is reported done. In a plain program the work runs on the calling thread, and
//! is done when the cached call returns.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{self, Sender};
use std::sync::{Condvar, LazyLock, Mutex, MutexGuard};

type Job = Box<dyn FnOnce() + Send>;

struct Queue {
    sender: Sender<Job>,
    /// Jobs queued and not finished.
    pending: Mutex<usize>,
    idle: Condvar,
}

static QUEUE: LazyLock<Option<Queue>> = LazyLock::new(|| {
    super::location::store_dir()?;
    let (sender, receiver) = mpsc::channel::<Job>();
    let spawned = std::thread::Builder::new()
        .name("cellar-disk".into())
        .spawn(move || {
            for job in receiver {
                run(job);
                finished();
            }
        });
    spawned.ok().map(|_| Queue {
        sender,
        pending: Mutex::new(0),
        idle: Condvar::new(),
    })
});

fn lock(queue: &Queue) -> MutexGuard<'_, usize> {
    queue
        .pending
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Runs `job` in the background in a kernel, now elsewhere.
pub(crate) fn submit(job: impl FnOnce() + Send + 'static) {
    let Some(queue) = QUEUE.as_ref() else {
        return run(Box::new(job));
    };
    *lock(queue) += 1;
    if let Err(mpsc::SendError(job)) = queue.sender.send(Box::new(job)) {
        // The thread is gone (it never panics: jobs run under catch_unwind); do it here.
        run(job);
        finished();
    }
}

/// Waits until every job submitted so far is done.
pub(crate) fn flush() {
    let Some(queue) = QUEUE.as_ref() else { return };
    let mut pending = lock(queue);
    while *pending > 0 {
        pending = queue
            .idle
            .wait(pending)
            .unwrap_or_else(|poisoned| poisoned.into_inner());
    }
}

fn finished() {
    let Some(queue) = QUEUE.as_ref() else { return };
    let mut pending = lock(queue);
    *pending -= 1;
    if *pending == 0 {
        queue.idle.notify_all();
    }
}

fn run(job: Job) {
    if catch_unwind(AssertUnwindSafe(job)).is_err() {
        eprintln!("cellar: storing a cache entry on disk panicked; the entry stays in memory only");
    }
}
