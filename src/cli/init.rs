//! `pyedge init [DIR] --template http|cli|wsgi|asgi`: a working app to start from, and
//! `pyedge sdk-path`: pyedge's Python SDK on the host, for that app's own tests.

use super::Printer;
use anyhow::Result;
use std::path::{Path, PathBuf};

/// `pyedge init` arguments.
#[derive(clap::Args, Debug)]
pub struct InitArgs {
    /// Where to write the app (created if missing; default: the current directory).
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// What kind of app.
    #[arg(long, short, value_enum, default_value = "http")]
    pub template: Template,
    /// The project's name in pyproject.toml (default: the directory's name).
    #[arg(long)]
    pub name: Option<String>,
    /// Write into a directory that is not empty (files of the same name are replaced).
    #[arg(long)]
    pub force: bool,
}

/// The app templates.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Template {
    /// A wasi:http handler, `handle_request(request)` (Spin style).
    Http,
    /// A command-line app: `main()` with `sys.argv`, under `wasmtime run`.
    Cli,
    /// A Flask app (WSGI) served over wasi:http.
    Wsgi,
    /// A Starlette app (ASGI) served over wasi:http.
    Asgi,
}

/// The shape of one template: its own files and what pyproject.toml says.
struct TemplateSpec {
    kind: &'static str,
    entry: &'static str,
    /// `[project] dependencies` (pinned to a lower bound the runtime is tested with).
    dependencies: &'static [&'static str],
    /// What the host-side tests need beside pytest and the dependencies.
    host_test_deps: &'static [&'static str],
    app_py: &'static str,
    test_py: &'static str,
    conftest_py: &'static str,
    next: &'static str,
}

const PLAIN_CONFTEST: &str = include_str!("../templates/common/conftest_plain.py");

impl Template {
    fn spec(self) -> TemplateSpec {
        match self {
            Template::Http => TemplateSpec {
                kind: "a wasi:http handler",
                entry: "app",
                dependencies: &[],
                host_test_deps: &[],
                app_py: include_str!("../templates/http/app.py"),
                test_py: include_str!("../templates/http/tests/test_app.py"),
                conftest_py: include_str!("../templates/http/tests/conftest.py"),
                next: "pyedge serve app.wasm",
            },
            Template::Cli => TemplateSpec {
                kind: "a command-line app",
                entry: "app",
                dependencies: &[],
                host_test_deps: &[],
                app_py: include_str!("../templates/cli/app.py"),
                test_py: include_str!("../templates/cli/tests/test_app.py"),
                conftest_py: PLAIN_CONFTEST,
                next: "wasmtime run app.wasm Ada",
            },
            Template::Wsgi => TemplateSpec {
                kind: "a Flask app over WSGI",
                entry: "app:app",
                dependencies: &["flask>=3.1"],
                host_test_deps: &[],
                app_py: include_str!("../templates/wsgi/app.py"),
                test_py: include_str!("../templates/wsgi/tests/test_app.py"),
                conftest_py: PLAIN_CONFTEST,
                next: "pyedge serve app.wasm",
            },
            Template::Asgi => TemplateSpec {
                kind: "a Starlette app over ASGI",
                entry: "app:app",
                dependencies: &["starlette>=0.50"],
                host_test_deps: &["httpx"],
                app_py: include_str!("../templates/asgi/app.py"),
                test_py: include_str!("../templates/asgi/tests/test_app.py"),
                conftest_py: PLAIN_CONFTEST,
                next: "pyedge serve app.wasm",
            },
        }
    }
}

/// What `pyedge init` refuses (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// The directory holds files and `--force` was not given.
    #[error(
        "{} is not empty ({entries}): pass --force to write the template into it \
         (files of the same name are replaced), or name a new directory",
        dir.display()
    )]
    NotEmpty {
        /// The directory.
        dir: PathBuf,
        /// A few of its entries.
        entries: String,
    },
    /// The target exists and is not a directory.
    #[error("{} exists and is not a directory", dir.display())]
    NotADirectory {
        /// The path.
        dir: PathBuf,
    },
    /// No usable project name.
    #[error(
        "{name:?} is not a valid project name: use letters, digits, '-', '_' and '.', \
         starting and ending with a letter or digit (--name NAME)"
    )]
    BadName {
        /// The name tried.
        name: String,
    },
}

