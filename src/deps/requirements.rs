//! What the app asks for: `[project].dependencies` (plus `--extra` groups from
//! `[project.optional-dependencies]`) in `pyproject.toml`, or `requirements.txt`.
//!
//! `pyproject.toml` wins when it declares dependencies; otherwise `requirements.txt` is
//! read, with pip's syntax: `-r` includes, `--hash=sha256:...`, extras, markers, comments,
//! `\` continuations and `--index-url` / `--extra-index-url` / `--find-links` /
//! `--no-index` / `--pre` lines. Every error names `file:line` and exits 2.
//!
//! The files come from the user and are read as hostile input: each has a size limit
//! ([`MAX_PROJECT_FILE_BYTES`], also for a requirements file and all its includes
//! together), `-r` includes have a depth and a count limit, requirements a length and a
//! nesting limit, so a huge or deeply nested file is refused with an error naming the file
//! and the limit, never a stack overflow, a hang or unbounded memory.

use super::markers::target_environment;
use super::DepsError;
use crate::config::{parse_project_toml, read_project_file, ProjectFile, MAX_PROJECT_FILE_BYTES};
use anyhow::Result;
use pep508_rs::VersionOrUrl;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// Deepest chain of `-r` includes (a file that includes a file that includes ...).
pub const MAX_INCLUDE_DEPTH: usize = 32;
/// Most files read for one requirements file, itself and its `-r` includes, a file
/// included twice counting twice (so includes that fan out cannot multiply the work).
pub const MAX_INCLUDED_FILES: usize = 256;
/// Most requirements an app may declare.
pub const MAX_REQUIREMENTS: usize = 10_000;
/// Longest single requirement (name, extras, version and markers; `--hash` options aside).
pub const MAX_REQUIREMENT_BYTES: usize = 8 * 1024;
/// Deepest nesting of parentheses in a requirement's markers.
pub const MAX_MARKER_NESTING: usize = 32;

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

/// Read the app's declared dependencies; `None` when it declares none. `read` is the
/// app's `pyproject.toml` when the caller has already read it (a build reads it once);
/// `None` reads it here.
pub fn read_declared(
    app_dir: &Path,
    extras: &[String],
    read: Option<&ProjectFile>,
) -> Result<Option<Declared>> {
    let pyproject = app_dir.join("pyproject.toml");
    let shown = display_path(&pyproject, app_dir);
    let project = match read {
        Some(file) => Some(declared_in(&file.doc, &file.text, &shown, extras)?),
        None => match read_project_file(&pyproject, MAX_PROJECT_FILE_BYTES) {
            Ok(text) => Some(parse_pyproject(&text, &shown, extras)?),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
            Err(err) => {
                return Err(DepsError::ReadRequirements {
                    at: String::new(),
                    path: pyproject,
                    detail: err.to_string(),
                }
                .into())
            }
        },
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
        return Err(DepsError::ExtraWithoutGroups {
            pyproject,
            txt: REQUIREMENTS_TXT,
        }
        .into());
    }
    let (requirements, sources) = parse_requirements_file(&txt, app_dir)?;
    Ok((!requirements.is_empty()).then_some(Declared {
        app_name,
        file: txt,
        requirements,
        sources,
    }))
}

/// A requirement or option that is invalid at `at` (`file:line`, or the file).
fn invalid(at: &str, what: String) -> anyhow::Error {
    DepsError::Requirement {
        at: at.to_string(),
        what,
    }
    .into()
}

/// A requirements file that cannot be read through `-r` as asked: `at` is the including
/// line (`requirements.txt:2: `), empty for the app's own file.
fn included(at: &str, what: String) -> anyhow::Error {
    DepsError::Include {
        at: at.to_string(),
        what,
    }
    .into()
}

/// What `pyproject.toml` declares.
#[derive(Debug, Clone)]
pub struct Project {
    /// `[project].name`.
    pub name: Option<String>,
    /// `[project].dependencies` and the requested extras' groups.
    pub requirements: Vec<DeclaredRequirement>,
}

/// Parse `pyproject.toml` text (`shown` is its name in messages): the project's name and
/// its dependencies plus the `extras` groups of `[project.optional-dependencies]`.
pub fn parse_pyproject(text: &str, shown: &str, extras: &[String]) -> Result<Project> {
    declared_in(&parse_project_toml(text, shown)?, text, shown, extras)
}

