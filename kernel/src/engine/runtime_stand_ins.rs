//! The runtime as cargo sees it in a kernel: two packages without dependencies standing in for
//! `cellar` and `cellar-serde`, while rustc links the libraries the seed built.
//!
//! evcxr runs cargo for every cell, and a cargo build with nothing to do costs about 1.1 ms for
//! each package of the cell crate's graph: with the runtime's 40 packages, 107 ms against 64 ms
//! with two packages of no dependencies (medians of 20, interleaved, 2 cores). What the cells
//! link does not change within a seed: the seed built it (`seed.rs`), and every build folder
//! starts as a copy of the seed's. So a kernel's `evcxr.toml` names stand-ins, packages whose
//! library is the runtime's own source under the runtime's own name, with no dependencies.
//! rust-analyzer loads them as it loaded the runtime: its API, without the crates it is built
//! from (see `analysis_view`).
//!
//! cargo still asks the rustc wrapper to build a stand-in: the wrapper writes placeholders
//! where cargo expects its library ([`write_placeholders`]). The cell crate is then given the
//! seed's libraries in place of the placeholders ([`link_seed_libraries`]), as the seed's own
//! build of a cell named them ([`record_seed_libraries`], in the build folder).
//!
//! A notebook that adds crates of its own gets the whole runtime back ([`whole_dependency_lines`],
//! run before its first `:dep`), so cargo builds one `serde` for the runtime and those crates,
//! as it did before. The cells still link the same files: one runtime in the cell process.

use super::rustc_wrapper::option_values;
use super::whole_file;
use super::workspace::toml_string;
use crate::runtime_crates::{self, RuntimeCrate};
use crate::runtime_source::{RuntimePaths, RuntimeSource};
use anyhow::{Context, Result};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// How the runtime is among the cells' dependencies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuntimeDependencies {
    /// The stand-ins: two packages for cargo and rust-analyzer, the seed's libraries for rustc.
    StandIns,
    /// The runtime's own packages, with every crate they are built from.
    Whole,
}

/// One dependency of the cells on the runtime: the name cells use, and the runtime's crate.
struct CellDependency {
    name: &'static str,
    krate: RuntimeCrate,
}

impl CellDependency {
    fn package(&self) -> &'static str {
        self.krate.package
    }

    /// The runtime's library (and the stand-in's, which has the runtime's name).
    fn library(&self) -> String {
        self.krate.package.replace('-', "_")
    }

    /// The stand-in's package.
    fn stand_in(&self) -> String {
        format!("{}-stand-in", self.krate.package)
    }
}

const CRATES: [CellDependency; 2] = [
    CellDependency {
        name: "cellar",
        krate: runtime_crates::CELLAR,
    },
    CellDependency {
        name: "serde",
        krate: runtime_crates::SERDE,
    },
];

/// The stand-ins' manifests, in the seed folder.
const FOLDER: &str = "stand-ins";
/// The runtime's edition, which rust-analyzer parses its source with.
const EDITION: &str = "2021";
/// The seed's libraries, as its build of a cell named them (paths relative to the build folder).
const RECORD: &str = "runtime-libraries";
/// What a placeholder holds: not an archive, so nothing could take it for a library.
const PLACEHOLDER: &[u8] = b"cellar stand-in: the cell crate links the seed's library instead\n";

/// Which dependencies a kernel building in `build` gives the cells: the stand-ins when the
/// seed's libraries are recorded there and the runtime's source is not newer than the record
/// (a checkout edited since the seed was built is compiled whole, as cargo would see it).
pub fn choose(build: &Path, runtime: &RuntimePaths) -> RuntimeDependencies {
    let Ok(recorded) = std::fs::metadata(build.join(RECORD)).and_then(|m| m.modified()) else {
        return RuntimeDependencies::Whole;
    };
    let edited_since = match &runtime.source {
        RuntimeSource::Embedded => false,
        RuntimeSource::Checkout(dir) => walkdir::WalkDir::new(dir)
            .into_iter()
            .filter_entry(|entry| entry.file_name() != "target")
            .filter_map(|entry| entry.ok()?.metadata().ok()?.modified().ok())
            .any(|modified| modified > recorded),
    };
    match edited_since {
        true => RuntimeDependencies::Whole,
        false => RuntimeDependencies::StandIns,
    }
}

