//! Running one cell (and answering completion and inspection) on the engine thread.

use super::build_progress::BuildProgress;
use super::build_timing::{self, CellBuild};
use super::cell_crate_flags::{self, LevelChoice};
use super::control::{self, Answer};
use super::diagnostics::{self, CellError, CellText};
use super::evcxr_start;
use super::notebook::{changes_formatting, CellSource, Notebook, ResultDisplay, SHOW_METHOD};
use super::offline_first::{self, CargoNetwork};
use super::outputs::OutputSink;
use super::runtime_loading::{self, RuntimeLoad};
use super::runtime_stand_ins::RuntimeDependencies;
use super::wrapper_reports::{self, WrapperReport};
use super::{commands, Cell, CellOutcome, InputReader};
use crate::sockets::Iopub;
use cellar::protocol::ControlRequest;
use serde_json::{json, Map, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// What the engine thread shares with the handle the handlers hold.
pub struct Shared {
    pub iopub: Iopub,
    pub input: InputReader,
    pub paths: super::EnginePaths,
    /// The remote tier, for `:cellar` (the cell process reaches it through its socket).
    pub remote: Option<Arc<crate::remote_tier::RemoteTier>>,
    pub child: Arc<Mutex<Option<Arc<Mutex<std::process::Child>>>>>,
    pub interrupted: Arc<AtomicBool>,
    /// True while user code runs: an interrupt then has something to stop.
    pub running: Arc<AtomicBool>,
}

/// evcxr, with the output pumps and what the kernel learned of the notebook so far.
pub struct Runner {
    pub(super) context: evcxr::CommandContext,
    pub(super) sink: Arc<OutputSink>,
    pub(super) notebook: Notebook,
    /// Who shows final expressions: evcxr once the user changed its formatting.
    display: ResultDisplay,
    runtime: RuntimeLoad,
    /// Whether a cell added crates of its own (`:dep`): the runtime is then added whole.
    own_dependencies: bool,
    level_choice: LevelChoice,
    /// cargo's offline mode as the user set it (`:offline`), or the kernel's offline first.
    cargo_network: CargoNetwork,
    progress: Arc<BuildProgress>,
    /// The cell crate's builds, as the rustc wrapper reported them (`build_timing`).
    cell_builds: crossbeam_channel::Receiver<CellBuild>,
    shared: Shared,
}

impl Runner {
    /// Starts evcxr (its first compile). The runtime comes later (`runtime_loading`). How
    /// long it took goes to the kernel log: it is most of the time to the first result.
    pub fn start(shared: Shared) -> anyhow::Result<Runner> {
        let started = std::time::Instant::now();
        let (context, outputs) = evcxr_start::start(&shared.paths.cell_work)?;
        eprintln!(
            "cellar: evcxr started in {:.2} s (it compiles a first crate)",
            started.elapsed().as_secs_f64()
        );
        let sink = OutputSink::start(shared.iopub.clone(), outputs);
        let progress = Arc::new(BuildProgress::new(shared.paths.build.clone(), sink.clone()));
        let (built, cell_builds) = crossbeam_channel::unbounded();
        let shown = progress.clone();
        let listening = wrapper_reports::listen(
            &shared.paths.wrapper_reports_socket,
            move |report| match report {
                WrapperReport::Compiling { crate_name } => shown.compiling(&crate_name),
                WrapperReport::CellBuilt(build) => {
                    let _ = built.send(build);
                }
            },
        );
        if let Err(error) = listening {
            eprintln!(
                "cellar: build progress and build times will not be shown ({}): {error}",
                shared.paths.wrapper_reports_socket.display()
            );
        }
        *shared.child.lock().unwrap() = Some(context.process_handle());
        Ok(Runner {
            context,
            sink,
            notebook: Notebook::default(),
            display: ResultDisplay::Kernel,
            runtime: RuntimeLoad::Pending,
            own_dependencies: false,
            level_choice: LevelChoice::Kernel,
            cargo_network: CargoNetwork::OfflineFirst,
            progress,
            cell_builds,
            shared,
        })
    }

    /// Loads `evcxr.toml`: `cellar` and `serde` become dependencies of every cell, already
    /// built when the build folder came from the seed. Once; a failure is tried again by the
    /// next cell that needs it.
    /// Returns how long adding it took, when this call added it.
    fn load_runtime(&mut self) -> Result<Option<f64>, String> {
        if self.runtime != RuntimeLoad::Pending {
            return Ok(None);
        }
        let started = std::time::Instant::now();
        self.sink.detach();
        let loaded = self
            .offline(":load_config --quiet")
            .or_else(|_| self.context.execute(":load_config --quiet"));
        self.sink.flush(self.child());
        match loaded {
            Ok(_) => {
                self.runtime = RuntimeLoad::Loaded(self.shared.paths.runtime_dependencies);
                if self.own_dependencies {
                    self.load_whole_runtime()?;
                }
                let took = started.elapsed().as_secs_f64();
                eprintln!("cellar: the runtime was added in {took:.2} s");
                Ok(Some(took))
            }
            Err(error) => Err(format!(
                "the cellar runtime could not be added to the cells: {error}"
            )),
        }
    }

    /// Gives the cells the runtime's own packages in place of its stand-ins, so that cargo
    /// builds one `serde` for the runtime and the notebook's own crates. The cells still link
    /// the libraries the stand-ins named.
    fn load_whole_runtime(&mut self) -> Result<(), String> {
        if self.runtime != RuntimeLoad::Loaded(RuntimeDependencies::StandIns) {
            return Ok(());
        }
        let started = std::time::Instant::now();
        let whole = self.shared.paths.whole_runtime.clone();
        self.offline(&whole)
            .or_else(|_| self.context.execute(&whole))
            .map_err(|error| {
                format!("the whole cellar runtime could not be added for the notebook's own crates: {error}")
            })?;
        self.runtime = RuntimeLoad::Loaded(RuntimeDependencies::Whole);
        eprintln!(
            "cellar: the whole runtime was added in {:.2} s, for the notebook's own crates",
            started.elapsed().as_secs_f64()
        );
        Ok(())
    }

    /// Runs `commands` through evcxr with cargo offline, then gives back the user's setting.
    fn offline(&mut self, commands: &str) -> Result<evcxr::EvalOutputs, evcxr::Error> {
        let outputs = self
            .context
            .execute(":offline 1")
            .and_then(|_| self.context.execute(commands));
        if let Err(error) = self.context.execute(self.cargo_network.restoring_command()) {
            eprintln!("cellar: could not set cargo's offline mode back: {error}");
        }
        outputs
    }

    /// Adds the cell's `:dep` crates (its `:dep` `lines`) offline first (`offline_first`),
    /// unless the user set `:offline`; the cell's own `:dep` lines then change nothing. Returns
    /// the phases of the build that added them. When offline fails, nothing was added, and the
    /// cell's `:dep` lines add the crates online, as in evcxr.
    fn add_dependencies_offline(&mut self, lines: &str) -> Vec<(String, f64)> {
        if self.cargo_network != CargoNetwork::OfflineFirst {
            return Vec::new();
        }
        self.cell_builds.try_iter().for_each(drop);
        match self.offline(lines) {
            Ok(outputs) => {
                let returned = build_timing::boot_clock();
                self.evcxr_phases(&outputs, returned)
            }
            Err(error) => {
                let first_line = error.to_string().lines().next().unwrap_or("").to_string();
                eprintln!("cellar: cargo could not add the cell's crates offline ({first_line}); adding them online");
                Vec::new()
            }
        }
    }

    /// evcxr's phases of a build, its compile phase split into rust-analyzer, cargo and rustc
    /// from the wrapper's reports; `returned` is when evcxr returned (`boot_clock`).
    fn evcxr_phases(&self, outputs: &evcxr::EvalOutputs, returned: f64) -> Vec<(String, f64)> {
        let phases = outputs
            .phases
            .iter()
            .map(|p| (p.name.clone(), p.duration.as_secs_f64()))
            .collect();
        build_timing::split_compile(phases, || self.reported_builds(), returned)
    }

    pub fn execute(&mut self, cell: Cell) -> CellOutcome {
        let command = commands::parse(&cell.code);
        // Before the cell's outputs are addressed to it: what loading prints is not the cell's.
        // Kernel commands (`:cellar`) never need it: they ask the runtime on its channel.
        let runtime = match command.is_none() && runtime_loading::needed_by(&cell.code) {
            true => self.load_runtime(),
            false => Ok(None),
        };
        self.sink.begin(&cell.parent);
        let runtime_added_in = match runtime {
            Ok(took) => took,
            Err(error) => return failed(CellError::new("RuntimeNotLoaded", error)),
        };
        self.progress.begin_cell();
        if let Err(error) = std::fs::write(&self.shared.paths.session_file, &cell.session) {
            eprintln!("cellar: could not record the client session: {error}");
        }
        self.cargo_network = self.cargo_network.after(&cell.code);
        if changes_formatting(&cell.code) {
            self.display = ResultDisplay::Evcxr;
        }
        if cell_crate_flags::sets_level(&cell.code) {
            cell_crate_flags::step_aside(&self.shared.paths.cell_work);
            self.level_choice = LevelChoice::User;
        }
        let mut outcome = match command {
            Some(command) => commands::run(self, command),
            None => {
                let mut dependencies_phases = Vec::new();
                if let Some(lines) = offline_first::dependency_lines(&cell.code) {
                    self.own_dependencies = true;
                    if let Err(error) = self.load_whole_runtime() {
                        return failed(CellError::new("RuntimeNotLoaded", error));
                    }
                    dependencies_phases = self.add_dependencies_offline(&lines);
                }
                let mut outcome = self.evaluate(
                    CellSource {
                        code: &cell.code,
                        cell_id: cell.cell_id.as_deref(),
                        deleted_cells: &cell.deleted_cells,
                        display: self.display,
                    },
                    cell.execution_count,
                    cell.silent,
                );
                outcome.phases = add_phases(dependencies_phases, outcome.phases);
                outcome
            }
        };
        if let Some(took) = runtime_added_in {
            outcome.phases.insert(0, (RUNTIME_PHASE.to_string(), took));
        }
        outcome
    }

    /// Runs a notebook cell through evcxr and sends its result. What the cell defines is kept
    /// in the notebook model only when evcxr accepted the cell. A final expression the kernel
    /// could not show (its type has no `Debug`) goes to evcxr's own display instead, which
    /// says why in evcxr's terms.
    fn evaluate(&mut self, cell: CellSource<'_>, count: u32, silent: bool) -> CellOutcome {
        let prepared = match self.notebook.prepare(cell) {
            Ok(prepared) => prepared,
            Err(error) => return failed(CellError::new("CellRewriteError", error.to_string())),
        };
        if self.level_choice == LevelChoice::Kernel {
            if let Err(error) = cell_crate_flags::choose(
                &self.shared.paths.cell_work,
                prepared.work,
                prepared.declares.as_ref(),
            ) {
                eprintln!("cellar: could not say how the cell is built: {error}");
            }
        }
        let text = CellText {
            sent: &prepared.source,
            map: &prepared.map,
            original: cell.code,
        };
        let (outcome, accepted) = self.run_source(&text, count, silent);
        match accepted {
            Accepted::Yes => self.notebook = prepared.notebook,
            Accepted::NotShowable if prepared.display == ResultDisplay::Kernel => {
                let display = ResultDisplay::Evcxr;
                return self.evaluate(CellSource { display, ..cell }, count, silent);
            }
            Accepted::No | Accepted::NotShowable => {}
        }
        outcome
    }

    /// The cell crate's builds reported since the cell began. The wrapper reports before cargo
    /// ends, so the report is in the socket by now; the listener may still be reading it.
    fn reported_builds(&self) -> Vec<CellBuild> {
        let mut builds: Vec<CellBuild> = self.cell_builds.try_iter().collect();
        if builds.is_empty() {
            builds.extend(
                self.cell_builds
                    .recv_timeout(std::time::Duration::from_millis(5)),
            );
        }
        builds
    }

    /// Runs the source a cell became (`text.sent`) and sends its result.
    fn run_source(
        &mut self,
        text: &CellText<'_>,
        count: u32,
        silent: bool,
    ) -> (CellOutcome, Accepted) {
        self.shared.interrupted.store(false, Ordering::SeqCst);
        let input = self.shared.input.clone();
        let request = self.sink.current();
        let mut callbacks = evcxr::EvalCallbacks {
            input_reader: &|asked| match &request {
                Some(request) => input(request, &asked.prompt, asked.is_password),
                None => String::new(),
            },
        };
        self.shared.running.store(true, Ordering::SeqCst);
        // Builds reported before this cell (loading the runtime, an earlier failure) are not its.
        self.cell_builds.try_iter().for_each(drop);
        let result = self
            .context
            .execute_with_callbacks(text.sent, &mut callbacks);
        let returned = build_timing::boot_clock();
        // The cell is not over until its entries are stored in every tier; an interrupt may
        // still stop a write that hangs (the process goes, and with it the wait).
        let storing = std::time::Instant::now();
        if let Err(error) = control::ask(&ControlRequest::WaitForWrites, None) {
            eprintln!("cellar: {error}");
        }
        let stored_in = storing.elapsed();
        self.shared.running.store(false, Ordering::SeqCst);
        let panics = self.sink.flush(self.child());
        let accepted = match &result {
            Ok(_) => Accepted::Yes,
            Err(evcxr::Error::CompilationErrors(errors))
                if errors.iter().any(|error| {
                    error.message().contains(SHOW_METHOD) || error.code() == Some("E0034")
                }) =>
            {
                Accepted::NotShowable
            }
            Err(_) => Accepted::No,
        };
        let outcome = match result {
            Ok(outputs) => match panics.first() {
                Some(panic) => failed(diagnostics::panic(panic)),
                None => {
                    let phases = self
                        .evcxr_phases(&outputs, returned)
                        .into_iter()
                        .chain([(STORING_PHASE.to_string(), stored_in.as_secs_f64())])
                        .collect();
                    CellOutcome {
                        phases,
                        ..self.send_result(outputs.content_by_mime_type, count, silent)
                    }
                }
            },
            Err(evcxr::Error::CompilationErrors(errors)) => {
                failed(diagnostics::compile_errors(&errors, text, count))
            }
            Err(evcxr::Error::SubprocessTerminated(status)) => {
                failed(if self.shared.interrupted.swap(false, Ordering::SeqCst) {
                    CellError::new(
                        "Interrupted",
                        format!("the cell was stopped by killing its process. {AFTER_RESTART}"),
                    )
                } else {
                    CellError::new(
                        "CellProcessDied",
                        format!("the process running cells stopped ({status}). {AFTER_RESTART}"),
                    )
                })
            }
            Err(evcxr::Error::TypeRedefinedVariablesLost(names)) => {
                self.sink.send(
                    "stream",
                    json!({ "name": "stderr", "text": format!("A type was redefined, so these variables were dropped: {}\n", names.join(", ")) }),
                );
                CellOutcome::default()
            }
            Err(other) => failed(CellError::new("Error", other.to_string())),
        };
        (outcome, accepted)
    }

    fn send_result(
        &self,
        content: std::collections::HashMap<String, String>,
        count: u32,
        silent: bool,
    ) -> CellOutcome {
        if content.is_empty() {
            return CellOutcome::default();
        }
        let data: Map<String, Value> = content
            .into_iter()
            .map(|(mime, text)| {
                let value = if mime.contains("json") {
                    serde_json::from_str(&text).unwrap_or(Value::String(text))
                } else {
                    Value::String(text)
                };
                (mime, value)
            })
            .collect();
        let result_text = data
            .get("text/plain")
            .and_then(Value::as_str)
            .map(str::to_string);
        if !silent {
            self.sink.send(
                "execute_result",
                json!({ "execution_count": count, "data": data, "metadata": {} }),
            );
        }
        CellOutcome {
            result_text,
            ..CellOutcome::default()
        }
    }

    /// `complete_reply` content; the cursor counts characters, evcxr counts bytes.
    pub fn complete(&mut self, code: &str, cursor: usize) -> Value {
        let at = byte_offset(code, cursor);
        match self.context.completions(code, at) {
            Ok(found) => {
                let start = char_offset(code, found.start_offset);
                let end = char_offset(code, found.end_offset);
                let types: Vec<Value> = found
                    .completions
                    .iter()
                    .map(|c| json!({ "start": start, "end": end, "text": c.code, "type": c.kind }))
                    .collect();
                json!({
                    "status": "ok",
                    "matches": found.completions.iter().map(|c| c.code.clone()).collect::<Vec<_>>(),
                    "cursor_start": start,
                    "cursor_end": end,
                    "metadata": { "_jupyter_types_experimental": types },
                })
            }
            Err(_) => {
                json!({ "status": "ok", "matches": [], "cursor_start": cursor, "cursor_end": cursor, "metadata": {} })
            }
        }
    }

    /// `inspect_reply` content: rust-analyzer's hover for the name under the cursor.
    pub fn inspect(&mut self, code: &str, cursor: usize) -> Value {
        let end = name_end(code, byte_offset(code, cursor));
        let (plain, html) = self.hover(code, end).unwrap_or_default();
        let found = !plain.is_empty();
        let data = if found {
            json!({ "text/plain": plain, "text/html": html })
        } else {
            json!({})
        };
        json!({ "status": "ok", "found": found, "data": data, "metadata": {} })
    }

    /// Documentation of the item whose name ends at byte `end` of `code`, if rust-analyzer has any.
    pub(super) fn hover(&mut self, code: &str, end: usize) -> Option<(String, String)> {
        let (plain, html) = self.context.hover_at(code, end).ok()?;
        (!plain.trim().is_empty() && plain != "No documentation found").then_some((plain, html))
    }

    /// A client session went away: its session-scoped entries are released.
    /// The kernel's remote tier, if `CELLAR_CACHE_URL` set one.
    pub(super) fn remote_tier(&self) -> Option<&crate::remote_tier::RemoteTier> {
        self.shared.remote.as_deref()
    }

    pub fn release_session(&mut self, session: &str) {
        self.ask_in_background(ControlRequest::ReleaseSession {
            session: session.to_string(),
        });
    }

    /// Kernel shutdown: every cached entry is released, so `on_release` hooks run.
    pub fn release_all(&mut self) {
        self.ask_in_background(ControlRequest::ReleaseAll);
    }

    /// The process that runs cells now (evcxr starts a new one after a crash).
    fn child(&self) -> Option<u32> {
        let process = self.context.process_handle();
        let child = process.lock().ok()?;
        Some(child.id())
    }

    /// Asks the runtime for work that belongs to no request: its output goes nowhere.
    fn ask_in_background(&mut self, request: ControlRequest) {
        self.sink.detach();
        match control::ask(&request, Some(INTERNAL_WORK_WAIT)) {
            Ok(Answer::Replied(_) | Answer::NotServing) => {}
            Err(error) => eprintln!("cellar: {error}"),
        }
        self.sink.flush(self.child());
    }
}

/// Whether evcxr accepted a cell (compiled and ran it, a panic included): only then does it
/// keep what the cell defined, and so does the kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Accepted {
    Yes,
    No,
    /// Rejected, and an error names the method that shows the final expression (or an
    /// ambiguous method): the final expression may not be showable the kernel's way.
    NotShowable,
}

