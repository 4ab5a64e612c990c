//! How a dependency report reads: a table for people, one JSON document for CI, and the
//! rejection message (package, version, chain, offending tag or file, hint).

use super::markers;
use super::resolve::{Outcome, Verdict};
use super::substitute::Substitute;
use super::DepsReport;
use serde_json::{json, Value};

/// The arrow between links of a requirement chain.
pub const CHAIN_ARROW: &str = " → ";

/// The verdict shown for a wheel pyedge built pure from the version's sdist.
pub const BUILT: &str = "built pure from sdist";

/// The note `build` and `check-deps` print for a wheel built from an sdist.
pub fn built_note(name: &str, version: &str, sdist: &str) -> String {
    format!(
        "{name} {version}: {BUILT} ({sdist}) in pyedge's WASI runtime: no pure wheel on the \
         index, and it runs without its optional compiled code"
    )
}

/// `app → pyjwt[crypto] → cryptography`.
pub fn chain_text(chain: &[String]) -> String {
    chain.join(CHAIN_ARROW)
}

/// The message for every rejected package, or `None` when all are pure.
pub fn rejection_message(report: &DepsReport) -> Option<String> {
    let rejected: Vec<&Outcome> = report.rejected().collect();
    if rejected.is_empty() {
        return None;
    }
    let blocks: Vec<String> = rejected.iter().map(|o| rejection_block(o)).collect();
    let count = match rejected.len() {
        1 => "1 dependency is".to_string(),
        n => format!("{n} dependencies are"),
    };
    Some(format!(
        "{count} not pure Python and cannot run on wasm32-wasi:\n\n{}",
        blocks.join("\n\n")
    ))
}

fn rejection_block(outcome: &Outcome) -> String {
    let Verdict::Rejected(rejection) = &outcome.verdict else {
        return String::new();
    };
    let (name, version) = (outcome.name.to_string(), outcome.version.to_string());
    let older = match &outcome.older {
        Some(older) => format!("\n  older:       {older}"),
        None => String::new(),
    };
    format!(
        "{name} {version}: {}\n  required by: {}\n  offending:   {}{older}\n  hint:        {}",
        rejection.reason(),
        chain_text(&outcome.chain),
        rejection.offending(),
        rejection.hint(&name, &version, &outcome.chain)
    )
}

