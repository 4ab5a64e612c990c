//! Which standard-library modules an app can reach: a scan of `import` statements.
//!
//! Hand-written on purpose: no maintained crate parses Python 3.13 on crates.io, and an
//! over-approximating line scan is what this needs — every `import x` / `from x import y`
//! anywhere in a file (also inside functions, so lazy imports are kept), plus
//! `import_module("x")` / `__import__("x")` with a literal name. A false positive only
//! keeps a module; code that builds module names at run time must list them in
//! `[tool.pyedge] stdlib-include`.

use std::collections::BTreeSet;

/// Module names `source` may import. `package` is the module's package (for relative
/// imports); `""` at the top level.
pub fn scan_imports(source: &str, package: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for line in logical_lines(source) {
        let line = line.trim_start();
        if let Some(rest) = line.strip_prefix("import ") {
            for item in rest.split(',') {
                let name = item.split_whitespace().next().unwrap_or("");
                add_dotted(&mut found, name);
            }
        } else if let Some(rest) = line.strip_prefix("from ") {
            let mut parts = rest.splitn(2, " import ");
            let base = parts.next().unwrap_or("").trim();
            let Some(module) = resolve_relative(base, package) else {
                continue;
            };
            add_dotted(&mut found, &module);
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
        for marker in ["import_module(", "__import__("] {
            for (at, _) in line.match_indices(marker) {
                if let Some(name) = string_literal(&line[at + marker.len()..]) {
                    add_dotted(&mut found, &name);
                }
            }
        }
    }
    found
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
    use super::scan_imports;

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
}
