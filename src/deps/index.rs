//! A simple-repository client: PEP 691 JSON pages (preferred) and PEP 503 HTML pages,
//! over HTTP with retries and backoff on transient failures.

use super::DepsError;
use anyhow::Result;
use pep508_rs::PackageName;
use std::path::PathBuf;
use std::time::Duration;
use url::Url;

/// The public Python package index.
pub const DEFAULT_INDEX_URL: &str = "https://pypi.org/simple";

/// Attempts per request; transient failures wait 250 ms, then 1 s, between them.
const ATTEMPTS: u32 = 3;
/// Largest index page read (a popular project's page is a few MB).
const PAGE_LIMIT: u64 = 64 * 1024 * 1024;
/// Largest file downloaded.
const DOWNLOAD_LIMIT: u64 = 512 * 1024 * 1024;

const ACCEPT_SIMPLE: &str = "application/vnd.pypi.simple.v1+json, \
     application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01";

/// Where a distribution file can be read from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Location {
    /// An absolute `http(s)://` or `file://` URL (fragment removed).
    Url(String),
    /// A file on the local disk (`--find-links`, the cache).
    Path(PathBuf),
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Url(url) => f.write_str(url),
            Self::Path(path) => write!(f, "{}", path.display()),
        }
    }
}

/// One file offered for a project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DistFile {
    /// The file name (`pyjwt-2.10.1-py3-none-any.whl`, `x-1.0.tar.gz`).
    pub filename: String,
    /// Where to get it.
    pub location: Location,
    /// The sha256 the source promises (hex), when it gives one.
    pub sha256: Option<String>,
    /// `Requires-Python` as the index states it.
    pub requires_python: Option<String>,
    /// Yanked files are used only for exact pins (PEP 592).
    pub yanked: bool,
    /// The index also serves the wheel's METADATA at `<url>.metadata` (PEP 658/714).
    pub core_metadata: Option<CoreMetadata>,
}

/// A PEP 658 metadata file offered next to a wheel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoreMetadata {
    /// Its sha256, when the index gives one.
    pub sha256: Option<String>,
}

impl CoreMetadata {
    /// From an HTML attribute value: `true` or `sha256=<hex>`; `false` means none.
    fn from_attribute(value: Option<&str>) -> Option<Self> {
        match value.map(str::trim) {
            Some("false") => None,
            Some(value) => Some(Self {
                sha256: value.strip_prefix("sha256=").map(str::to_ascii_lowercase),
            }),
            None => Some(Self { sha256: None }),
        }
    }

    /// From a JSON value: `true`, `false`, or a hashes object.
    fn from_json(value: &serde_json::Value) -> Option<Self> {
        match value {
            serde_json::Value::Bool(true) => Some(Self { sha256: None }),
            serde_json::Value::Object(hashes) => Some(Self {
                sha256: hashes
                    .get("sha256")
                    .and_then(|h| h.as_str())
                    .map(str::to_ascii_lowercase),
            }),
            _ => None,
        }
    }
}

/// An HTTP client with retries.
pub struct HttpClient {
    agent: ureq::Agent,
}

/// A successful HTTP exchange (any status).
struct Reply {
    status: u16,
    content_type: String,
    url: String,
    body: Vec<u8>,
}

impl Default for HttpClient {
    fn default() -> Self {
        Self::new()
    }
}

