use super::*;
use object_store::memory::InMemory;
use std::io::{BufRead, BufReader, Read, Write};

fn in_memory() -> RemoteTier {
    RemoteTier::over(
        "s3://bucket/team",
        Arc::new(InMemory::new()),
        Limits::STANDARD,
    )
}

#[tokio::test]
async fn entries_are_stored_read_and_removed_by_name_and_folder() {
    let tier = in_memory();
    assert_eq!(tier.get("f-1/a.entry").await, Ok(None));
    tier.put("f-1/a.entry", "first".into()).await.unwrap();
    tier.put("f-1/b.entry", "second".into()).await.unwrap();
    tier.put("g-2/c.entry", "third".into()).await.unwrap();
    assert_eq!(
        tier.get("f-1/a.entry").await.unwrap().as_deref(),
        Some(&b"first"[..])
    );
    tier.delete(&["f-1/a.entry".into()]).await.unwrap();
    assert_eq!(tier.get("f-1/a.entry").await, Ok(None));
    assert_eq!(tier.delete_folders(&["f-1".into()]).await, Ok(1));
    assert_eq!(tier.get("f-1/b.entry").await, Ok(None));
    assert!(
        tier.get("g-2/c.entry").await.unwrap().is_some(),
        "other folders stay"
    );
    let summary = tier.summary();
    assert!(
        summary.starts_with("remote tier: s3://bucket/team (working)"),
        "{summary}"
    );
    assert!(
        summary.contains("read 2 entries (10 B), wrote 3 entries (16 B)"),
        "{summary}"
    );
}

/// An S3 client for a server at `endpoint`, without retries.
fn s3_at(endpoint: &str) -> Arc<dyn ObjectStore> {
    install_tls_provider();
    let s3 = AmazonS3Builder::new()
        .with_endpoint(endpoint)
        .with_allow_http(true)
        .with_bucket_name("bucket")
        .with_region("us-east-1")
        .with_access_key_id("key")
        .with_secret_access_key("secret")
        .with_retry(RetryConfig {
            max_retries: 0,
            retry_timeout: Limits::STANDARD.retries,
            backoff: Default::default(),
        })
        .build()
        .unwrap();
    Arc::new(s3)
}

#[tokio::test]
async fn an_unreachable_remote_fails_once_then_rests() {
    let tier = RemoteTier::over("s3://bucket", s3_at("http://127.0.0.1:9"), Limits::STANDARD);
    let why = tier.get("f-1/a.entry").await.unwrap_err();
    assert!(why.starts_with("reading an entry failed"), "{why}");
    let started = std::time::Instant::now();
    let again = tier.put("f-1/a.entry", "x".into()).await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_millis(50),
        "resting: no network"
    );
    assert!(again.contains("tried again after"), "{again}");
    assert!(
        tier.summary().contains("(failing: reading an entry"),
        "{}",
        tier.summary()
    );
}

/// A server that takes the connection and never answers: the wait ends at the answer limit.
#[tokio::test]
async fn a_silent_remote_is_bounded_in_time() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let held: Vec<_> = listener.incoming().take(4).collect();
        std::thread::sleep(Duration::from_secs(30));
        drop(held);
    });
    let limits = Limits {
        answer: Duration::from_millis(500),
        ..Limits::STANDARD
    };
    let tier = RemoteTier::over("s3://bucket", s3_at(&endpoint), limits);
    let started = std::time::Instant::now();
    let why = tier.put("f-1/a.entry", "x".into()).await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(why, "storing an entry took longer than 0.5 s");
}

#[test]
fn urls_that_are_not_s3_say_so() {
    let why = open("https://example.invalid/bucket", Limits::STANDARD)
        .err()
        .unwrap();
    assert!(why.contains("is not an s3://BUCKET/PREFIX URL"), "{why}");
    let why = open("not a url", Limits::STANDARD).err().unwrap();
    assert!(why.contains("is not a URL"), "{why}");
    assert!(object_path("f-1/../x").is_err());
}

/// The runtime's side of the socket, spoken by hand: a put with its bytes, a get that returns
/// them, a miss, and a request the kernel cannot read.
#[test]
fn the_socket_speaks_the_protocol() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("remote.sock");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let tier = Arc::new(in_memory());
    runtime
        .block_on(async { serve::serve(tier.clone(), &socket) })
        .unwrap();

    let ask = |line: &str, payload: &[u8]| -> (String, Vec<u8>) {
        let mut stream = std::os::unix::net::UnixStream::connect(&socket).unwrap();
        stream.write_all(line.as_bytes()).unwrap();
        stream.write_all(b"\n").unwrap();
        stream.write_all(payload).unwrap();
        let mut reader = BufReader::new(stream);
        let mut reply = String::new();
        reader.read_line(&mut reply).unwrap();
        let mut rest = Vec::new();
        reader.read_to_end(&mut rest).unwrap();
        (reply.trim_end().to_string(), rest)
    };
    let put = ask(
        r#"{"request":"put","name":"f-1/a.entry","len":5}"#,
        b"bytes",
    );
    assert_eq!(put.0, r#"{"reply":"done"}"#);
    let get = ask(r#"{"request":"get","name":"f-1/a.entry"}"#, b"");
    assert_eq!(
        get,
        (
            r#"{"reply":"found","len":5}"#.to_string(),
            b"bytes".to_vec()
        )
    );
    let miss = ask(r#"{"request":"get","name":"f-1/b.entry"}"#, b"");
    assert_eq!(miss.0, r#"{"reply":"missing"}"#);
    let bad = ask("hello", b"");
    assert!(
        bad.0
            .starts_with(r#"{"reply":"failed","why":"the kernel cannot read"#),
        "{}",
        bad.0
    );
}