/// How long the kernel waits for the runtime's own work (a report, a release): `on_release`
/// hooks are user code, and a hung one must not hang the kernel.
/// The phase, beside evcxr's, of waiting for the cell's cached entries to be stored.
const STORING_PHASE: &str = "Storing cached entries";
/// The phase of the cell that first needed the runtime: adding it to evcxr's dependencies.
const RUNTIME_PHASE: &str = "Adding the runtime";

pub(super) const INTERNAL_WORK_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// What a user keeps and loses when the cell process is replaced.
const AFTER_RESTART: &str = "A fresh one was started: the variables defined so far are gone; \
cache_data entries are kept (re-run the cells that made them: they hit), cache_resource entries \
are built again when next called.";

/// `first`'s phases, then `then`'s, a phase in both once with both times.
fn add_phases(first: Vec<(String, f64)>, then: Vec<(String, f64)>) -> Vec<(String, f64)> {
    let mut phases = first;
    for (name, secs) in then {
        match phases.iter_mut().find(|(known, _)| *known == name) {
            Some((_, total)) => *total += secs,
            None => phases.push((name, secs)),
        }
    }
    phases
}

fn failed(error: CellError) -> CellOutcome {
    CellOutcome {
        error: Some(error),
        ..CellOutcome::default()
    }
}