/// [`parse_pyproject`] of an already parsed file (`text` is its text, for line numbers).
fn declared_in(doc: &toml::Table, text: &str, shown: &str, extras: &[String]) -> Result<Project> {
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
            find_extra(optional, extra).ok_or_else(|| unknown_extra(shown, extra, optional))?;
        lists.push((
            format!("[project.optional-dependencies].{extra}"),
            Some(group),
        ));
    }
    let mut requirements = Vec::new();
    let mut lines = LineFinder::new(text);
    for (key, value) in lists {
        let Some(value) = value else { continue };
        let items = value
            .as_array()
            .ok_or_else(|| invalid(shown, format!("{key} must be an array of strings")))?;
        if requirements.len() + items.len() > MAX_REQUIREMENTS {
            return Err(invalid(
                shown,
                format!("more than {MAX_REQUIREMENTS} requirements (the limit)"),
            ));
        }
        for item in items {
            let line = item
                .as_str()
                .ok_or_else(|| invalid(shown, format!("{key} must be an array of strings")))?;
            let origin = format!("{shown}:{}", lines.line_of(line));
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
    DepsError::UnknownExtra {
        file: shown.to_string(),
        extra: extra.to_string(),
        known,
    }
    .into()
}

/// Finds the 1-based line where each dependency string is written, best effort (1 when
/// not found). Strings are looked for in file order after the last one found, so a whole
/// file costs one pass; a miss (a string out of order, or written with escapes) costs up
/// to two passes, and after [`LineFinder::MISSES`] of them every line is 1, so a huge
/// hostile file cannot make this quadratic.
struct LineFinder<'a> {
    text: &'a str,
    /// Byte offset where the next search starts, and the line it is on.
    from: usize,
    line: usize,
    misses_left: usize,
}

impl<'a> LineFinder<'a> {
    const MISSES: usize = 16;

    fn new(text: &'a str) -> Self {
        Self {
            text,
            from: 0,
            line: 1,
            misses_left: Self::MISSES,
        }
    }

    fn line_of(&mut self, value: &str) -> usize {
        let newlines = |text: &str| text.matches('\n').count();
        if self.misses_left == 0 {
            return 1;
        }
        if let Some(at) = find_quoted(self.text, self.from, value) {
            let line = self.line + newlines(&self.text[self.from..at]);
            self.line = line + newlines(value);
            self.from = at + value.len();
            return line;
        }
        self.misses_left -= 1;
        find_quoted(self.text, 0, value).map_or(1, |at| newlines(&self.text[..at]) + 1)
    }
}

/// Offset of the first `"value"` or `'value'` in `text` at or after `from`.
fn find_quoted(text: &str, from: usize, value: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    text[from..]
        .match_indices(value)
        .map(|(at, _)| from + at)
        .find(|&at| {
            let quote = at.checked_sub(1).map(|before| bytes[before]);
            matches!(quote, Some(b'"' | b'\'')) && bytes.get(at + value.len()).copied() == quote
        })
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
    if text.len() > MAX_REQUIREMENT_BYTES {
        return Err(invalid(
            origin,
            format!(
                "requirement `{}...` is {} bytes, over the limit of \
             {MAX_REQUIREMENT_BYTES} bytes",
                prefix(text, 40),
                text.len()
            ),
        ));
    }
    if paren_depth(text) > MAX_MARKER_NESTING {
        return Err(invalid(
            origin,
            format!(
                "requirement `{}...` nests parentheses deeper than \
             {MAX_MARKER_NESTING} levels",
                prefix(text, 40)
            ),
        ));
    }
    // PEP 508 names, versions and marker variables are ASCII, and so is every marker
    // value of the target; pep508_rs 0.9 slices inside other characters and panics
    // (`x; extra<'' \u{d979a}`, found by the requirements_txt fuzz target).
    if let Some(c) = text.chars().find(|c| !c.is_ascii()) {
        return Err(invalid(
            origin,
            format!(
                "invalid requirement `{}`: non-ASCII character {c:?} (U+{:04X}); \
             requirements are ASCII",
                prefix(text, 60),
                u32::from(c)
            ),
        ));
    }
    if let Some(name) = name_with_bad_end(text) {
        return Err(invalid(
            origin,
            format!("invalid requirement `{text}`: `{name}` must end with a letter or digit"),
        ));
    }
    let requirement = Requirement::from_str(text)
        .map_err(|err| invalid(origin, format!("invalid requirement `{text}`: {err}")))?;
    if let Some(VersionOrUrl::Url(url)) = &requirement.version_or_url {
        return Err(invalid(
            origin,
            format!(
                "`{text}`: direct URL requirements ({url}) are not supported; \
             put the wheel in a directory and pass it with --find-links"
            ),
        ));
    }
    Ok(DeclaredRequirement {
        requirement,
        origin: origin.to_string(),
        hashes,
    })
}

