//! The app's build configuration: command-line options merged over `[tool.pyedge]` in
//! `pyproject.toml`.

use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Default size budget: the common edge limit of 50 MB.
pub const DEFAULT_BUDGET: u64 = 50_000_000;

/// Largest `pyproject.toml`, and largest requirements file together with its `-r`
/// includes, that pyedge reads: real ones are a few kilobytes, so only a broken or
/// hostile file comes near it.
pub const MAX_PROJECT_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// Read a project file the user wrote (`pyproject.toml`, a requirements file) as UTF-8,
/// refusing anything that is not a regular file (a FIFO or `/dev/zero` would block or
/// never end) or that is larger than `limit` bytes; the read itself is bounded too, so a
/// file that grows while it is read cannot get past the limit.
pub fn read_project_file(path: &Path, limit: u64) -> std::io::Result<String> {
    use std::io::{Error, ErrorKind, Read};
    let file = std::fs::File::open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(Error::new(ErrorKind::InvalidInput, "not a regular file"));
    }
    let over = |size: u64| {
        Error::new(
            ErrorKind::InvalidData,
            format!("{size} bytes is over the limit of {limit} bytes"),
        )
    };
    if meta.len() > limit {
        return Err(over(meta.len()));
    }
    let mut text = String::new();
    file.take(limit + 1).read_to_string(&mut text)?;
    if text.len() as u64 > limit {
        return Err(over(text.len() as u64));
    }
    Ok(text)
}

/// `[tool.pyedge]` as written by the user; every field optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ToolConfig {
    /// Entry module (`app`, `pkg.main`) or file (`app.py`), optionally with the app
    /// object as uvicorn and gunicorn take it: `app:app`, `pkg.main:api`.
    pub entry: Option<String>,
    /// How the entry is called: `auto` (default), `handler`, `wsgi` or `asgi`.
    pub interface: Option<Interface>,
    /// ASGI lifespan protocol: `auto` (default), `on` or `off`.
    pub lifespan: Option<Lifespan>,
    /// `text` (default) or `json`: one JSON object per `logging` record on stderr.
    pub log_format: Option<LogFormat>,
    /// Glob patterns (relative to the app directory) of files to bundle; default all.
    #[serde(default)]
    pub include: Vec<String>,
    /// Glob patterns of files to leave out, on top of the built-in exclusions.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// App files (relative paths, exactly) that the secret guard lets through.
    #[serde(default)]
    pub allow_secrets: Vec<String>,
    /// Size budget, e.g. `"50MB"`.
    pub budget: Option<String>,
    /// `"reachable"` (default): only the stdlib modules the app's imports can reach;
    /// `"all"`: the whole standard library.
    pub stdlib: Option<String>,
    /// Extra stdlib modules to keep with `stdlib = "reachable"` (for dynamic imports).
    #[serde(default)]
    pub stdlib_include: Vec<String>,
    /// Build-time settings exposed to the app as `pyedge.config` (string values).
    #[serde(default)]
    pub config: std::collections::BTreeMap<String, String>,
    /// Where `send_to_origin(request)` forwards requests: an `http://` or `https://` URL.
    pub origin: Option<String>,
    /// Where `pyedge.config` looks first at run time: `none` (default), `env` or
    /// `wasi-config`.
    pub runtime_config: Option<RuntimeConfig>,
    /// Which `wasi:config/store` version the host implements: `wasmtime` (default) or
    /// `spin`.
    pub config_store: Option<ConfigStore>,
    /// Names the host provides at run time and the build never holds a value for.
    #[serde(default)]
    pub secrets: std::collections::BTreeMap<String, SecretSpec>,
    /// Which modules the build imports into the snapshot: `reachable` (default) or
    /// `top-level`.
    pub preimport: Option<Preimport>,
    /// Whether the snapshot holds the bytecode of the bundle's modules it does not hold
    /// (default true): a lazy import then unmarshals instead of compiling, for some size.
    pub lazy_bytecode: Option<bool>,
    /// Hosts the app calls (`scheme://host[:port]`), for the hosts that allow-list them:
    /// `build --spin` writes them (and the origin) as Spin's `allowed_outbound_hosts`.
    #[serde(default)]
    pub allowed_outbound_hosts: Vec<String>,
}