/// The cells' dependencies on the runtime as `evcxr.toml` lines (`name = { … }`); writes the
/// stand-ins' manifests into the seed folder first when they are wanted.
pub fn dependency_lines(
    dependencies: RuntimeDependencies,
    runtime: &RuntimePaths,
) -> Result<String> {
    let lines = match dependencies {
        RuntimeDependencies::Whole => whole(runtime),
        RuntimeDependencies::StandIns => {
            let mut lines = Vec::new();
            for (krate, source) in CRATES.iter().zip(sources(runtime)) {
                let folder = runtime.seed.join(FOLDER).join(krate.name);
                write_if_changed(&folder.join("Cargo.toml"), &manifest(krate, &source))?;
                lines.push(dependency(krate.name, &krate.stand_in(), &folder));
            }
            lines
        }
    };
    Ok(lines.join("\n"))
}

/// evcxr commands that make the runtime's own packages the cells' dependencies.
pub fn whole_dependency_lines(runtime: &RuntimePaths) -> String {
    whole(runtime)
        .iter()
        .map(|line| format!(":dep {line}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn whole(runtime: &RuntimePaths) -> Vec<String> {
    CRATES
        .iter()
        .zip(sources(runtime))
        .map(|(krate, source)| dependency(krate.name, krate.package(), &source))
        .collect()
}

/// A manifest's line for a dependency called `name` on the package `package` in `folder`.
fn dependency(name: &str, package: &str, folder: &Path) -> String {
    match package == name {
        true => format!("{name} = {{ path = {} }}", toml_path(folder)),
        false => format!(
            "{name} = {{ package = \"{package}\", path = {} }}",
            toml_path(folder)
        ),
    }
}

/// The runtime's package folders, in the order of `CRATES`.
fn sources(runtime: &RuntimePaths) -> [PathBuf; 2] {
    [runtime.cellar.clone(), runtime.serde()]
}

/// A stand-in's manifest: the runtime's library source, no dependencies, no other targets.
fn manifest(krate: &CellDependency, source: &Path) -> String {
    format!(
        "# Stands in for the runtime's `{package}` in the cells' dependencies (see the kernel's\n\
         # engine/runtime_stand_ins.rs): cells link the library the seed built.\n\
         [package]\nname = \"{stand_in}\"\nversion = \"0.0.0\"\nedition = \"{EDITION}\"\n\
         publish = false\nautobins = false\nautoexamples = false\nautotests = false\n\
         autobenches = false\n\n[lib]\nname = \"{library}\"\npath = {root}\n",
        package = krate.package(),
        stand_in = krate.stand_in(),
        library = krate.library(),
        root = toml_path(&source.join("src").join("lib.rs")),
    )
}

/// Writes `text` to `path` whole, unless it holds it already.
fn write_if_changed(path: &Path, text: &str) -> Result<()> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == text) {
        return Ok(());
    }
    let folder = path.parent().expect("a manifest is in a folder");
    std::fs::create_dir_all(folder)
        .with_context(|| format!("creating the folder {}", folder.display()))?;
    whole_file::write(path, text.as_bytes()).with_context(|| format!("writing {}", path.display()))
}

/// `path` as a TOML string.
fn toml_path(path: &Path) -> String {
    toml_string(&path.to_string_lossy())
}

/// Whether cargo asked the wrapper to build a stand-in (cargo names the package it builds).
pub fn builds_stand_in() -> bool {
    std::env::var("CARGO_PKG_NAME")
        .is_ok_and(|package| CRATES.iter().any(|krate| krate.stand_in() == package))
}

