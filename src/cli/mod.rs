//! Command-line interface: clap parsing, one file per command (arguments → options → the
//! stage that does the work → the printer), the [`Printer`], and the one place where an
//! error becomes the user's message and the exit code.

mod build;
mod deps;
mod init;
pub mod inspect;
mod oci;
pub mod printer;
mod symbolize;

pub use deps::DepsSourceArgs;
pub use init::InitError;
pub use printer::{ColorChoice, OutputError, Printer, Verbosity};
pub use symbolize::SymbolizeError;

use crate::error::{exit_code_of, Exit};
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "pyedge",
    version,
    about = "Build Python apps into WebAssembly components for the edge"
)]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

/// Options every command takes.
#[derive(Args, Debug)]
struct GlobalArgs {
    /// Print errors only: no notes, warnings or progress.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
    /// Say more: `build` lists every file in the bundle.
    #[arg(short, long, global = true)]
    verbose: bool,
    /// Colour on stderr (`auto`: on a terminal, unless NO_COLOR is set).
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "auto",
        value_name = "WHEN"
    )]
    color: ColorChoice,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Build an app directory into one WebAssembly component.
    Build(build::BuildArgs),
    /// Resolve the app's dependencies and say which are pure Python (exit 4 if not).
    CheckDeps(deps::CheckDepsArgs),
    /// Resolve the app's dependencies and write pyedge.lock.
    Lock(deps::LockArgs),
    /// Show what a component holds: size by part, imports, exports, snapshot memory, files.
    Inspect(inspect::InspectArgs),
    /// Serve a wasi:http component on a local address, a fresh instance per request.
    Serve(crate::serve::ServeArgs),
    /// Write a new app from a template: http, cli, wsgi (Flask) or asgi (Starlette).
    Init(init::InitArgs),
    /// Print a directory holding pyedge's Python SDK, for running an app's tests on the host.
    SdkPath(init::SdkPathArgs),
    /// Write a component as a Wasm OCI artifact into an OCI image layout directory.
    Package(oci::PackageArgs),
    /// Push a component to an OCI registry as a Wasm OCI artifact (Spin, wkg, wasmCloud).
    Push(oci::PushArgs),
    /// Name the frames of a wasm backtrace another host printed, from `app.symbols`.
    Symbolize(symbolize::SymbolizeArgs),
}

/// Parse the command line, run the command and turn its outcome into an exit code.
pub fn main() -> ExitCode {
    let parsed = Cli::command()
        .version(version_text())
        .try_get_matches()
        .and_then(|matches| Cli::from_arg_matches(&matches));
    let cli = match parsed {
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
    let verbosity = match (cli.global.quiet, cli.global.verbose) {
        (true, _) => Verbosity::Quiet,
        (_, true) => Verbosity::Verbose,
        _ => Verbosity::Normal,
    };
    // Commands that print their own JSON document (also on failure) say so here.
    let (json, prints_own_json) = match &cli.command {
        Command::Build(args) => (args.json, false),
        Command::CheckDeps(args) => (args.json, true),
        Command::Lock(args) => (args.json, true),
        Command::Serve(_) => (false, false),
        Command::Inspect(args) => (args.json, false),
        Command::Init(_) | Command::SdkPath(_) => (false, false),
        Command::Package(args) => (args.json, false),
        Command::Push(args) => (args.json, false),
        Command::Symbolize(_) => (false, false),
    };
    let printer = Printer::new(verbosity, cli.global.color, json);
    let result = match cli.command {
        Command::Build(args) => build::run(args, &printer),
        Command::CheckDeps(args) => deps::run_check_deps(&args, &printer),
        Command::Lock(args) => deps::run_lock(&args, &printer),
        Command::Serve(args) => crate::serve::run_serve(&args),
        Command::Inspect(args) => inspect::run(&args, &printer),
        Command::Init(args) => init::run(&args, &printer),
        Command::SdkPath(args) => init::run_sdk_path(&args, &printer),
        Command::Package(args) => oci::run_package(&args, &printer),
        Command::Push(args) => oci::run_push(&args, &printer),
        Command::Symbolize(args) => symbolize::run(&args, &printer),
    };
    let result = result.and_then(|()| printer.flush().map_err(anyhow::Error::from));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => fail(&printer, &err, json && !prints_own_json),
    }
}

/// `pyedge --version`: pyedge's version, the embedded CPython's, and the runtime's content
/// hash (of its provenance record, which lists every output's SHA-256), so two installs
/// can be told apart by the runtime they build with.
pub fn version_text() -> String {
    let provenance: serde_json::Value =
        serde_json::from_str(crate::runtime::PROVENANCE).unwrap_or_default();
    let cpython = provenance["cpython_version"].as_str().unwrap_or("unknown");
    let digest = <sha2::Sha256 as sha2::Digest>::digest(crate::runtime::PROVENANCE.as_bytes());
    format!(
        "{} (CPython {cpython} for wasm32-wasi, runtime {})",
        env!("CARGO_PKG_VERSION"),
        &hex::encode(digest)[..12]
    )
}

/// Say what went wrong, once, and choose the exit code ([`exit_code_of`]).
fn fail(printer: &Printer, err: &anyhow::Error, json_doc: bool) -> ExitCode {
    match err.chain().find_map(|e| e.downcast_ref::<OutputError>()) {
        // Whoever read stdout has stopped reading: nothing to say, nothing wrong.
        Some(OutputError::Closed) => return ExitCode::SUCCESS,
        Some(OutputError::Write(_)) => {
            printer.error(&format!("{err:#}"));
            return ExitCode::from(Exit::Build as u8);
        }
        None => {}
    }
    let code = exit_code_of(err);
    if json_doc {
        let doc = serde_json::json!({ "ok": false, "exit_code": code as u8, "error": format!("{err:#}") });
        // A failing stdout has nothing more to lose; the error still reaches stderr.
        let _ = printer.out_json(&doc).and_then(|()| printer.flush());
    }
    printer.error(&format!("{err:#}"));
    ExitCode::from(code as u8)
}
