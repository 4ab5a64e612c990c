//! What the app asks for: `[project].dependencies` (plus `--extra` groups from
//! `[project.optional-dependencies]`) in `pyproject.toml`, or `requirements.txt`.
//!
//! `pyproject.toml` wins when it declares dependencies; otherwise `requirements.txt` is
//! read, with pip's syntax: `-r` includes, `--hash=sha256:...`, extras, markers, comments,
//! `\` continuations and `--index-url` / `--extra-index-url` / `--find-links` /
//! `--no-index` / `--pre` lines. Every error names `file:line` and exits 2.

use super::markers::target_environment;
use crate::error::{failure, Exit};
use anyhow::Result;
use pep508_rs::VersionOrUrl;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// A PEP 508 requirement.
pub type Requirement = pep508_rs::Requirement<pep508_rs::VerbatimUrl>;

/// Name of the requirements file read when `pyproject.toml` declares no dependencies.
pub const REQUIREMENTS_TXT: &str = "requirements.txt";

/// One requirement as the user wrote it, with where it was written.
#[derive(Debug, Clone)]
pub struct DeclaredRequirement {
    /// The parsed requirement.
    pub requirement: Requirement,
    /// `file:line`, relative to the app directory when inside it.
    pub origin: String,
    /// Allowed sha256 digests (lower-case hex) from `--hash`; empty means any.
    pub hashes: Vec<String>,
}

/// Index and file options found in a requirements file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceOptions {
    /// `--index-url` / `-i`.
    pub index_url: Option<String>,
    /// `--extra-index-url`.
    pub extra_index_urls: Vec<String>,
    /// `--find-links` / `-f` directories (resolved against the file's directory).
    pub find_links: Vec<PathBuf>,
    /// `--no-index`.
    pub no_index: bool,
    /// `--pre`: allow pre-releases everywhere.
    pub pre: bool,
}

/// Everything the app declares about its dependencies.
#[derive(Debug, Clone)]
pub struct Declared {
    /// The app's name (`[project].name`, else `app`): the first link of every chain.
    pub app_name: String,
    /// The file the requirements came from.
    pub file: PathBuf,
    /// All declared requirements, including those whose markers exclude the target.
    pub requirements: Vec<DeclaredRequirement>,
    /// Source options from the requirements file.
    pub sources: SourceOptions,
}

impl Declared {
    /// Requirements whose markers hold on the target (wasm32-wasi, CPython 3.13).
    pub fn active(&self) -> impl Iterator<Item = &DeclaredRequirement> {
        self.requirements
            .iter()
            .filter(|r| r.requirement.evaluate_markers(target_environment(), &[]))
    }

    /// The declared requirements in a canonical, sorted form: what a lock file is for.
    pub fn fingerprint(&self) -> Vec<String> {
        let mut lines: Vec<String> = self
            .requirements
            .iter()
            .map(|r| r.requirement.to_string())
            .collect();
        lines.sort();
        lines.dedup();
        lines
    }
}

/// Read the app's declared dependencies; `None` when it declares none.
pub fn read_declared(app_dir: &Path, extras: &[String]) -> Result<Option<Declared>> {
    let pyproject = app_dir.join("pyproject.toml");
    let project = match std::fs::read_to_string(&pyproject) {
        Ok(text) => Some(read_pyproject(app_dir, &pyproject, &text, extras)?),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
        Err(err) => return Err(usage(format!("cannot read {}: {err}", pyproject.display()))),
    };
    let app_name = project
        .as_ref()
        .and_then(|p| p.name.clone())
        .unwrap_or_else(|| "app".to_string());
    if let Some(project) = project.filter(|p| !p.requirements.is_empty()) {
        return Ok(Some(Declared {
            app_name,
            file: pyproject,
            requirements: project.requirements,
            sources: SourceOptions::default(),
        }));
    }
    let txt = app_dir.join(REQUIREMENTS_TXT);
    if !txt.is_file() {
        return Ok(None);
    }
    if !extras.is_empty() {
        return Err(usage(format!(
            "--extra needs [project.optional-dependencies] in {}; {} has no extras",
            pyproject.display(),
            REQUIREMENTS_TXT
        )));
    }
    let (requirements, sources) = parse_requirements_file(&txt, app_dir)?;
    Ok((!requirements.is_empty()).then_some(Declared {
        app_name,
        file: txt,
        requirements,
        sources,
    }))
}

