//! One kept build: the files rustc wrote, what it said, and what the build read.
//!
//! `<key>/entry.json` is the [`Record`]; beside it is a copy of each file rustc wrote: the
//! library byte for byte, the dependency file with the build folder's path abstracted.

use super::Build;
use crate::engine::cell_crate_linking;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, SystemTime};

const RECORD: &str = "entry.json";
/// How rustc's dependency file names an environment variable the build read.
const ENV_DEP: &str = "# env-dep:";
/// A folder being written (or left by a wrapper that died while writing it).
const WRITING: &str = "writing-";
/// A folder still being written after this long was abandoned.
const ABANDONED: Duration = Duration::from_secs(3600);

#[derive(Serialize, Deserialize)]
struct Record {
    /// blake3 of the source exactly as it was compiled.
    exact_source: String,
    /// rustc's messages (JSON lines), paths abstracted.
    messages: String,
    /// Whether a message points into the source (a warning). Such an entry serves only the
    /// very same text: in another item order the positions would name the wrong lines.
    positions: bool,
    /// The files rustc wrote, by name, in its output folder.
    artifacts: Vec<String>,
    /// The environment variables the build read (`env!`), as rustc's dependency file says.
    /// Their values are compiled into the library: they must match exactly, paths included.
    env: Vec<String>,
    /// Files the build read besides its source (`include_str!`): path → blake3.
    files: BTreeMap<String, String>,
    /// rustc's arguments, paths abstracted: how the library was built, for whoever looks.
    arguments: Vec<String>,
}

/// Puts the build kept in `dir` in place of compiling, when there is one and what it read is
/// unchanged; says whether it did.
pub fn restore(dir: &Path, build: &Build<'_>, source: &str) -> bool {
    let Some(record) = std::fs::read_to_string(dir.join(RECORD))
        .ok()
        .and_then(|text| serde_json::from_str::<Record>(&text).ok())
    else {
        return false;
    };
    // An entry without the library evcxr loads cannot stand for a build (a kept `cargo check`
    // of the crate is checked again rather than risk standing for a build evcxr loads).
    let Some(library) = record.artifacts.iter().find(|name| name.ends_with(".so")) else {
        return false;
    };
    if record.positions && record.exact_source != hash(source.as_bytes()) {
        return false;
    }
    if record.env != env_reads(&record.env) || record.files != file_hashes(build, &record.files) {
        return false;
    }
    for name in &record.artifacts {
        let to = build.out_dir.join(name);
        let put = if is_dependency_file(name) {
            std::fs::read_to_string(dir.join(name))
                .and_then(|text| std::fs::write(&to, build.concrete_paths(&text)))
        } else {
            std::fs::copy(dir.join(name), &to).map(drop)
        };
        if put.is_err() {
            return false;
        }
    }
    if cell_crate_linking::tell_evcxr_the_library_is(&build.out_dir.join(library)).is_err() {
        return false;
    }
    eprint!("{}", build.concrete_paths(&record.messages));
    // Used now: the last to go when the entries are trimmed.
    let _ = std::fs::File::open(dir).and_then(|folder| folder.set_modified(SystemTime::now()));
    true
}

