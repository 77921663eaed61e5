//! Output capture: what the cell process prints becomes IOPub messages while the cell runs.
//!
//! evcxr hands over the child's stdout and stderr line by line on two channels. One pump thread
//! per stream turns them into `stream` messages, batching whatever is already queued so a cell
//! that prints a million lines sends a few hundred messages, while a cell that prints a line a
//! second shows each line as it comes. Two kinds of lines are not plain text:
//! - `cellar::display` lines (stdout, [`OUTPUT_MARKER`] + JSON) become `display_data`,
//!   `update_display_data` and `clear_output` at the moment they are printed;
//! - a panic report of the cell itself (stderr) is held back and becomes the cell's one `error`
//!   (see [`super::panics`]).

use super::panics::{PanicReport, PanicScanner};
use super::stderr_pipe::StderrPipe;
use crate::sockets::Iopub;
use crate::wire::Request;
use cellar::protocol::OUTPUT_MARKER;
use crossbeam_channel::Receiver;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Most bytes of text in one `stream` message.
const BATCH_BYTES: usize = 64 * 1024;

/// Where the pumps send outputs: IOPub, under the request that is running now.
pub struct OutputSink {
    iopub: Iopub,
    parent: Mutex<Option<Request>>,
    panics: Mutex<Vec<PanicReport>>,
    scanner: Mutex<PanicScanner>,
    /// Held by a pump while it turns queued lines into messages, so [`OutputSink::flush`] can
    /// wait for a batch in flight.
    busy: [Mutex<()>; 2],
    queues: [Receiver<String>; 2],
    /// The cell process's stderr pipe, once found (see `stderr_pipe`).
    stderr_pipe: Mutex<Option<StderrPipe>>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Stream {
    Stdout = 0,
    Stderr = 1,
}

impl Stream {
    fn name(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
}

impl OutputSink {
    /// Starts the two pump threads on evcxr's output channels.
    pub fn start(iopub: Iopub, outputs: evcxr::EvalContextOutputs) -> Arc<OutputSink> {
        let sink = Arc::new(OutputSink {
            iopub,
            parent: Mutex::new(None),
            panics: Mutex::new(Vec::new()),
            scanner: Mutex::new(PanicScanner::default()),
            busy: [Mutex::new(()), Mutex::new(())],
            queues: [outputs.stdout.clone(), outputs.stderr.clone()],
            stderr_pipe: Mutex::new(None),
        });
        for (stream, queue) in [
            (Stream::Stdout, outputs.stdout),
            (Stream::Stderr, outputs.stderr),
        ] {
            let sink = sink.clone();
            std::thread::Builder::new()
                .name(format!("cellar-{}", stream.name()))
                .spawn(move || sink.pump(stream, queue))
                .expect("spawn output pump");
        }
        sink
    }

    /// Sets the request whose cell is running; outputs are sent as its children.
    pub fn begin(&self, parent: &Request) {
        *self.parent.lock().unwrap() = Some(parent.clone());
        self.panics.lock().unwrap().clear();
    }

    /// No request is running: what the cell process prints now is not shown anywhere.
    pub fn detach(&self) {
        *self.parent.lock().unwrap() = None;
    }

    /// The request whose cell is running.
    pub fn current(&self) -> Option<Request> {
        self.parent.lock().unwrap().clone()
    }

    /// Waits until every line the cell printed has been sent, then returns the panics of the cell.
    ///
    /// stdout is complete when evcxr returns (it forwards lines before it sees the end of the
    /// cell); stderr is a separate pipe that evcxr reads on a thread of its own. When the pipe of
    /// `child` (the cell process) can be asked, stderr has caught up once it holds nothing
    /// unread and what evcxr's thread read has been queued; otherwise give it a short quiet
    /// period.
    pub fn flush(&self, child: Option<u32>) -> Vec<PanicReport> {
        let mut known = self.stderr_pipe.lock().unwrap();
        if let Some(child) =
            child.filter(|&child| known.as_ref().map(StderrPipe::child) != Some(child))
        {
            *known = StderrPipe::of(child);
        }
        let pipe = known.as_ref().filter(|pipe| Some(pipe.child()) == child);
        let (pause, rounds) = match pipe.and_then(StderrPipe::unread) {
            Some(_) => (Duration::from_micros(500), 1),
            None => (Duration::from_millis(2), 3),
        };
        let deadline = Instant::now() + Duration::from_millis(200);
        let mut quiet_rounds = 0;
        while quiet_rounds < rounds && Instant::now() < deadline {
            std::thread::sleep(pause);
            let unread = pipe.and_then(StderrPipe::unread).unwrap_or(0);
            let idle = unread == 0 && self.queues.iter().all(Receiver::is_empty);
            quiet_rounds = if idle { quiet_rounds + 1 } else { 0 };
        }
        for busy in &self.busy {
            drop(busy.lock().unwrap());
        }
        let (held_back, report) = self.scanner.lock().unwrap().finish();
        let mut text = held_back.iter().map(|line| format!("{line}\n")).collect();
        self.send_text(Stream::Stderr, &mut text);
        let mut panics = std::mem::take(&mut *self.panics.lock().unwrap());
        panics.extend(report);
        panics
    }

    /// Sends a message under the current request (used by the engine for its own outputs).
    pub fn send(&self, msg_type: &str, content: Value) {
        if let Some(parent) = self.parent.lock().unwrap().as_ref() {
            self.iopub.send(parent.broadcast(msg_type, content));
        }
    }

    fn pump(&self, stream: Stream, queue: Receiver<String>) {
        while let Ok(first) = queue.recv() {
            let _busy = self.busy[stream as usize].lock().unwrap();
            let mut text = String::new();
            let mut line = Some(first);
            while let Some(current) = line.take() {
                self.take_line(stream, current, &mut text);
                if text.len() < BATCH_BYTES {
                    line = queue.try_recv().ok();
                }
            }
            self.send_text(stream, &mut text);
        }
    }

    fn take_line(&self, stream: Stream, line: String, text: &mut String) {
        if stream == Stream::Stdout {
            // A display printed after `print!` without a newline shares that line.
            if let Some(at) = line.find(OUTPUT_MARKER) {
                text.push_str(&line[..at]);
                self.send_text(stream, text);
                self.send_display(&line[at + OUTPUT_MARKER.len()..]);
                return;
            }
        } else {
            let (passed, report) = self.scanner.lock().unwrap().scan(line);
            if let Some(report) = report {
                self.panics.lock().unwrap().push(report);
            }
            for line in passed {
                text.push_str(&line);
                text.push('\n');
            }
            return;
        }
        text.push_str(&line);
        text.push('\n');
    }

    fn send_text(&self, stream: Stream, text: &mut String) {
        if !text.is_empty() {
            self.send(
                "stream",
                json!({ "name": stream.name(), "text": std::mem::take(text) }),
            );
        }
    }

    fn send_display(&self, payload: &str) {
        match serde_json::from_str::<Value>(payload) {
            Ok(message) => {
                let msg_type = message["msg_type"].as_str().unwrap_or_default();
                if matches!(
                    msg_type,
                    "display_data" | "update_display_data" | "clear_output"
                ) {
                    self.send(msg_type, message["content"].clone());
                } else {
                    eprintln!("cellar: ignored an output of unknown type `{msg_type}`");
                }
            }
            Err(error) => eprintln!("cellar: ignored a malformed display line: {error}"),
        }
    }
}