/// Writes placeholders where rustc's call (`args`, rustc first) would put a stand-in's library,
/// its metadata and its dependency file.
pub fn write_placeholders(args: &[OsString]) -> std::io::Result<()> {
    let value = |option| option_values(args, option).next().map(PathBuf::from);
    let missing = |what| std::io::Error::other(format!("the stand-in's rustc call has no {what}"));
    let out_dir = value("--out-dir").ok_or_else(|| missing("--out-dir"))?;
    let name = value("--crate-name").ok_or_else(|| missing("--crate-name"))?;
    let name = name.to_string_lossy();
    let extra = option_values(args, "-C")
        .filter_map(|option| option.to_str()?.strip_prefix("extra-filename="))
        .next()
        .unwrap_or("");
    let library = out_dir.join(format!("lib{name}{extra}.rlib"));
    std::fs::write(&library, PLACEHOLDER)?;
    std::fs::write(out_dir.join(format!("lib{name}{extra}.rmeta")), PLACEHOLDER)?;
    std::fs::write(
        out_dir.join(format!("{name}{extra}.d")),
        format!("{}:\n", library.display()),
    )
}

/// Gives the cell crate's call (`args`, rustc first) what the seed's build of a cell was given
/// for the runtime, in place of the stand-ins' placeholders: the libraries, and the folders of
/// the native libraries they link (blake3's assembly), from the record in the build folder
/// `folder`. Returns whether there were stand-ins.
pub fn link_seed_libraries(args: &mut Vec<OsString>, folder: &Path) -> Result<bool, String> {
    let stand_ins: Vec<(usize, String)> = (1..args.len())
        .filter(|&index| args[index - 1] == "--extern")
        .filter_map(|index| {
            let (name, path) = args[index].to_str()?.split_once('=')?;
            is_placeholder(Path::new(path)).then(|| (index, name.to_string()))
        })
        .collect();
    if stand_ins.is_empty() {
        return Ok(false);
    }
    let record = Record::read(folder)?;
    for (index, name) in stand_ins {
        let library = record
            .library(&name)
            .ok_or_else(|| format!("{} names no library for `{name}`", record.path.display()))?;
        args[index] = library.into();
    }
    for folder in record.native_folders() {
        args.extend(["-L".into(), folder.into()]);
    }
    Ok(true)
}

/// Whether `path` is a placeholder: its length first, as a real library may be large.
fn is_placeholder(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|meta| meta.len() == PLACEHOLDER.len() as u64)
        && std::fs::read(path).is_ok_and(|bytes| bytes == PLACEHOLDER)
}

/// What the seed's build of a cell was given for the runtime: `--extern` and `-L native=`
/// values, one a line after their option, with the build folder's path as [`BUILD_FOLDER`].
struct Record {
    path: PathBuf,
    /// (option, value), the build folder's path put back.
    arguments: Vec<(String, String)>,
}

/// Where the build folder's path stands in the record: every folder of the pool can use it.
const BUILD_FOLDER: &str = "{build folder}";

impl Record {
    fn read(folder: &Path) -> Result<Record, String> {
        let path = folder.join(RECORD);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            format!(
                "the cells name the runtime's stand-ins, but the seed's libraries are not recorded in {} ({e}); `cellar-kernel install` builds the seed again",
                path.display()
            )
        })?;
        let folder = folder.to_string_lossy();
        let arguments = text
            .lines()
            .filter_map(|line| line.split_once(' '))
            .map(|(option, value)| (option.to_string(), value.replace(BUILD_FOLDER, &folder)))
            .collect();
        Ok(Record { path, arguments })
    }

    /// The `--extern` value for the name cells use.
    fn library(&self, name: &str) -> Option<&str> {
        self.arguments
            .iter()
            .filter(|(option, _)| option == "--extern")
            .map(|(_, value)| value.as_str())
            .find(|value| {
                value
                    .split_once('=')
                    .is_some_and(|(recorded, _)| recorded == name)
            })
    }

    fn native_folders(&self) -> impl Iterator<Item = &str> {
        self.arguments
            .iter()
            .filter(|(option, _)| option == "-L")
            .map(|(_, value)| value.as_str())
    }
}

