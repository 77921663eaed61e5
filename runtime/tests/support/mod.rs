//! Running a scenario in a child process, as the kernel runs cells: notebook mode on, fds 1 and
//! 2 real pipes (the test harness's own output capture is off with `--nocapture`).
//!
//! Each test file that uses it has one `#[test] fn child()` that runs the scenario named by
//! `CELLAR_SCENARIO` and does nothing otherwise; its tests start it with [`run`].

#![allow(dead_code)]

use serde_json::Value;
use std::process::Command;

/// The scenario this process should run, when it is a child.
pub fn scenario() -> Option<String> {
    std::env::var("CELLAR_SCENARIO").ok()
}

/// What a child printed.
pub struct Output {
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// The `cellar` messages on stdout, in order.
    pub fn messages(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .filter_map(|line| line.strip_prefix(cellar::protocol::OUTPUT_MARKER))
            .map(|payload| serde_json::from_str(payload).expect("a message line is JSON"))
            .collect()
    }

    /// stdout lines that start with `prefix` (the scenario's own prints).
    pub fn lines(&self, prefix: &str) -> Vec<String> {
        self.stdout
            .lines()
            .filter(|line| line.starts_with(prefix))
            .map(str::to_string)
            .collect()
    }

    pub fn stderr_lines(&self, prefix: &str) -> Vec<String> {
        self.stderr
            .lines()
            .filter(|line| line.starts_with(prefix))
            .map(str::to_string)
            .collect()
    }
}

/// Runs `scenario` in a child with notebook mode set to `notebook`.
pub fn run(scenario: &str, notebook: bool) -> Output {
    run_with(scenario, notebook, &[])
}

/// Runs `scenario` in a child with notebook mode set to `notebook` and more variables set.
pub fn run_with(scenario: &str, notebook: bool, env: &[(&str, &std::ffi::OsStr)]) -> Output {
    let output = command(scenario, notebook, env)
        .output()
        .expect("run the test binary");
    let out = Output {
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    assert!(
        output.status.success(),
        "scenario {scenario} failed:\n{}\n{}",
        out.stdout,
        out.stderr
    );
    out
}

/// The command that runs `scenario` in a child, for tests that start several at once.
pub fn command(scenario: &str, notebook: bool, env: &[(&str, &std::ffi::OsStr)]) -> Command {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args(["child", "--exact", "--nocapture", "--test-threads=1", "-q"])
        .env("CELLAR_SCENARIO", scenario)
        .env(cellar::env::NOTEBOOK_ENV, if notebook { "1" } else { "0" })
        .env_remove(cellar::protocol::SESSION_FILE_ENV)
        .env_remove(cellar::protocol::STORE_DIR_ENV)
        .envs(env.iter().copied());
    command
}

/// The `text/plain` of a display message.
pub fn text(message: &Value) -> &str {
    message["content"]["data"]["text/plain"]
        .as_str()
        .unwrap_or_default()
}

pub fn display_id(message: &Value) -> &str {
    message["content"]["transient"]["display_id"]
        .as_str()
        .unwrap_or_default()
}

pub fn msg_type(message: &Value) -> &str {
    message["msg_type"].as_str().unwrap_or_default()
}