impl HttpClient {
    /// A client with pyedge's timeouts and user agent.
    pub fn new() -> Self {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(15)))
            .timeout_global(Some(Duration::from_secs(300)))
            .user_agent(concat!("pyedge/", env!("CARGO_PKG_VERSION")))
            .tls_config(
                ureq::tls::TlsConfig::builder()
                    .root_certs(root_certs())
                    .build(),
            )
            .build();
        Self {
            agent: config.into(),
        }
    }

    /// GET with retries; `Err` only when every attempt failed to get a non-transient answer.
    fn get(&self, url: &str, accept: &str, limit: u64) -> Result<Reply, String> {
        let mut last = String::new();
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                std::thread::sleep(Duration::from_millis(250 * 4u64.pow(attempt - 1)));
            }
            match self.get_once(url, accept, limit) {
                Ok(reply) if is_transient_status(reply.status) => {
                    last = format!("HTTP {}", reply.status);
                }
                Ok(reply) => return Ok(reply),
                Err(err) if is_transient(&err) => last = err.to_string(),
                Err(err) => return Err(err.to_string()),
            }
        }
        Err(format!("{last} (after {ATTEMPTS} attempts)"))
    }

    fn get_once(&self, url: &str, accept: &str, limit: u64) -> Result<Reply, ureq::Error> {
        use ureq::ResponseExt;
        let mut response = self.agent.get(url).header("Accept", accept).call()?;
        let status = response.status().as_u16();
        let final_url = response.get_uri().to_string();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        let body = if status == 200 {
            response
                .body_mut()
                .with_config()
                .limit(limit)
                .read_to_vec()?
        } else {
            Vec::new()
        };
        Ok(Reply {
            status,
            content_type,
            url: final_url,
            body,
        })
    }

    /// The files of a project on a simple index; `None` when the index does not know it.
    pub fn project_files(
        &self,
        index_url: &str,
        name: &PackageName,
    ) -> Result<Option<Vec<DistFile>>> {
        let page = format!("{}/{}/", index_url.trim_end_matches('/'), name);
        let reply = self.get(&page, ACCEPT_SIMPLE, PAGE_LIMIT).map_err(|err| {
            DepsError::IndexUnreachable {
                page: page.clone(),
                detail: err.to_string(),
            }
        })?;
        match reply.status {
            200 => {}
            404 | 410 => return Ok(None),
            status => return Err(DepsError::IndexStatus { page, status }.into()),
        }
        let base = Url::parse(&reply.url)
            .or_else(|_| Url::parse(&page))
            .map_err(|err| DepsError::IndexUrl {
                page: page.clone(),
                detail: err.to_string(),
            })?;
        let files = if reply.content_type.contains("json") {
            parse_json(&reply.body, &base).map_err(|err| DepsError::IndexPage {
                page: page.clone(),
                detail: err.to_string(),
            })?
        } else {
            parse_html(&String::from_utf8_lossy(&reply.body), &base)
        };
        Ok(Some(files))
    }

    /// Download a file; errors name the URL and exit 5.
    pub fn download(&self, url: &str) -> Result<Vec<u8>> {
        self.download_optional(url)?.ok_or_else(|| {
            DepsError::Download {
                url: url.to_string(),
                detail: "HTTP 404".into(),
            }
            .into()
        })
    }

    /// Download a file that may not exist: `None` for 404/410.
    pub fn download_optional(&self, url: &str) -> Result<Option<Vec<u8>>> {
        let reply = self
            .get(url, "*/*", DOWNLOAD_LIMIT)
            .map_err(|err| DepsError::Download {
                url: url.to_string(),
                detail: err.to_string(),
            })?;
        match reply.status {
            200 => Ok(Some(reply.body)),
            404 | 410 => Ok(None),
            status => Err(DepsError::Download {
                url: url.to_string(),
                detail: format!("HTTP {status}"),
            }
            .into()),
        }
    }
}

/// Trusted roots: the PEM bundle named by `SSL_CERT_FILE` when set (the machine's own
/// bundle, needed behind TLS-inspecting proxies, as pip and curl honour it), else the
/// built-in Mozilla roots.
fn root_certs() -> ureq::tls::RootCerts {
    let Some(path) = std::env::var_os("SSL_CERT_FILE").filter(|p| !p.is_empty()) else {
        return ureq::tls::RootCerts::WebPki;
    };
    let Ok(pem) = std::fs::read(&path) else {
        return ureq::tls::RootCerts::WebPki;
    };
    let certs: Vec<ureq::tls::Certificate<'static>> = ureq::tls::parse_pem(&pem)
        .filter_map(|item| match item {
            Ok(ureq::tls::PemItem::Certificate(cert)) => Some(cert),
            _ => None,
        })
        .collect();
    if certs.is_empty() {
        return ureq::tls::RootCerts::WebPki;
    }
    ureq::tls::RootCerts::new_with_certs(&certs)
}

fn is_transient_status(status: u16) -> bool {
    status == 429 || (500..=599).contains(&status)
}

fn is_transient(err: &ureq::Error) -> bool {
    matches!(
        err,
        ureq::Error::Io(_)
            | ureq::Error::Timeout(_)
            | ureq::Error::ConnectionFailed
            | ureq::Error::HostNotFound
            | ureq::Error::Protocol(_)
    )
}

/// Parse a PEP 691 JSON project page.
pub fn parse_json(body: &[u8], base: &Url) -> Result<Vec<DistFile>, String> {
    let doc: serde_json::Value =
        serde_json::from_slice(body).map_err(|err| format!("invalid JSON project page: {err}"))?;
    let files = doc
        .get("files")
        .and_then(|f| f.as_array())
        .ok_or("JSON project page has no `files` list")?;
    Ok(files
        .iter()
        .filter_map(|file| json_file(file, base))
        .collect())
}

