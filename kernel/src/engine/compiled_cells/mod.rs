//! Compiled cells kept between kernels: a restarted kernel, or CI's next run, does not compile
//! again a cell that an earlier kernel compiled.
//!
//! The kernel is the rustc wrapper evcxr calls (`rustc_wrapper`). For the cell crate it looks
//! the build up here first, by a key over what the library is made from (`key`): the canonical
//! source as evcxr wrote it (`canonical`: its arbitrary item and variable orders taken out) and
//! what the build leaves out of it (`lighter_crates`), rustc's arguments with the build
//! folder's own path left out, the libraries the crate links and the toolchain. A hit puts the
//! library and rustc's dependency file in place and replays rustc's messages; a miss compiles
//! and keeps the result (`entry`). What the build read besides its source (`env!`,
//! `include_str!`) is recorded from the dependency file and checked on a hit.
//!
//! Entries live in `<seed>/compiled-cells/<key>/`, next to the build folders they serve. Each
//! is written to a temporary folder and renamed into place, so two kernels at once never see
//! half an entry; the least recently used go once all of them pass [`SIZE_LIMIT`], which a
//! running count tells without scanning the folder on every build (`space_used`). Only builds
//! that succeeded are kept.

mod canonical;
mod entry;
mod key;
mod space_used;

use super::lighter_crates::LeaveOut;
use super::rustc_wrapper::{crate_root, option_values};
use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;
use std::process::Output;

/// Names the folder of entries (set by the kernel for the wrapper processes cargo starts).
pub const DIR_ENV: &str = "CELLAR_COMPILED_CELLS_DIR";

/// The entries together stay under this many bytes.
pub const SIZE_LIMIT: u64 = 1 << 30;

/// Where the build folder's path stands in what is kept, so any folder of the pool can use it.
const BUILD_FOLDER: &str = "{cellar-build-folder}";

/// One build of the cell crate, as the wrapper sees it.
struct Build<'a> {
    args: &'a [OsString],
    /// cargo runs rustc in the crate's folder, the build folder.
    folder: PathBuf,
    /// The crate root (`src/lib.rs`), relative to `folder`.
    source: PathBuf,
    /// Where rustc writes the library and the dependency file (`--out-dir`).
    out_dir: PathBuf,
}

impl<'a> Build<'a> {
    fn new(args: &'a [OsString]) -> Option<Build<'a>> {
        let folder = std::env::current_dir().ok()?;
        let out_dir = PathBuf::from(option_values(args, "--out-dir").next()?);
        let source = crate_root(args)?.to_path_buf();
        Some(Build {
            args,
            folder,
            source,
            out_dir,
        })
    }

    fn folder_text(&self) -> &str {
        self.folder.to_str().unwrap_or("\0no folder\0")
    }

    /// `text` with the build folder's path replaced by [`BUILD_FOLDER`].
    fn abstract_paths(&self, text: &str) -> String {
        text.replace(self.folder_text(), BUILD_FOLDER)
    }

    /// rustc's arguments with the build folder's path abstracted; `None` when one is not text.
    fn abstract_args(&self) -> Option<Vec<String>> {
        self.args
            .iter()
            .map(|arg| Some(self.abstract_paths(arg.to_str()?)))
            .collect()
    }

    /// `text` with [`BUILD_FOLDER`] replaced by this build folder's path.
    fn concrete_paths(&self, text: &str) -> String {
        text.replace(BUILD_FOLDER, self.folder_text())
    }
}

/// The folder of entries, when the kernel named one.
pub struct CompiledCells {
    root: PathBuf,
}

impl CompiledCells {
    pub fn from_env() -> Option<CompiledCells> {
        std::env::var_os(DIR_ENV).map(|root| CompiledCells {
            root: PathBuf::from(root),
        })
    }

    /// Builds the cell crate with these rustc arguments, leaving `leave_out` out of it: from an
    /// entry when there is one, otherwise with `compile` (rustc, its output captured), keeping
    /// what it built. Returns the exit code for cargo.
    pub fn build(
        &self,
        args: &[OsString],
        leave_out: Option<&LeaveOut>,
        compile: impl FnOnce() -> std::io::Result<Output>,
    ) -> i32 {
        // A build that cannot be keyed is compiled and not kept.
        let keyed = Build::new(args).and_then(|build| {
            let source = std::fs::read_to_string(build.folder.join(&build.source)).ok()?;
            let key = key::key(&build, &source, leave_out)?;
            Some((build, source, key))
        });
        if let Some((build, source, key)) = &keyed {
            if entry::restore(&self.root.join(key), build, source) {
                return 0;
            }
        }
        let output = match compile() {
            Ok(output) => output,
            Err(error) => {
                eprintln!("cellar: could not run rustc: {error}");
                return 101;
            }
        };
        let _ = std::io::stdout().write_all(&output.stdout);
        let _ = std::io::stderr().write_all(&output.stderr);
        if let (true, Some((build, source, key))) = (output.status.success(), &keyed) {
            let stderr = String::from_utf8_lossy(&output.stderr);
            if let Ok(added) = entry::keep(&self.root, key, build, source, &stderr) {
                space_used::add(&self.root, added, SIZE_LIMIT);
            }
        }
        output.status.code().unwrap_or(101)
    }
}
