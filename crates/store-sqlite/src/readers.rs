//! The readers: a few threads, each with its own read-only connection, taking reads from one
//! queue. A read is a closure that runs on whichever reader is idle and answers over a oneshot
//! channel: one hand-over there and one back, however many statements and rows it needs.
//!
//! In WAL mode a reader sees the last committed state and never waits for the writer.

use std::thread::JoinHandle;

use integritet_app::store::StoreError;
use rusqlite::Connection;
use tokio::sync::oneshot;

use crate::error;

/// A read to run on a connection.
pub(crate) type Read = Box<dyn FnOnce(&mut Connection) + Send>;

pub(crate) struct Readers {
    queue: Option<crossbeam_channel::Sender<Read>>,
    threads: Vec<JoinHandle<()>>,
}

impl Readers {
    /// Starts one thread per connection.
    pub(crate) fn start(connections: Vec<Connection>) -> Result<Readers, StoreError> {
        let (queue, reads) = crossbeam_channel::unbounded::<Read>();
        let mut threads = Vec::with_capacity(connections.len());
        for (n, mut conn) in connections.into_iter().enumerate() {
            let reads = reads.clone();
            let thread = std::thread::Builder::new()
                .name(format!("sqlite-reader-{n}"))
                .spawn(move || {
                    // Ends when the store is dropped and the queue is empty.
                    while let Ok(read) = reads.recv() {
                        read(&mut conn);
                    }
                })
                .map_err(|e| {
                    StoreError::Unavailable(format!(
                        "cannot start a database reader thread ({e}); the system is out of \
                         threads or memory"
                    ))
                })?;
            threads.push(thread);
        }
        Ok(Readers {
            queue: Some(queue),
            threads,
        })
    }

    /// No readers: every read is refused as closed.
    pub(crate) fn none() -> Readers {
        Readers {
            queue: None,
            threads: Vec::new(),
        }
    }

    /// Runs `read` on an idle reader and waits for its answer.
    pub(crate) async fn call<T: Send + 'static>(
        &self,
        read: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let queue = self.queue.as_ref().ok_or_else(error::closed)?;
        call_on(|job| queue.send(job).map_err(drop), read).await
    }

    /// Stops the threads once the reads already queued are done, and waits for them.
    pub(crate) fn stop(&mut self) {
        self.queue = None;
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

impl Drop for Readers {
    fn drop(&mut self) {
        // Without waiting: the threads end by themselves once the queue is closed and empty.
        self.queue = None;
    }
}

/// Sends `read` with `send` to whichever thread runs it, and waits for its answer.
pub(crate) async fn call_on<T: Send + 'static>(
    send: impl FnOnce(Read) -> Result<(), ()>,
    read: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    let (answer, answered) = oneshot::channel();
    let job: Read = Box::new(move |conn| {
        // The caller may have gone away; the answer is then dropped.
        let _ = answer.send(read(conn));
    });
    send(job).map_err(|()| error::closed())?;
    answered.await.map_err(|_| error::closed())?
}
