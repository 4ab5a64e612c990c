//! Files with no host file system (issue 19): the bundle is a read-only file system inside
//! the component (`open()`, `os.stat`, `os.listdir`, `importlib.resources` on bundled
//! paths), each instance has an in-memory writable `/tmp`, and namespace packages work.
//! The real wheels of requests, jsonschema, emoji and protobuf (hash-pinned in
//! scripts/test-wheels.txt, served from a local index on 127.0.0.1) import at build time
//! and do real work at run time.

use crate::common::serve::{request, text, Server};
use crate::common::{
    built, describe, fixture, run_component, run_component_with_dir, scratch, RunOutput,
};
use crate::deps_support::TestIndex;
use std::path::PathBuf;
use std::sync::OnceLock;

/// Set by scripts/test.sh: the directory of the wheels in scripts/test-wheels.txt.
const TEST_WHEELS_ENV: &str = "PYEDGE_TEST_WHEELS";

/// The distributions fixtures/apps/package-data needs, directly or not.
const PACKAGE_DATA_WHEELS: &[&str] = &[
    "requests",
    "certifi",
    "charset_normalizer",
    "idna",
    "urllib3",
    "jsonschema",
    "attrs",
    "pyrsistent",
    "emoji",
    "protobuf",
];

/// A local index serving the real wheels fixtures/apps/package-data needs.
fn package_data_index() -> TestIndex {
    let Some(dir) = std::env::var_os(TEST_WHEELS_ENV) else {
        panic!(
            "{TEST_WHEELS_ENV} is not set: run scripts/test.sh, or: source scripts/tools.sh \
             && export {TEST_WHEELS_ENV}=\"$(ensure_test_wheels)\""
        )
    };
    let dir = PathBuf::from(dir);
    let index = TestIndex::start();
    for project in PACKAGE_DATA_WHEELS {
        let filename = std::fs::read_dir(&dir)
            .unwrap_or_else(|err| panic!("{TEST_WHEELS_ENV}={}: {err}", dir.display()))
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .find(|name| name.starts_with(&format!("{project}-")) && name.ends_with(".whl"))
            .unwrap_or_else(|| {
                panic!(
                    "no {project}-*.whl in {TEST_WHEELS_ENV}={}: run scripts/test.sh",
                    dir.display()
                )
            });
        let bytes = std::fs::read(dir.join(&filename)).expect("read a test wheel");
        index.add_file(project, &filename, bytes);
    }
    index
}

/// fixtures/apps/package-data built once per test process from the local index.
fn package_data_app() -> &'static PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let index = package_data_index();
        let root = scratch("files-package-data");
        let wasm = root.join("app.wasm");
        let output = crate::common::pyedge()
            .args(["build", fixture("package-data").to_str().unwrap()])
            .args(["-o", wasm.to_str().unwrap(), "--index-url", &index.url()])
            .env("PYEDGE_CACHE_DIR", root.join("cache"))
            .env_remove("XDG_CACHE_HOME")
            .output();
        assert!(output.status.success(), "{}", describe(&output));
        for project in ["requests", "jsonschema", "emoji", "protobuf"] {
            assert!(
                index
                    .requests()
                    .iter()
                    .any(|r| r == &format!("GET /simple/{project}/")),
                "{project} did not come from the test index: {:?}",
                index.requests()
            );
        }
        wasm
    })
}

/// The value after `key ` on the line starting with it.
fn line<'a>(out: &'a RunOutput, key: &str) -> &'a str {
    out.stdout
        .lines()
        .find_map(|l| l.strip_prefix(key).and_then(|rest| rest.strip_prefix(' ')))
        .unwrap_or_else(|| panic!("no {key:?} line in the output: {out:?}"))
}

#[test]
fn real_packages_read_their_own_files() {
    let out = run_component(package_data_app(), &[], &[]);
    assert_eq!(out.code, 0, "{out:?}");
    let certifi = "/lib/python3.13/site-packages/certifi/cacert.pem";
    // where() names the bundled file (no temporary copy), and it opens and reads whole.
    assert_eq!(line(&out, "certifi"), format!("{certifi} True True"));
    assert!(line(&out, "requests").ends_with(" True"), "{out:?}");
    assert_eq!(
        line(&out, "prepared"),
        r#"http://example.test/a?q=x+y application/json b'{"k": [1, 2]}'"#
    );
    assert_eq!(
        line(&out, "jsonschema"),
        "invalid: 'name' is a required property"
    );
    assert_eq!(
        line(&out, "errors"),
        "[\"'name' is a required property\", '-1 is less than the minimum of 0']"
    );
    assert_eq!(line(&out, "emoji"), "Python is \u{1F44D} :snake:");
    assert_eq!(line(&out, "protobuf"), "55 Ada ['py', 'c'] 1709208000");
    // `google` is one namespace package over the app's directory and protobuf's.
    assert_eq!(
        line(&out, "namespace"),
        "['/app/google', '/lib/python3.13/site-packages/google'] \
         hello from the app's google.pyedge_ext"
    );
    // Each distribution once (importlib.metadata reads them through the file system).
    assert_eq!(
        line(&out, "distributions"),
        "['attrs', 'certifi', 'charset-normalizer', 'emoji', 'idna', 'jsonschema', \
         'protobuf', 'pyrsistent', 'requests', 'urllib3']"
    );
    let names = line(&out, "ns-files");
    assert!(
        names.contains("'protobuf'") && names.contains("'pyedge_ext'"),
        "{out:?}"
    );
}