fn usage(message: String) -> anyhow::Error {
    failure(Exit::Usage, message)
}

/// What `pyproject.toml` declares.
struct Project {
    name: Option<String>,
    requirements: Vec<DeclaredRequirement>,
}

fn read_pyproject(app_dir: &Path, path: &Path, text: &str, extras: &[String]) -> Result<Project> {
    let shown = display_path(path, app_dir);
    let doc: toml::Table =
        toml::from_str(text).map_err(|err| usage(format!("{shown}: invalid TOML: {err}")))?;
    let project = doc.get("project").and_then(|p| p.as_table());
    let name = project
        .and_then(|p| p.get("name"))
        .and_then(|n| n.as_str())
        .map(str::to_string);
    let mut lists = vec![(
        "[project].dependencies".to_string(),
        project.and_then(|p| p.get("dependencies")),
    )];
    let optional = project
        .and_then(|p| p.get("optional-dependencies"))
        .and_then(|o| o.as_table());
    for extra in extras {
        let group =
            find_extra(optional, extra).ok_or_else(|| unknown_extra(&shown, extra, optional))?;
        lists.push((
            format!("[project.optional-dependencies].{extra}"),
            Some(group),
        ));
    }
    let mut requirements = Vec::new();
    for (key, value) in lists {
        let Some(value) = value else { continue };
        let items = value
            .as_array()
            .ok_or_else(|| usage(format!("{shown}: {key} must be an array of strings")))?;
        for item in items {
            let line = item
                .as_str()
                .ok_or_else(|| usage(format!("{shown}: {key} must be an array of strings")))?;
            let origin = format!("{shown}:{}", line_of(text, line));
            requirements.push(parse_requirement(line, &origin, Vec::new())?);
        }
    }
    Ok(Project { name, requirements })
}

/// Extras are compared normalized (`Crypto` and `crypto` are the same extra).
fn find_extra<'a>(optional: Option<&'a toml::Table>, extra: &str) -> Option<&'a toml::Value> {
    let wanted = pep508_rs::ExtraName::from_str(extra).ok()?;
    optional?
        .iter()
        .find(|(key, _)| pep508_rs::ExtraName::from_str(key).is_ok_and(|k| k == wanted))
        .map(|(_, value)| value)
}

fn unknown_extra(shown: &str, extra: &str, optional: Option<&toml::Table>) -> anyhow::Error {
    let known: Vec<&str> = optional
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    let known = if known.is_empty() {
        "none".to_string()
    } else {
        known.join(", ")
    };
    usage(format!(
        "--extra {extra}: {shown} has no [project.optional-dependencies] group `{extra}` (known: {known})"
    ))
}

/// The 1-based line where a dependency string is written, best effort (1 when not found).
fn line_of(text: &str, value: &str) -> usize {
    ["\"", "'"]
        .iter()
        .find_map(|q| text.find(&format!("{q}{value}{q}")))
        .map(|at| text[..at].matches('\n').count() + 1)
        .unwrap_or(1)
}

/// A path as shown in messages: relative to the app directory when inside it.
pub fn display_path(path: &Path, app_dir: &Path) -> String {
    path.strip_prefix(app_dir)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Parse one PEP 508 requirement, refusing what pyedge cannot install.
pub fn parse_requirement(
    text: &str,
    origin: &str,
    hashes: Vec<String>,
) -> Result<DeclaredRequirement> {
    let requirement = Requirement::from_str(text)
        .map_err(|err| usage(format!("{origin}: invalid requirement `{text}`: {err}")))?;
    if let Some(VersionOrUrl::Url(url)) = &requirement.version_or_url {
        return Err(usage(format!(
            "{origin}: `{text}`: direct URL requirements ({url}) are not supported; \
             put the wheel in a directory and pass it with --find-links"
        )));
    }
    Ok(DeclaredRequirement {
        requirement,
        origin: origin.to_string(),
        hashes,
    })
}

/// Parse a requirements file and everything it includes with `-r`.
pub fn parse_requirements_file(
    path: &Path,
    app_dir: &Path,
) -> Result<(Vec<DeclaredRequirement>, SourceOptions)> {
    let mut parser = TxtParser {
        app_dir,
        stack: Vec::new(),
        requirements: Vec::new(),
        sources: SourceOptions::default(),
    };
    parser.parse_file(path, None)?;
    Ok((parser.requirements, parser.sources))
}

struct TxtParser<'a> {
    app_dir: &'a Path,
    /// Files being read, to refuse `-r` cycles.
    stack: Vec<PathBuf>,
    requirements: Vec<DeclaredRequirement>,
    sources: SourceOptions,
}

