//! The `pyedge serve` flags ([`ServeArgs`]) and the plain options they become
//! ([`ServeOptions`]), with the parsers of their values.

use crate::config::parse_size;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Default largest request body: 10 MB.
pub const DEFAULT_MAX_BODY_SIZE: u64 = 10_000_000;
/// Default wall-clock deadline per request.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default linear-memory budget per instance: 256 MB.
pub const DEFAULT_MEMORY_LIMIT: u64 = 256_000_000;
/// Default number of requests handled at once.
pub const DEFAULT_MAX_CONCURRENCY: usize = 64;

/// `pyedge serve APP.wasm`: run an HTTP component locally, a fresh instance per request.
#[derive(clap::Args, Debug, Clone)]
pub struct ServeArgs {
    /// The component to serve (`pyedge build` of an app with a `handle_request` handler).
    #[arg(value_name = "APP.wasm")]
    pub wasm: PathBuf,
    /// Address to listen on; loopback unless you say otherwise (port 0 picks a free port).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080", value_parser = parse_addr)]
    pub addr: SocketAddr,
    /// Largest request body accepted, e.g. 10MB or 1MiB; a larger one gets 413 before the
    /// handler runs.
    #[arg(long, value_name = "SIZE", default_value = "10MB", value_parser = parse_size)]
    pub max_body_size: u64,
    /// Wall-clock deadline per request, e.g. 30s, 500ms or 2m; past it the request gets 504.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Linear memory per instance, e.g. 256MB; allocations beyond it fail (500).
    #[arg(long, value_name = "SIZE", default_value = "256MB", value_parser = parse_size)]
    pub memory_limit: u64,
    /// Requests handled at once; beyond it requests get 503 at once.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_CONCURRENCY,
          value_parser = parse_concurrency)]
    pub max_concurrency: usize,
    /// Load a precompiled `APP.cwasm` (`pyedge build --precompile`): native code that is
    /// run as it is, so only pass files you built yourself.
    #[arg(long)]
    pub allow_precompiled: bool,
    /// How the server writes its per-request lines: `text` (`GET /x 200 1.2ms`) or
    /// `json` (one object per line, as an app with `log-format = "json"` writes).
    #[arg(long, value_enum, default_value = "text")]
    pub log_format: ServeLogFormat,
    /// An environment variable for the app, `NAME=VALUE` (repeatable): its `os.environ`
    /// and `pyedge.config` when it is built with `runtime-config = "env"`.
    #[arg(long = "env", value_name = "NAME=VALUE", value_parser = parse_key_value)]
    pub env: Vec<(String, String)>,
    /// Environment variables from a dotenv file (`NAME=VALUE` lines, `#` comments,
    /// optional `export` and quotes); `--env` wins over it.
    #[arg(long, value_name = "FILE")]
    pub env_file: Vec<PathBuf>,
    /// A config-store entry for the app, `NAME=VALUE` (repeatable): `pyedge.config` when it
    /// is built with `runtime-config = "wasi-config"` (either `config-store` version).
    #[arg(long = "config", value_name = "NAME=VALUE", value_parser = parse_key_value)]
    pub config: Vec<(String, String)>,
}

/// `pyedge serve --log-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ServeLogFormat {
    /// `METHOD PATH STATUS LATENCYms`.
    #[default]
    Text,
    /// One JSON object per request line.
    Json,
}

impl ServeArgs {
    /// The server options these flags describe; fails on an `--env-file` that cannot be
    /// read or parsed (exit 2, naming the file and line).
    pub fn options(&self) -> anyhow::Result<ServeOptions> {
        let mut env = Vec::new();
        for file in &self.env_file {
            env.extend(read_env_file(file)?);
        }
        env.extend(self.env.iter().cloned());
        Ok(ServeOptions {
            env: last_wins(env),
            config: last_wins(self.config.clone()),
            wasm: self.wasm.clone(),
            max_body_size: self.max_body_size,
            timeout: self.timeout,
            memory_limit: self.memory_limit,
            max_concurrency: self.max_concurrency,
            allow_precompiled: self.allow_precompiled,
            log_format: self.log_format,
            symbols: None,
        })
    }
}

/// Keep each name's last value, in the order names first appeared.
fn last_wins(pairs: Vec<(String, String)>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (name, value) in pairs {
        match out.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => out.push((name, value)),
        }
    }
    out
}

/// `NAME=VALUE` for `--env` and `--config`: a non-empty name without `=` or NUL.
pub fn parse_key_value(text: &str) -> Result<(String, String), String> {
    let (name, value) = text
        .split_once('=')
        .ok_or_else(|| format!("expected NAME=VALUE, not {text:?}"))?;
    if name.is_empty() || name.contains('\0') || value.contains('\0') {
        return Err(format!("expected NAME=VALUE with a name, not {text:?}"));
    }
    Ok((name.to_string(), value.to_string()))
}

