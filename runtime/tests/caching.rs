//! The caching behaviour, through the macros: Streamlit's caching checklist, ported.
//!
//! Every test uses functions of its own (the registry is process-wide and tests run in
//! parallel); process-wide clears live in `global.rs`, sessions in `sessions.rs`. A counter of
//! body runs tells hits from misses.

use cellar::{cache_data, cache_resource, memo, singleton, CacheHash, Data};
use serde::{Deserialize, Serialize};
use std::panic::catch_unwind;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Barrier, Mutex};
use std::thread;
use std::time::Duration;

macro_rules! counter {
    ($name:ident) => {
        static $name: AtomicUsize = AtomicUsize::new(0);
    };
}

fn runs(counter: &AtomicUsize) -> usize {
    counter.load(SeqCst)
}

// --- hits and misses -------------------------------------------------------------------------

counter!(SIMPLE);
#[cache_data]
fn simple(x: u32) -> u32 {
    SIMPLE.fetch_add(1, SeqCst);
    x * 2
}

#[test]
fn a_second_call_with_the_same_argument_is_a_hit() {
    assert_eq!(*simple(21), 42);
    assert_eq!(*simple(21), 42);
    assert_eq!(runs(&SIMPLE), 1);
    assert_eq!(*simple(5), 10, "a new argument runs the body");
    assert_eq!(runs(&SIMPLE), 2);
}

counter!(FLOATS);
#[cache_data]
fn floats(x: f64) -> f64 {
    FLOATS.fetch_add(1, SeqCst);
    x
}

#[test]
fn int_like_floats_are_distinct_keys() {
    assert_eq!(*floats(1.0), 1.0);
    assert_eq!(*floats(3.0), 3.0);
    assert_eq!(*floats(1.0), 1.0);
    assert_eq!(runs(&FLOATS), 2);
}

counter!(MUTATES);
#[cache_data]
fn mutates_its_argument(mut v: Vec<u8>) -> usize {
    MUTATES.fetch_add(1, SeqCst);
    v.push(1);
    v.len()
}

#[test]
fn a_body_may_mutate_and_consume_its_arguments() {
    assert_eq!(*mutates_its_argument(vec![0, 0]), 3);
    assert_eq!(*mutates_its_argument(vec![0, 0]), 3);
    assert_eq!(runs(&MUTATES), 1);
}

// --- what the key covers -----------------------------------------------------------------------

struct Pool {
    #[allow(dead_code)]
    size: usize,
}

counter!(IGNORED);
#[cache_data]
fn ignored(_pool: &Pool, _: u8, rows: usize) -> usize {
    IGNORED.fetch_add(1, SeqCst);
    rows
}

#[test]
fn underscore_arguments_are_not_part_of_the_key() {
    ignored(&Pool { size: 1 }, 1, 10);
    ignored(&Pool { size: 2 }, 2, 10);
    assert_eq!(runs(&IGNORED), 1);
    ignored(&Pool { size: 1 }, 1, 11);
    assert_eq!(runs(&IGNORED), 2, "any other argument is");
}

struct Conn {
    id: u32,
    #[allow(dead_code)]
    socket: Mutex<()>,
}

counter!(HASHED);
#[cache_data(hash(conn = |c: &&Conn| c.id))]
fn query(conn: &Conn, sql: &str) -> String {
    HASHED.fetch_add(1, SeqCst);
    format!("{sql} on {}", conn.id)
}

#[test]
fn a_custom_hasher_stands_in_for_an_unhashable_argument() {
    let a = Conn {
        id: 1,
        socket: Mutex::new(()),
    };
    let b = Conn {
        id: 1,
        socket: Mutex::new(()),
    };
    let c = Conn {
        id: 2,
        socket: Mutex::new(()),
    };
    assert_eq!(*query(&a, "select"), "select on 1");
    assert_eq!(*query(&b, "select"), "select on 1");
    assert_eq!(runs(&HASHED), 1, "equal hashes share the entry");
    query(&c, "select");
    assert_eq!(runs(&HASHED), 2);
}

#[derive(CacheHash)]
struct Request {
    city: String,
    days: Vec<u16>,
    #[cache_hash(skip)]
    #[allow(dead_code)]
    trace_id: u64,
}

#[derive(CacheHash, Clone, Copy)]
enum Unit {
    Metric,
    Imperial { precise: bool },
}

