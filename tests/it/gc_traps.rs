//! Issue 19, part 2: the garbage collector must never hit an indirect-call type mismatch.
//! The reported trap (SQLAlchemy, at interpreter shutdown and on a collection) as two
//! apps built with the real, hash-pinned SQLAlchemy wheel: a script that imports
//! `sqlalchemy.util` and exits under `wasmtime run`, and a handler that makes cyclic
//! garbage through SQLAlchemy objects and collects it on every request, under `pyedge
//! serve` and a plain `wasmtime serve`.

use crate::common::run_component;
use crate::common::serve::{request, text};
use crate::web_apps::{build_web_app, Host};

#[test]
fn sqlalchemy_script_exits_cleanly_through_interpreter_shutdown() {
    let (wasm, report) = build_web_app("sqlalchemy-exit");
    assert_eq!(report["world"], "cli", "{report}");
    for _ in 0..3 {
        let run = run_component(&wasm, &[], &[]);
        assert_eq!(run.code, 0, "{run:?}");
        assert_eq!(run.stdout, "imported sqlalchemy.util\n");
        assert!(!run.stderr.contains("wasm trap"), "{run:?}");
    }
}

#[test]
fn sqlalchemy_cycles_are_collected_on_every_request() {
    let (wasm, _) = build_web_app("sqlalchemy-gc");
    for host in [Host::pyedge(&wasm), Host::wasmtime(&wasm)] {
        for _ in 0..5 {
            let reply = request("GET", &host.url("/"), &[], None);
            assert_eq!(reply.status, 200, "{}", host.stderr());
            let body = text(&reply);
            let (freed, sql) = body.split_once(' ').expect("count and SQL");
            assert!(freed.parse::<u32>().unwrap() >= 4000, "{body}");
            assert!(sql.starts_with("SELECT users.name"), "{body}");
        }
        assert!(!host.stderr().contains("trap"), "{}", host.stderr());
    }
}