/// A dotenv file, as docker's `--env-file` and python-dotenv read the common subset:
/// `NAME=VALUE` per line, blank lines and `#` comments skipped, an optional `export `
/// before the name, and a value in matching single or double quotes taken literally.
/// Hand-written: the crates for this (dotenvy) also expand `${VAR}` from pyedge's own
/// environment, which must not leak into the app's.
pub fn read_env_file(path: &std::path::Path) -> anyhow::Result<Vec<(String, String)>> {
    use super::ServeError;
    let text = crate::config::read_project_file(path, crate::config::MAX_PROJECT_FILE_BYTES)
        .map_err(|err| ServeError::EnvFileRead {
            path: path.to_path_buf(),
            detail: err.to_string(),
        })?;
    let mut pairs = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line).trim_start();
        let bad = |why: &str| ServeError::EnvFileLine {
            path: path.to_path_buf(),
            line: number + 1,
            why: why.to_string(),
        };
        let (name, value) = line
            .split_once('=')
            .ok_or_else(|| bad("expected NAME=VALUE"))?;
        let name = name.trim_end();
        if name.is_empty() || name.contains(char::is_whitespace) {
            return Err(bad("expected NAME=VALUE, with a name without spaces").into());
        }
        let value = value.trim_start();
        let value = match value.chars().next() {
            Some(quote @ ('"' | '\'')) => value[1..]
                .strip_suffix(quote)
                .ok_or_else(|| bad("the value's quote is not closed on this line"))?,
            _ => value.trim_end(),
        };
        pairs.push((name.to_string(), value.to_string()));
    }
    Ok(pairs)
}

/// What `pyedge serve` runs and under which limits.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The `wasi:http/proxy` component.
    pub wasm: PathBuf,
    /// Largest request body in bytes (413 above it).
    pub max_body_size: u64,
    /// Wall-clock deadline per request (504 past it).
    pub timeout: Duration,
    /// Linear memory per instance in bytes, all memories together.
    pub memory_limit: u64,
    /// Requests in flight at once (503 beyond it).
    pub max_concurrency: usize,
    /// Accept a precompiled component (native code for this pyedge's Wasmtime).
    pub allow_precompiled: bool,
    /// How the per-request lines are written.
    pub log_format: ServeLogFormat,
    /// The app's environment (`wasi:cli/environment`).
    pub env: Vec<(String, String)>,
    /// The app's config store (`wasi:config/store`).
    pub config: Vec<(String, String)>,
    /// The runtime's function names (`app.symbols` beside the component), for naming a
    /// trap's backtrace in the log; read when the server loads.
    pub symbols: Option<std::sync::Arc<crate::symbols::Symbols>>,
}

impl ServeOptions {
    /// Serve `wasm` with the default limits.
    pub fn new(wasm: impl Into<PathBuf>) -> Self {
        ServeOptions {
            wasm: wasm.into(),
            max_body_size: DEFAULT_MAX_BODY_SIZE,
            timeout: DEFAULT_TIMEOUT,
            memory_limit: DEFAULT_MEMORY_LIMIT,
            max_concurrency: DEFAULT_MAX_CONCURRENCY,
            allow_precompiled: false,
            log_format: ServeLogFormat::Text,
            env: Vec::new(),
            config: Vec::new(),
            symbols: None,
        }
    }
}

/// Parse a duration like `30s`, `500ms`, `2m`, `1h` or `1.5` (seconds); it must be
/// more than zero.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration like 30s or 500ms"))?;
    let seconds = match unit.trim() {
        "" | "s" => number,
        "ms" => number / 1e3,
        "m" | "min" => number * 60.0,
        "h" => number * 3600.0,
        other => return Err(format!("unknown duration unit {other:?} in {text:?}")),
    };
    match Duration::try_from_secs_f64(seconds) {
        Ok(duration) if !duration.is_zero() => Ok(duration),
        _ => Err(format!("{text:?} must be more than zero")),
    }
}

/// Parse `--addr`: `IP:PORT`, or a bare port on loopback.
fn parse_addr(text: &str) -> Result<SocketAddr, String> {
    if let Ok(port) = text.parse::<u16>() {
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    text.parse()
        .map_err(|_| format!("{text:?} is not an address like 127.0.0.1:8080"))
}

fn parse_concurrency(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if (1..=100_000).contains(&n) => Ok(n),
        _ => Err(format!("{text:?} is not a number from 1 to 100000")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        serve: ServeArgs,
    }

    #[test]
    fn flag_defaults_match_the_documented_options() {
        let cli = Cli::try_parse_from(["serve", "app.wasm"]).unwrap();
        let opts = cli.serve.options().unwrap();
        let defaults = ServeOptions::new("app.wasm");
        assert_eq!(cli.serve.addr, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(opts.max_body_size, defaults.max_body_size);
        assert_eq!(opts.timeout, defaults.timeout);
        assert_eq!(opts.memory_limit, defaults.memory_limit);
        assert_eq!(opts.max_concurrency, defaults.max_concurrency);
    }

    #[test]
    fn flags_parse_sizes_durations_and_addresses() {
        let cli = Cli::try_parse_from([
            "serve",
            "app.wasm",
            "--addr",
            "0",
            "--max-body-size",
            "1MiB",
            "--timeout",
            "500ms",
            "--memory-limit",
            "64MB",
            "--max-concurrency",
            "2",
        ])
        .unwrap();
        let opts = cli.serve.options().unwrap();
        assert_eq!(cli.serve.addr, "127.0.0.1:0".parse().unwrap());
        assert_eq!(opts.max_body_size, 1 << 20);
        assert_eq!(opts.timeout, Duration::from_millis(500));
        assert_eq!(opts.memory_limit, 64_000_000);
        assert_eq!(opts.max_concurrency, 2);
        for bad in [
            ["--timeout", "0s"],
            ["--timeout", "soon"],
            ["--max-concurrency", "0"],
            ["--addr", "localhost"],
        ] {
            assert!(Cli::try_parse_from(["serve", "app.wasm", bad[0], bad[1]]).is_err());
        }
    }

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert!(parse_duration("0").is_err());
        assert!(parse_duration("5 fortnights").is_err());
    }
}