fn byte_offset(text: &str, chars: usize) -> usize {
    text.char_indices()
        .nth(chars)
        .map(|(i, _)| i)
        .unwrap_or(text.len())
}

fn char_offset(text: &str, bytes: usize) -> usize {
    text[..bytes.min(text.len())].chars().count()
}

/// The end of the identifier or path (`std::mem::swap`) the cursor is in.
fn name_end(code: &str, at: usize) -> usize {
    let is_name = |c: char| c.is_alphanumeric() || c == '_';
    code[at..]
        .find(|c: char| !is_name(c))
        .map(|i| at + i)
        .unwrap_or(code.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_convert_between_chars_and_bytes() {
        let text = "é + v.pu";
        assert_eq!(byte_offset(text, 2), 3);
        assert_eq!(char_offset(text, 3), 2);
        assert_eq!(byte_offset(text, 100), text.len());
    }

    #[test]
    fn the_name_under_the_cursor_extends_to_its_end() {
        assert_eq!(name_end("String::from(1)", 9), 12);
        assert_eq!(name_end("abc", 1), 3);
    }

    #[test]
    fn phases_of_two_builds_add_up_by_name() {
        let phases = |list: &[(&str, f64)]| -> Vec<(String, f64)> {
            list.iter().map(|(n, s)| (n.to_string(), *s)).collect()
        };
        assert_eq!(
            add_phases(
                phases(&[("Analysis", 1.0), ("Cargo", 2.0)]),
                phases(&[("Cargo", 0.5), ("Execution", 0.25)])
            ),
            phases(&[("Analysis", 1.0), ("Cargo", 2.5), ("Execution", 0.25)])
        );
        assert_eq!(
            add_phases(Vec::new(), phases(&[("Cargo", 1.0)])),
            phases(&[("Cargo", 1.0)])
        );
    }
}