/// A package or extra name in `text` that ends with `-`, `_` or `.` (`r- x`, `a[b-]`).
///
/// pep508_rs 0.9 panics on those (its parser lets them through to a name check that
/// `expect`s success; found by the requirements fuzz targets), so they are refused first.
fn name_with_bad_end(text: &str) -> Option<&str> {
    let is_name = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    let bad_end = |name: &str| name.ends_with(['-', '_', '.']);
    let text = text.trim_start();
    let end = text.find(|c| !is_name(c)).unwrap_or(text.len());
    let name = &text[..end];
    if bad_end(name) {
        return Some(name);
    }
    let extras = text[end..].trim_start().strip_prefix('[')?;
    let extras = extras.split(']').next().unwrap_or(extras);
    extras
        .split(',')
        .map(|extra| {
            let extra = extra.trim_start();
            &extra[..extra.find(|c| !is_name(c)).unwrap_or(extra.len())]
        })
        .find(|extra| bad_end(extra))
}

/// The deepest parenthesis nesting in `text`.
fn paren_depth(text: &str) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    for byte in text.bytes() {
        match byte {
            b'(' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// The first `chars` characters of `text`, for messages about huge inputs.
fn prefix(text: &str, chars: usize) -> &str {
    let end = text
        .char_indices()
        .nth(chars)
        .map_or(text.len(), |(i, _)| i);
    &text[..end]
}

/// Parse a requirements file and everything it includes with `-r`.
pub fn parse_requirements_file(
    path: &Path,
    app_dir: &Path,
) -> Result<(Vec<DeclaredRequirement>, SourceOptions)> {
    parse_requirements_with(path, app_dir, &mut |file| {
        read_project_file(file, MAX_PROJECT_FILE_BYTES)
    })
}

/// [`parse_requirements_file`] reading each file (the first and every `-r` include) with
/// `read`, which must refuse a file over [`MAX_PROJECT_FILE_BYTES`] as
/// [`read_project_file`] does (tests and fuzzing read from memory).
pub fn parse_requirements_with(
    path: &Path,
    app_dir: &Path,
    read: &mut dyn FnMut(&Path) -> std::io::Result<String>,
) -> Result<(Vec<DeclaredRequirement>, SourceOptions)> {
    let mut parser = TxtParser {
        app_dir,
        read,
        stack: Vec::new(),
        files_read: 0,
        bytes_read: 0,
        requirements: Vec::new(),
        sources: SourceOptions::default(),
    };
    parser.parse_file(path, None)?;
    Ok((parser.requirements, parser.sources))
}

struct TxtParser<'a> {
    app_dir: &'a Path,
    read: &'a mut dyn FnMut(&Path) -> std::io::Result<String>,
    /// Files being read, to refuse `-r` cycles and too deep includes.
    stack: Vec<PathBuf>,
    /// Files read so far and their bytes, for [`MAX_INCLUDED_FILES`] and
    /// [`MAX_PROJECT_FILE_BYTES`].
    files_read: usize,
    bytes_read: u64,
    requirements: Vec<DeclaredRequirement>,
    sources: SourceOptions,
}

impl TxtParser<'_> {
    fn parse_file(&mut self, path: &Path, included_from: Option<&str>) -> Result<()> {
        let shown = display_path(path, self.app_dir);
        let at = included_from.map(|o| format!("{o}: ")).unwrap_or_default();
        let canonical = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        if self.stack.contains(&canonical) {
            return Err(included(&at, format!("{shown} includes itself (-r cycle)")));
        }
        if self.stack.len() >= MAX_INCLUDE_DEPTH {
            return Err(included(
                &at,
                format!("-r {shown}: includes nested deeper than {MAX_INCLUDE_DEPTH} files"),
            ));
        }
        if self.files_read >= MAX_INCLUDED_FILES {
            return Err(included(
                &at,
                format!(
                    "-r {shown}: more than {MAX_INCLUDED_FILES} requirements files read \
                 through -r includes"
                ),
            ));
        }
        self.files_read += 1;
        let text = (self.read)(path)
            .map_err(|err| included(&at, format!("cannot read {shown}: {err}")))?;
        self.bytes_read += text.len() as u64;
        if self.bytes_read > MAX_PROJECT_FILE_BYTES {
            return Err(included(
                &at,
                format!(
                    "{shown}: requirements files read through -r add up to more than \
                 {MAX_PROJECT_FILE_BYTES} bytes"
                ),
            ));
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
            if self.requirements.len() >= MAX_REQUIREMENTS {
                return Err(invalid(
                    origin,
                    format!("more than {MAX_REQUIREMENTS} requirements (the limit)"),
                ));
            }
            self.requirements
                .push(parse_requirement(requirement, origin, hashes)?);
            return Ok(());
        }
        let (option, value) = split_option(line);
        let dir = file.parent().unwrap_or(Path::new("."));
        let needs_value = || {
            value
                .map(str::to_string)
                .ok_or_else(|| invalid(origin, format!("`{option}` needs a value")))
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
                    return Err(invalid(
                        origin,
                        format!("--find-links {value}: only local directories are supported"),
                    ));
                }
                self.sources.find_links.push(dir.join(value));
            }
            "--no-index" => self.sources.no_index = true,
            "--pre" => self.sources.pre = true,
            // Options that change nothing for pyedge: it always uses binaries and verifies hashes.
            "--only-binary" | "--prefer-binary" | "--require-hashes" | "--trusted-host" => {}
            "-e" | "--editable" => {
                return Err(invalid(
                    origin,
                    "editable requirements are not supported; put the code in the app \
                     directory or build a wheel and use --find-links"
                        .to_string(),
                ))
            }
            _ => return Err(invalid(origin, format!("unsupported option `{option}`"))),
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
    // Short options may be glued to their value: `-rbase.txt` (split after the second
    // character, not byte: `-˖` is a two-character line).
    if !option.starts_with("--") && rest.is_none() {
        if let Some((at, _)) = line.char_indices().nth(2) {
            return (&line[..at], Some(&line[at..]));
        }
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
                .ok_or_else(|| invalid(origin, "`--hash` needs a value".to_string()))?
                .to_string(),
            _ => {
                return Err(invalid(
                    origin,
                    format!("unsupported per-requirement option `{token}`"),
                ))
            }
        };
        hashes.push(parse_hash(&value, origin)?);
    }
    Ok(hashes)
}