/// The files of a template for a project named `name`, as (relative path, content).
pub fn template_files(template: Template, name: &str) -> Vec<(&'static str, String)> {
    let spec = template.spec();
    let quoted = |items: &[&str]| {
        items
            .iter()
            .map(|d| format!("\"{d}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let fill = |text: &str| {
        text.replace("{{name}}", name)
            .replace("{{kind}}", spec.kind)
            .replace("{{entry}}", spec.entry)
            .replace(
                "{{description}}",
                &format!("{} built with pyedge", spec.kind),
            )
            .replace("{{dependencies}}", &quoted(spec.dependencies))
            .replace("{{version}}", env!("CARGO_PKG_VERSION"))
            .replace(
                "{{host_test_deps}}",
                &spec
                    .host_test_deps
                    .iter()
                    .map(|d| format!(" {d}"))
                    .collect::<String>(),
            )
    };
    vec![
        ("app.py", fill(spec.app_py)),
        (
            "pyproject.toml",
            fill(include_str!("../templates/common/pyproject.toml")),
        ),
        ("tests/conftest.py", spec.conftest_py.to_string()),
        ("tests/test_app.py", spec.test_py.to_string()),
        (
            ".gitignore",
            include_str!("../templates/common/gitignore").to_string(),
        ),
        (
            ".github/workflows/edge.yml",
            fill(include_str!("../templates/common/edge.yml")),
        ),
    ]
}

/// A PEP 508 project name from a directory name: runs of other characters become '-'.
fn project_name(raw: &str) -> Option<String> {
    let mut name = String::new();
    for c in raw.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
            name.push(c);
        } else if !name.ends_with('-') {
            name.push('-');
        }
    }
    let name = name
        .trim_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_string();
    (!name.is_empty()).then_some(name)
}

/// Run `pyedge init`.
pub fn run(args: &InitArgs, printer: &Printer) -> Result<()> {
    let dir = std::path::absolute(&args.dir)?;
    let name = match &args.name {
        Some(name) => {
            let valid = project_name(name).filter(|n| n == name);
            valid.ok_or_else(|| InitError::BadName { name: name.clone() })?
        }
        None => {
            let base = dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            project_name(&base).unwrap_or_else(|| "app".to_string())
        }
    };
    check_target(&dir, args.force)?;
    let files = template_files(args.template, &name);
    write_files(&dir, &files)?;
    let shown = if args.dir == Path::new(".") {
        String::new()
    } else {
        format!("cd {} && ", args.dir.display())
    };
    let spec = args.template.spec();
    let lock = if spec.dependencies.is_empty() {
        ""
    } else {
        "  pyedge lock               # and commit pyedge.lock: CI builds with --locked\n"
    };
    printer.out(&format!(
        "wrote {} ({}) in {}: {}\n\nnext:\n  {shown}pyedge build && {}\n{lock}  \
         python -m pytest          # the tests, on the host\n",
        name,
        spec.kind,
        dir.display(),
        files.iter().map(|(p, _)| *p).collect::<Vec<_>>().join(", "),
        spec.next,
    ))?;
    Ok(())
}

fn check_target(dir: &Path, force: bool) -> Result<(), InitError> {
    if dir.exists() && !dir.is_dir() {
        return Err(InitError::NotADirectory {
            dir: dir.to_path_buf(),
        });
    }
    if force {
        return Ok(());
    }
    let mut entries: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    if entries.is_empty() {
        return Ok(());
    }
    entries.sort();
    let more = entries.len().saturating_sub(3);
    entries.truncate(3);
    let mut shown = entries.join(", ");
    if more > 0 {
        shown.push_str(&format!(" and {more} more"));
    }
    Err(InitError::NotEmpty {
        dir: dir.to_path_buf(),
        entries: shown,
    })
}