impl TxtParser<'_> {
    fn parse_file(&mut self, path: &Path, included_from: Option<&str>) -> Result<()> {
        let shown = display_path(path, self.app_dir);
        let at = included_from.map(|o| format!("{o}: ")).unwrap_or_default();
        let text = std::fs::read_to_string(path)
            .map_err(|err| usage(format!("{at}cannot read {shown}: {err}")))?;
        let canonical = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        if self.stack.contains(&canonical) {
            return Err(usage(format!("{at}{shown} includes itself (-r cycle)")));
        }
        self.stack.push(canonical);
        for (line_no, line) in logical_lines(&text) {
            let origin = format!("{shown}:{line_no}");
            self.parse_line(path, &origin, &line)?;
        }
        self.stack.pop();
        Ok(())
    }

    fn parse_line(&mut self, file: &Path, origin: &str, line: &str) -> Result<()> {
        if !line.starts_with('-') {
            let (requirement, options) = split_requirement_options(line);
            let hashes = parse_hashes(options, origin)?;
            self.requirements
                .push(parse_requirement(requirement, origin, hashes)?);
            return Ok(());
        }
        let (option, value) = split_option(line);
        let dir = file.parent().unwrap_or(Path::new("."));
        let needs_value = || {
            value
                .map(str::to_string)
                .ok_or_else(|| usage(format!("{origin}: `{option}` needs a value")))
        };
        match option {
            "-r" | "--requirement" => {
                let included = dir.join(needs_value()?);
                self.parse_file(&included, Some(origin))?;
            }
            "-i" | "--index-url" => self.sources.index_url = Some(needs_value()?),
            "--extra-index-url" => self.sources.extra_index_urls.push(needs_value()?),
            "-f" | "--find-links" => {
                let value = needs_value()?;
                if value.contains("://") {
                    return Err(usage(format!(
                        "{origin}: --find-links {value}: only local directories are supported"
                    )));
                }
                self.sources.find_links.push(dir.join(value));
            }
            "--no-index" => self.sources.no_index = true,
            "--pre" => self.sources.pre = true,
            // Options that change nothing for pyedge: it always uses binaries and verifies hashes.
            "--only-binary" | "--prefer-binary" | "--require-hashes" | "--trusted-host" => {}
            "-e" | "--editable" => {
                return Err(usage(format!(
                    "{origin}: editable requirements are not supported; put the code in the app \
                     directory or build a wheel and use --find-links"
                )))
            }
            _ => return Err(usage(format!("{origin}: unsupported option `{option}`"))),
        }
        Ok(())
    }
}

/// Join `\` continuations and drop comments and blank lines; each line keeps the number
/// of the physical line it starts on.
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    for (index, raw) in text.lines().enumerate() {
        let (start, mut joined) = pending.take().unwrap_or((index + 1, String::new()));
        let trimmed = raw.trim_end();
        if let Some(head) = trimmed.strip_suffix('\\') {
            joined.push_str(head);
            pending = Some((start, joined));
            continue;
        }
        joined.push_str(trimmed);
        push_logical(&mut out, start, &joined);
    }
    if let Some((start, joined)) = pending {
        push_logical(&mut out, start, &joined);
    }
    out
}

fn push_logical(out: &mut Vec<(usize, String)>, line_no: usize, line: &str) {
    let line = strip_comment(line).trim();
    if !line.is_empty() {
        out.push((line_no, line.to_string()));
    }
}

