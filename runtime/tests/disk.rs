//! `cache_data` entries on disk: each scenario runs in its own process, so "a later process
//! hits" is tested the way it happens, across processes. A body appends a line to the file named
//! by `COUNTER` each time it really runs.

mod support;

use cellar::cache_data;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use support::{command, run_with, Output};

#[test]
fn child() {
    match support::scenario().as_deref() {
        Some("persisted") => println!("OUT:value {:?}", &persisted(3)[..3]),
        Some("unpersisted") => {
            println!("OUT:value {}", *unpersisted(5));
            wait_like_the_kernel();
            std::process::abort();
        }
        Some("expiring") => println!("OUT:value {}", *expiring(1)),
        Some("clears") => clears(),
        Some("limited") => {
            for n in 0..4 {
                big(n);
            }
        }
        Some("bounded") => {
            bounded(1);
            bounded(2);
        }
        Some("evicted") => {
            for x in [1, 2, 1, 3, 1, 2] {
                square(x);
            }
        }
        Some(other) => panic!("unknown scenario {other}"),
        None => {}
    }
}

fn count(what: &str) {
    use std::io::Write;
    let path = std::env::var_os("COUNTER").expect("COUNTER is set");
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    writeln!(file, "{what}").unwrap();
}

#[cache_data(persist = "disk", show_spinner = false)]
fn persisted(n: usize) -> Vec<f64> {
    count("persisted");
    println!("OUT:computing {n}");
    cellar::display::html("<b>table</b>");
    (0..200_000).map(|i| i as f64 * n as f64).collect()
}

#[cache_data(show_spinner = false)]
fn unpersisted(n: u32) -> u32 {
    count("unpersisted");
    println!("OUT:computing {n}");
    n * 2
}

#[cache_data(persist = "disk", ttl = "1s", show_spinner = false)]
fn expiring(n: u32) -> u32 {
    count("expiring");
    n
}

#[cache_data(persist = "disk", show_spinner = false)]
fn big(n: u32) -> Vec<u8> {
    vec![n as u8; 1000]
}

#[cache_data(persist = "disk", max_entries = 1, show_spinner = false)]
fn bounded(n: u32) -> u32 {
    n
}

#[cache_data(max_entries = 2, show_spinner = false)]
fn square(x: u64) -> u64 {
    count("square");
    x * x
}

/// What the kernel does before it answers a cell: ask on the control channel for the queued
/// writes, and wait for the answer.
fn wait_like_the_kernel() {
    use std::io::{BufRead, Write};
    let socket = std::env::var_os(cellar::protocol::CONTROL_SOCKET_ENV).unwrap();
    let mut stream = std::os::unix::net::UnixStream::connect(socket).unwrap();
    let request = serde_json::to_string(&cellar::protocol::ControlRequest::WaitForWrites).unwrap();
    stream.write_all(format!("{request}\n").as_bytes()).unwrap();
    let mut reply = String::new();
    std::io::BufReader::new(stream)
        .read_line(&mut reply)
        .unwrap();
    let reply: cellar::protocol::ControlReply = serde_json::from_str(&reply).unwrap();
    assert_eq!(reply, cellar::protocol::ControlReply::Done { count: 0 });
}

fn clears() {
    match std::env::var("STEP").unwrap().as_str() {
        "fill" => {
            persisted(1);
            persisted(2);
            persisted(3);
        }
        "one" => {
            // Not in this process's memory: the file goes all the same.
            persisted::clear(1);
        }
        "function" => {
            persisted::clear_all();
        }
        "everything" => {
            cellar::cache_data::clear();
        }
        other => panic!("unknown step {other}"),
    }
}

/// A scratch folder for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cellar-disk-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