/// Which modules are imported at build time, into the snapshot: `[tool.pyedge] preimport`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Preimport {
    /// Also every module an import statement of the app or its dependencies names,
    /// inside functions too, each on its own, when its import is safe to snapshot; a lazy
    /// import in a handler then costs a dictionary lookup instead of compiling the module.
    #[default]
    Reachable,
    /// Only what importing the app imports (its module-level imports).
    TopLevel,
}

/// Where the app's run-time settings and secrets come from: `[tool.pyedge] runtime-config`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RuntimeConfig {
    /// Nothing from the host: `pyedge.config` is `[tool.pyedge.config]`, and the component
    /// imports only the wasi:http/proxy world.
    #[default]
    None,
    /// The host's environment (`wasi:cli/environment`): `os.environ`, and `pyedge.config`
    /// before the build-time defaults.
    Env,
    /// The host's config store (`wasi:config/store`), before the build-time defaults.
    WasiConfig,
}

impl RuntimeConfig {
    /// The name used in `pyproject.toml` and in the boot configuration.
    pub fn name(self) -> &'static str {
        match self {
            RuntimeConfig::None => "none",
            RuntimeConfig::Env => "env",
            RuntimeConfig::WasiConfig => "wasi-config",
        }
    }
}

/// The host whose `wasi:config/store` version the component imports:
/// `[tool.pyedge] config-store`. The interface is still a draft, and hosts implement
/// different versions of it, with the same functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConfigStore {
    /// `wasi:config/store@0.2.0-rc.1`: `wasmtime serve -Sconfig -Sconfig-var K=V`, and
    /// `pyedge serve --config K=V`.
    #[default]
    Wasmtime,
    /// `wasi:config/store@0.2.0-draft-2024-09-27`: Spin's application variables.
    Spin,
}

impl ConfigStore {
    /// The name used in `pyproject.toml`.
    pub fn name(self) -> &'static str {
        match self {
            ConfigStore::Wasmtime => "wasmtime",
            ConfigStore::Spin => "spin",
        }
    }

    /// The `wasi:config` package version this host implements.
    pub fn wasi_config_version(self) -> &'static str {
        match self {
            ConfigStore::Wasmtime => "0.2.0-rc.1",
            ConfigStore::Spin => "0.2.0-draft-2024-09-27",
        }
    }
}

/// One `[tool.pyedge.secrets]` entry: `API_TOKEN = { required = true }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretSpec {
    /// A request gets a 500 naming the secret when the host does not provide it.
    #[serde(default)]
    pub required: bool,
}

/// Everything the pipeline needs to know about the app.
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// The app directory.
    pub app_dir: PathBuf,
    /// Dotted name of the entry module.
    pub entry_module: String,
    /// Entry file, relative to `app_dir`, with `/` separators.
    pub entry_path: String,
    /// The app object inside the entry module (`app` of `app:app`), dotted.
    pub entry_attr: Option<String>,
    /// How the entry is called.
    pub interface: Interface,
    /// Whether an ASGI app's lifespan protocol runs around each instance.
    pub lifespan: Lifespan,
    /// How the app's `logging` records are written.
    pub log_format: LogFormat,
    /// Glob patterns choosing the app's files (empty: all that git would track).
    pub include: Vec<String>,
    /// Glob patterns of app files left out.
    pub exclude: Vec<String>,
    /// Files the secret guard lets through (relative paths).
    pub allow_secrets: Vec<String>,
    /// Files inside the app directory that this build writes (its output and the
    /// `.cwasm` beside it), relative paths: never bundled.
    pub skip_files: Vec<String>,
    /// Size budget in bytes.
    pub budget: u64,
    /// Build-time settings for the app.
    pub settings: std::collections::BTreeMap<String, String>,
    /// Whether to bundle the whole stdlib or only what the app can reach.
    pub stdlib: StdlibSelection,
    /// `[tool.pyedge] origin`, for `send_to_origin` (checked: absolute http(s), no query).
    pub origin: Option<String>,
    /// Where `pyedge.config` looks first at run time.
    pub runtime_config: RuntimeConfig,
    /// Which `wasi:config/store` version the component imports (with `wasi-config`).
    pub config_store: ConfigStore,
    /// `[tool.pyedge.secrets]`: names only the host provides, with whether each is required.
    pub secrets: std::collections::BTreeMap<String, SecretSpec>,
    /// Which modules the build imports into the snapshot.
    pub preimport: Preimport,
    /// The modules to import speculatively at build time (filled in by the pipeline,
    /// with `preimport = "reachable"`).
    pub preimport_names: Vec<String>,
    /// Whether the snapshot holds the bytecode of the modules it does not hold.
    pub lazy_bytecode: bool,
    /// `[tool.pyedge] allowed-outbound-hosts`.
    pub allowed_outbound_hosts: Vec<String>,
}

