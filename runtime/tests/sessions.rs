//! `scope = "session"`: entries belong to the client session that ran the cell, and are
//! released when the kernel says that session ended. One test, because the session is
//! process-wide state (the file the kernel writes).

use cellar::{cache_data, cache_resource};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Mutex;

static RUNS: AtomicUsize = AtomicUsize::new(0);
static GLOBAL_RUNS: AtomicUsize = AtomicUsize::new(0);
static RELEASED: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Conn {
    session: String,
}

#[cache_resource(scope = "session", on_release = |c: &Conn| RELEASED.lock().unwrap().push(c.session.clone()))]
fn connect(url: &str) -> Conn {
    RUNS.fetch_add(1, SeqCst);
    Conn {
        session: format!(
            "{url}@{}",
            cellar::session::current_session().unwrap_or_default()
        ),
    }
}

#[cache_data]
fn shared(x: u32) -> u32 {
    GLOBAL_RUNS.fetch_add(1, SeqCst);
    x
}

#[test]
fn session_scoped_entries_are_separate_and_released_with_their_session() {
    // SAFETY (of the environment change): this file's only test, set before any other thread.
    std::env::set_var(cellar::env::NOTEBOOK_ENV, "0");
    let file = std::env::temp_dir().join(format!("cellar-session-test-{}", std::process::id()));
    let enter = |session: &str| std::fs::write(&file, session).unwrap();

    // Outside a kernel a session-scoped cache is a global one.
    assert_eq!(cellar::session::current_session(), None);
    connect("db");
    connect("db");
    assert_eq!(RUNS.load(SeqCst), 1);

    std::env::set_var(cellar::protocol::SESSION_FILE_ENV, &file);
    enter("alice");
    assert_eq!(connect("db").session, "db@alice");
    shared(1);
    enter("bob");
    assert_eq!(
        connect("db").session,
        "db@bob",
        "another session computes its own"
    );
    shared(1);
    assert_eq!(RUNS.load(SeqCst), 3);
    assert_eq!(
        GLOBAL_RUNS.load(SeqCst),
        1,
        "a global cache is shared by sessions"
    );
    enter("alice");
    assert_eq!(
        connect("db").session,
        "db@alice",
        "and a session finds its own again"
    );
    assert_eq!(RUNS.load(SeqCst), 3);

    assert_eq!(cellar::__private::release_session("alice"), 1);
    assert_eq!(
        *RELEASED.lock().unwrap(),
        ["db@alice"],
        "ending a session releases its entries"
    );
    connect("db");
    assert_eq!(RUNS.load(SeqCst), 4, "alice's entry is gone");
    enter("bob");
    connect("db");
    assert_eq!(RUNS.load(SeqCst), 4, "bob's is not");

    // clear(args) acts on the current session's entry.
    assert!(connect::clear("db"));
    assert_eq!(RELEASED.lock().unwrap().last().unwrap(), "db@bob");

    // Kernel shutdown releases everything that is left: the global-scope entry and alice's.
    let released_before = RELEASED.lock().unwrap().len();
    cellar::__private::release_all();
    let mut released = RELEASED.lock().unwrap()[released_before..].to_vec();
    released.sort();
    assert_eq!(released, ["db@", "db@alice"]);
    shared(1);
    assert_eq!(GLOBAL_RUNS.load(SeqCst), 2);
    let _ = std::fs::remove_file(&file);
}