counter!(DERIVED);
#[cache_data]
fn forecast(request: &Request, unit: Unit) -> String {
    DERIVED.fetch_add(1, SeqCst);
    format!(
        "{} {}",
        request.city,
        request.days.len() + matches!(unit, Unit::Imperial { .. }) as usize
    )
}

#[test]
fn derived_hashes_cover_fields_and_variants() {
    let oslo = |trace_id| Request {
        city: "Oslo".into(),
        days: vec![1, 2],
        trace_id,
    };
    forecast(&oslo(1), Unit::Metric);
    forecast(&oslo(2), Unit::Metric);
    assert_eq!(runs(&DERIVED), 1, "a skipped field is not part of the key");
    forecast(&oslo(1), Unit::Imperial { precise: true });
    forecast(&oslo(1), Unit::Imperial { precise: false });
    assert_eq!(runs(&DERIVED), 3, "variants and their fields are");
    forecast(
        &Request {
            city: "Lima".into(),
            days: vec![1, 2],
            trace_id: 1,
        },
        Unit::Metric,
    );
    assert_eq!(runs(&DERIVED), 4);
}

counter!(PATTERNS);
#[cache_data]
fn destructured((a, b): (u32, u32), _unused: u8) -> u32 {
    PATTERNS.fetch_add(1, SeqCst);
    a + b
}

#[test]
fn destructuring_arguments_are_hashed_whole() {
    assert_eq!(*destructured((1, 2), 0), 3);
    assert_eq!(*destructured((1, 2), 9), 3);
    assert_eq!(*destructured((2, 1), 0), 3);
    assert_eq!(runs(&PATTERNS), 2);
}

// --- copy semantics and sharing ----------------------------------------------------------------

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Frame {
    rows: Vec<f64>,
}

counter!(FRAMES);
#[cache_data]
fn frame(n: usize) -> Frame {
    FRAMES.fetch_add(1, SeqCst);
    Frame { rows: vec![1.0; n] }
}

#[test]
fn mutating_a_result_never_changes_the_cache() {
    let mut mine = frame(3);
    mine.rows.push(9.0);
    mine.rows[0] = -1.0;
    let theirs = frame(3);
    assert_eq!(
        theirs.rows,
        [1.0, 1.0, 1.0],
        "the next caller gets the untouched value"
    );
    assert_eq!(mine.rows, [-1.0, 1.0, 1.0, 9.0]);
    assert_eq!(runs(&FRAMES), 1);
}

#[cache_data]
fn shared_frame(n: usize) -> Frame {
    Frame { rows: vec![2.0; n] }
}

#[test]
fn a_hit_shares_the_stored_value_until_it_is_mutated() {
    let a = shared_frame(4);
    let b = shared_frame(4);
    assert!(
        Data::ptr_eq(&a, &b),
        "a hit is one more reference, not a copy"
    );
    let owned: Frame = b.into_owned();
    assert_eq!(owned, *a, "into_owned of a shared value is a clone");
}

counter!(RESOURCES);
struct Model {
    name: String,
}

#[cache_resource]
fn model(name: &str) -> Model {
    RESOURCES.fetch_add(1, SeqCst);
    Model {
        name: name.to_string(),
    }
}

#[test]
fn a_resource_is_one_shared_instance() {
    let a: Arc<Model> = model("bert");
    let b = model("bert");
    assert!(Arc::ptr_eq(&a, &b));
    assert_eq!(b.name, "bert");
    assert!(!Arc::ptr_eq(&a, &model("gpt")));
    assert_eq!(runs(&RESOURCES), 2);
}

counter!(ALIASES);
#[memo]
fn memo_alias(x: u8) -> u8 {
    ALIASES.fetch_add(1, SeqCst);
    x
}

#[singleton]
fn singleton_alias() -> Vec<u8> {
    ALIASES.fetch_add(1, SeqCst);
    vec![1]
}

#[test]
fn memo_and_singleton_are_aliases() {
    let a: Data<u8> = memo_alias(1);
    assert_eq!(*a, *memo_alias(1));
    let b: Arc<Vec<u8>> = singleton_alias();
    assert!(Arc::ptr_eq(&b, &singleton_alias()));
    assert_eq!(runs(&ALIASES), 2);
}

counter!(RESULTS);
#[cache_data]
fn parse_number(text: &str) -> Result<i64, String> {
    RESULTS.fetch_add(1, SeqCst);
    let n: i64 = text.parse().map_err(|e| format!("{e}"))?;
    if n < 0 {
        return Err("negative".into());
    }
    Ok(n)
}