/// pip's rule: `#` starts a comment at the beginning of a line or after whitespace (so a
/// URL fragment like `#sha256=` is kept).
fn strip_comment(line: &str) -> &str {
    let bytes = line.as_bytes();
    let cut = (0..bytes.len())
        .find(|&i| bytes[i] == b'#' && (i == 0 || bytes[i - 1].is_ascii_whitespace()));
    &line[..cut.unwrap_or(line.len())]
}

/// `-r file`, `-rfile`, `--requirement=file`, `--no-index` → (option, value).
fn split_option(line: &str) -> (&str, Option<&str>) {
    if let Some((option, value)) = line
        .split_once('=')
        .filter(|(o, _)| o.starts_with("--") && !o.contains(' '))
    {
        return (option, Some(value.trim()));
    }
    let (option, rest) = match line.split_once(char::is_whitespace) {
        Some((option, rest)) => (option, Some(rest.trim())),
        None => (line, None),
    };
    // Short options may be glued to their value: `-rbase.txt`.
    if !option.starts_with("--") && option.len() > 2 && rest.is_none() {
        return (&line[..2], Some(&line[2..]));
    }
    (option, rest.filter(|r| !r.is_empty()))
}

/// Split `pkg>=1 ; marker --hash=sha256:...` into the requirement and its options.
fn split_requirement_options(line: &str) -> (&str, &str) {
    let bytes = line.as_bytes();
    let at = (1..bytes.len())
        .find(|&i| bytes[i - 1].is_ascii_whitespace() && line[i..].starts_with("--"));
    match at {
        Some(at) => (line[..at].trim(), &line[at..]),
        None => (line.trim(), ""),
    }
}

/// `--hash=sha256:HEX --hash sha256:HEX` → lower-case hex digests.
fn parse_hashes(options: &str, origin: &str) -> Result<Vec<String>> {
    let mut hashes = Vec::new();
    let mut tokens = options.split_whitespace();
    while let Some(token) = tokens.next() {
        let value = match token.split_once('=') {
            Some(("--hash", value)) => value.to_string(),
            None if token == "--hash" => tokens
                .next()
                .ok_or_else(|| usage(format!("{origin}: `--hash` needs a value")))?
                .to_string(),
            _ => {
                return Err(usage(format!(
                    "{origin}: unsupported per-requirement option `{token}`"
                )))
            }
        };
        hashes.push(parse_hash(&value, origin)?);
    }
    Ok(hashes)
}

