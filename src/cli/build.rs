//! `pyedge build`: arguments → [`BuildOptions`] → [`build`] → the table or JSON.

use super::{DepsSourceArgs, Printer};
use crate::component::World;
use crate::config::Interface;
use crate::pipeline::{build, BuildOptions, BuildOutcome, HashSeed};
use crate::progress::StageObserver;
use anyhow::Result;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use std::cell::RefCell;
use std::path::PathBuf;
use std::time::Duration;

/// `pyedge build` arguments.
#[derive(Args, Debug)]
pub struct BuildArgs {
    /// The app directory (holds app.py or the module named by --entry).
    #[arg(default_value = ".")]
    app_dir: PathBuf,
    /// Where to write the component.
    #[arg(short, long, default_value = "app.wasm")]
    output: PathBuf,
    /// Entry module, or module:app for a WSGI/ASGI app object as uvicorn takes it
    /// (default: [tool.pyedge] entry in pyproject.toml, else `app`).
    #[arg(long, value_name = "MODULE[:APP]")]
    entry: Option<String>,
    /// How the app is called (default: [tool.pyedge] interface, else auto: a
    /// `handle_request` handler, else an async app object is ASGI and any other WSGI).
    #[arg(long, value_enum)]
    interface: Option<Interface>,
    /// Size budget, e.g. 50MB or 20MiB (default: [tool.pyedge] budget, else 50MB).
    #[arg(long, value_name = "SIZE")]
    budget: Option<String>,
    /// Component world (default: `http` when the entry defines `handle_request` or an
    /// `IncomingHandler` class, else `cli`).
    #[arg(long, value_enum)]
    world: Option<World>,
    /// Skip the pre-initialization snapshot (slower start; for debugging).
    #[arg(long)]
    no_snapshot: bool,
    /// Print one JSON document on stdout instead of the table.
    #[arg(long)]
    pub json: bool,
    /// CPython's string-hash seed, fixed in the snapshot: `random` (a new one per build;
    /// builds stop being reproducible) or a number. Default: derived from the build inputs.
    #[arg(long, value_name = "random|N")]
    hash_seed: Option<HashSeed>,
    /// Keep function names in the output (larger; for profiling and wasm backtraces).
    #[arg(long)]
    keep_names: bool,
    /// Install exactly what pyedge.lock says; fail if it is stale or a hash differs.
    #[arg(long)]
    locked: bool,
    /// Also write the component compiled to native code for this pyedge's `serve`
    /// (`app.cwasm` beside `app.wasm`; run it with `pyedge serve --allow-precompiled`).
    #[arg(long)]
    precompile: bool,
    /// Also write a Spin manifest (`spin.toml`) beside the output: HTTP trigger on `/...`,
    /// outbound hosts, variables from `[tool.pyedge.secrets]` and settings.
    #[arg(long)]
    spin: bool,
    /// Also write a self-contained HTML page with a treemap of the component's bytes
    /// (runtime code by C module, snapshot memory, the bundle by package and file) against
    /// the budget; written even when the build is over budget.
    #[arg(long, value_name = "FILE")]
    report_html: Option<PathBuf>,
    #[command(flatten)]
    deps: DepsSourceArgs,
}