fn json_file(file: &serde_json::Value, base: &Url) -> Option<DistFile> {
    let filename = file.get("filename")?.as_str()?.to_string();
    let url = base.join(file.get("url")?.as_str()?).ok()?;
    let sha256 = file
        .get("hashes")
        .and_then(|h| h.get("sha256"))
        .and_then(|h| h.as_str())
        .map(str::to_ascii_lowercase);
    let requires_python = file
        .get("requires-python")
        .and_then(|r| r.as_str())
        .map(str::to_string);
    // `yanked` is false, true, or a reason string.
    let yanked = match file.get("yanked") {
        Some(serde_json::Value::Bool(b)) => *b,
        Some(serde_json::Value::String(_)) => true,
        _ => false,
    };
    // `dist-info-metadata` is the name PEP 714 replaced; indexes may send either.
    let core_metadata = file
        .get("core-metadata")
        .or_else(|| file.get("dist-info-metadata"))
        .and_then(CoreMetadata::from_json);
    let (location, fragment_sha) = split_fragment(url);
    Some(DistFile {
        filename,
        location,
        sha256: sha256.or(fragment_sha),
        requires_python,
        yanked,
        core_metadata,
    })
}

/// Drop the URL fragment, returning the `sha256=` digest it carried, if any.
fn split_fragment(mut url: Url) -> (Location, Option<String>) {
    let sha = url
        .fragment()
        .and_then(|f| f.strip_prefix("sha256="))
        .map(str::to_ascii_lowercase);
    url.set_fragment(None);
    (Location::Url(url.to_string()), sha)
}

/// Parse a PEP 503 HTML project page: one `<a href=...>` per file.
pub fn parse_html(body: &str, base: &Url) -> Vec<DistFile> {
    let lower = body.to_ascii_lowercase();
    let mut files = Vec::new();
    let mut at = 0;
    while let Some(found) = lower[at..].find("<a") {
        let start = at + found + 2;
        at = start;
        // `<abbr>` and the like are not anchors.
        if !lower[start..].starts_with(|c: char| c.is_ascii_whitespace()) {
            continue;
        }
        let Some(end) = lower[start..].find('>').map(|e| start + e) else {
            break;
        };
        let attributes = parse_attributes(&body[start..end]);
        let text_end = lower[end..].find("</a").map(|e| end + e).unwrap_or(end + 1);
        let text = decode_entities(body.get(end + 1..text_end).unwrap_or("").trim());
        if let Some(file) = html_file(&attributes, &text, base) {
            files.push(file);
        }
        at = end;
    }
    files
}

fn html_file(attributes: &[(String, Option<String>)], text: &str, base: &Url) -> Option<DistFile> {
    let get = |key: &str| {
        attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    };
    let href = get("href")??;
    let url = base.join(&href).ok()?;
    let from_path = url
        .path_segments()
        .and_then(|mut s| s.next_back())
        .map(percent_decode)
        .filter(|s| !s.is_empty());
    let filename = from_path.unwrap_or_else(|| text.to_string());
    let (location, sha256) = split_fragment(url);
    let metadata = get("data-core-metadata").or_else(|| get("data-dist-info-metadata"));
    Some(DistFile {
        filename,
        location,
        sha256,
        requires_python: get("data-requires-python").flatten(),
        yanked: get("data-yanked").is_some(),
        core_metadata: metadata.and_then(|value| CoreMetadata::from_attribute(value.as_deref())),
    })
}

/// `name="value" name='value' name=value name` → lower-case names, decoded values.
fn parse_attributes(text: &str) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    let mut rest = text.trim_start();
    while !rest.is_empty() {
        let name_end = rest
            .find(|c: char| c.is_ascii_whitespace() || c == '=' || c == '/')
            .unwrap_or(rest.len());
        let name = rest[..name_end].to_ascii_lowercase();
        rest = rest[name_end..].trim_start();
        let mut value = None;
        if let Some(after) = rest.strip_prefix('=') {
            let after = after.trim_start();
            let (raw, remaining) = match after.chars().next() {
                Some(q @ ('"' | '\'')) => {
                    let close = after[1..].find(q).map(|i| i + 1).unwrap_or(after.len());
                    (&after[1..close], after.get(close + 1..).unwrap_or(""))
                }
                _ => {
                    let end = after
                        .find(|c: char| c.is_ascii_whitespace())
                        .unwrap_or(after.len());
                    (&after[..end], &after[end..])
                }
            };
            value = Some(decode_entities(raw));
            rest = remaining;
        } else if name.is_empty() {
            // A stray `/` or similar: skip one character.
            rest = rest.get(1..).unwrap_or("");
        }
        if !name.is_empty() {
            out.push((name, value));
        }
        rest = rest.trim_start();
    }
    out
}