fn parse_hash(value: &str, origin: &str) -> Result<String> {
    let digest = value.strip_prefix("sha256:").ok_or_else(|| {
        usage(format!(
            "{origin}: --hash {value}: only sha256 hashes are supported"
        ))
    })?;
    let valid = digest.len() == 64 && digest.chars().all(|c| c.is_ascii_hexdigit());
    if !valid {
        return Err(usage(format!(
            "{origin}: --hash {value}: not a sha256 hex digest"
        )));
    }
    Ok(digest.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::exit_code_of;
    use std::fs;

    const HASH: &str = "0f343b0f5f2ec1e1f2e3e6a5c4a2d4e2b2f9a7d2c7e1b1c3a4d5e6f708192a3b";

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        fs::write(&path, text).expect("write");
        path
    }

    #[test]
    fn reads_pip_syntax() {
        let dir = tempfile::tempdir().expect("tempdir");
        write(dir.path(), "base.txt", "attrs>=23  # trailing comment\n");
        let txt = write(
            dir.path(),
            "requirements.txt",
            &format!(
                "# comment\n--index-url http://127.0.0.1:1/simple\n-f wheels\n-r base.txt\n\
                 pyjwt[crypto] >= 2.8 ; python_version >= \"3.8\" \\\n    --hash=sha256:{HASH}\n\
                 uvloop; sys_platform != \"wasi\"\n\n--no-index\n"
            ),
        );
        let (reqs, sources) = parse_requirements_file(&txt, dir.path()).expect("parse");
        let names: Vec<_> = reqs
            .iter()
            .map(|r| r.requirement.name.to_string())
            .collect();
        assert_eq!(names, ["attrs", "pyjwt", "uvloop"]);
        assert_eq!(reqs[0].origin, "base.txt:1");
        assert_eq!(reqs[1].origin, "requirements.txt:5");
        assert_eq!(reqs[1].hashes, [HASH]);
        assert_eq!(reqs[1].requirement.extras.len(), 1);
        assert_eq!(
            sources.index_url.as_deref(),
            Some("http://127.0.0.1:1/simple")
        );
        assert_eq!(sources.find_links, [dir.path().join("wheels")]);
        assert!(sources.no_index);
        assert!(!reqs[2]
            .requirement
            .evaluate_markers(target_environment(), &[]));
    }

    #[test]
    fn errors_name_file_and_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let txt = write(
            dir.path(),
            "requirements.txt",
            "attrs\n\nnot a requirement!!\n",
        );
        let err = parse_requirements_file(&txt, dir.path()).expect_err("invalid");
        assert!(
            err.to_string()
                .starts_with("requirements.txt:3: invalid requirement"),
            "{err}"
        );
        assert_eq!(exit_code_of(&err), Exit::Usage);

        let txt = write(dir.path(), "requirements.txt", "attrs --hash=md5:abc\n");
        let err = parse_requirements_file(&txt, dir.path()).expect_err("md5");
        assert!(
            err.to_string()
                .contains("requirements.txt:1: --hash md5:abc: only sha256"),
            "{err}"
        );

        let txt = write(dir.path(), "requirements.txt", "-r missing.txt\n");
        let err = parse_requirements_file(&txt, dir.path()).expect_err("missing include");
        assert!(
            err.to_string()
                .contains("requirements.txt:1: cannot read missing.txt"),
            "{err}"
        );

        let txt = write(dir.path(), "requirements.txt", "-r requirements.txt\n");
        let err = parse_requirements_file(&txt, dir.path()).expect_err("cycle");
        assert!(err.to_string().contains("cycle"), "{err}");

        let txt = write(
            dir.path(),
            "requirements.txt",
            "x @ https://example.invalid/x.whl\n",
        );
        let err = parse_requirements_file(&txt, dir.path()).expect_err("url");
        assert!(err.to_string().contains("--find-links"), "{err}");
    }

    #[test]
    fn pyproject_dependencies_and_extras() {
        let dir = tempfile::tempdir().expect("tempdir");
        write(
            dir.path(),
            "pyproject.toml",
            "[project]\nname = \"gate\"\ndependencies = [\n  \"pyjwt>=2\",\n]\n\
             [project.optional-dependencies]\nFast = [\"orjson\"]\n",
        );
        write(dir.path(), "requirements.txt", "ignored\n");
        let declared = read_declared(dir.path(), &[]).expect("read").expect("some");
        assert_eq!(declared.app_name, "gate");
        assert_eq!(declared.requirements.len(), 1);
        assert_eq!(declared.requirements[0].origin, "pyproject.toml:4");

        let declared = read_declared(dir.path(), &["fast".to_string()])
            .expect("read")
            .expect("some");
        assert_eq!(declared.fingerprint(), ["orjson", "pyjwt>=2"]);

        let err = read_declared(dir.path(), &["nope".to_string()]).expect_err("unknown extra");
        assert!(err.to_string().contains("known: Fast"), "{err}");
    }

    #[test]
    fn no_dependencies_is_none() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(read_declared(dir.path(), &[]).expect("read").is_none());
        write(dir.path(), "pyproject.toml", "[project]\nname = \"x\"\n");
        assert!(read_declared(dir.path(), &[]).expect("read").is_none());
        write(dir.path(), "requirements.txt", "# nothing\n");
        assert!(read_declared(dir.path(), &[]).expect("read").is_none());
    }

    #[test]
    fn comments_keep_url_fragments() {
        assert_eq!(strip_comment("a # b"), "a ");
        assert_eq!(strip_comment("x.whl#sha256=ab"), "x.whl#sha256=ab");
        assert_eq!(split_option("-rbase.txt"), ("-r", Some("base.txt")));
        assert_eq!(
            split_option("--index-url=http://x/simple"),
            ("--index-url", Some("http://x/simple"))
        );
        assert_eq!(split_option("--no-index"), ("--no-index", None));
    }
}
