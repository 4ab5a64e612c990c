//! Which standard-library modules an app can reach: a scan of `import` statements.
//!
//! Hand-written on purpose: no maintained crate parses Python 3.13 on crates.io, and an
//! over-approximating line scan is what this needs — every `import x` / `from x import y`
//! anywhere in a file (also inside functions, so lazy imports are kept), plus
//! `import_module("x")` / `__import__("x")` with a literal name. A false positive only
//! keeps a module; code that builds module names at run time must list them in
//! `[tool.pyedge] stdlib-include`. For the standard library's own files the scan also
//! tells eager imports from lazy ones (see [`scan_imports_split`]), so the walk can leave
//! a debugger that some stdlib function imports on demand out of a web handler.

use regex::Regex;
use std::collections::BTreeSet;
use std::sync::LazyLock;

/// Module names `source` may import. `package` is the module's package (for relative
/// imports); `""` at the top level.
pub fn scan_imports(source: &str, package: &str) -> BTreeSet<String> {
    let ScannedImports {
        mut eager,
        lazy,
        main_block,
    } = scan_imports_split(source, package);
    eager.extend(lazy);
    eager.extend(main_block);
    eager
}

/// A module's imports, split by when they run.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ScannedImports {
    /// Run when the module is imported: top level, also inside `if`/`try`/`class`.
    pub eager: BTreeSet<String>,
    /// Run only when a function is called: inside a `def` body.
    pub lazy: BTreeSet<String>,
    /// Run only when the file runs as a script: inside `if __name__ == "__main__":`.
    pub main_block: BTreeSet<String>,
}

/// [`scan_imports`], split by when the imports run: on import, in a function, or only
/// when the file runs as a script (`if __name__ == "__main__":`).
///
/// Blocks are told apart by indentation alone. A line that only looks less indented (a
/// multi-line string in a function) ends the function early, which makes later imports
/// eager: the mistake keeps modules, it never drops one.
pub fn scan_imports_split(source: &str, package: &str) -> ScannedImports {
    let mut found = ScannedImports::default();
    let mut def_indent: Option<usize> = None;
    let mut main_indent: Option<usize> = None;
    for line in logical_lines(source) {
        let text = line.trim_start();
        if text.trim_end().is_empty() {
            continue;
        }
        let indent = line.len() - text.len();
        if def_indent.is_some_and(|d| indent <= d) {
            def_indent = None;
        }
        if main_indent.is_some_and(|m| indent <= m) {
            main_indent = None;
        }
        if main_indent.is_none() && is_main_guard(text) {
            main_indent = Some(indent);
            continue;
        }
        // A module's command-line entry point or self-test, at the top level: what it
        // imports runs only when the file runs as a script, like a `__main__` block.
        if main_indent.is_none() && indent == 0 && is_script_function(text) {
            main_indent = Some(indent);
            scan_line(text, package, &mut found.main_block);
            continue;
        }
        let set = if main_indent.is_some() {
            &mut found.main_block
        } else if def_indent.is_some() {
            &mut found.lazy
        } else {
            &mut found.eager
        };
        scan_line(text, package, set);
        if def_indent.is_none() && (text.starts_with("def ") || text.starts_with("async def ")) {
            def_indent = Some(indent);
        }
    }
    found
}

/// `def main(`, `def _main(`, `def _parse_args(` or `def _test...(`: the names the
/// standard library gives a module's command-line entry point (`python -m tarfile`), its
/// argument parsing and its self-tests.
fn is_script_function(text: &str) -> bool {
    let Some(rest) = text.strip_prefix("def ") else {
        return false;
    };
    let name = rest.split('(').next().unwrap_or("").trim();
    matches!(name, "main" | "_main" | "_parse_args") || name.starts_with("_test")
}

/// `if __name__ == "__main__":` (either quote, either operand order).
fn is_main_guard(text: &str) -> bool {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let compact = compact.replace('\'', "\"");
    compact == "if__name__==\"__main__\":" || compact == "if\"__main__\"==__name__:"
}

