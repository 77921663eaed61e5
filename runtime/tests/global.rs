//! Process-wide clears and the `:cellar` report. One test, because these clear every cache of
//! the process.

use cellar::{cache_data, cache_resource};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

static DATA_RUNS: AtomicUsize = AtomicUsize::new(0);
static RESOURCE_RUNS: AtomicUsize = AtomicUsize::new(0);
static RELEASES: AtomicUsize = AtomicUsize::new(0);

#[cache_data]
fn data(x: u32) -> u32 {
    DATA_RUNS.fetch_add(1, SeqCst);
    x
}

#[cache_resource(on_release = |_: &u32| { RELEASES.fetch_add(1, SeqCst); })]
fn resource(x: u32) -> u32 {
    RESOURCE_RUNS.fetch_add(1, SeqCst);
    x
}

fn touch() {
    data(1);
    data(2);
    resource(1);
}

fn runs() -> (usize, usize) {
    (DATA_RUNS.load(SeqCst), RESOURCE_RUNS.load(SeqCst))
}

#[test]
fn clears_by_kind_everything_and_shutdown() {
    touch();
    touch();
    assert_eq!(runs(), (2, 1));

    assert_eq!(cellar::cache_data::clear(), 2);
    touch();
    assert_eq!(
        runs(),
        (4, 1),
        "cache_data::clear recomputes every data cache, no resource"
    );

    assert_eq!(cellar::cache_resource::clear(), 1);
    assert_eq!(RELEASES.load(SeqCst), 1, "clearing runs on_release");
    touch();
    assert_eq!(runs(), (4, 2));

    assert_eq!(
        cellar::__private::clear_everything(cellar::__private::Reach::ThisMachine),
        3
    );
    touch();
    assert_eq!(runs(), (6, 3));
    assert_eq!(RELEASES.load(SeqCst), 2);

    let stats = cellar::__private::stats();
    let names: Vec<_> = stats.iter().map(|s| s.name).collect();
    assert_eq!(names, ["data", "resource"]);
    assert_eq!(
        (stats[0].hits, stats[0].misses),
        (4, 6),
        "counters survive clears"
    );
    assert_eq!(stats[1].bytes, None, "resources report no bytes");

    cellar::__private::release_all();
    assert_eq!(RELEASES.load(SeqCst), 3, "shutdown releases every entry");
    assert!(
        cellar::__private::stats().is_empty(),
        "and forgets the caches"
    );
}
