//! Command-line interface: clap parsing only; every command hands a plain options struct
//! to the stage that does the work.

use crate::component::World;
use crate::error::{exit_code_of, Exit};
use crate::pipeline::{build, BuildOptions};
use anyhow::Result;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "pyedge",
    version,
    about = "Build Python apps into WebAssembly components for the edge"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Build an app directory into one WebAssembly component.
    Build(BuildArgs),
    /// Resolve the app's dependencies and say which are pure Python (exit 4 if not).
    CheckDeps(crate::deps::cli::CheckDepsArgs),
    /// Resolve the app's dependencies and write pyedge.lock.
    Lock(crate::deps::cli::LockArgs),
    /// Show what a component holds: size by part, imports, exports, snapshot memory.
    Inspect(crate::inspect::InspectArgs),
    /// Serve a wasi:http component on a local address, a fresh instance per request.
    Serve(crate::serve::ServeArgs),
}

#[derive(Args, Debug)]
struct BuildArgs {
    /// The app directory (holds app.py or the module named by --entry).
    #[arg(default_value = ".")]
    app_dir: PathBuf,
    /// Where to write the component.
    #[arg(short, long, default_value = "app.wasm")]
    output: PathBuf,
    /// Entry module (default: [tool.pyedge] entry in pyproject.toml, else `app`).
    #[arg(long, value_name = "MODULE")]
    entry: Option<String>,
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
    json: bool,
    /// CPython's string-hash seed, fixed in the snapshot: `random` (a new one per build;
    /// builds stop being reproducible) or a number. Default: derived from the build inputs.
    #[arg(long, value_name = "random|N")]
    hash_seed: Option<crate::pipeline::HashSeed>,
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
    /// Also list every file in the bundle, by root (app, each package, pyedge, stdlib).
    #[arg(short, long)]
    verbose: bool,
    #[command(flatten)]
    deps: crate::deps::cli::DepsSourceArgs,
}

/// Parse the command line, run the command and turn its outcome into an exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return ExitCode::from(if err.use_stderr() {
                Exit::Usage as u8
            } else {
                0
            });
        }
    };
    // Commands that print their own JSON document (also on failure) say so here.
    let (json, prints_own_json) = match &cli.command {
        Command::Build(args) => (args.json, false),
        Command::CheckDeps(args) => (args.json, true),
        Command::Lock(args) => (args.json, true),
        Command::Serve(_) => (false, false),
        Command::Inspect(args) => (args.json, false),
    };
    let result = match cli.command {
        Command::Build(args) => run_build(args),
        Command::CheckDeps(args) => crate::deps::cli::run_check_deps(&args),
        Command::Lock(args) => crate::deps::cli::run_lock(&args),
        Command::Serve(args) => crate::serve::run_serve(&args),
        Command::Inspect(args) => crate::inspect::run_inspect(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            let code = exit_code_of(&err);
            if json && !prints_own_json {
                let doc = serde_json::json!({ "ok": false, "exit_code": code as u8, "error": format!("{err:#}") });
                println!("{doc}");
            }
            eprintln!("error: {err:#}");
            ExitCode::from(code as u8)
        }
    }
}

fn run_build(args: BuildArgs) -> Result<()> {
    let opts = BuildOptions {
        app_dir: args.app_dir.clone(),
        output: args.output,
        entry: args.entry,
        budget: args.budget,
        snapshot: !args.no_snapshot,
        show_progress: !args.json,
        world: args.world,
        deps: args.deps.options(&args.app_dir, args.locked),
        keep_names: args.keep_names,
        hash_seed: args.hash_seed,
        precompile: args.precompile,
        list_files: args.verbose,
    };
    let outcome = build(&opts)?;
    for (file, why) in &outcome.skipped_secrets {
        eprintln!(
            "warning: left out {file}: it looks like a credential: {why}; name it in \
             [tool.pyedge] allow-secrets if it is meant to ship"
        );
    }
    if args.json {
        let mut doc = serde_json::to_value(&outcome)?;
        doc["ok"] = serde_json::Value::Bool(true);
        println!("{doc}");
    } else {
        eprintln!(
            "built {} ({} world, entry {}, {})\n",
            outcome.output.display(),
            outcome.world,
            outcome.entry,
            if outcome.snapshot {
                "pre-initialized"
            } else {
                "no snapshot"
            }
        );
        print!("{}", outcome.size.to_table());
        if let Some(path) = &outcome.precompiled {
            println!(
                "precompiled for `pyedge serve --allow-precompiled`: {}",
                path.display()
            );
        }
        if !outcome.left_out.is_empty() {
            println!(
                "left out (nothing imports them): {}",
                outcome.left_out.join(", ")
            );
        }
        if let Some(files) = &outcome.files {
            print!("\nfiles in the bundle (size, stored):\n{}", files.to_text());
        }
    }
    Ok(())
}
