//! Deep recursion raises, it never traps (issue 19). Hosts run components with Wasmtime's
//! default 512 KiB wasm stack; the runtime's C recursion limits
//! (runtime-assets/patches/cpython/0001-wasi-stack-limits.patch) are sized for it, so
//! every recursion CPython bounds ends in RecursionError (or the parser's MemoryError)
//! well before the stack runs out, and depths that real code reaches still work.

use crate::common::serve::{request, text, Server};
use crate::common::{built, run_component};

#[test]
fn every_bounded_c_recursion_raises_instead_of_trapping() {
    let wasm = built("deep-recursion", &[]);
    // run_component's engine keeps Wasmtime's default stack, as wasmtime run/serve do.
    let run = run_component(&wasm, &[], &[]);
    assert_eq!(
        run.code, 0,
        "stdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 34, "{}", run.stdout);
    for pair in lines.chunks(2) {
        let (shallow, deep) = (pair[0], pair[1]);
        assert!(
            shallow.ends_with(": ok"),
            "a depth real code reaches failed: {shallow}"
        );
        let kind = deep.split(" 100000: ").next().unwrap();
        let expected = match kind {
            // The parser's own limit: "too complex to parse".
            "ast.literal_eval" | "compile parens" | "compile" | "ast.parse" => {
                deep.ends_with(": MemoryError") || deep.ends_with(": RecursionError")
            }
            // marshal's own depth limit.
            "marshal.dumps" => deep.ends_with(": ValueError: object too deeply nested to marshal"),
            // The trashcan frees any depth without recursing.
            "dealloc" => deep.ends_with(": ok"),
            _ => deep.ends_with(": RecursionError"),
        };
        assert!(expected, "{deep}");
    }
}

#[test]
fn a_request_body_nested_too_deep_is_a_500_and_the_server_stays_up() {
    let wasm = built("deep-json", &[]);
    let server = Server::start(&wasm);
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let reply = request("POST", &server.url("/"), &[], Some(deep.as_bytes()));
    assert_eq!(reply.status, 500, "{}", text(&reply));
    let nested = format!("{}{}", "[".repeat(400), "]".repeat(400));
    let reply = request("POST", &server.url("/"), &[], Some(nested.as_bytes()));
    assert_eq!((reply.status, text(&reply).as_str()), (200, "depth 400\n"));
    let log = server.stderr();
    assert!(log.contains("RecursionError"), "{log}");
    assert!(!log.contains("trapped"), "{log}");
}