/// How the component calls the app: `[tool.pyedge] interface`, `--interface`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Interface {
    /// Decided at build time from the imported app: `handle_request` or
    /// `IncomingHandler` is a handler; else, as uvicorn decides, an async callable is
    /// ASGI 3 and any other callable WSGI.
    #[default]
    Auto,
    /// `handle_request(request) -> Response` (sync or async), or an `IncomingHandler`.
    Handler,
    /// A WSGI application (PEP 3333): Flask, Django, Bottle, Falcon.
    Wsgi,
    /// An ASGI 3 application: Starlette, FastAPI, Django's ASGI handler, falcon.asgi.
    Asgi,
}

impl Interface {
    /// The name used in `pyproject.toml` and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Interface::Auto => "auto",
            Interface::Handler => "handler",
            Interface::Wsgi => "wsgi",
            Interface::Asgi => "asgi",
        }
    }
}

/// How `logging` records reach stderr: `[tool.pyedge] log-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// As the app configures logging (Python's default: warnings and up, as text).
    #[default]
    Text,
    /// One JSON object per record with the request's method, path, request id and W3C
    /// trace ids (`pyedge.logs`); outbound calls carry `traceparent`.
    Json,
}

/// The ASGI lifespan protocol around each instance: `[tool.pyedge] lifespan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lifespan {
    /// Run it; an app that does not support it is served without it (uvicorn's default).
    #[default]
    Auto,
    /// Run it; an app that does not support it gets a 500.
    On,
    /// Never run it.
    Off,
}

impl Lifespan {
    /// The name used in `pyproject.toml`.
    pub fn name(self) -> &'static str {
        match self {
            Lifespan::Auto => "auto",
            Lifespan::On => "on",
            Lifespan::Off => "off",
        }
    }
}

/// Which part of the standard library goes into the bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StdlibSelection {
    /// Everything (minus tests, GUIs and installers).
    All,
    /// Modules reachable through import statements, plus these extra modules.
    Reachable(Vec<String>),
}

/// What can be wrong with the project's configuration (all exit 2).
#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    /// The app directory does not exist.
    #[error("app directory not found: {}", .0.display())]
    AppDirMissing(PathBuf),
    /// No file for the entry module.
    #[error("entry file not found: {} (set --entry or [tool.pyedge] entry)", .0.display())]
    EntryMissing(PathBuf),
    /// The entry is not a dotted module name, optionally with `:attribute`.
    #[error("invalid entry {0:?}: expected a module (`app`, `pkg.main`, `app.py`), optionally with the app object (`app:app`, `pkg.main:api`)")]
    EntryName(String),
    /// A project file cannot be read.
    #[error("cannot read {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why (printed after the message, as the next link of the chain).
        source: std::io::Error,
    },
    /// `pyproject.toml` is not TOML.
    #[error("{file}: invalid TOML: {detail}")]
    Toml {
        /// The file, as shown.
        file: String,
        /// The TOML reader's message.
        detail: String,
    },
    /// `pyproject.toml` nests deeper than the reader allows.
    #[error("{file}:{line}: tables, arrays or dotted keys nested deeper than {limit} levels")]
    TomlDepth {
        /// The file, as shown.
        file: String,
        /// The line where the limit was passed.
        line: usize,
        /// [`MAX_TOML_NESTING`].
        limit: usize,
    },
    /// `[tool.pyedge]` has an unknown key or a value of the wrong type.
    #[error("{file}: invalid [tool.pyedge]: {detail}")]
    ToolTable {
        /// The file, as shown.
        file: String,
        /// What is wrong.
        detail: String,
    },
    /// `--budget` or `[tool.pyedge] budget` is not a size.
    #[error("invalid budget: {0}")]
    Budget(String),
    /// `[tool.pyedge] stdlib` is neither `reachable` nor `all`.
    #[error("{}: [tool.pyedge] stdlib must be \"reachable\" or \"all\", not {value:?}", file.display())]
    StdlibValue {
        /// The pyproject file.
        file: PathBuf,
        /// The value found.
        value: String,
    },
    /// `[tool.pyedge.secrets]`, `runtime-config` or `config-store` do not fit together.
    #[error("{}: {why}", file.display())]
    RuntimeConfig {
        /// The pyproject file.
        file: PathBuf,
        /// What is wrong.
        why: String,
    },
    /// `[tool.pyedge] origin` is not an absolute http(s) URL.
    #[error("{}: [tool.pyedge] origin {why}", file.display())]
    Origin {
        /// The pyproject file.
        file: PathBuf,
        /// What is wrong with it.
        why: String,
    },
}

