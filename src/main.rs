//! The `pyedge` binary: parse arguments, run the command, map failures to exit codes.

fn main() -> std::process::ExitCode {
    pyedge::cli::main()
}
