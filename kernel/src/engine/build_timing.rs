//! Where a cell's compile time goes: evcxr's own work (rust-analyzer), cargo, and rustc.
//!
//! evcxr reports one "Final compile" phase: everything from the start of the cell to a loaded
//! library. Most of what is left of a cell's latency lies inside it, in parts the kernel can
//! change (rustc's arguments, kept builds) and parts only evcxr can (rust-analyzer finding the
//! types of variables before every build). The rustc wrapper tells the kernel when cargo
//! started and when rustc ran (`wrapper_reports`), so the kernel splits the phase in three:
//!
//! ```text
//! phase starts ── evcxr: rust-analyzer, files ── cargo starts ── cargo's checks ──
//!     rustc (or a kept build) ── cargo ends, evcxr reads its output ── phase ends
//! ```
//!
//! Times are seconds on the boot clock (`CLOCK_BOOTTIME`): every process shares it, and
//! `/proc/<pid>/stat` gives a process's start on it, which is how the wrapper knows cargo's.

use serde::{Deserialize, Serialize};

/// evcxr's phase that holds a cell's whole build.
const COMPILE_PHASE: &str = "Final compile";
/// What evcxr does before it starts cargo: mostly rust-analyzer typing the cell's variables.
const ANALYSIS_PHASE: &str = "Analysis (evcxr's rust-analyzer)";
/// cargo's own time: its checks (and any dependency it builds) before rustc, finishing after.
const CARGO_PHASE: &str = "Cargo";
/// rustc on the cell crate, or the copy of a kept build.
const RUSTC_PHASE: &str = "rustc (or a kept build)";
/// evcxr's phase that runs the cell's code.
const EXECUTION_PHASE: &str = "Execution";

/// One build of the cell crate, as the rustc wrapper saw it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CellBuild {
    /// When the cargo process that ran the wrapper started.
    pub cargo_began: f64,
    /// When the wrapper started, and when it was done (rustc or the kept build).
    pub rustc_began: f64,
    pub rustc_ended: f64,
}

/// The clock `/proc/<pid>/stat` counts process starts on. Elsewhere there is no `/proc` to
/// read cargo's start from, and no split; any clock every process shares will do.
#[cfg(target_os = "linux")]
const SHARED_CLOCK: libc::clockid_t = libc::CLOCK_BOOTTIME;
#[cfg(not(target_os = "linux"))]
const SHARED_CLOCK: libc::clockid_t = libc::CLOCK_MONOTONIC;

/// Seconds since boot, shared by every process of the machine.
pub fn boot_clock() -> f64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec we own.
    unsafe { libc::clock_gettime(SHARED_CLOCK, &mut now) };
    now.tv_sec as f64 + now.tv_nsec as f64 * 1e-9
}

/// When the parent process (cargo, for the wrapper) started, on the boot clock; None where
/// `/proc` does not say.
pub fn parent_began() -> Option<f64> {
    let stat = std::fs::read_to_string(format!(
        "/proc/{}/stat",
        std::os::unix::process::parent_id()
    ))
    .ok()?;
    // SAFETY: sysconf reads a constant of the system.
    let ticks_per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    start_time(&stat, ticks_per_second)
}

/// Field 22 of a `/proc/<pid>/stat` line (clock ticks after boot), in seconds. The process
/// name (field 2, in parentheses) may hold spaces and parentheses, so fields are counted from
/// the last `)`.
fn start_time(stat: &str, ticks_per_second: i64) -> Option<f64> {
    if ticks_per_second <= 0 {
        return None;
    }
    let (_, after_name) = stat.rsplit_once(')')?;
    let ticks: u64 = after_name.split_whitespace().nth(19)?.parse().ok()?;
    Some(ticks as f64 / ticks_per_second as f64)
}

