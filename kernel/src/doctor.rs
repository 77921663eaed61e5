//! `cellar-kernel doctor`: what a kernel needs, checked one by one, with the fix for each.
//!
//! A kernel that can't compile cells fails late and far from the cause (a cell's error in a
//! notebook); the doctor looks at each prerequisite where the kernel would: the toolchain, its
//! shared libstd, the `cellar` kernelspec (whose `env` it applies, as Jupyter would), the runtime
//! crates and the seed built for them. It repairs nothing; it exits non-zero when something is
//! broken.

use crate::install::{recorded_env, KERNEL_NAME};
use crate::runtime_source::{RuntimePaths, RuntimeSource, Unpacking};
use crate::seed::Stamp;
use crate::toolchain::{self, MINIMUM_RUSTC};
use anyhow::Result;
use std::path::{Path, PathBuf};

/// The outcome of one check: what was found, or what is wrong and how to fix it.
#[derive(Debug, PartialEq, Eq)]
pub enum Finding {
    Ok(String),
    Broken { problem: String, fix: String },
}

struct Check {
    name: &'static str,
    finding: Finding,
}

/// Runs every check, prints them, and says whether all passed.
pub fn doctor() -> Result<bool> {
    let mut checks = vec![
        Check {
            name: "rustc",
            finding: check_rustc(toolchain::rustc_version_line()),
        },
        Check {
            name: "libstd",
            finding: check_libstd(toolchain::target_libdir()),
        },
    ];
    let kernelspec = find_kernelspec();
    checks.push(Check {
        name: "kernelspec",
        finding: check_kernelspec(kernelspec.as_deref()),
    });
    // The runtime and seed the installed kernel would use: its kernelspec's env decides.
    if let Some(spec) = &kernelspec {
        for (key, value) in recorded_env(&spec.join("kernel.json")) {
            std::env::set_var(key, value);
        }
    }
    match RuntimePaths::resolve(Unpacking::Never) {
        Ok(runtime) => {
            checks.push(Check {
                name: "runtime",
                finding: check_runtime(&runtime),
            });
            checks.push(Check {
                name: "seed",
                finding: check_seed(&runtime, Stamp::read(&runtime.seed)),
            });
        }
        Err(error) => checks.push(Check {
            name: "runtime",
            finding: Finding::Broken {
                problem: format!("{error:#}"),
                fix: "set HOME (or XDG_DATA_HOME) for the user who runs the kernel".into(),
            },
        }),
    }
    let mut healthy = true;
    for check in &checks {
        match &check.finding {
            Finding::Ok(found) => println!("OK      {:<11} {found}", check.name),
            Finding::Broken { problem, fix } => {
                healthy = false;
                println!("BROKEN  {:<11} {problem}", check.name);
                println!("        {:<11} fix: {fix}", "");
            }
        }
    }
    if healthy {
        println!("Everything a cellar kernel needs is in place.");
    }
    Ok(healthy)
}

fn check_rustc(version_line: Option<String>) -> Finding {
    let wanted = format!("{}.{}", MINIMUM_RUSTC.0, MINIMUM_RUSTC.1);
    let Some(line) = version_line else {
        return Finding::Broken {
            problem: "rustc is not on PATH (cells are compiled with it)".into(),
            fix: format!("install Rust {wanted} or later with rustup (https://rustup.rs)"),
        };
    };
    match toolchain::parse_version(&line) {
        Some(version) if version >= MINIMUM_RUSTC => Finding::Ok(line),
        _ => Finding::Broken {
            problem: format!("{line}: cells need rustc {wanted} or later"),
            fix: "rustup update stable (or rustup default stable)".into(),
        },
    }
}

fn check_libstd(libdir: Option<PathBuf>) -> Finding {
    let fix = "use a rustup toolchain (https://rustup.rs), which ships libstd as a shared \
               library; some distribution packages of rustc leave it out";
    let Some(libdir) = libdir else {
        return Finding::Broken {
            problem: "`rustc --print target-libdir` names no folder".into(),
            fix: fix.into(),
        };
    };
    match toolchain::shared_libstd(&libdir) {
        Some(lib) => Finding::Ok(lib.display().to_string()),
        None => Finding::Broken {
            problem: format!(
                "no libstd-*{} in {}: cells link their dependencies as shared libraries",
                std::env::consts::DLL_SUFFIX,
                libdir.display()
            ),
            fix: fix.into(),
        },
    }
}