#[test]
fn return_and_question_mark_keep_their_meaning() {
    assert_eq!(*parse_number("12"), Ok(12));
    assert!(parse_number("x").is_err());
    assert_eq!(*parse_number("-3"), Err("negative".to_string()));
    parse_number("-3");
    assert_eq!(
        runs(&RESULTS),
        3,
        "a returned Err is a value like any other: cached"
    );
}

// --- clearing ------------------------------------------------------------------------------------

counter!(CLEAR_FOO);
counter!(CLEAR_BAR);
#[cache_data]
fn clear_foo(x: u32) -> u32 {
    CLEAR_FOO.fetch_add(1, SeqCst);
    x
}
#[cache_data]
fn clear_bar(x: u32) -> u32 {
    CLEAR_BAR.fetch_add(1, SeqCst);
    x
}

#[test]
fn clear_one_entry_or_one_function() {
    clear_foo(1);
    clear_foo(2);
    clear_bar(1);
    assert!(clear_foo::clear(1), "the entry was there");
    assert!(!clear_foo::clear(1), "and is gone");
    clear_foo(1);
    clear_foo(2);
    assert_eq!(runs(&CLEAR_FOO), 3, "only the cleared entry recomputes");

    assert_eq!(clear_foo::clear_all(), 2);
    clear_foo(1);
    clear_foo(2);
    clear_bar(1);
    assert_eq!(
        runs(&CLEAR_FOO),
        5,
        "clear_all recomputes every entry of foo"
    );
    assert_eq!(runs(&CLEAR_BAR), 1, "and nothing of bar");
}

// --- ttl and max_entries -------------------------------------------------------------------------

counter!(TTL);
#[cache_data(ttl = "50ms")]
fn short_lived(x: u32) -> u32 {
    TTL.fetch_add(1, SeqCst);
    x
}

counter!(TTL_LONG);
#[cache_data(ttl = std::time::Duration::from_secs(3600))]
fn long_lived(x: u32) -> u32 {
    TTL_LONG.fetch_add(1, SeqCst);
    x
}

#[test]
fn an_expired_entry_is_a_miss() {
    short_lived(1);
    long_lived(1);
    short_lived(1);
    assert_eq!(runs(&TTL), 1);
    thread::sleep(Duration::from_millis(120));
    short_lived(1);
    long_lived(1);
    assert_eq!(runs(&TTL), 2, "the 50 ms entry expired");
    assert_eq!(runs(&TTL_LONG), 1, "the 1 h entry did not");
}

counter!(TTL_NUM);
#[cache_resource(ttl = 0.05)]
fn numeric_ttl(x: u32) -> u32 {
    TTL_NUM.fetch_add(1, SeqCst);
    x
}

#[test]
fn a_numeric_ttl_is_seconds() {
    numeric_ttl(1);
    numeric_ttl(1);
    thread::sleep(Duration::from_millis(120));
    numeric_ttl(1);
    assert_eq!(runs(&TTL_NUM), 2);
}

static LRU_COMPUTED: Mutex<Vec<u32>> = Mutex::new(Vec::new());
#[cache_data(max_entries = 2)]
fn lru(x: u32) -> u32 {
    LRU_COMPUTED.lock().unwrap().push(x);
    x
}

#[test]
fn max_entries_evicts_the_least_recently_used() {
    for x in [1, 2, 1, 3, 1, 2] {
        lru(x);
    }
    assert_eq!(
        *LRU_COMPUTED.lock().unwrap(),
        [1, 2, 3, 2],
        "reads refresh recency: LRU, not FIFO"
    );
}

// --- validate and on_release ---------------------------------------------------------------------

struct Session {
    id: usize,
}

counter!(VALIDATE_RUNS);
counter!(VALIDATE_CALLS);
counter!(VALIDATE_RELEASES);
static VALIDATE_OK: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

#[cache_resource(
    validate = |_s: &Session| { VALIDATE_CALLS.fetch_add(1, SeqCst); VALIDATE_OK.load(SeqCst) },
    on_release = |_s: &Session| { VALIDATE_RELEASES.fetch_add(1, SeqCst); }
)]
fn login(user: &str) -> Session {
    assert!(!user.is_empty());
    Session {
        id: VALIDATE_RUNS.fetch_add(1, SeqCst),
    }
}