fn parse_hash(value: &str, origin: &str) -> Result<String> {
    let digest = value.strip_prefix("sha256:").ok_or_else(|| {
        invalid(
            origin,
            format!("--hash {value}: only sha256 hashes are supported"),
        )
    })?;
    let valid = digest.len() == 64 && digest.chars().all(|c| c.is_ascii_hexdigit());
    if !valid {
        return Err(invalid(
            origin,
            format!("--hash {value}: not a sha256 hex digest"),
        ));
    }
    Ok(digest.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::exit_code_of;
    use crate::error::Exit;
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
        let declared = read_declared(dir.path(), &[], None)
            .expect("read")
            .expect("some");
        assert_eq!(declared.app_name, "gate");
        assert_eq!(declared.requirements.len(), 1);
        assert_eq!(declared.requirements[0].origin, "pyproject.toml:4");

        let declared = read_declared(dir.path(), &["fast".to_string()], None)
            .expect("read")
            .expect("some");
        assert_eq!(declared.fingerprint(), ["orjson", "pyjwt>=2"]);

        let err =
            read_declared(dir.path(), &["nope".to_string()], None).expect_err("unknown extra");
        assert!(err.to_string().contains("known: Fast"), "{err}");
    }

    #[test]
    fn no_dependencies_is_none() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(read_declared(dir.path(), &[], None)
            .expect("read")
            .is_none());
        write(dir.path(), "pyproject.toml", "[project]\nname = \"x\"\n");
        assert!(read_declared(dir.path(), &[], None)
            .expect("read")
            .is_none());
        write(dir.path(), "requirements.txt", "# nothing\n");
        assert!(read_declared(dir.path(), &[], None)
            .expect("read")
            .is_none());
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
        // Found by the requirements_txt fuzz target (minimized): sliced inside `˖`.
        assert_eq!(split_option("-\u{2d6}"), ("-\u{2d6}", None));
        assert_eq!(split_option("-\u{2d6}x"), ("-\u{2d6}", Some("x")));
        let dir = tempfile::tempdir().expect("tempdir");
        let txt = write(dir.path(), "requirements.txt", "-\u{2d6}\n");
        let err = message(parse_requirements_file(&txt, dir.path()));
        assert!(
            err.contains("requirements.txt:1: unsupported option `-\u{2d6}`"),
            "{err}"
        );
    }

    /// A file of `len` bytes that takes no disk space (zeros, sparse).
    fn sparse(dir: &Path, name: &str, len: u64) {
        let file = fs::File::create(dir.join(name)).expect("create");
        file.set_len(len).expect("set_len");
    }

    fn message(result: Result<impl std::fmt::Debug>) -> String {
        let err = result.expect_err("refused");
        assert_eq!(exit_code_of(&err), Exit::Usage, "{err}");
        format!("{err:#}")
    }

    #[test]
    fn huge_files_are_refused_naming_file_and_limit() {
        let dir = tempfile::tempdir().expect("tempdir");
        sparse(dir.path(), "requirements.txt", 100 * 1024 * 1024);
        let err = message(read_declared(dir.path(), &[], None));
        assert!(
            err.contains(
                "cannot read requirements.txt: 104857600 bytes is over the limit of 4194304 bytes"
            ),
            "{err}"
        );
        sparse(dir.path(), "pyproject.toml", 100 * 1024 * 1024);
        let err = message(read_declared(dir.path(), &[], None));
        assert!(
            err.contains("pyproject.toml: 104857600 bytes is over the limit of 4194304"),
            "{err}"
        );
        let err = message(crate::config::read_project(dir.path()).map_err(anyhow::Error::from));
        assert!(
            err.contains("pyproject.toml: 104857600 bytes is over the limit"),
            "{err}"
        );
    }

    #[test]
    fn includes_that_are_not_files_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        fs::create_dir(dir.path().join("sub")).expect("mkdir");
        let txt = write(dir.path(), "requirements.txt", "-r sub\n");
        let err = message(parse_requirements_file(&txt, dir.path()));
        assert!(
            err.contains("requirements.txt:1: cannot read sub: not a regular file"),
            "{err}"
        );
        // A device never ends; it is refused before a single byte is read.
        if Path::new("/dev/zero").exists() {
            let txt = write(dir.path(), "requirements.txt", "-r /dev/zero\n");
            let err = message(parse_requirements_file(&txt, dir.path()));
            assert!(
                err.contains("cannot read /dev/zero: not a regular file"),
                "{err}"
            );
        }
    }

    #[test]
    fn includes_have_depth_count_and_size_limits() {
        let dir = tempfile::tempdir().expect("tempdir");
        // A chain deeper than the limit: r0.txt includes r1.txt includes ...
        for i in 0..=MAX_INCLUDE_DEPTH + 5 {
            write(
                dir.path(),
                &format!("r{i}.txt"),
                &format!("-r r{}.txt\n", i + 1),
            );
        }
        let err = message(parse_requirements_file(
            &dir.path().join("r0.txt"),
            dir.path(),
        ));
        assert!(
            err.contains(&format!(
                "r{}.txt:1: -r r{}.txt: includes nested deeper than {MAX_INCLUDE_DEPTH} files",
                MAX_INCLUDE_DEPTH - 1,
                MAX_INCLUDE_DEPTH
            )),
            "{err}"
        );

        // Each file includes the next one twice: 2^16 reads without the count limit.
        for i in 0..16 {
            let next = format!("-r f{}.txt\n", i + 1);
            write(dir.path(), &format!("f{i}.txt"), &next.repeat(2));
        }
        write(dir.path(), "f16.txt", "attrs\n");
        let err = message(parse_requirements_file(
            &dir.path().join("f0.txt"),
            dir.path(),
        ));
        assert!(
            err.contains(&format!(
                "more than {MAX_INCLUDED_FILES} requirements files read through -r includes"
            )),
            "{err}"
        );

        // Files under the size limit each, over it together.
        let big = "# padding\n".repeat(300_000);
        write(dir.path(), "big.txt", &big);
        write(dir.path(), "both.txt", "-r big.txt\n-r big.txt\n");
        let err = message(parse_requirements_file(
            &dir.path().join("both.txt"),
            dir.path(),
        ));
        assert!(
            err.contains(&format!(
                "both.txt:2: big.txt: requirements files read through -r add up to more than \
                 {MAX_PROJECT_FILE_BYTES} bytes"
            )),
            "{err}"
        );
    }

    #[test]
    fn include_loops_through_other_names_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        fs::create_dir(dir.path().join("sub")).expect("mkdir");
        write(
            dir.path(),
            "requirements.txt",
            "attrs\n-r sub/../sub/more.txt\n",
        );
        write(dir.path(), "sub/more.txt", "-r ./../requirements.txt\n");
        let err = message(read_declared(dir.path(), &[], None));
        assert!(
            err.contains("requirements.txt includes itself (-r cycle)"),
            "{err}"
        );
    }

    #[test]
    fn requirements_have_length_nesting_and_count_limits() {
        let deep = format!(
            "a; {}python_version > '3'{}",
            "(".repeat(100_000),
            ")".repeat(100_000)
        );
        let err = message(parse_requirement(&deep, "requirements.txt:1", Vec::new()));
        let expected = format!("is {} bytes, over the limit of 8192 bytes", deep.len());
        assert!(err.contains(&expected), "{err}");
        assert!(err.len() < 200, "the message quotes a prefix only: {err}");

        // Fits the length limit, but pep508's parser recurses once per parenthesis: 1,000
        // levels overflowed a test thread's stack before the nesting limit.
        let deep = format!(
            "a; {}python_version > '3'{}",
            "(".repeat(4000),
            ")".repeat(4000)
        );
        let err = message(parse_requirement(&deep, "requirements.txt:1", Vec::new()));
        assert!(
            err.contains(&format!(
                "nests parentheses deeper than {MAX_MARKER_NESTING} levels"
            )),
            "{err}"
        );
        let fine = format!(
            "a; {}python_version > '3'{}",
            "(".repeat(MAX_MARKER_NESTING),
            ")".repeat(MAX_MARKER_NESTING)
        );
        parse_requirement(&fine, "requirements.txt:1", Vec::new()).expect("at the limit");

        let dir = tempfile::tempdir().expect("tempdir");
        let txt = write(
            dir.path(),
            "requirements.txt",
            &"a\n".repeat(MAX_REQUIREMENTS + 1),
        );
        let err = message(parse_requirements_file(&txt, dir.path()));
        assert!(
            err.contains(&format!(
                "requirements.txt:{}: more than {MAX_REQUIREMENTS} requirements",
                MAX_REQUIREMENTS + 1
            )),
            "{err}"
        );
        let deps = vec!["\"a\""; MAX_REQUIREMENTS + 1].join(",");
        let text = format!("[project]\ndependencies = [{deps}]\n");
        let err = message(parse_pyproject(&text, "pyproject.toml", &[]));
        assert!(
            err.contains("pyproject.toml: more than 10000 requirements"),
            "{err}"
        );
    }

    #[test]
    fn deeply_nested_pyproject_is_refused_naming_file_and_line() {
        let n = 100_000;
        for text in [
            format!("[project]\nx = {}{}\n", "[".repeat(n), "]".repeat(n)),
            format!("[project]\nx = {}{}\n", "{a=".repeat(n), "}".repeat(n)),
            format!("[project]\n{} = 1\n", vec!["a"; n].join(".")),
            format!("[project]\n[{}]\n", vec!["a"; n].join(".")),
        ] {
            let err = message(parse_pyproject(&text, "pyproject.toml", &[]));
            assert!(
                err.starts_with(
                    "pyproject.toml:2: tables, arrays or dotted keys nested deeper than 80 levels"
                ),
                "{}",
                &err[..err.len().min(300)]
            );
            let err = message(
                crate::config::parse_tool_config(&text, "pyproject.toml")
                    .map_err(anyhow::Error::from),
            );
            assert!(err.contains("nested deeper than 80 levels"), "{err}");
        }
        // The limit is the TOML reader's own: one level less is read.
        let limit = crate::config::MAX_TOML_NESTING;
        let ok = format!("x = {}{}\n", "[".repeat(limit - 1), "]".repeat(limit - 1));
        parse_pyproject(&ok, "pyproject.toml", &[]).expect("under the limit");
        let over = format!("x = {}{}\n", "[".repeat(limit), "]".repeat(limit));
        assert!(message(parse_pyproject(&over, "pyproject.toml", &[])).contains("nested deeper"));
    }

    /// Inputs the fuzz targets found that made pep508_rs panic (minimized).
    #[test]
    fn names_ending_in_punctuation_are_errors_not_panics() {
        for (text, name) in [
            ("r- requirements.txt", "r-"), // requirements_txt: `-r` typed backwards
            ("a[c-------]", "c-------"),   // pyproject_toml
            ("pkg_ ; python_version > '3'", "pkg_"),
            ("pkg. (>=1)", "pkg."),
            ("pkg[ok, bad. ]", "bad."),
            ("pkg [x_]", "x_"),
        ] {
            let err = message(parse_requirement(text, "requirements.txt:1", Vec::new()));
            assert!(
                err.contains(&format!("`{name}` must end with a letter or digit")),
                "{err}"
            );
        }
        for fine in [
            "a-b",
            "a.b[c-d,e_f]",
            "a[b] >= 1 ; extra == 'x-'",
            "a ; os_name == 'x-'",
        ] {
            parse_requirement(fine, "requirements.txt:1", Vec::new()).expect(fine);
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let txt = write(dir.path(), "requirements.txt", "-r base.txt\n");
        write(dir.path(), "base.txt", "r- requirements.txt\n");
        let err = message(parse_requirements_file(&txt, dir.path()));
        assert!(
            err.contains("base.txt:1: invalid requirement `r- requirements.txt`"),
            "{err}"
        );
        let text = "[project]\ndependencies = [\"a[c-------]\"]\n";
        let err = message(parse_pyproject(text, "pyproject.toml", &[]));
        assert!(
            err.contains("pyproject.toml:2: invalid requirement"),
            "{err}"
        );
    }

    #[test]
    fn non_ascii_requirements_are_errors_not_panics() {
        // Found by the requirements_txt fuzz target (minimized): pep508_rs panicked.
        let text = "x;extra<'' \u{d979a}";
        let err = message(parse_requirement(text, "requirements.txt:1", Vec::new()));
        assert!(
            err.contains("requirements.txt:1: invalid requirement") && err.contains("non-ASCII"),
            "{err}"
        );
        for text in ["caf\u{e9}", "a; os_name == '\u{e9}'", "a (>=1\u{2d6})"] {
            let err = message(parse_requirement(text, "requirements.txt:1", Vec::new()));
            assert!(err.contains("non-ASCII"), "{err}");
        }
    }

    #[test]
    fn pyproject_lines_are_found_in_one_pass() {
        let text = "[project]\ndependencies = [\n  'a',\n  \"b>=1\",\n  'a',\n  \"c\",\n]\n";
        let project = parse_pyproject(text, "pyproject.toml", &[]).expect("parse");
        let origins: Vec<_> = project
            .requirements
            .iter()
            .map(|r| r.origin.as_str())
            .collect();
        assert_eq!(
            origins,
            [
                "pyproject.toml:3",
                "pyproject.toml:4",
                "pyproject.toml:5",
                "pyproject.toml:6"
            ]
        );
        // Strings written with escapes are not found verbatim; a huge file of them still
        // takes a bounded number of passes.
        let deps = vec!["\"\\u0061\""; MAX_REQUIREMENTS].join(",\n");
        let padding = "#".repeat(3 * 1024 * 1024);
        let text = format!("[project]\ndependencies = [{deps}]\n{padding}\n");
        let started = std::time::Instant::now();
        let project = parse_pyproject(&text, "pyproject.toml", &[]).expect("parse");
        assert_eq!(project.requirements.len(), MAX_REQUIREMENTS);
        assert!(started.elapsed() < std::time::Duration::from_secs(20));
    }
}