/// How deep tables, arrays and dotted keys may nest in `pyproject.toml`: the TOML
/// reader's own limit (a test pins it), so deep nesting is an error, never a stack overflow.
pub const MAX_TOML_NESTING: usize = 80;

/// Parse `pyproject.toml` text; errors name the file (`shown`) and exit 2.
pub fn parse_project_toml(text: &str, shown: &str) -> Result<toml::Table, ProjectError> {
    toml::from_str(text).map_err(|err| {
        if err.message().contains("recursion limit") {
            let at = err.span().and_then(|span| text.get(..span.start));
            return ProjectError::TomlDepth {
                file: shown.to_string(),
                line: at.map_or(1, |before| before.matches('\n').count() + 1),
                limit: MAX_TOML_NESTING,
            };
        }
        ProjectError::Toml {
            file: shown.to_string(),
            detail: err.to_string(),
        }
    })
}

/// The app's `pyproject.toml`, read and parsed once per build: the configuration
/// (`[tool.pyedge]`, [`resolve_app_config`]) and the dependency stage
/// (`[project] dependencies`, `crate::deps::requirements`) both take it from here.
#[derive(Debug, Clone)]
pub struct ProjectFile {
    /// The file.
    pub path: PathBuf,
    /// Its text (the dependency stage finds each requirement's line in it).
    pub text: String,
    /// Its parsed table.
    pub doc: toml::Table,
}

impl ProjectFile {
    /// `[project] name`.
    pub fn name(&self) -> Option<&str> {
        self.doc.get("project")?.get("name")?.as_str()
    }

    /// `[project] version`.
    pub fn version(&self) -> Option<&str> {
        self.doc.get("project")?.get("version")?.as_str()
    }
}

/// Read and parse `APP_DIR/pyproject.toml`; `None` when there is none.
pub fn read_project(app_dir: &Path) -> Result<Option<ProjectFile>, ProjectError> {
    let path = app_dir.join("pyproject.toml");
    let text = match read_project_file(&path, MAX_PROJECT_FILE_BYTES) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(ProjectError::Read { path, source }),
    };
    let doc = parse_project_toml(&text, &path.display().to_string())?;
    Ok(Some(ProjectFile { path, text, doc }))
}

/// The `[tool.pyedge]` table of `pyproject.toml` text (`shown` names it in messages).
pub fn parse_tool_config(text: &str, shown: &str) -> Result<ToolConfig, ProjectError> {
    tool_config(&parse_project_toml(text, shown)?, shown)
}

/// The `[tool.pyedge]` table of a parsed `pyproject.toml`.
fn tool_config(doc: &toml::Table, shown: &str) -> Result<ToolConfig, ProjectError> {
    let Some(tool) = doc.get("tool").and_then(|t| t.get("pyedge")) else {
        return Ok(ToolConfig::default());
    };
    tool.clone()
        .try_into()
        .map_err(|err: toml::de::Error| ProjectError::ToolTable {
            file: shown.to_string(),
            detail: err.to_string(),
        })
}