#[test]
fn validate_runs_on_hits_and_false_recomputes() {
    let first = login("ada");
    assert_eq!(runs(&VALIDATE_CALLS), 0, "not on the computing call");
    let again = login("ada");
    assert_eq!(runs(&VALIDATE_CALLS), 1, "once per hit");
    assert_eq!(first.id, again.id);
    VALIDATE_OK.store(false, SeqCst);
    let fresh = login("ada");
    assert_ne!(fresh.id, first.id, "an invalid entry is recomputed");
    assert_eq!(runs(&VALIDATE_RELEASES), 1, "and released");
    VALIDATE_OK.store(true, SeqCst);
    assert_eq!(login("ada").id, fresh.id);
}

counter!(DATA_VALIDATE);
#[cache_data(validate = |v: &Vec<u8>| !v.is_empty())]
fn maybe_empty(n: usize) -> Vec<u8> {
    DATA_VALIDATE.fetch_add(1, SeqCst);
    vec![0; n]
}

#[test]
fn validate_works_for_data_too() {
    maybe_empty(0);
    maybe_empty(0);
    maybe_empty(0);
    assert_eq!(
        runs(&DATA_VALIDATE),
        3,
        "an entry that never validates is recomputed each time"
    );
    maybe_empty(2);
    maybe_empty(2);
    assert_eq!(runs(&DATA_VALIDATE), 4);
}

static RELEASED: Mutex<Vec<u32>> = Mutex::new(Vec::new());

fn released() -> Vec<u32> {
    let mut released = RELEASED.lock().unwrap().clone();
    released.sort();
    released
}

#[cache_resource(max_entries = 2, on_release = |v: &u32| RELEASED.lock().unwrap().push(*v))]
fn handle(x: u32) -> u32 {
    x
}

#[test]
fn on_release_fires_once_per_eviction_and_clear() {
    handle(1);
    handle(2);
    handle(3); // evicts 1
    assert_eq!(released(), [1]);
    assert!(handle::clear(2));
    assert_eq!(released(), [1, 2]);
    handle(4);
    assert_eq!(handle::clear_all(), 2);
    assert_eq!(released(), [1, 2, 3, 4]);
    handle::clear_all();
    assert_eq!(released(), [1, 2, 3, 4], "nothing is released twice");
}

counter!(EXPIRED_RELEASES);
#[cache_resource(ttl = "40ms", on_release = |_: &u32| { EXPIRED_RELEASES.fetch_add(1, SeqCst); })]
fn expiring(x: u32) -> u32 {
    x
}

#[test]
fn on_release_fires_for_expired_entries() {
    expiring(1);
    expiring(2);
    thread::sleep(Duration::from_millis(100));
    expiring(1);
    assert_eq!(
        runs(&EXPIRED_RELEASES),
        2,
        "every expired entry is released when the cache is next used"
    );
}

// --- compute once ----------------------------------------------------------------------------------

counter!(ONCE);
#[cache_resource]
fn expensive(x: u32) -> u32 {
    ONCE.fetch_add(1, SeqCst);
    thread::sleep(Duration::from_millis(150));
    x
}