#[test]
fn bundled_files_are_served_with_no_host_file_system() {
    let wasm = built("files", &[]);
    let out = run_component(&wasm, &[], &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(line(&out, "file"), "/app/app.py");
    assert_eq!(line(&out, "build"), "Hello from a data file.");
    assert_eq!(line(&out, "run"), "Hello from a data file.");
    assert_eq!(line(&out, "primes"), "[2, 3, 5, 7, 11]");
    assert_eq!(line(&out, "listdir"), "['greeting.txt', 'nested']");
    assert_eq!(
        line(&out, "walk"),
        "['greeting.txt', 'nested/numbers.json']"
    );
    assert_eq!(line(&out, "size"), "24");
    assert_eq!(line(&out, "exists"), "True True True False");
    assert_eq!(
        line(&out, "stdlib"),
        "True /lib/python3.13/json/__init__.py"
    );
    assert_eq!(line(&out, "pkgutil"), "Dear {name},");
    assert_eq!(line(&out, "template"), "Dear {name}, PosixPath");
    assert_eq!(line(&out, "as_file"), "True");
    assert_eq!(line(&out, "namespace"), "['/app/plugins'] alpha");
    assert_eq!(line(&out, "resources"), "NAME = \"alpha\"");
    // The bundle is read-only (EROFS); a missing file is FileNotFoundError.
    assert_eq!(line(&out, "write"), "OSError EROFS");
    assert_eq!(line(&out, "missing"), "FileNotFoundError");
    assert_eq!(line(&out, "root"), "['app', 'lib', 'tmp']");
    assert_eq!(
        line(&out, "sys.path"),
        "vendored /app/vendor/vendored_mod.py"
    );
}

#[test]
fn a_host_preopen_is_still_seen_beside_the_bundle() {
    let wasm = built("files", &[]);
    let host = scratch("files-host-dir");
    std::fs::write(host.join("note.txt"), "from the host\n").unwrap();
    // Preopened as /data and as / (the virtual /app, /lib and /tmp still win there).
    for guest in ["/data", "/"] {
        let prefix = guest.trim_end_matches('/');
        let (note, written) = (
            format!("{prefix}/note.txt"),
            format!("{prefix}/host-out.txt"),
        );
        let out = run_component_with_dir(&wasm, &[&note, &written], &host, guest);
        assert_eq!(out.code, 0, "{out:?}");
        assert_eq!(line(&out, "argv-read"), "from the host", "{guest}: {out:?}");
        assert_eq!(line(&out, "non-utf8"), "OSError EILSEQ", "{guest}: {out:?}");
        assert_eq!(
            line(&out, "non-utf8-message"),
            "Illegal byte sequence (pyedge: the host's file system takes UTF-8 paths only; \
             this path is not UTF-8)",
            "{guest}: {out:?}"
        );
        assert_eq!(
            line(&out, "run"),
            "Hello from a data file.",
            "{guest}: {out:?}"
        );
    }
    // The writes through the preopens landed in the host directory.
    assert_eq!(
        std::fs::read_to_string(host.join("host-out.txt")).unwrap(),
        "written by the component"
    );
}

#[test]
fn tmp_is_writable_per_request_and_bounded() {
    let wasm = built("tmp-handler", &[]);
    let server = Server::start(&wasm);
    let url = server.url("/");
    let mut files = Vec::new();
    for body in ["first", "second"] {
        let reply = request("POST", &url, &[], Some(body.as_bytes()));
        let text = text(&reply);
        assert_eq!(reply.status, 200, "{text}\n{}", server.stderr());
        assert!(text.contains("tempdir=/tmp\n"), "{text}");
        // Nothing is left from the previous request (which left its file behind).
        assert!(text.contains("before=[]\n"), "{text}");
        assert!(
            text.contains(&format!("file=/tmp {}\n", body.len())),
            "{text}"
        );
        assert!(text.contains(&format!("echo={body}\n")), "{text}");
        assert!(text.contains("anon=anonymous\n"), "{text}");
        assert!(text.contains("after=True\n"), "{text}");
        assert!(text.contains("workdir_gone=True\n"), "{text}");
        files.push(text);
    }
    let reply = request("GET", &server.url("/big"), &[], None);
    assert_eq!(
        (reply.status, text(&reply).as_str()),
        (
            507,
            "ENOSPC No space left on device (pyedge: the in-memory /tmp holds at most 8 MiB \
             of file data per instance)"
        )
    );
    // The next request starts from an empty /tmp again.
    let reply = request("POST", &url, &[], Some(b"third"));
    assert_eq!(reply.status, 200);
    assert!(text(&reply).contains("before=[]\n"), "{}", text(&reply));
}

#[test]
fn snapshots_that_read_files_are_reproducible() {
    let root = scratch("files-reproducible");
    let mut outputs = Vec::new();
    for name in ["a", "b"] {
        let out = root.join(format!("{name}.wasm"));
        let output = crate::common::pyedge()
            .args(["build", fixture("files").to_str().unwrap()])
            .args(["-o", out.to_str().unwrap()])
            .env("PYEDGE_CACHE_DIR", root.join(format!("cache-{name}")))
            .env_remove("XDG_CACHE_HOME")
            .output();
        assert!(output.status.success(), "{}", describe(&output));
        outputs.push(std::fs::read(&out).unwrap());
    }
    assert!(
        outputs[0] == outputs[1],
        "two builds of the files app differ"
    );
}