/// Each file through a temporary file and a rename: an interrupted init leaves whole files.
fn write_files(dir: &Path, files: &[(&str, String)]) -> Result<()> {
    for (rel, content) in files {
        let path = dir.join(rel);
        let parent = path.parent().unwrap_or(dir);
        std::fs::create_dir_all(parent)?;
        let mut tmp = tempfile::NamedTempFile::new_in(parent)?;
        std::io::Write::write_all(&mut tmp, content.as_bytes())?;
        tmp.persist(&path)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {}", path.display(), e.error))?;
    }
    Ok(())
}

/// `pyedge sdk-path` arguments.
#[derive(clap::Args, Debug)]
pub struct SdkPathArgs {}

/// The Python files `pyedge sdk-path` lays out: the SDK a component carries (`pyedge`,
/// `spin_sdk`), with the boot module's host stand-in. Not `ssl.py` (it would shadow the
/// host's) nor pyedge's `cryptography` (the host has the real one).
fn host_sdk_files() -> Vec<(&'static str, &'static str)> {
    let mut files: Vec<_> = crate::runtime::SDK_FILES
        .iter()
        .copied()
        .filter(|(rel, _)| *rel != "ssl.py")
        .collect();
    files.push(crate::runtime::LOGS_FILE);
    files.push(crate::runtime::HOST_BOOT_FILE);
    files
}

/// Run `pyedge sdk-path`: write the SDK under the cache dir (once per content, through a
/// temporary directory and a rename) and print the directory to put on `sys.path`.
pub fn run_sdk_path(_args: &SdkPathArgs, printer: &Printer) -> Result<()> {
    let files = host_sdk_files();
    let mut hasher = <sha2::Sha256 as sha2::Digest>::new();
    for (rel, text) in &files {
        sha2::Digest::update(&mut hasher, rel.as_bytes());
        sha2::Digest::update(&mut hasher, [0]);
        sha2::Digest::update(&mut hasher, text.as_bytes());
        sha2::Digest::update(&mut hasher, [0]);
    }
    let digest = hex::encode(sha2::Digest::finalize(hasher));
    let root = crate::engine::cache_dir().join("sdk");
    let dir = root.join(&digest[..16]);
    if !dir.is_dir() {
        std::fs::create_dir_all(&root)?;
        let tmp = tempfile::TempDir::new_in(&root)?;
        for (rel, text) in &files {
            let path = tmp.path().join(rel);
            std::fs::create_dir_all(path.parent().unwrap_or(tmp.path()))?;
            std::fs::write(&path, text)?;
        }
        // Another process may have won the race: its copy is the same.
        if std::fs::rename(tmp.path(), &dir).is_err() && !dir.is_dir() {
            anyhow::bail!("cannot write pyedge's SDK under {}", root.display());
        }
    }
    printer.out(&format!("{}\n", dir.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_names_from_directory_names() {
        assert_eq!(project_name("my app!").as_deref(), Some("my-app"));
        assert_eq!(project_name("edge_api.v2").as_deref(), Some("edge_api.v2"));
        assert_eq!(project_name("--x--").as_deref(), Some("x"));
        assert_eq!(project_name("!!!"), None);
    }

    #[test]
    fn templates_fill_every_placeholder_and_parse() {
        for template in [
            Template::Http,
            Template::Cli,
            Template::Wsgi,
            Template::Asgi,
        ] {
            let files = template_files(template, "demo");
            for (rel, text) in &files {
                assert!(!text.contains("{{"), "{template:?} {rel}: {text}");
            }
            let pyproject = &files
                .iter()
                .find(|(r, _)| *r == "pyproject.toml")
                .unwrap()
                .1;
            let doc: toml::Table = toml::from_str(pyproject).expect("pyproject parses");
            assert_eq!(doc["project"]["name"].as_str(), Some("demo"));
            let tool = crate::config::parse_tool_config(pyproject, "pyproject.toml");
            assert!(tool.is_ok(), "{template:?}: {tool:?}");
        }
    }
}