/// Run `pyedge build`.
pub fn run(args: BuildArgs, printer: &Printer) -> Result<()> {
    let opts = BuildOptions {
        app_dir: args.app_dir.clone(),
        output: args.output,
        entry: args.entry,
        budget: args.budget,
        snapshot: !args.no_snapshot,
        world: args.world,
        interface: args.interface,
        deps: args.deps.options(&args.app_dir, args.locked),
        keep_names: args.keep_names,
        hash_seed: args.hash_seed,
        precompile: args.precompile,
        list_files: printer.verbose(),
        spin: args.spin,
        report_html: args.report_html,
    };
    let spinner = Spinner {
        printer,
        bar: RefCell::new(None),
    };
    let progress = printer
        .shows_progress()
        .then_some(&spinner as &dyn StageObserver);
    let outcome = build(&opts, progress)?;
    for key in &outcome.secret_like_settings {
        printer.warn(&format!(
            "[tool.pyedge.config] {key} looks like a secret, and its value is baked into the \
             component: anyone with a copy of the .wasm can read it"
        ));
    }
    for (file, why) in &outcome.skipped_secrets {
        printer.warn(&format!(
            "left out {file}: it looks like a credential: {why}; name it in \
             [tool.pyedge] allow-secrets if it is meant to ship"
        ));
    }
    if !printer.json() {
        for note in &outcome.notes {
            printer.note(&format!("note: {note}\n"));
        }
    }
    if printer.json() {
        let mut doc = serde_json::to_value(&outcome)?;
        doc["ok"] = serde_json::Value::Bool(true);
        printer.out_json(&doc)?;
    } else {
        printer.note(&format!(
            "built {} ({} world, entry {}{}, {})\n",
            outcome.output.display(),
            outcome.world,
            outcome.entry,
            outcome
                .interface
                .as_deref()
                .map(|i| format!(" as {i}"))
                .unwrap_or_default(),
            if outcome.snapshot {
                "pre-initialized"
            } else {
                "no snapshot"
            }
        ));
        printer.out(&summary(&outcome))?;
        if printer.verbose() && !outcome.lazy_imports.is_empty() {
            let mut lazy = format!(
                "left lazy ({} of {} modules named by import statements; imported on first use):\n",
                outcome.lazy_imports.len(),
                outcome.preimport_candidates
            );
            for (module, why) in &outcome.lazy_imports {
                lazy.push_str(&format!("  {module}: {why}\n"));
            }
            printer.out(&lazy)?;
        }
        if printer.verbose() && outcome.lazy_bytecode_modules > 0 {
            let bytes = outcome
                .size
                .parts
                .iter()
                .find(|p| p.name.trim() == "lazy bytecode")
                .map_or(0, |p| p.raw);
            printer.out(&format!(
                "bytecode of {} bundle module{} not in the snapshot: {} (imported without compiling; `lazy-bytecode = false` leaves them source)\n",
                outcome.lazy_bytecode_modules,
                if outcome.lazy_bytecode_modules == 1 { "" } else { "s" },
                crate::report::human_bytes(bytes)
            ))?;
        }
    }
    Ok(())
}

/// The text a build prints on stdout: the size table and what was left out or listed.
fn summary(outcome: &BuildOutcome) -> String {
    let mut out = outcome.size.to_table();
    if let Some(path) = &outcome.precompiled {
        out.push_str(&format!(
            "precompiled for `pyedge serve --allow-precompiled`: {}\n",
            path.display()
        ));
    }
    if let Some(path) = &outcome.report_html {
        out.push_str(&format!("size picture: {}\n", path.display()));
    }
    if let Some(path) = &outcome.spin_manifest {
        out.push_str(&format!(
            "Spin manifest: {} (`spin up -f {}`)\n",
            path.display(),
            path.display()
        ));
    }
    if !outcome.runtime_config.is_empty() {
        out.push_str(&format!(
            "run-time config from the host: {}",
            outcome.runtime_config.join(", ")
        ));
        if !outcome.secrets.is_empty() {
            out.push_str(&format!(" (secrets: {})", outcome.secrets.join(", ")));
        }
        out.push('\n');
    }
    for package in &outcome.substituted {
        out.push_str(&format!("substituted: {package}\n"));
    }
    if !outcome.left_out.is_empty() {
        out.push_str(&format!(
            "left out (nothing imports them): {}\n",
            outcome.left_out.join(", ")
        ));
    }
    if let Some(files) = &outcome.files {
        out.push_str(&format!(
            "\nfiles in the bundle (size, stored):\n{}",
            files.to_text()
        ));
    }
    out
}

/// A spinner per stage on stderr, then the stage's time.
struct Spinner<'a> {
    printer: &'a Printer,
    bar: RefCell<Option<ProgressBar>>,
}

impl StageObserver for Spinner<'_> {
    fn started(&self, stage: &str) {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} {elapsed}").expect("valid template"),
        );
        bar.set_message(stage.to_string());
        bar.enable_steady_tick(Duration::from_millis(100));
        *self.bar.borrow_mut() = Some(bar);
    }

    fn finished(&self, stage: &str, seconds: f64) {
        if let Some(bar) = self.bar.borrow_mut().take() {
            bar.finish_and_clear();
        }
        self.printer.stage_done(stage, seconds);
    }
}