/// Merge command-line values over the pyproject configuration and check the entry exists.
pub fn resolve_app_config(
    app_dir: &Path,
    project: Option<&ProjectFile>,
    entry: Option<&str>,
    interface: Option<Interface>,
    budget: Option<&str>,
) -> Result<AppConfig, ProjectError> {
    if !app_dir.is_dir() {
        return Err(ProjectError::AppDirMissing(app_dir.to_path_buf()));
    }
    let tool = match project {
        Some(project) => tool_config(&project.doc, &project.path.display().to_string())?,
        None => ToolConfig::default(),
    };
    let entry = entry.or(tool.entry.as_deref()).unwrap_or("app");
    let (module, entry_attr) = split_entry(entry)?;
    let (entry_module, entry_path) = entry_file(app_dir, module)?;
    let budget = match budget.or(tool.budget.as_deref()) {
        Some(text) => parse_size(text).map_err(ProjectError::Budget)?,
        None => DEFAULT_BUDGET,
    };
    let stdlib = match tool.stdlib.as_deref() {
        None | Some("reachable") => StdlibSelection::Reachable(tool.stdlib_include.clone()),
        Some("all") => StdlibSelection::All,
        Some(other) => {
            return Err(ProjectError::StdlibValue {
                file: app_dir.join("pyproject.toml"),
                value: other.to_string(),
            })
        }
    };
    let runtime_config = tool.runtime_config.unwrap_or_default();
    check_runtime_config(&tool, runtime_config).map_err(|why| ProjectError::RuntimeConfig {
        file: app_dir.join("pyproject.toml"),
        why,
    })?;
    let origin = tool
        .origin
        .map(|url| check_origin(&url).map(|()| url))
        .transpose()
        .map_err(|why| ProjectError::Origin {
            file: app_dir.join("pyproject.toml"),
            why,
        })?;
    Ok(AppConfig {
        stdlib,
        origin,
        runtime_config,
        config_store: tool.config_store.unwrap_or_default(),
        secrets: tool.secrets,
        preimport: tool.preimport.unwrap_or_default(),
        preimport_names: Vec::new(),
        lazy_bytecode: tool.lazy_bytecode.unwrap_or(true),
        allowed_outbound_hosts: tool.allowed_outbound_hosts,
        app_dir: app_dir.to_path_buf(),
        entry_module,
        entry_path,
        entry_attr,
        interface: interface.or(tool.interface).unwrap_or_default(),
        lifespan: tool.lifespan.unwrap_or_default(),
        log_format: tool.log_format.unwrap_or_default(),
        include: tool.include,
        exclude: tool.exclude,
        allow_secrets: tool.allow_secrets,
        skip_files: Vec::new(),
        budget,
        settings: tool.config,
    })
}

/// Secrets need a host to come from, never have a build-time value, and, for Spin, have
/// names its variables can carry.
fn check_runtime_config(tool: &ToolConfig, mode: RuntimeConfig) -> Result<(), String> {
    let secrets: Vec<&str> = tool.secrets.keys().map(String::as_str).collect();
    if mode == RuntimeConfig::None && !secrets.is_empty() {
        return Err(format!(
            "[tool.pyedge.secrets] declares {} but runtime-config is \"none\": secrets come \
             from the host at run time; set [tool.pyedge] runtime-config = \"env\" or \
             \"wasi-config\"",
            secrets.join(", ")
        ));
    }
    if let Some(name) = secrets.iter().find(|name| tool.config.contains_key(**name)) {
        return Err(format!(
            "{name} is both in [tool.pyedge.secrets] and in [tool.pyedge.config]: a secret never \
             gets a build-time value (it would ship in the artifact); remove it from \
             [tool.pyedge.config]"
        ));
    }
    for name in &secrets {
        if name.is_empty() || name.contains(['=', '\0', '\n']) {
            return Err(format!(
                "[tool.pyedge.secrets] name {name:?} is not a valid configuration name"
            ));
        }
    }
    if tool.config_store.is_some() && mode != RuntimeConfig::WasiConfig {
        return Err(format!(
            "config-store chooses the wasi:config/store version, which only \
             runtime-config = \"wasi-config\" imports (runtime-config is \"{}\")",
            mode.name()
        ));
    }
    // Spin's variables are lower-case letters, digits and underscores, starting with a
    // letter; its wasi:config/store answers only for such names.
    if mode == RuntimeConfig::WasiConfig && tool.config_store == Some(ConfigStore::Spin) {
        let spin_name = |name: &str| {
            name.starts_with(|c: char| c.is_ascii_lowercase())
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                && !name.ends_with('_')
                && !name.contains("__")
        };
        let mut names = secrets
            .iter()
            .copied()
            .chain(tool.config.keys().map(String::as_str));
        if let Some(bad) = names.find(|name| !spin_name(name)) {
            return Err(format!(
                "{bad:?} cannot be a Spin variable (config-store = \"spin\"): Spin's variable \
                 names are lower-case letters, digits and single underscores, starting with a \
                 letter and ending with a letter or digit"
            ));
        }
    }
    Ok(())
}