type Env = Vec<(&'static str, OsString)>;

/// The variables of a scenario run in `dir`: its cache folder and counter file, and `extra`.
fn env(dir: &Path, extra: &[(&'static str, OsString)]) -> Env {
    let mut env = vec![
        ("CELLAR_CACHE_DIR", dir.join("cache").into_os_string()),
        ("COUNTER", dir.join("counter").into_os_string()),
    ];
    env.extend(extra.iter().cloned());
    env
}

fn borrowed(env: &Env) -> Vec<(&str, &OsStr)> {
    env.iter().map(|(k, v)| (*k, v.as_os_str())).collect()
}

fn run_in(dir: &Path, scenario: &str, extra: &[(&'static str, OsString)]) -> Output {
    run_with(scenario, true, &borrowed(&env(dir, extra)))
}

fn runs(dir: &Path) -> usize {
    std::fs::read_to_string(dir.join("counter")).map_or(0, |text| text.lines().count())
}

/// The entry files under `root`, and any temporary file left over.
fn files(root: &Path, extension: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for folder in std::fs::read_dir(root).into_iter().flatten().flatten() {
        for file in std::fs::read_dir(folder.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            if file.path().extension().is_some_and(|e| e == extension) {
                found.push(file.path());
            }
        }
    }
    found
}

#[test]
fn a_later_process_hits_a_persisted_entry_and_replays_its_outputs() {
    let dir = scratch("later");
    let first = run_in(&dir, "persisted", &[]);
    let second = run_in(&dir, "persisted", &[]);
    assert_eq!(runs(&dir), 1, "the second process did not compute");
    for out in [&first, &second] {
        assert_eq!(
            out.lines("OUT:"),
            ["OUT:computing 3", "OUT:value [0.0, 3.0, 6.0]"]
        );
        assert_eq!(
            out.messages().len(),
            1,
            "the HTML display is replayed: {}",
            out.stdout
        );
    }
    assert_eq!(files(&dir.join("cache"), "entry").len(), 1);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn an_entry_in_the_kernel_store_outlives_a_process_that_aborts() {
    let dir = scratch("crash");
    let store = [
        (
            cellar::protocol::STORE_DIR_ENV,
            dir.join("store").into_os_string(),
        ),
        (
            cellar::protocol::CONTROL_SOCKET_ENV,
            dir.join("control.sock").into_os_string(),
        ),
    ];
    for _ in 0..2 {
        let out = command("unpersisted", true, &borrowed(&env(&dir, &store)))
            .output()
            .unwrap();
        assert!(!out.status.success(), "the scenario aborts");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.contains("OUT:computing 5\n"),
            "computed or replayed: {stdout}"
        );
        assert!(stdout.contains("OUT:value 10\n"), "{stdout}");
    }
    assert_eq!(
        runs(&dir),
        1,
        "the second process found the first one's entry"
    );
    assert!(
        files(&dir.join("cache"), "entry").is_empty(),
        "not persisted to the cache folder"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_damaged_file_is_a_miss_and_is_replaced() {
    let dir = scratch("damaged");
    run_in(&dir, "persisted", &[]);
    let file = files(&dir.join("cache"), "entry")
        .pop()
        .expect("an entry file");
    let whole = std::fs::read(&file).unwrap();
    std::fs::write(&file, &whole[..whole.len() / 2]).unwrap();
    let out = run_in(&dir, "persisted", &[]);
    assert_eq!(runs(&dir), 2, "a truncated file is recomputed");
    assert!(out.stderr.contains("is damaged"), "{}", out.stderr);
    assert_eq!(out.lines("OUT:value"), ["OUT:value [0.0, 3.0, 6.0]"]);

    let mut flipped = std::fs::read(&file).unwrap();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x01;
    std::fs::write(&file, &flipped).unwrap();
    run_in(&dir, "persisted", &[]);
    assert_eq!(runs(&dir), 3, "a flipped byte is recomputed");
    run_in(&dir, "persisted", &[]);
    assert_eq!(runs(&dir), 3, "the rewritten file is whole again");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn ttl_holds_for_entries_on_disk() {
    let dir = scratch("ttl");
    run_in(&dir, "expiring", &[]);
    run_in(&dir, "expiring", &[]);
    assert_eq!(runs(&dir), 1);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    run_in(&dir, "expiring", &[]);
    assert_eq!(runs(&dir), 2, "an expired file is a miss");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn clears_remove_files_even_of_entries_not_in_memory() {
    let dir = scratch("clears");
    let cache = dir.join("cache");
    let step = |name: &str| run_in(&dir, "clears", &[("STEP", name.into())]);
    step("fill");
    assert_eq!(files(&cache, "entry").len(), 3);
    step("one");
    assert_eq!(files(&cache, "entry").len(), 2);
    step("function");
    assert_eq!(files(&cache, "entry").len(), 0);
    step("fill");
    std::fs::write(cache.join("unrelated.txt"), b"keep me").unwrap();
    step("everything");
    assert_eq!(files(&cache, "entry").len(), 0);
    assert!(
        cache.join("unrelated.txt").exists(),
        "only entry files are removed"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_size_limit_keeps_the_most_recent_entries() {
    let dir = scratch("limit");
    run_in(&dir, "limited", &[("CELLAR_CACHE_LIMIT", "2500".into())]);
    let kept = files(&dir.join("cache"), "entry");
    assert_eq!(kept.len(), 2, "{kept:?}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn an_evicted_entry_leaves_the_disk_too() {
    let dir = scratch("bounded");
    run_in(&dir, "bounded", &[]);
    assert_eq!(
        files(&dir.join("cache"), "entry").len(),
        1,
        "max_entries = 1"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn an_evicted_entry_does_not_come_back_from_a_deletion_still_queued() {
    let dir = scratch("evicted");
    let store = [(
        cellar::protocol::STORE_DIR_ENV,
        dir.join("store").into_os_string(),
    )];
    run_in(&dir, "evicted", &store);
    // 1, 2 miss; 1 hits; 3 misses and evicts 2; 1 hits; 2 misses again.
    assert_eq!(runs(&dir), 4);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn two_processes_writing_one_key_leave_one_whole_entry() {
    let dir = scratch("race");
    let env = env(&dir, &[]);
    for _ in 0..3 {
        let _ = std::fs::remove_dir_all(dir.join("cache"));
        let racers: Vec<_> = (0..2)
            .map(|_| {
                let mut racer = command("persisted", true, &borrowed(&env));
                racer
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for racer in racers {
            assert!(racer.wait_with_output().unwrap().status.success());
        }
        assert_eq!(files(&dir.join("cache"), "entry").len(), 1);
        assert!(
            files(&dir.join("cache"), "tmp").is_empty(),
            "no temporary file is left"
        );
        let before = runs(&dir);
        let out = run_in(&dir, "persisted", &[]);
        assert_eq!(
            runs(&dir),
            before,
            "the entry the race left is whole: a hit"
        );
        assert_eq!(out.lines("OUT:value"), ["OUT:value [0.0, 3.0, 6.0]"]);
    }
    std::fs::remove_dir_all(dir).unwrap();
}