/// The imports one logical line names, added to `found`.
fn scan_line(line: &str, package: &str, found: &mut BTreeSet<String>) {
    if let Some(rest) = line.strip_prefix("import ") {
        for item in rest.split(',') {
            let name = item.split_whitespace().next().unwrap_or("");
            add_dotted(found, name);
        }
    } else if let Some(rest) = line.strip_prefix("from ") {
        let mut parts = rest.splitn(2, " import ");
        let base = parts.next().unwrap_or("").trim();
        if let Some(module) = resolve_relative(base, package) {
            add_dotted(found, &module);
            let names = parts.next().unwrap_or("");
            for item in names
                .trim_matches(|c| c == '(' || c == ')' || c == ' ')
                .split(',')
            {
                let name = item.split_whitespace().next().unwrap_or("");
                if is_identifier(name) {
                    let sub = if module.is_empty() {
                        name.to_string()
                    } else {
                        format!("{module}.{name}")
                    };
                    found.insert(sub);
                }
            }
        }
    }
    for marker in ["import_module(", "__import__("] {
        for (at, _) in line.match_indices(marker) {
            if let Some(name) = string_literal(&line[at + marker.len()..]) {
                add_dotted(found, &name);
            }
        }
    }
}

/// Join `\` continuations and parenthesized import lists into single lines.
fn logical_lines(source: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut open_parens = 0i32;
    for raw in source.lines() {
        let line = raw.split('#').next().unwrap_or("");
        let continues = line.trim_end().ends_with('\\');
        current.push_str(line.trim_end().trim_end_matches('\\'));
        current.push(' ');
        let starts_import = current.trim_start().starts_with("from ")
            || current.trim_start().starts_with("import ");
        if starts_import {
            open_parens += line.matches('(').count() as i32 - line.matches(')').count() as i32;
        }
        if !continues && (open_parens <= 0 || !starts_import) {
            out.push(std::mem::take(&mut current));
            open_parens = 0;
        }
    }
    out.push(current);
    out
}

fn resolve_relative(base: &str, package: &str) -> Option<String> {
    let dots = base.chars().take_while(|c| *c == '.').count();
    let rest = &base[dots..];
    if dots == 0 {
        return is_dotted(rest).then(|| rest.to_string());
    }
    let mut parts: Vec<&str> = package.split('.').filter(|p| !p.is_empty()).collect();
    for _ in 1..dots {
        parts.pop()?;
    }
    if !rest.is_empty() {
        parts.push(rest);
    }
    Some(parts.join("."))
}

/// Codec names `source` passes as a literal to the calls that look a codec up:
/// `b.decode("shift_jis")`, `s.encode("idna")`, `codecs.lookup("cp437")`,
/// `open(path, encoding="latin-1")`, also behind a fallback (`x or "cp437"`).
///
/// Codec modules are found by a computed name (`encodings.search_function`), so the
/// import scan cannot see them. The names come back as written; the bundle maps them to
/// `encodings.*` modules through the stdlib's own alias table. Like the import scan this
/// over-approximates: a literal that is not a codec keeps nothing.
pub fn scan_codec_names(source: &str) -> BTreeSet<String> {
    static CODEC_CALL: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r#"(?x)
            (?: \b(?: encode | decode | lookup | getencoder | getdecoder | getreader
                     | getwriter | getincrementalencoder | getincrementaldecoder
                     | iterencode | iterdecode ) \s* \( \s*
              | \bencoding \s* = \s* )
            (?: [\w.\[\]]+ \s+ or \s+ )?
            [rRuU]? ["']([A-Za-z0-9][A-Za-z0-9_.\- ]{0,40})["']"#,
        )
        .expect("codec call pattern")
    });
    CODEC_CALL
        .captures_iter(source)
        .map(|found| found[1].to_string())
        .collect()
}

fn add_dotted(found: &mut BTreeSet<String>, name: &str) {
    if !is_dotted(name) {
        return;
    }
    let mut prefix = String::new();
    for part in name.split('.') {
        if !prefix.is_empty() {
            prefix.push('.');
        }
        prefix.push_str(part);
        found.insert(prefix.clone());
    }
}

fn string_literal(text: &str) -> Option<String> {
    let text = text.trim_start();
    let quote = text.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let end = text[1..].find(quote)?;
    let name = &text[1..1 + end];
    is_dotted(name).then(|| name.to_string())
}

fn is_identifier(name: &str) -> bool {
    name.chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_alphanumeric() || c == '_')
}

fn is_dotted(name: &str) -> bool {
    !name.is_empty() && name.split('.').all(is_identifier)
}

#[cfg(test)]
mod tests {
    use super::{scan_codec_names, scan_imports, scan_imports_split};

    fn names(source: &str, package: &str) -> Vec<String> {
        scan_imports(source, package).into_iter().collect()
    }

