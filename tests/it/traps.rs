//! A wasm trap is never silent (issue 19, part 3). The runtime's function names are kept
//! beside the component (`app.symbols`), not in it; `pyedge serve` answers 500 to a
//! request whose handler traps, logs the backtrace named from that file and stays up;
//! the backtrace a script's trap makes `wasmtime run` print is named by `pyedge
//! symbolize`. The trap is real: `os.abort()` is C `abort()`, the `unreachable`
//! instruction.

use crate::common::cli::pyedge;
use crate::common::serve::{request, text, Server};
use crate::common::{built, describe, scratch};
use std::path::{Path, PathBuf};
use std::process::Command;
use wasmparser::{Parser, Payload};

/// Bytes of the `name` custom sections in `wasm`, nested modules included.
fn name_section_bytes(wasm: &Path) -> usize {
    let bytes = std::fs::read(wasm).unwrap();
    Parser::new(0)
        .parse_all(&bytes)
        .filter_map(|payload| match payload.unwrap() {
            Payload::CustomSection(section) if section.name() == "name" => {
                Some(section.data().len())
            }
            _ => None,
        })
        .sum()
}

fn symbols_of(wasm: &Path) -> PathBuf {
    wasm.with_extension("symbols")
}

#[test]
fn a_trapping_handler_gets_a_500_a_named_backtrace_and_the_server_stays_up() {
    let wasm = built("trap", &[]);
    let symbols = symbols_of(&wasm);
    let text_of = std::fs::read_to_string(&symbols).expect("app.symbols beside app.wasm");
    assert!(text_of.starts_with("# pyedge symbols v1 component-sha256 "));
    assert!(
        text_of.lines().any(|l| l.ends_with(" os_abort")),
        "no os_abort line"
    );
    // The runtime's names are not in the artifact (only the small WASI adapter modules
    // that wit-component adds keep theirs: a few kB).
    let inside = name_section_bytes(&wasm);
    assert!(inside < 10_000, "{inside} bytes of names inside");
    assert!(
        text_of.len() > 100_000,
        "the symbols file has {} bytes",
        text_of.len()
    );

    let server = Server::start(&wasm);
    let reply = request("GET", &server.url("/abort"), &[], None);
    assert_eq!(reply.status, 500);
    // The same server answers the next request.
    let reply = request("GET", &server.url("/"), &[], None);
    assert_eq!((reply.status, text(&reply).as_str()), (200, "still here\n"));
    let log = server.stderr();
    assert!(log.contains("GET /abort: the handler trapped"), "{log}");
    for frame in [
        "!abort",
        "!os_abort",
        "!_PyEval_EvalFrameDefault",
        "!PyObject_Vectorcall",
    ] {
        assert!(log.contains(frame), "no {frame} in the log:\n{log}");
    }
    assert!(
        log.contains("wasm `unreachable` instruction executed"),
        "{log}"
    );
}

#[test]
fn without_the_symbols_file_the_backtrace_is_numbered_and_serve_still_answers() {
    let dir = scratch("traps-no-symbols");
    let wasm = dir.join("app.wasm");
    std::fs::copy(built("trap", &[]), &wasm).unwrap();
    let server = Server::start(&wasm);
    assert_eq!(request("GET", &server.url("/abort"), &[], None).status, 500);
    assert_eq!(request("GET", &server.url("/"), &[], None).status, 200);
    let log = server.stderr();
    assert!(log.contains("the handler trapped"), "{log}");
    assert!(log.contains("<wasm function "), "{log}");

    // A symbols file that is not one is a note at start, not a failure.
    drop(server);
    std::fs::write(symbols_of(&wasm), "not symbols\n").unwrap();
    let server = Server::start(&wasm);
    assert_eq!(request("GET", &server.url("/"), &[], None).status, 200);
    assert!(
        server.stderr().contains("is not a pyedge symbols file"),
        "{}",
        server.stderr()
    );
}

#[test]
fn pyedge_symbolize_names_what_wasmtime_run_printed() {
    let wasmtime = std::env::var_os("PYEDGE_WASMTIME_CLI")
        .map(PathBuf::from)
        .expect(
            "PYEDGE_WASMTIME_CLI is not set: run scripts/test.sh (or: source scripts/tools.sh \
         && export PYEDGE_WASMTIME_CLI=\"$(ensure_wasmtime_cli)\")",
        );
    let wasm = built("trap-script", &[]);
    let output = Command::new(&wasmtime)
        .arg("run")
        .arg(&wasm)
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    assert!(!output.status.success(), "{}", describe(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("about to abort"), "{}", describe(&output));
    let trace = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(trace.contains("<wasm function "), "{trace}");
    let dir = scratch("traps-symbolize");
    let saved = dir.join("trace.txt");
    std::fs::write(&saved, &trace).unwrap();

    // From a file, and from standard input.
    let named = pyedge()
        .args(["symbolize", wasm.to_str().unwrap(), saved.to_str().unwrap()])
        .assert()
        .success();
    let named = named.stdout();
    for frame in [
        "<unknown>!abort\n",
        "<unknown>!os_abort\n",
        "!pyedge_start\n",
    ] {
        assert!(named.contains(frame), "no {frame:?} in:\n{named}");
    }
    // Every line is kept: only the names change.
    assert_eq!(named.lines().count(), trace.lines().count());
    let piped = Command::new(env!("CARGO_BIN_EXE_pyedge"))
        .args(["symbolize", symbols_of(&wasm).to_str().unwrap()])
        .stdin(std::fs::File::open(&saved).unwrap())
        .output()
        .unwrap();
    assert!(piped.status.success(), "{}", describe(&piped));
    assert_eq!(String::from_utf8_lossy(&piped.stdout), named);

    // No symbols file: exit 2, saying where it should be.
    let lone = dir.join("lone.wasm");
    std::fs::copy(&wasm, &lone).unwrap();
    pyedge()
        .args(["symbolize", lone.to_str().unwrap(), saved.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr_has("lone.symbols");
}

#[test]
fn keep_names_puts_the_names_inside_and_writes_no_side_file() {
    let wasm = built("trap-script", &["--keep-names"]);
    assert!(!symbols_of(&wasm).exists());
    assert!(name_section_bytes(&wasm) > 100_000);
}