/// The first `kernels/cellar` folder with a kernel.json, in Jupyter's search order.
fn find_kernelspec() -> Option<PathBuf> {
    jupyter_data_dirs()
        .into_iter()
        .map(|dir| dir.join("kernels").join(KERNEL_NAME))
        .find(|dir| dir.join("kernel.json").is_file())
}

/// `JUPYTER_PATH`, the user's folder, the active environment's and the system's, and whatever
/// `jupyter --paths` adds.
fn jupyter_data_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("JUPYTER_PATH")
        .map(|paths| std::env::split_paths(&paths).collect())
        .unwrap_or_default();
    if let Ok(user) = jupyter_zmq_client::dirs::user_data_dir() {
        dirs.push(user);
    }
    if let Some(venv) = std::env::var_os("VIRTUAL_ENV") {
        dirs.push(Path::new(&venv).join("share").join("jupyter"));
    }
    if let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        dirs.extend(runtime.block_on(jupyter_zmq_client::dirs::data_dirs_with_jupyter_paths()));
    }
    let mut seen = std::collections::HashSet::new();
    dirs.retain(|dir| seen.insert(dir.clone()));
    dirs
}

fn check_kernelspec(found: Option<&Path>) -> Finding {
    let Some(dir) = found else {
        return Finding::Broken {
            problem: format!("no kernelspec `{KERNEL_NAME}` where Jupyter looks"),
            fix: "cellar-kernel install --user (or --sys-prefix inside a virtualenv)".into(),
        };
    };
    let program = std::fs::read_to_string(dir.join("kernel.json"))
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .and_then(|spec| spec["argv"][0].as_str().map(PathBuf::from));
    match program {
        Some(program) if program.is_file() => {
            Finding::Ok(format!("{} (starts {})", dir.display(), program.display()))
        }
        Some(program) => Finding::Broken {
            problem: format!(
                "{} starts {}, which is gone",
                dir.display(),
                program.display()
            ),
            fix: "run `cellar-kernel install` again with the kernel you have now".into(),
        },
        None => Finding::Broken {
            problem: format!("{} has no readable kernel.json", dir.display()),
            fix: "cellar-kernel install --user".into(),
        },
    }
}

fn check_runtime(runtime: &RuntimePaths) -> Finding {
    if runtime.cellar.join("Cargo.toml").is_file() {
        return Finding::Ok(runtime.describe());
    }
    match &runtime.source {
        RuntimeSource::Embedded => Finding::Broken {
            problem: format!(
                "the runtime this kernel carries is not unpacked ({} is missing)",
                runtime.cellar.display()
            ),
            fix: "cellar-kernel install (it unpacks the runtime and builds its seed)".into(),
        },
        RuntimeSource::Checkout(dir) => Finding::Broken {
            problem: format!(
                "CELLAR_RUNTIME_DIR names {}, which has no Cargo.toml",
                dir.display()
            ),
            fix: "run install/setup.sh in the checkout again, or `cellar-kernel install` to use \
                  the runtime the kernel carries"
                .into(),
        },
    }
}