/// The HTML entities index pages use (`&gt;=3.8`, `&amp;`, numeric references).
fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let Some(semi) = rest.find(';').filter(|&s| s <= 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        match decode_entity(&rest[1..semi]) {
            Some(c) => out.push(c),
            None => out.push_str(&rest[..=semi]),
        }
        rest = &rest[semi + 1..];
    }
    out.push_str(rest);
    out
}

fn decode_entity(name: &str) -> Option<char> {
    match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        _ => {
            let code = match name.strip_prefix("#x").or_else(|| name.strip_prefix("#X")) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => name.strip_prefix('#')?.parse().ok()?,
            };
            char::from_u32(code)
        }
    }
}

/// Decode `%XX` escapes in a URL path segment.
fn percent_decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_pages() {
        let base = Url::parse("http://127.0.0.1:9/simple/pyjwt/").expect("url");
        let page = r#"<!DOCTYPE html><html><body><h1>Links for pyjwt</h1>
            <a href="../../files/PyJWT-2.10.1-py3-none-any.whl#sha256=ABCDEF" data-requires-python="&gt;=3.9" data-core-metadata="sha256=FF">PyJWT-2.10.1-py3-none-any.whl</a><br/>
            <A HREF='https://files.example/x/pyjwt-1.0.tar.gz' data-yanked="">pyjwt-1.0.tar.gz</A>
            <abbr title="x">not a link</abbr>
            <a href="pyjwt%2B-0.1-py3-none-any.whl">whatever</a></body></html>"#;
        let files = parse_html(page, &base);
        assert_eq!(files.len(), 3);
        assert_eq!(files[0].filename, "PyJWT-2.10.1-py3-none-any.whl");
        assert_eq!(
            files[0].location,
            Location::Url("http://127.0.0.1:9/files/PyJWT-2.10.1-py3-none-any.whl".into())
        );
        assert_eq!(files[0].sha256.as_deref(), Some("abcdef"));
        assert_eq!(files[0].requires_python.as_deref(), Some(">=3.9"));
        assert!(!files[0].yanked && files[1].yanked);
        assert_eq!(files[2].filename, "pyjwt+-0.1-py3-none-any.whl");
        assert_eq!(
            files[0].core_metadata,
            Some(CoreMetadata {
                sha256: Some("ff".into())
            })
        );
        assert_eq!(files[1].core_metadata, None);
    }

    #[test]
    fn json_pages() {
        let base = Url::parse("http://127.0.0.1:9/simple/six/").expect("url");
        let body = br#"{"meta": {"api-version": "1.1"}, "name": "six", "files": [
            {"filename": "six-1.16.0-py2.py3-none-any.whl", "url": "/files/six-1.16.0-py2.py3-none-any.whl",
             "hashes": {"sha256": "AB12"}, "requires-python": ">=2.7", "yanked": false,
             "core-metadata": {"sha256": "CD"}},
            {"filename": "six-1.0.tar.gz", "url": "https://x.example/six-1.0.tar.gz", "hashes": {},
             "yanked": "broken"}]}"#;
        let files = parse_json(body, &base).expect("json");
        assert_eq!(files[0].sha256.as_deref(), Some("ab12"));
        assert_eq!(
            files[0].location,
            Location::Url("http://127.0.0.1:9/files/six-1.16.0-py2.py3-none-any.whl".into())
        );
        assert!(files[1].yanked);
        assert_eq!(
            files[0].core_metadata,
            Some(CoreMetadata {
                sha256: Some("cd".into())
            })
        );
        assert_eq!(files[1].core_metadata, None);
        assert!(parse_json(b"{}", &base).is_err());
    }

    #[test]
    fn entities() {
        assert_eq!(
            decode_entities("&gt;=3.8, &lt;4 &amp; &#39;x&#x27; &bogus; & a"),
            ">=3.8, <4 & 'x' &bogus; & a"
        );
    }
}
