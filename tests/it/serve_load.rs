//! A bounded loopback load test of `pyedge serve`: concurrent clients mixing good
//! requests, handlers that raise and oversized bodies. Every request must get the status
//! its kind calls for, and the server's memory must stay steady. The counts are written
//! to target/load-report.txt (scripts/test.sh prints them).

use crate::common::built;
use crate::common::serve::{request, Server};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const CLIENTS: usize = 16;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Good,
    Echo,
    Raises,
    Oversized,
}

impl Kind {
    fn pick(n: usize) -> Kind {
        match n % 10 {
            0 => Kind::Raises,
            1 => Kind::Oversized,
            2 | 3 => Kind::Echo,
            _ => Kind::Good,
        }
    }
    fn expected(self) -> u16 {
        match self {
            Kind::Good | Kind::Echo => 200,
            Kind::Raises => 500,
            Kind::Oversized => 413,
        }
    }
}

#[test]
fn server_survives_mixed_load_with_every_request_answered_as_expected() {
    let seconds: u64 = std::env::var("PYEDGE_LOAD_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(8);
    let server = Server::start_with_args(
        &built("http-errors", &[]),
        &["--max-body-size", "64KB", "--max-concurrency", "64"],
    );
    let base = server.base.clone();
    // Warm up, then take the memory baseline.
    for _ in 0..20 {
        assert_eq!(
            request("GET", &format!("{base}/hits"), &[], None).status,
            200
        );
    }
    let baseline_kb = server.rss_kb();
    let counts: Arc<Mutex<BTreeMap<(Kind, u16), u64>>> = Default::default();
    let failures: Arc<Mutex<Vec<String>>> = Default::default();
    let stop = Arc::new(AtomicBool::new(false));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut mid_kb = 0;
    std::thread::scope(|scope| {
        for client in 0..CLIENTS {
            let (base, counts, failures, stop) =
                (base.clone(), counts.clone(), failures.clone(), stop.clone());
            scope.spawn(move || {
                let big = vec![b'x'; 100_000];
                let small: Vec<u8> = (0..1024u32).map(|i| (i * 31 % 256) as u8).collect();
                let mut n = client;
                while !stop.load(Ordering::Relaxed) {
                    let kind = Kind::pick(n);
                    n += 1;
                    let reply = match kind {
                        Kind::Good => request("GET", &format!("{base}/hits"), &[], None),
                        Kind::Echo => request("POST", &format!("{base}/echo"), &[], Some(&small)),
                        Kind::Raises => request("GET", &format!("{base}/raise"), &[], None),
                        Kind::Oversized => {
                            request("POST", &format!("{base}/echo"), &[], Some(&big))
                        }
                    };
                    *counts
                        .lock()
                        .unwrap()
                        .entry((kind, reply.status))
                        .or_default() += 1;
                    let body_ok = match kind {
                        Kind::Good => reply.body == b"1",
                        Kind::Echo => reply.body == small,
                        _ => true,
                    };
                    if reply.status != kind.expected() || !body_ok {
                        failures.lock().unwrap().push(format!(
                            "{kind:?}: status {} body {} bytes",
                            reply.status,
                            reply.body.len()
                        ));
                    }
                }
            });
        }
        std::thread::sleep(Duration::from_secs(seconds / 2));
        mid_kb = server.rss_kb();
        std::thread::sleep(deadline.saturating_duration_since(Instant::now()));
        stop.store(true, Ordering::Relaxed);
    });
    let end_kb = server.rss_kb();
    let counts = counts.lock().unwrap();
    let total: u64 = counts.values().sum();
    let mut report = format!(
        "pyedge serve load: {CLIENTS} clients for {seconds}s, {total} requests ({:.0}/s)\n",
        total as f64 / seconds as f64
    );
    for ((kind, status), n) in counts.iter() {
        report.push_str(&format!("  {kind:?} -> {status}: {n}\n"));
    }
    report.push_str(&format!(
        "  server RSS: {baseline_kb} kB before, {mid_kb} kB midway, {end_kb} kB at the end\n"
    ));
    let failures = failures.lock().unwrap();
    report.push_str(&format!("  unexpected answers: {}\n", failures.len()));
    let _ = std::fs::write(
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("../load-report.txt"),
        &report,
    );
    eprintln!("{report}");
    assert!(
        failures.is_empty(),
        "{report}\nfirst failures: {:?}",
        &failures[..failures.len().min(5)]
    );
    assert!(total >= 20, "too few requests to mean anything: {report}");
    for kind in [Kind::Good, Kind::Echo, Kind::Raises, Kind::Oversized] {
        assert!(
            counts.keys().any(|(k, _)| *k == kind),
            "no {kind:?} request was sent: {report}"
        );
    }
    // Steady memory: the second half of the run must not keep growing.
    assert!(
        end_kb <= mid_kb + mid_kb / 2 + 32 * 1024,
        "server memory grew: {report}"
    );
}