/// evcxr's phases with its compile phase split by the cell crate's builds during the cell,
/// when exactly one build falls in it. `builds` gives them, and is asked only when evcxr's
/// phases are one compile and the run. `returned` is when evcxr returned the cell, on the
/// boot clock. Otherwise (no build reported, retries, no `/proc`) the phases stay as evcxr
/// gave them. The parts add up to the phase they replace.
pub fn split_compile(
    phases: Vec<(String, f64)>,
    builds: impl FnOnce() -> Vec<CellBuild>,
    returned: f64,
) -> Vec<(String, f64)> {
    let names: Vec<&str> = phases.iter().map(|(name, _)| name.as_str()).collect();
    if names != [COMPILE_PHASE, EXECUTION_PHASE] {
        return phases;
    }
    let builds = builds();
    let (compile, execution) = (phases[0].1, phases[1].1);
    let compile_ended = returned - execution;
    let compile_began = compile_ended - compile;
    // The boot clock's start times are in ticks: allow one tick of 10 ms.
    let during: Vec<&CellBuild> = builds
        .iter()
        .filter(|build| {
            build.cargo_began >= compile_began - 0.011 && build.rustc_ended <= compile_ended
        })
        .collect();
    let [build] = during[..] else {
        return phases;
    };
    let rustc = build.rustc_ended - build.rustc_began;
    let cargo = (build.rustc_began - build.cargo_began) + (compile_ended - build.rustc_ended);
    let analysis = (compile - rustc - cargo).max(0.0);
    let cargo = compile - rustc - analysis;
    vec![
        (ANALYSIS_PHASE.to_string(), analysis),
        (CARGO_PHASE.to_string(), cargo),
        (RUSTC_PHASE.to_string(), rustc),
        phases[1].clone(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn evcxr_phases(compile: f64, execution: f64) -> Vec<(String, f64)> {
        vec![
            (COMPILE_PHASE.to_string(), compile),
            (EXECUTION_PHASE.to_string(), execution),
        ]
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn the_compile_phase_is_split_at_cargo_start_and_around_rustc() {
        // The phase ran from 100.0 to 101.0; execution until 101.5.
        let build = CellBuild {
            cargo_began: 100.6,
            rustc_began: 100.65,
            rustc_ended: 100.95,
        };
        let split = split_compile(evcxr_phases(1.0, 0.5), || vec![build], 101.5);
        let names: Vec<&str> = split.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(
            names,
            [ANALYSIS_PHASE, CARGO_PHASE, RUSTC_PHASE, EXECUTION_PHASE]
        );
        assert!(close(split[0].1, 0.6), "{split:?}");
        assert!(
            close(split[1].1, 0.1),
            "50 ms before rustc, 50 ms after: {split:?}"
        );
        assert!(close(split[2].1, 0.3), "{split:?}");
        assert!(close(split[0].1 + split[1].1 + split[2].1, 1.0));
    }

    #[test]
    fn without_exactly_one_build_in_the_phase_evcxrs_phases_stay() {
        let earlier = CellBuild {
            cargo_began: 50.0,
            rustc_began: 50.1,
            rustc_ended: 50.2,
        };
        assert_eq!(
            split_compile(evcxr_phases(1.0, 0.5), || vec![earlier], 101.5),
            evcxr_phases(1.0, 0.5),
            "a build of an earlier cell"
        );
        let inside = CellBuild {
            cargo_began: 100.2,
            rustc_began: 100.3,
            rustc_ended: 100.4,
        };
        let second = CellBuild {
            cargo_began: 100.5,
            ..inside
        };
        assert_eq!(
            split_compile(evcxr_phases(1.0, 0.5), || vec![inside, second], 101.5),
            evcxr_phases(1.0, 0.5),
            "two builds: which one is which is not known"
        );
        let retried = vec![
            ("Fixing".to_string(), 0.3),
            (COMPILE_PHASE.to_string(), 1.0),
            (EXECUTION_PHASE.to_string(), 0.5),
        ];
        assert_eq!(
            split_compile(retried.clone(), || unreachable!("not asked"), 101.5),
            retried
        );
    }

    #[test]
    fn a_start_time_is_read_after_the_process_name() {
        let stat = "4242 (cargo (x) y) S 4000 4242 4000 0 -1 4194560 1 2 3 4 5 6 7 8 20 0 1 0 \
                    12345 1000 100";
        assert_eq!(start_time(stat, 100), Some(123.45));
        assert_eq!(start_time(stat, 0), None);
        assert_eq!(start_time("4242 (cargo) S 1", 100), None);
    }

    #[test]
    fn this_process_has_a_parent_that_started_before_now() {
        let began = parent_began().expect("/proc names the parent");
        assert!(began > 0.0 && began <= boot_clock());
    }
}