    #[test]
    fn finds_plain_from_lazy_relative_and_literal_imports() {
        let source = "import os, json.decoder as d\nfrom email.mime import text, (base)\n\ndef f():\n    import decimal  # lazy\n    from . import sibling\n    m = importlib.import_module(\"zoneinfo\")\n";
        assert_eq!(
            names(source, "pkg.sub"),
            [
                "decimal",
                "email",
                "email.mime",
                "email.mime.text",
                "json",
                "json.decoder",
                "os",
                "pkg",
                "pkg.sub",
                "pkg.sub.sibling",
                "zoneinfo"
            ]
        );
    }

    #[test]
    fn joins_parenthesized_and_continued_lines() {
        let source =
            "from collections import (\n    OrderedDict,\n    abc,\n)\nimport a, \\\n    b\n";
        assert_eq!(
            names(source, ""),
            [
                "a",
                "b",
                "collections",
                "collections.OrderedDict",
                "collections.abc"
            ]
        );
    }

    #[test]
    fn parent_relative_imports_climb_packages() {
        assert_eq!(
            names("from ..util import x\n", "a.b.c"),
            ["a", "a.b", "a.b.util", "a.b.util.x"]
        );
    }

    #[test]
    fn splits_eager_from_lazy_and_skips_the_main_guard() {
        let source = "import os\ntry:\n    import _decimal\nexcept ImportError:\n    import _pydecimal\n\nclass A:\n    import json\n\n    def method(self):\n        import pdb\n        x = 1\n\n    import csv\n\nasync def f():\n    from email import message\n\nimport re\n\nif __name__ == '__main__':\n    import doctest\n\nimport zlib\n";
        let found = scan_imports_split(source, "");
        let eager: Vec<&str> = found.eager.iter().map(String::as_str).collect();
        let lazy: Vec<&str> = found.lazy.iter().map(String::as_str).collect();
        assert_eq!(
            eager,
            ["_decimal", "_pydecimal", "csv", "json", "os", "re", "zlib"]
        );
        assert_eq!(lazy, ["email", "email.message", "pdb"]);
        assert_eq!(
            found.main_block.into_iter().collect::<Vec<_>>(),
            ["doctest"]
        );
        // An app's own file may run as a script: the combined scan keeps every part.
        assert!(scan_imports(source, "").contains("doctest"));
        assert!(scan_imports(source, "").contains("pdb"));
    }

    #[test]
    fn entry_points_and_self_tests_count_as_script_code() {
        let source = "import os\n\ndef main():\n    import argparse\n\ndef _test_generator(n):\n    from statistics import stdev\n\ndef mainly():\n    import json\n\nclass A:\n    def main(self):\n        import csv\n";
        let found = scan_imports_split(source, "");
        assert_eq!(found.eager.into_iter().collect::<Vec<_>>(), ["os"]);
        assert_eq!(found.lazy.into_iter().collect::<Vec<_>>(), ["csv", "json"]);
        assert_eq!(
            found.main_block.into_iter().collect::<Vec<_>>(),
            ["argparse", "statistics", "statistics.stdev"]
        );
    }

    #[test]
    fn main_guard_spellings() {
        for guard in [
            "if __name__ == \"__main__\":",
            "if __name__=='__main__':",
            "if '__main__' == __name__:",
        ] {
            let source = format!("{guard}\n    import doctest\nimport json\n");
            let found = scan_imports_split(&source, "");
            assert_eq!(
                found.eager.into_iter().collect::<Vec<_>>(),
                ["json"],
                "{guard}"
            );
            assert!(found.lazy.is_empty(), "{guard}");
            assert_eq!(
                found.main_block.into_iter().collect::<Vec<_>>(),
                ["doctest"],
                "{guard}"
            );
        }
    }

    #[test]
    fn finds_codec_names_passed_to_lookups() {
        let source = "a = b.decode('shift_jis')\nname = fname.decode(self.metadata_encoding or \"cp437\")\nhost.encode(\"idna\").decode(\"ascii\")\ncodecs.lookup('ISO-8859-15')\nopen(p, 'r', encoding = \"latin-1\")\nx.decode(errors='replace')\nprint('koi8_r')\n";
        assert_eq!(
            scan_codec_names(source).into_iter().collect::<Vec<_>>(),
            [
                "ISO-8859-15",
                "ascii",
                "cp437",
                "idna",
                "latin-1",
                "shift_jis"
            ]
        );
    }
}