/// `[tool.pyedge] origin` must be `http(s)://authority[/path]`, without query or fragment
/// (the forwarded request's path and query are appended to it).
fn check_origin(url: &str) -> std::result::Result<(), String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| format!("must start with http:// or https://, not {url:?}"))?;
    if rest.is_empty() || rest.starts_with('/') {
        return Err(format!("has no host: {url:?}"));
    }
    if url.contains(['?', '#']) || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "must be a plain URL (no query, fragment or spaces): {url:?}"
        ));
    }
    Ok(())
}

/// Whether `text` is a dotted name of Python identifiers (`app`, `pkg.main`).
fn is_dotted_name(text: &str) -> bool {
    !text.is_empty()
        && text.split('.').all(|part| {
            part.chars()
                .next()
                .is_some_and(|c| c.is_alphabetic() || c == '_')
                && part.chars().all(|c| c.is_alphanumeric() || c == '_')
        })
}

/// Split `module:attribute` (uvicorn's and gunicorn's form) into its two parts.
fn split_entry(entry: &str) -> Result<(&str, Option<String>), ProjectError> {
    match entry.split_once(':') {
        None => Ok((entry, None)),
        Some((module, attr)) if is_dotted_name(attr) => Ok((module, Some(attr.to_string()))),
        Some(_) => Err(ProjectError::EntryName(entry.to_string())),
    }
}

/// Turn `app`, `pkg.main` or `app.py` into (module name, relative file path).
fn entry_file(app_dir: &Path, entry: &str) -> Result<(String, String), ProjectError> {
    let module = entry.strip_suffix(".py").unwrap_or(entry).replace('/', ".");
    if !is_dotted_name(&module) {
        return Err(ProjectError::EntryName(entry.to_string()));
    }
    let base = module.replace('.', "/");
    for candidate in [format!("{base}.py"), format!("{base}/__init__.py")] {
        if app_dir.join(&candidate).is_file() {
            return Ok((module, candidate));
        }
    }
    Err(ProjectError::EntryMissing(
        app_dir.join(format!("{base}.py")),
    ))
}

/// Parse a size like `50MB`, `1.5 MiB`, `800KB` or `123456` into bytes.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a size like 50MB"))?;
    let scale = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "m" | "mb" => 1e6,
        "g" | "gb" => 1e9,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        other => return Err(format!("unknown size unit {other:?} in {text:?}")),
    };
    Ok((number * scale).round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_takes_an_app_object_as_uvicorn_does() {
        assert_eq!(split_entry("app").unwrap(), ("app", None));
        assert_eq!(
            split_entry("pkg.main:api").unwrap(),
            ("pkg.main", Some("api".to_string()))
        );
        assert_eq!(
            split_entry("app:factory.app").unwrap(),
            ("app", Some("factory.app".to_string()))
        );
        for bad in ["app:", "app:create()", "app:1x", "app:a:b"] {
            assert!(
                matches!(split_entry(bad), Err(ProjectError::EntryName(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn interface_and_lifespan_read_from_pyproject() {
        let tool = parse_tool_config(
            "[tool.pyedge]\nentry = \"app:app\"\ninterface = \"asgi\"\nlifespan = \"off\"\n",
            "pyproject.toml",
        )
        .unwrap();
        assert_eq!(tool.interface, Some(Interface::Asgi));
        assert_eq!(tool.lifespan, Some(Lifespan::Off));
    }

    #[test]
    fn sizes_parse_with_decimal_and_binary_units() {
        assert_eq!(parse_size("50MB"), Ok(50_000_000));
        assert_eq!(parse_size("1 MiB"), Ok(1_048_576));
        assert_eq!(parse_size("1.5kb"), Ok(1500));
        assert_eq!(parse_size("42"), Ok(42));
        assert!(parse_size("ten MB").is_err());
        assert!(parse_size("5 parsecs").is_err());
    }
}