/// Records what the cell crate's call (`args`, rustc first) is given for the runtime, when the
/// build folder `folder` has no record yet: the seed's build of a cell writes the one every
/// build folder copies. Only a call that names the runtime's own libraries is recorded.
pub fn record_seed_libraries(args: &[OsString], folder: &Path) {
    let record = folder.join(RECORD);
    if record.exists() {
        return;
    }
    let values = |option| option_values(args, option).filter_map(|value| value.to_str());
    let mut lines = Vec::new();
    for krate in &CRATES {
        let library = values("--extern").find(|value| {
            value.split_once('=').is_some_and(|(name, path)| {
                name == krate.name
                    && Path::new(path)
                        .file_name()
                        .and_then(|file| file.to_str())
                        .is_some_and(|file| file.starts_with(&format!("lib{}-", krate.library())))
            })
        });
        match library {
            Some(library) => lines.push(format!("--extern {library}")),
            None => return,
        }
    }
    for native in values("-L").filter(|value| value.starts_with("native=")) {
        let line = format!("-L {native}");
        if !lines.contains(&line) {
            lines.push(line);
        }
    }
    let text = lines
        .join("\n")
        .replace(&*folder.to_string_lossy(), BUILD_FOLDER)
        + "\n";
    if let Err(error) = whole_file::write(&record, text.as_bytes()) {
        eprintln!(
            "cellar: could not record the runtime's libraries in {}: {error}",
            record.display()
        );
    }
}

/// Gives the build folder `build` the record of the seed's build folder `seed_build` (none when
/// the seed has none): a folder kept from an earlier seed build may hold an older one.
pub fn copy_record(seed_build: &Path, build: &Path) -> Result<()> {
    let path = build.join(RECORD);
    match std::fs::read(seed_build.join(RECORD)) {
        Ok(text) => whole_file::write(&path, &text),
        Err(_) => forget_seed_libraries(build),
    }
    .with_context(|| {
        format!(
            "giving {} the seed's record of its libraries",
            build.display()
        )
    })
}