/// The human table: one row per package with its verdict, then the notes.
pub fn render_table(report: &DepsReport) -> String {
    let mut rows = vec![[
        "PACKAGE".to_string(),
        "VERSION".to_string(),
        "VERDICT".to_string(),
        "WHEEL / OFFENDING".to_string(),
        "CHAIN".to_string(),
    ]];
    rows.extend(report.packages.iter().map(table_row));
    let widths: Vec<usize> = (0..4)
        .map(|col| {
            rows.iter()
                .map(|r| r[col].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = format!(
        "Dependencies of {} ({}{}) for {}\n\n",
        report.app,
        report.requirements_file,
        if report.locked { ", locked" } else { "" },
        markers::target_description()
    );
    for row in &rows {
        let mut line = String::new();
        for (col, width) in widths.iter().enumerate() {
            line.push_str(&format!("{:<width$}  ", row[col], width = *width));
        }
        line.push_str(&row[4]);
        out.push_str(line.trim_end());
        out.push('\n');
    }
    for note in &report.notes {
        out.push_str(&format!("\nnote: {note}"));
    }
    for (outcome, sdist) in built(report) {
        let note = built_note(outcome.name.as_ref(), &outcome.version.to_string(), sdist);
        out.push_str(&format!("\nnote: {note}"));
    }
    for (outcome, substitute) in substituted(report) {
        out.push_str(&format!(
            "\nnote: {} {} is substituted by the {} (required by {}); it covers {}.",
            outcome.name,
            outcome.version,
            substitute.by,
            required_by(outcome),
            substitute.covers
        ));
    }
    let rejected = report.rejected().count();
    let total = report.packages.len();
    let built = built(report).count();
    out.push_str(&match (rejected, substituted(report).count(), built) {
        (0, 0, 0) => format!("\n{total} packages, all pure Python.\n"),
        (0, n, 0) => format!(
            "\n{total} packages: {} pure Python, {n} substituted.\n",
            total - n
        ),
        (0, 0, b) => format!(
            "\n{total} packages: {} pure Python, {b} {BUILT}.\n",
            total - b
        ),
        (0, n, b) => format!(
            "\n{total} packages: {} pure Python, {b} {BUILT}, {n} substituted.\n",
            total - n - b
        ),
        (n, _, _) => format!("\n{n} of {total} packages rejected.\n"),
    });
    out
}

fn table_row(outcome: &Outcome) -> [String; 5] {
    let (verdict, detail) = match &outcome.verdict {
        Verdict::Pure { file, .. } => ("pure".to_string(), file.filename.clone()),
        Verdict::Rejected(rejection) => ("REJECTED".to_string(), rejection.offending()),
        Verdict::Substituted(substitute) => ("substituted".to_string(), substitute.by.to_string()),
        Verdict::Built { built, .. } => (BUILT.to_string(), built.filename.clone()),
    };
    [
        outcome.name.to_string(),
        outcome.version.to_string(),
        verdict,
        detail,
        chain_text(&outcome.chain),
    ]
}

/// The packages pyedge stands in for, with their substitutes.
fn built(report: &DepsReport) -> impl Iterator<Item = (&Outcome, &str)> {
    report.packages.iter().filter_map(|o| match &o.verdict {
        Verdict::Built { sdist, .. } => Some((o, sdist.filename.as_str())),
        _ => None,
    })
}

fn substituted(report: &DepsReport) -> impl Iterator<Item = (&Outcome, Substitute)> {
    report.packages.iter().filter_map(|o| match o.verdict {
        Verdict::Substituted(substitute) => Some((o, substitute)),
        _ => None,
    })
}

/// Who pulled a package in: the link before it in its chain (`pyjwt[crypto]`, or the app).
fn required_by(outcome: &Outcome) -> &str {
    let chain = &outcome.chain;
    chain
        .len()
        .checked_sub(2)
        .and_then(|i| chain.get(i))
        .map_or("the app", String::as_str)
}

/// The `--json` document.
pub fn report_json(report: &DepsReport) -> Value {
    let rejected: Vec<String> = report.rejected().map(|o| o.name.to_string()).collect();
    let substitutes: Vec<Value> = substituted(report)
        .map(|(o, s)| {
            json!({
                "name": o.name.to_string(),
                "requested_version": o.version.to_string(),
                "substitute": s.by,
                "required_by": required_by(o),
            })
        })
        .collect();
    json!({
        "ok": rejected.is_empty(),
        "exit_code": if rejected.is_empty() { 0 } else { 4 },
        "app": report.app,
        "requirements_file": report.requirements_file,
        "locked": report.locked,
        "target": target_json(),
        "packages": report.packages.iter().map(package_json).collect::<Vec<_>>(),
        "rejected": rejected,
        "substituted": substitutes,
        "built": built(report).map(|(o, _)| o.name.to_string()).collect::<Vec<_>>(),
        "notes": report.notes,
    })
}

fn package_json(outcome: &Outcome) -> Value {
    let mut value = json!({
        "name": outcome.name.to_string(),
        "version": outcome.version.to_string(),
        "chain": outcome.chain,
    });
    let extra = match &outcome.verdict {
        Verdict::Pure { file, wheel } => json!({
            "verdict": "pure",
            "wheel": file.filename,
            "source": file.location.to_string(),
            "sha256": wheel.sha256,
        }),
        Verdict::Built { sdist, built } => json!({
            "verdict": BUILT,
            "wheel": built.filename,
            "sha256": built.wheel.sha256,
            "sdist": sdist.filename,
            "sdist_sha256": built.sdist_sha256,
            "source": sdist.location.to_string(),
        }),
        Verdict::Substituted(substitute) => json!({
            "verdict": "substituted",
            "substitute": substitute.by,
            "covers": substitute.covers,
        }),
        Verdict::Rejected(rejection) => {
            let (name, version) = (outcome.name.to_string(), outcome.version.to_string());
            json!({
                "verdict": "rejected",
                "reason_kind": rejection.kind(),
                "reason": rejection.reason(),
                "offending": rejection.offending(),
                "hint": rejection.hint(&name, &version, &outcome.chain),
                "older_versions": outcome.older,
            })
        }
    };
    if let (Some(target), Value::Object(extra)) = (value.as_object_mut(), extra) {
        target.extend(extra);
    }
    value
}

/// The marker values the report was made for.
pub fn target_json() -> Value {
    json!({
        "python_full_version": markers::PYTHON_FULL_VERSION,
        "python_version": markers::PYTHON_VERSION,
        "sys_platform": markers::SYS_PLATFORM,
        "os_name": markers::OS_NAME,
        "platform_machine": markers::PLATFORM_MACHINE,
        "platform_system": markers::PLATFORM_SYSTEM,
        "implementation_name": markers::IMPLEMENTATION_NAME,
    })
}

/// The `--json` document when the app declares no dependencies.
pub fn empty_json(app_dir: &str) -> Value {
    json!({
        "ok": true,
        "exit_code": 0,
        "app_dir": app_dir,
        "requirements_file": null,
        "target": target_json(),
        "packages": [],
        "rejected": [],
        "substituted": [],
        "built": [],
        "notes": [],
    })
}

/// The `--json` document for a failure (still one document on stdout).
pub fn error_json(err: &anyhow::Error) -> Value {
    json!({
        "ok": false,
        "exit_code": crate::error::exit_code_of(err) as i32,
        "error": format!("{err:#}"),
    })
}