#[test]
fn concurrent_callers_of_one_key_run_the_body_once() {
    let barrier = Arc::new(Barrier::new(8));
    let results: Vec<Arc<u32>> = (0..8)
        .map(|_| {
            let barrier = barrier.clone();
            thread::spawn(move || {
                barrier.wait();
                expensive(7)
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| t.join().unwrap())
        .collect();
    assert_eq!(runs(&ONCE), 1);
    assert!(
        results.iter().all(|r| Arc::ptr_eq(r, &results[0])),
        "they all share the one value"
    );
}

static GATE: Mutex<Option<std::sync::mpsc::Receiver<()>>> = Mutex::new(None);

#[cache_data]
fn blocked_until_told(key: u32) -> u32 {
    if key == 1 {
        let gate = GATE.lock().unwrap().take().unwrap();
        gate.recv().unwrap();
    }
    key
}

#[test]
fn unrelated_keys_never_wait_for_each_other() {
    let (open, gate) = std::sync::mpsc::channel();
    *GATE.lock().unwrap() = Some(gate);
    let slow = thread::spawn(|| *blocked_until_told(1));
    let (done, finished) = std::sync::mpsc::channel();
    thread::spawn(move || done.send(*blocked_until_told(2)).unwrap());
    // Key 2 completes while key 1 is still computing (if it waited, this would time out).
    assert_eq!(finished.recv_timeout(Duration::from_secs(20)), Ok(2));
    open.send(()).unwrap();
    assert_eq!(slow.join().unwrap(), 1);
}

counter!(PANICS);
#[cache_data]
fn flaky(x: u32) -> u32 {
    if PANICS.fetch_add(1, SeqCst) == 0 {
        panic!("first run fails");
    }
    x
}

#[test]
fn a_panicking_body_stores_nothing_and_the_next_call_retries() {
    let caught = catch_unwind(|| flaky(1));
    let message = caught.unwrap_err();
    assert_eq!(
        message.downcast_ref::<&str>(),
        Some(&"first run fails"),
        "the panic reaches the caller"
    );
    assert_eq!(*flaky(1), 1);
    assert_eq!(*flaky(1), 1);
    assert_eq!(runs(&PANICS), 2);
}

counter!(PANIC_WAIT);
#[cache_data]
fn panics_while_others_wait(x: u32) -> u32 {
    let run = PANIC_WAIT.fetch_add(1, SeqCst);
    thread::sleep(Duration::from_millis(100));
    if run == 0 {
        panic!("the first computation fails");
    }
    x
}

#[test]
fn a_waiter_retries_when_the_computing_caller_panics() {
    let barrier = Arc::new(Barrier::new(2));
    let outcomes: Vec<Result<u32, ()>> = (0..2)
        .map(|_| {
            let barrier = barrier.clone();
            thread::spawn(move || {
                barrier.wait();
                catch_unwind(|| *panics_while_others_wait(5)).map_err(|_| ())
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| t.join().unwrap())
        .collect();
    let ok: Vec<_> = outcomes.iter().filter_map(|r| r.as_ref().ok()).collect();
    // Either the waiter retried after the panic (2 runs), or it arrived after it (also 2 runs).
    assert_eq!(ok, [&5]);
    assert_eq!(runs(&PANIC_WAIT), 2);
}

#[cache_data]
fn calls_itself(x: u32) -> u32 {
    if x > 0 {
        *calls_itself(x)
    } else {
        0
    }
}

#[test]
fn a_recursive_call_with_the_same_key_panics_instead_of_deadlocking() {
    let message = catch_unwind(|| calls_itself(1)).unwrap_err();
    let text = message.downcast_ref::<String>().unwrap();
    assert!(
        text.contains("called itself with the same arguments"),
        "{text}"
    );
    assert_eq!(*calls_itself(0), 0);
}

counter!(FIB);
#[cache_data]
fn fib(n: u64) -> u64 {
    FIB.fetch_add(1, SeqCst);
    if n < 2 {
        n
    } else {
        *fib(n - 1) + *fib(n - 2)
    }
}

#[test]
fn nested_cached_calls_cache_each_level() {
    assert_eq!(*fib(40), 102_334_155);
    assert_eq!(runs(&FIB), 41, "each n computed once");
}

counter!(STRESS);
#[cache_data]
fn stressed(x: u32) -> u32 {
    STRESS.fetch_add(1, SeqCst);
    x
}

#[test]
fn concurrent_calls_and_clears_are_safe() {
    let threads: Vec<_> = (0..16)
        .map(|t| {
            thread::spawn(move || {
                for i in 0..200u32 {
                    assert_eq!(*stressed(i % 7), i % 7);
                    if (i + t) % 13 == 0 {
                        stressed::clear(i % 7);
                    }
                    if (i + t) % 50 == 0 {
                        stressed::clear_all();
                    }
                }
            })
        })
        .collect();
    threads.into_iter().for_each(|t| t.join().unwrap());
    assert_eq!(*stressed(3), 3, "the function still works afterwards");
}

// --- methods ------------------------------------------------------------------------------------

struct Rect {
    w: f64,
    h: f64,
}
struct Square {
    w: f64,
    h: f64,
}

counter!(AREAS);
impl Rect {
    #[cache_data]
    fn area(&self, scale: f64) -> f64 {
        AREAS.fetch_add(1, SeqCst);
        self.w * self.h * scale
    }
}
impl Square {
    #[cache_data]
    fn area(&self, scale: f64) -> f64 {
        AREAS.fetch_add(1, SeqCst);
        self.w * self.h * scale
    }
}

struct Account {
    id: u32,
}
counter!(BALANCES);
impl Account {
    #[cache_data(hash(self = |a: &Self| a.id))]
    fn balance(&self) -> i64 {
        BALANCES.fetch_add(1, SeqCst);
        self.id as i64 * 100
    }
}

#[test]
fn methods_leave_the_receiver_out_unless_it_has_a_hasher() {
    assert_eq!(*Rect { w: 2.0, h: 3.0 }.area(1.0), 6.0);
    assert_eq!(
        *Rect { w: 5.0, h: 5.0 }.area(1.0),
        6.0,
        "the receiver is not part of the key"
    );
    assert_eq!(
        *Square { w: 5.0, h: 5.0 }.area(1.0),
        25.0,
        "but its type is"
    );
    assert_eq!(runs(&AREAS), 2);

    assert_eq!(*Account { id: 1 }.balance(), 100);
    assert_eq!(*Account { id: 2 }.balance(), 200);
    assert_eq!(*Account { id: 1 }.balance(), 100);
    assert_eq!(runs(&BALANCES), 2);
}

// --- stats ----------------------------------------------------------------------------------------

#[cache_data]
fn counted(x: u32) -> [u64; 4] {
    [x as u64; 4]
}

#[test]
fn stats_count_entries_hits_and_misses() {
    counted(1);
    counted(1);
    counted(1);
    counted(2);
    let stats = cellar::__private::stats();
    let mine = stats.iter().find(|s| s.name == "counted").expect("listed");
    assert_eq!((mine.entries, mine.hits, mine.misses), (2, 2, 2));
    assert_eq!(mine.kind, cellar::CacheKind::Data);
    assert_eq!(
        mine.bytes,
        Some(2 * 4),
        "the postcard size of each value: four one-byte varints"
    );
    assert!(mine.last_compute.is_some());
}

// --- a cache replaced under the same function key ---------------------------------------------------

mod replaced {
    use cellar::__private::{cache_resource, value_key, CacheKind, FnSpec, Options};
    use std::sync::Mutex;

    static RELEASED: Mutex<Vec<u64>> = Mutex::new(Vec::new());
    const KEY: [u8; 32] = [7; 32];

    fn spec<T: 'static>(options_key: u8, on_release: fn(&T)) -> FnSpec<T> {
        FnSpec {
            name: "replaced",
            kind: CacheKind::Resource,
            key: KEY,
            options_key: [options_key; 32],
            options: Options::DEFAULT,
            validate: None,
            on_release: Some(on_release),
        }
    }

    fn release_u32(v: &u32) {
        RELEASED.lock().unwrap().push(*v as u64);
    }

    fn release_u64(v: &u64) {
        RELEASED.lock().unwrap().push(*v);
    }

    #[test]
    fn changed_options_or_a_new_value_type_replace_the_cache_and_release_its_entries() {
        static FIRST: std::sync::LazyLock<FnSpec<u32>> =
            std::sync::LazyLock::new(|| spec(1, release_u32));
        static NEW_OPTIONS: std::sync::LazyLock<FnSpec<u32>> =
            std::sync::LazyLock::new(|| spec(2, release_u32));
        static NEW_TYPE: std::sync::LazyLock<FnSpec<u64>> =
            std::sync::LazyLock::new(|| spec(2, release_u64));
        let key = value_key(|_| {});
        assert_eq!(*cache_resource(&FIRST, key, || 1), 1);
        assert_eq!(*cache_resource(&FIRST, key, || 99), 1, "a hit");
        assert_eq!(
            *cache_resource(&NEW_OPTIONS, key, || 2),
            2,
            "new options: a new cache"
        );
        assert_eq!(
            *RELEASED.lock().unwrap(),
            [1],
            "the old cache's entries were released"
        );
        assert_eq!(
            *cache_resource(&NEW_TYPE, key, || 3u64),
            3,
            "a value type that does not downcast: a new cache"
        );
        assert_eq!(*RELEASED.lock().unwrap(), [1, 2]);
        assert_eq!(*cache_resource(&NEW_TYPE, key, || 4u64), 3);
    }
}

// --- where cached functions may live, and bad options ------------------------------------------------

#[test]
fn a_cached_fn_may_be_declared_inside_a_function_with_local_types() {
    #[derive(Clone, Serialize, Deserialize, PartialEq, Debug)]
    struct Local(u8);

    #[cache_data]
    fn local(x: u8) -> Local {
        Local(x)
    }

    assert_eq!(*local(3), Local(3));
    assert!(local::clear(3));
    assert!(!local::clear(3));
}

#[cache_data(ttl = "1 parsec")]
fn bad_ttl(x: u8) -> u8 {
    x
}

#[test]
fn a_bad_ttl_text_is_a_clear_panic_naming_the_function() {
    let message = catch_unwind(|| bad_ttl(1)).unwrap_err();
    let text = message.downcast_ref::<String>().unwrap();
    assert!(
        text.contains("the ttl of `bad_ttl`") && text.contains("unknown unit `parsec`"),
        "{text}"
    );
}