/// Removes the record in the build folder `build`: in the seed's, so that its next build
/// records its libraries anew (its packages may have changed).
pub fn forget_seed_libraries(build: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(build.join(RECORD)) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(error),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runtime(seed: &Path, source: RuntimeSource) -> RuntimePaths {
        RuntimePaths {
            cellar: PathBuf::from("/src/runtime"),
            source,
            seed: seed.to_path_buf(),
            seed_named: true,
        }
    }

    fn checkout() -> RuntimeSource {
        RuntimeSource::Checkout(PathBuf::from("/src/runtime"))
    }

    fn args(words: &[&str]) -> Vec<OsString> {
        words.iter().map(OsString::from).collect()
    }

    #[test]
    fn stand_ins_are_the_runtimes_source_without_dependencies_in_its_edition() {
        let seed = tempfile::tempdir().unwrap();
        let lines = dependency_lines(
            RuntimeDependencies::StandIns,
            &runtime(seed.path(), checkout()),
        )
        .unwrap();
        let folder = seed.path().join("stand-ins");
        assert_eq!(
            lines,
            format!(
                "cellar = {{ package = \"cellar-stand-in\", path = \"{}\" }}\n\
                 serde = {{ package = \"cellar-serde-stand-in\", path = \"{}\" }}",
                folder.join("cellar").display(),
                folder.join("serde").display()
            )
        );
        let manifest: toml::Table = std::fs::read_to_string(folder.join("serde/Cargo.toml"))
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(
            manifest["package"]["name"].as_str(),
            Some("cellar-serde-stand-in")
        );
        assert_eq!(manifest["lib"]["name"].as_str(), Some("cellar_serde"));
        assert_eq!(
            manifest["lib"]["path"].as_str(),
            Some("/src/runtime/serde/src/lib.rs")
        );
        assert!(!manifest.contains_key("dependencies"));
        let workspace: toml::Table = include_str!("../../../Cargo.toml").parse().unwrap();
        assert_eq!(
            workspace["workspace"]["package"]["edition"].as_str(),
            Some(EDITION)
        );
        assert_eq!(manifest["package"]["edition"].as_str(), Some(EDITION));
    }

    #[test]
    fn the_whole_runtime_is_its_own_packages_in_the_config_and_as_commands() {
        let seed = tempfile::tempdir().unwrap();
        let paths = runtime(seed.path(), checkout());
        let lines = dependency_lines(RuntimeDependencies::Whole, &paths).unwrap();
        assert_eq!(
            lines,
            "cellar = { path = \"/src/runtime\" }\n\
             serde = { package = \"cellar-serde\", path = \"/src/runtime/serde\" }"
        );
        assert_eq!(
            whole_dependency_lines(&paths),
            ":dep cellar = { path = \"/src/runtime\" }\n\
             :dep serde = { package = \"cellar-serde\", path = \"/src/runtime/serde\" }"
        );
        assert!(!seed.path().join("stand-ins").exists());
    }

    #[test]
    fn placeholders_go_where_cargo_expects_the_stand_ins_library() {
        let out = tempfile::tempdir().unwrap();
        let out_dir = out.path().to_str().unwrap();
        let call = args(&[
            "rustc",
            "--crate-name",
            "cellar",
            "--edition=2021",
            "/src/runtime/src/lib.rs",
            "--emit=dep-info,metadata,link",
            "-C",
            "extra-filename=-0a1b",
            "--out-dir",
            out_dir,
        ]);
        write_placeholders(&call).unwrap();
        for file in ["libcellar-0a1b.rlib", "libcellar-0a1b.rmeta"] {
            assert!(is_placeholder(&out.path().join(file)), "{file}");
        }
        let dependencies = std::fs::read_to_string(out.path().join("cellar-0a1b.d")).unwrap();
        assert!(dependencies.starts_with(&format!("{out_dir}/libcellar-0a1b.rlib:")));
        let no_out_dir = args(&["rustc", "--crate-name", "cellar"]);
        assert!(write_placeholders(&no_out_dir).is_err());
    }

    /// A call of cargo's for the cell crate in `folder`, naming `cellar` and `serde` at `deps`.
    fn cell_call(folder: &Path, cellar: &str, serde: &str) -> Vec<OsString> {
        let deps = folder.join("target/deps");
        let native = format!("native={}/target/build/blake3-1/out", folder.display());
        let mut call = args(&["rustc", "--crate-name", "ctx", "src/lib.rs"]);
        for (name, file) in [("serde", serde), ("cellar", cellar)] {
            call.extend(args(&[
                "--extern",
                &format!("{name}={}", deps.join(file).display()),
            ]));
        }
        call.extend(args(&["-L", &native, "-L", &native, "-Cprefer-dynamic"]));
        call
    }

    #[test]
    fn the_seeds_record_gives_another_folder_its_libraries_in_place_of_the_placeholders() {
        let seed = tempfile::tempdir().unwrap();
        record_seed_libraries(
            &cell_call(seed.path(), "libcellar-aa.rlib", "libcellar_serde-bb.rlib"),
            seed.path(),
        );
        let text = std::fs::read_to_string(seed.path().join(RECORD)).unwrap();
        assert_eq!(
            text,
            "--extern cellar={build folder}/target/deps/libcellar-aa.rlib\n\
             --extern serde={build folder}/target/deps/libcellar_serde-bb.rlib\n\
             -L native={build folder}/target/build/blake3-1/out\n"
        );

        let kernel = tempfile::tempdir().unwrap();
        copy_record(seed.path(), kernel.path()).unwrap();
        std::fs::create_dir_all(kernel.path().join("target/deps")).unwrap();
        for file in ["libcellar-cc.rlib", "libcellar_serde-dd.rlib"] {
            std::fs::write(kernel.path().join("target/deps").join(file), PLACEHOLDER).unwrap();
        }
        let mut call = cell_call(
            kernel.path(),
            "libcellar-cc.rlib",
            "libcellar_serde-dd.rlib",
        );
        assert_eq!(link_seed_libraries(&mut call, kernel.path()), Ok(true));
        let k = kernel.path().display();
        assert_eq!(
            call,
            args(&[
                "rustc",
                "--crate-name",
                "ctx",
                "src/lib.rs",
                "--extern",
                &format!("serde={k}/target/deps/libcellar_serde-bb.rlib"),
                "--extern",
                &format!("cellar={k}/target/deps/libcellar-aa.rlib"),
                "-L",
                &format!("native={k}/target/build/blake3-1/out"),
                "-L",
                &format!("native={k}/target/build/blake3-1/out"),
                "-Cprefer-dynamic",
                "-L",
                &format!("native={k}/target/build/blake3-1/out"),
            ])
        );

        // The runtime's own libraries are left as they are.
        let mut whole = cell_call(
            kernel.path(),
            "libcellar-aa.rlib",
            "libcellar_serde-bb.rlib",
        );
        let before = whole.clone();
        assert_eq!(link_seed_libraries(&mut whole, kernel.path()), Ok(false));
        assert_eq!(whole, before);
    }

    #[test]
    fn only_the_runtimes_own_libraries_are_recorded_and_a_record_is_kept() {
        let folder = tempfile::tempdir().unwrap();
        // The user's own serde in place of the runtime's: nothing to record.
        record_seed_libraries(
            &cell_call(folder.path(), "libcellar-aa.rlib", "libserde-ee.rlib"),
            folder.path(),
        );
        assert!(!folder.path().join(RECORD).exists());
        std::fs::write(folder.path().join(RECORD), "--extern cellar=x\n").unwrap();
        record_seed_libraries(
            &cell_call(
                folder.path(),
                "libcellar-aa.rlib",
                "libcellar_serde-bb.rlib",
            ),
            folder.path(),
        );
        assert_eq!(
            std::fs::read_to_string(folder.path().join(RECORD)).unwrap(),
            "--extern cellar=x\n"
        );
    }

    #[test]
    fn placeholders_without_a_record_say_what_is_missing() {
        let folder = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(folder.path().join("target/deps")).unwrap();
        std::fs::write(
            folder.path().join("target/deps/libcellar-cc.rlib"),
            PLACEHOLDER,
        )
        .unwrap();
        let mut call = cell_call(
            folder.path(),
            "libcellar-cc.rlib",
            "libcellar_serde-dd.rlib",
        );
        let error = link_seed_libraries(&mut call, folder.path()).unwrap_err();
        assert!(
            error.contains("not recorded") && error.contains("cellar-kernel install"),
            "{error}"
        );

        std::fs::write(folder.path().join(RECORD), "--extern serde=x\n").unwrap();
        let error = link_seed_libraries(&mut call, folder.path()).unwrap_err();
        assert!(error.contains("names no library for `cellar`"), "{error}");
    }

    #[test]
    fn a_kernel_uses_the_stand_ins_only_with_a_record_newer_than_a_checkouts_source() {
        let build = tempfile::tempdir().unwrap();
        let source = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(source.path().join("src")).unwrap();
        std::fs::write(source.path().join("src/lib.rs"), "").unwrap();
        let mut paths = runtime(build.path(), RuntimeSource::Checkout(source.path().into()));
        assert_eq!(choose(build.path(), &paths), RuntimeDependencies::Whole);

        let record = std::fs::File::create(build.path().join(RECORD)).unwrap();
        assert_eq!(choose(build.path(), &paths), RuntimeDependencies::StandIns);

        // The checkout edited after the seed was built.
        let earlier = std::time::SystemTime::now() - std::time::Duration::from_secs(60);
        record.set_modified(earlier).unwrap();
        assert_eq!(choose(build.path(), &paths), RuntimeDependencies::Whole);
        paths.source = RuntimeSource::Embedded;
        assert_eq!(choose(build.path(), &paths), RuntimeDependencies::StandIns);
    }

    #[test]
    fn a_folder_gets_the_seeds_record_or_none() {
        let seed = tempfile::tempdir().unwrap();
        let build = tempfile::tempdir().unwrap();
        std::fs::write(build.path().join(RECORD), "old\n").unwrap();
        copy_record(seed.path(), build.path()).unwrap();
        assert!(!build.path().join(RECORD).exists());
        std::fs::write(seed.path().join(RECORD), "new\n").unwrap();
        copy_record(seed.path(), build.path()).unwrap();
        assert_eq!(
            std::fs::read_to_string(build.path().join(RECORD)).unwrap(),
            "new\n"
        );
        forget_seed_libraries(seed.path()).unwrap();
        forget_seed_libraries(seed.path()).unwrap();
        assert!(!seed.path().join(RECORD).exists());
    }
}