/// Keeps what a successful build wrote, under `root/key`.
/// Returns the bytes the new entry holds (none when the build was kept already).
pub fn keep(
    root: &Path,
    key: &str,
    build: &Build<'_>,
    source: &str,
    stderr: &str,
) -> std::io::Result<u64> {
    let dir = root.join(key);
    if dir.exists() {
        return Ok(0);
    }
    std::fs::create_dir_all(root)?;
    let writing = root.join(format!("{WRITING}{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir(&writing)?;
    let written = write_entry(&writing, build, source, stderr).and_then(|()| {
        let size = folder_size(&writing);
        match std::fs::rename(&writing, &dir) {
            // Another kernel kept the same build first.
            Err(_) if dir.exists() => std::fs::remove_dir_all(&writing).map(|()| 0),
            other => other.map(|()| size),
        }
    });
    if written.is_err() {
        let _ = std::fs::remove_dir_all(&writing);
    }
    written
}

fn write_entry(to: &Path, build: &Build<'_>, source: &str, stderr: &str) -> std::io::Result<()> {
    let mut artifacts = Vec::new();
    let mut positions = false;
    for line in stderr.lines().filter(|line| !line.trim().is_empty()) {
        match artifact(line) {
            Some(path) => {
                let path = Path::new(&path);
                let name = path
                    .file_name()
                    .filter(|_| path.parent() == Some(build.out_dir.as_path()))
                    .and_then(|name| name.to_str())
                    .ok_or_else(|| {
                        unexpected(format!("an artifact outside {}", build.out_dir.display()))
                    })?;
                artifacts.push(name.to_string());
            }
            None => positions = true,
        }
    }
    let mut env = Vec::new();
    let mut files = BTreeMap::new();
    for name in &artifacts {
        let from = build.out_dir.join(name);
        if is_dependency_file(name) {
            let text = std::fs::read_to_string(&from)?;
            let reads = DependencyFile::parse(&text, &build.source);
            env = reads.env;
            for file in reads.files {
                let content = std::fs::read(build.folder.join(&file))?;
                files.insert(build.abstract_paths(&file), hash(&content));
            }
            std::fs::write(to.join(name), build.abstract_paths(&text))?;
        } else {
            std::fs::copy(&from, to.join(name))?;
        }
    }
    let record = Record {
        exact_source: hash(source.as_bytes()),
        messages: build.abstract_paths(stderr),
        positions,
        artifacts,
        env,
        files,
        // A build is kept only when it could be keyed, so its arguments are text.
        arguments: build.abstract_args().unwrap_or_default(),
    };
    let text = serde_json::to_string(&record).map_err(|e| unexpected(e.to_string()))?;
    std::fs::write(to.join(RECORD), text)
}

/// Removes the least recently used entries while all of them hold more than `limit` bytes,
/// and folders abandoned while being written; returns the bytes the entries left hold.
pub fn trim(root: &Path, limit: u64) -> u64 {
    let Ok(folders) = std::fs::read_dir(root) else {
        return 0;
    };
    let mut entries = Vec::new();
    for folder in folders.flatten() {
        let path = folder.path();
        let Ok(metadata) = folder.metadata() else {
            continue;
        };
        if !metadata.is_dir() {
            continue;
        }
        let used = metadata.modified().unwrap_or(SystemTime::UNIX_EPOCH);
        if folder.file_name().to_string_lossy().starts_with(WRITING) {
            if used.elapsed().is_ok_and(|age| age > ABANDONED) {
                let _ = std::fs::remove_dir_all(&path);
            }
            continue;
        }
        entries.push((used, folder_size(&path), path));
    }
    let mut total: u64 = entries.iter().map(|(_, size, _)| size).sum();
    entries.sort();
    for (_, size, path) in entries {
        if total <= limit {
            break;
        }
        if std::fs::remove_dir_all(&path).is_ok() {
            total -= size;
        }
    }
    total
}

/// The bytes of the files in `folder` (an entry holds no folders).
fn folder_size(folder: &Path) -> u64 {
    std::fs::read_dir(folder)
        .map(|files| {
            files
                .flatten()
                .filter_map(|f| f.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

/// The path of an artifact notification (`{"$message_type":"artifact","artifact":…}`).
fn artifact(line: &str) -> Option<String> {
    let message: serde_json::Value = serde_json::from_str(line).ok()?;
    (message["$message_type"] == "artifact")
        .then(|| message["artifact"].as_str().map(str::to_string))
        .flatten()
}

fn is_dependency_file(name: &str) -> bool {
    name.ends_with(".d")
}

/// What rustc's dependency file says the build read besides its source.
#[derive(Debug, PartialEq)]
struct DependencyFile {
    /// `# env-dep:NAME=VALUE` (or `# env-dep:NAME` for an unset variable) lines.
    env: Vec<String>,
    files: Vec<String>,
}

impl DependencyFile {
    fn parse(text: &str, source: &Path) -> DependencyFile {
        let env = text
            .lines()
            .filter(|line| line.starts_with(ENV_DEP))
            .map(str::to_string)
            .collect();
        let files = text
            .lines()
            .filter(|line| !line.starts_with('#'))
            .filter_map(|line| line.strip_suffix(':'))
            .map(|path| path.replace("\\ ", " "))
            .filter(|path| Path::new(path) != source)
            .collect();
        DependencyFile { env, files }
    }
}

/// The `# env-dep:` lines the build would write with today's environment.
fn env_reads(recorded: &[String]) -> Vec<String> {
    recorded
        .iter()
        .map(|line| {
            let name = line[ENV_DEP.len()..].split('=').next().unwrap_or("");
            match std::env::var(name) {
                Ok(value) => {
                    let value = value.replace('\\', "\\\\").replace('\n', "\\n");
                    format!("{ENV_DEP}{name}={value}")
                }
                Err(_) => format!("{ENV_DEP}{name}"),
            }
        })
        .collect()
}

/// Today's hashes of the files a build read.
fn file_hashes(build: &Build<'_>, recorded: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    recorded
        .keys()
        .map(|path| {
            let content = std::fs::read(build.folder.join(build.concrete_paths(path)));
            let hash = content.map_or_else(|_| "missing".to_string(), |c| hash(&c));
            (path.clone(), hash)
        })
        .collect()
}

fn hash(bytes: &[u8]) -> String {
    blake3::hash(bytes).to_hex().to_string()
}

fn unexpected(message: String) -> std::io::Error {
    std::io::Error::other(message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;
    use std::path::PathBuf;

    struct Folder {
        _dir: tempfile::TempDir,
        path: PathBuf,
        args: Vec<OsString>,
    }

    impl Folder {
        fn new() -> Folder {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("build");
            std::fs::create_dir_all(path.join("src")).unwrap();
            std::fs::create_dir_all(path.join("deps")).unwrap();
            Folder {
                args: vec!["rustc".into()],
                path,
                _dir: dir,
            }
        }

        fn build(&self) -> Build<'_> {
            Build {
                args: &self.args,
                folder: self.path.clone(),
                source: "src/lib.rs".into(),
                out_dir: self.path.join("deps"),
            }
        }

        /// What rustc would leave after building: the library, the dependency file, and
        /// its messages on stderr (plus `extra` messages).
        fn compiled(&self, library: &[u8], dependencies: &str, extra: &str) -> String {
            let deps = self.path.join("deps");
            std::fs::write(deps.join("libctx.so"), library).unwrap();
            std::fs::write(
                deps.join("ctx.d"),
                dependencies.replace("{out}", deps.to_str().unwrap()),
            )
            .unwrap();
            let notify = |name: &str| {
                format!(
                    "{{\"$message_type\":\"artifact\",\"artifact\":\"{}\",\"emit\":\"x\"}}\n",
                    deps.join(name).display()
                )
            };
            format!("{}{}{extra}", notify("ctx.d"), notify("libctx.so"))
        }
    }

    const PLAIN: &str = "{out}/ctx.d: src/lib.rs\n\n{out}/libctx.so: src/lib.rs\n\nsrc/lib.rs:\n";

    #[test]
    fn another_folder_gets_the_build_with_its_own_paths() {
        let cache = tempfile::tempdir().unwrap();
        let first = Folder::new();
        let stderr = first.compiled(b"\x7fELF library", PLAIN, "");
        let held = keep(cache.path(), "k", &first.build(), "struct A;", &stderr).unwrap();
        let files = std::fs::read_dir(cache.path().join("k")).unwrap();
        let sizes: u64 = files.map(|f| f.unwrap().metadata().unwrap().len()).sum();
        assert_eq!(held, sizes);
        assert!(held >= b"\x7fELF library".len() as u64);
        // Kept once: the same build again adds nothing.
        assert_eq!(
            keep(cache.path(), "k", &first.build(), "struct A;", &stderr).unwrap(),
            0
        );

        let second = Folder::new();
        assert!(restore(
            &cache.path().join("k"),
            &second.build(),
            "struct A;"
        ));
        let deps = second.path.join("deps");
        assert_eq!(
            std::fs::read(deps.join("libctx.so")).unwrap(),
            b"\x7fELF library"
        );
        let dependency_file = std::fs::read_to_string(deps.join("ctx.d")).unwrap();
        assert!(
            dependency_file.starts_with(&format!("{}/ctx.d:", deps.display())),
            "{dependency_file}"
        );
        assert!(!dependency_file.contains(first.path.to_str().unwrap()));
    }

    #[test]
    fn a_build_that_left_no_library_is_not_used() {
        let cache = tempfile::tempdir().unwrap();
        let folder = Folder::new();
        let stderr = folder.compiled(b"lib", PLAIN, "");
        let without_library: String = stderr
            .lines()
            .filter(|l| !l.contains("libctx.so"))
            .collect();
        keep(cache.path(), "k", &folder.build(), "x", &without_library).unwrap();
        assert!(!restore(&cache.path().join("k"), &folder.build(), "x"));
    }

    #[test]
    fn a_build_with_warnings_serves_only_the_same_text() {
        let cache = tempfile::tempdir().unwrap();
        let folder = Folder::new();
        let warning = "{\"$message_type\":\"diagnostic\",\"message\":\"unused variable\"}\n";
        let stderr = folder.compiled(b"lib", PLAIN, warning);
        keep(
            cache.path(),
            "k",
            &folder.build(),
            "struct A;\nstruct B;",
            &stderr,
        )
        .unwrap();
        let entry = cache.path().join("k");
        assert!(!restore(&entry, &folder.build(), "struct B;\nstruct A;"));
        assert!(restore(&entry, &folder.build(), "struct A;\nstruct B;"));
    }

    #[test]
    fn what_the_build_read_must_be_unchanged() {
        let cache = tempfile::tempdir().unwrap();
        let folder = Folder::new();
        std::fs::write(folder.path.join("src/table.txt"), "1 2 3").unwrap();
        std::env::set_var("CELLAR_TEST_ENV_READ", "one");
        let reads = format!("{PLAIN}src/table.txt:\n\n# env-dep:CELLAR_TEST_ENV_READ=one\n");
        let stderr = folder.compiled(b"lib", &reads, "");
        keep(cache.path(), "k", &folder.build(), "x", &stderr).unwrap();
        let entry = cache.path().join("k");
        assert!(restore(&entry, &folder.build(), "x"));

        std::env::set_var("CELLAR_TEST_ENV_READ", "two");
        assert!(!restore(&entry, &folder.build(), "x"));
        std::env::set_var("CELLAR_TEST_ENV_READ", "one");
        std::fs::write(folder.path.join("src/table.txt"), "4 5 6").unwrap();
        assert!(!restore(&entry, &folder.build(), "x"));
    }

    #[test]
    fn a_build_that_read_its_folders_path_serves_only_that_folder() {
        let cache = tempfile::tempdir().unwrap();
        let first = Folder::new();
        std::env::set_var("CELLAR_TEST_FOLDER_READ", &first.path);
        let reads = format!(
            "{PLAIN}\n# env-dep:CELLAR_TEST_FOLDER_READ={}\n",
            first.path.display()
        );
        let stderr = first.compiled(b"lib", &reads, "");
        keep(cache.path(), "k", &first.build(), "x", &stderr).unwrap();
        let entry = cache.path().join("k");
        assert!(restore(&entry, &first.build(), "x"));
        let second = Folder::new();
        std::env::set_var("CELLAR_TEST_FOLDER_READ", &second.path);
        assert!(!restore(&entry, &second.build(), "x"));
    }

    #[test]
    fn the_dependency_file_names_what_was_read() {
        let text = "o/ctx.d: src/lib.rs src/a\\ b.txt\n\nsrc/lib.rs:\nsrc/a\\ b.txt:\n\n# env-dep:HOME=/home/ada\n# env-dep:UNSET\n";
        assert_eq!(
            DependencyFile::parse(text, Path::new("src/lib.rs")),
            DependencyFile {
                env: vec!["# env-dep:HOME=/home/ada".into(), "# env-dep:UNSET".into()],
                files: vec!["src/a b.txt".into()],
            }
        );
    }

    #[test]
    fn trimming_removes_the_least_recently_used_first() {
        let cache = tempfile::tempdir().unwrap();
        let now = SystemTime::now();
        for (name, age) in [("old", 300), ("middle", 200), ("new", 100)] {
            let dir = cache.path().join(name);
            std::fs::create_dir(&dir).unwrap();
            std::fs::write(dir.join("libctx.so"), vec![0u8; 1000]).unwrap();
            std::fs::File::open(&dir)
                .unwrap()
                .set_modified(now - Duration::from_secs(age))
                .unwrap();
        }
        let abandoned = cache.path().join(format!("{WRITING}x"));
        std::fs::create_dir(&abandoned).unwrap();
        std::fs::File::open(&abandoned)
            .unwrap()
            .set_modified(now - ABANDONED - Duration::from_secs(1))
            .unwrap();
        std::fs::write(cache.path().join("a file"), b"not an entry").unwrap();
        assert_eq!(trim(cache.path(), 2000), 2000);
        let left: Vec<_> = ["old", "middle", "new"]
            .into_iter()
            .filter(|name| cache.path().join(name).exists())
            .collect();
        assert_eq!(left, ["middle", "new"]);
        assert!(!abandoned.exists());
    }
}