fn check_seed(runtime: &RuntimePaths, stamp: Option<Stamp>) -> Finding {
    let fix = match runtime.source {
        RuntimeSource::Embedded => {
            "cellar-kernel install (with the same --user, --sys-prefix \
                                    or --prefix as before)"
        }
        RuntimeSource::Checkout(_) => "bash install/setup.sh in the checkout",
    }
    .to_string();
    let expected = Stamp::expected(runtime);
    let seed = runtime.seed.display();
    let problem = match stamp {
        None => {
            format!("no seed in {seed}: each kernel's first cell compiles the runtime (minutes)")
        }
        Some(stamp) if stamp.runtime != expected.runtime => format!(
            "the seed {seed} was built for {}, the kernel uses {}",
            stamp.runtime, expected.runtime
        ),
        Some(stamp) if stamp.rustc != expected.rustc => format!(
            "the seed {seed} was built with {}, rustc is now {}",
            stamp.rustc, expected.rustc
        ),
        Some(_) => return Finding::Ok(format!("{seed} ({})", expected.runtime)),
    };
    Finding::Broken { problem, fix }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_broken(finding: &Finding) -> bool {
        matches!(finding, Finding::Broken { .. })
    }

    #[test]
    fn rustc_must_be_present_and_recent() {
        assert!(is_broken(&check_rustc(None)));
        assert!(is_broken(&check_rustc(Some("rustc 1.80.0 (x)".into()))));
        assert_eq!(
            check_rustc(Some("rustc 1.95.0 (x)".into())),
            Finding::Ok("rustc 1.95.0 (x)".into())
        );
    }

    #[test]
    fn libstd_must_be_a_shared_library() {
        let dir = tempfile::tempdir().unwrap();
        assert!(is_broken(&check_libstd(None)));
        assert!(is_broken(&check_libstd(Some(dir.path().into()))));
        std::fs::write(
            dir.path()
                .join(format!("libstd-1{}", std::env::consts::DLL_SUFFIX)),
            "",
        )
        .unwrap();
        assert!(!is_broken(&check_libstd(Some(dir.path().into()))));
    }

    #[test]
    fn a_kernelspec_must_start_a_program_that_exists() {
        let dir = tempfile::tempdir().unwrap();
        assert!(is_broken(&check_kernelspec(None)));
        let spec = |program: &str| serde_json::json!({ "argv": [program, "--connection-file"] });
        std::fs::write(
            dir.path().join("kernel.json"),
            spec("/nowhere/cellar-kernel").to_string(),
        )
        .unwrap();
        let Finding::Broken { problem, .. } = check_kernelspec(Some(dir.path())) else {
            panic!("a missing program is broken")
        };
        assert!(problem.contains("/nowhere/cellar-kernel"), "{problem}");
        let exe = std::env::current_exe().unwrap();
        std::fs::write(
            dir.path().join("kernel.json"),
            spec(exe.to_str().unwrap()).to_string(),
        )
        .unwrap();
        assert!(!is_broken(&check_kernelspec(Some(dir.path()))));
    }

    fn runtime_in(dir: &Path) -> RuntimePaths {
        RuntimePaths {
            source: RuntimeSource::Checkout(dir.join("runtime")),
            cellar: dir.join("runtime"),
            seed: dir.join("seed"),
            seed_named: true,
        }
    }

    #[test]
    fn a_checkout_runtime_needs_its_manifest() {
        let dir = tempfile::tempdir().unwrap();
        let runtime = runtime_in(dir.path());
        assert!(is_broken(&check_runtime(&runtime)));
        std::fs::create_dir_all(&runtime.cellar).unwrap();
        std::fs::write(runtime.cellar.join("Cargo.toml"), "").unwrap();
        assert!(!is_broken(&check_runtime(&runtime)));
    }

    #[test]
    fn the_seed_must_be_built_for_this_runtime_and_this_rustc() {
        let dir = tempfile::tempdir().unwrap();
        let runtime = runtime_in(dir.path());
        let expected = Stamp::expected(&runtime);
        assert!(is_broken(&check_seed(&runtime, None)));
        let other_runtime = Stamp {
            runtime: "checkout /elsewhere/runtime".into(),
            ..expected.clone()
        };
        let Finding::Broken { problem, .. } = check_seed(&runtime, Some(other_runtime)) else {
            panic!("a seed of another runtime is broken")
        };
        assert!(problem.contains("/elsewhere/runtime"), "{problem}");
        let other_rustc = Stamp {
            rustc: "rustc 1.90.0 (old)".into(),
            ..expected.clone()
        };
        assert!(is_broken(&check_seed(&runtime, Some(other_rustc))));
        assert!(!is_broken(&check_seed(&runtime, Some(expected))));
    }
}
