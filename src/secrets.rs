//! The secret guard: does an app file look like a credential? By name (`.env`,
//! `id_rsa`, `credentials.json`, PKCS#12 stores, token files) and by content (a PEM or
//! OpenSSH private key anywhere in the file, a DER private key, a cloud service-account
//! key). Public keys and certificates pass: a JWT gate ships its issuer's public key.
//!
//! The rules follow what the usual leak scanners (git-secrets, gitleaks, GitHub's push
//! protection) treat as a private key or a credential file; they err on the side of
//! refusing, because `[tool.pyedge] allow-secrets` lets a file through by name.

use regex::bytes::Regex;
use std::fmt;
use std::sync::OnceLock;

/// Why a file was taken for a credential: the rule that matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretFinding {
    /// A short name of the rule (`private-key`, `dotenv`, ...).
    pub rule: &'static str,
    /// What matched, for the message.
    pub detail: String,
}

impl fmt::Display for SecretFinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (rule {})", self.detail, self.rule)
    }
}

/// `.env` files that are templates by convention, holding placeholders only.
const DOTENV_TEMPLATES: &[&str] = &["example", "sample", "template", "dist", "defaults"];

/// File names that hold credentials whatever their content.
const CREDENTIAL_FILES: &[(&str, &str)] = &[
    (".netrc", "a netrc file (login passwords)"),
    ("_netrc", "a netrc file (login passwords)"),
    (".pypirc", "a PyPI upload configuration (tokens)"),
    (".npmrc", "an npm configuration (auth tokens)"),
    (".git-credentials", "git's stored credentials"),
    (".htpasswd", "an htpasswd file (password hashes)"),
    (".pgpass", "a PostgreSQL password file"),
];

/// The first rule `data`, found at `rel` (relative, `/`-separated), matches.
pub fn find_secret(rel: &str, data: &[u8]) -> Option<SecretFinding> {
    by_name(rel).or_else(|| by_content(rel, data))
}

fn finding(rule: &'static str, detail: impl Into<String>) -> Option<SecretFinding> {
    Some(SecretFinding {
        rule,
        detail: detail.into(),
    })
}

fn by_name(rel: &str) -> Option<SecretFinding> {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    let lower = name.to_ascii_lowercase();
    if let Some((_, what)) = CREDENTIAL_FILES.iter().find(|(file, _)| *file == lower) {
        return finding("credential-file", *what);
    }
    if rel.ends_with(".aws/credentials") {
        return finding("credential-file", "AWS credentials");
    }
    let dotenv = lower == ".env"
        || lower.strip_prefix(".env.").is_some_and(|rest| {
            !DOTENV_TEMPLATES.contains(&rest.rsplit('.').next().unwrap_or(rest))
        })
        || (lower.ends_with(".env") && lower.len() > 4);
    if dotenv {
        return finding("dotenv", "an environment file (.env style)");
    }
    for key in ["id_rsa", "id_dsa", "id_ecdsa", "id_ed25519"] {
        if lower.starts_with(key) && !lower.ends_with(".pub") {
            return finding("ssh-key", "an SSH private key file name");
        }
    }
    if let Some(ext) = lower.rsplit_once('.').map(|(_, ext)| ext) {
        if matches!(ext, "p12" | "pfx") {
            return finding("pkcs12", "a PKCS#12 key store");
        }
        if matches!(ext, "jks" | "keystore") {
            return finding("keystore", "a Java key store");
        }
    }
    let json = lower.ends_with(".json");
    if json && (lower.starts_with("credentials") || lower.starts_with("client_secret")) {
        return finding("credentials-json", "a credentials JSON file");
    }
    None
}

fn private_key_pem() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"-----BEGIN ((?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?)-----").expect("valid regex")
    })
}

fn service_account() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r#""type"\s*:\s*"service_account""#).expect("valid regex"))
}

fn by_content(rel: &str, data: &[u8]) -> Option<SecretFinding> {
    if let Some(found) = private_key_pem().captures(data) {
        let kind = String::from_utf8_lossy(&found[1]).into_owned();
        return finding(
            "private-key",
            format!("holds a private key (-----BEGIN {kind}-----)"),
        );
    }
    if data.starts_with(b"PuTTY-User-Key-File-") {
        return finding("private-key", "a PuTTY private key");
    }
    let lower = rel.to_ascii_lowercase();
    if lower.ends_with(".json")
        && service_account().is_match(data)
        && data.windows(13).any(|w| w == b"\"private_key\"")
    {
        return finding(
            "service-account",
            "a cloud service-account key (\"type\": \"service_account\" with a private_key)",
        );
    }
    let binary_key = [".der", ".key", ".p8", ".pk8"]
        .iter()
        .any(|ext| lower.ends_with(ext));
    if binary_key && is_der_private_key(data) {
        return finding("private-key", "a DER-encoded private key");
    }
    None
}

/// Whether `data` opens like a DER private key: a SEQUENCE whose first element is the
/// INTEGER version 0 or 1 (PKCS#1 RSA, SEC1 EC and PKCS#8 keys all do). Certificates
/// and public keys open with a nested SEQUENCE instead, so they do not match.
fn is_der_private_key(data: &[u8]) -> bool {
    let body = match data {
        [0x30, 0x82, _, _, rest @ ..] => rest,
        [0x30, 0x81, _, rest @ ..] => rest,
        [0x30, len, rest @ ..] if *len < 0x80 => rest,
        _ => return false,
    };
    matches!(body, [0x02, 0x01, 0x00 | 0x01, ..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(rel: &str, data: &[u8]) -> Option<&'static str> {
        find_secret(rel, data).map(|f| f.rule)
    }

    #[test]
    fn private_keys_are_found_by_content_whatever_the_name() {
        let rsa = b"-----BEGIN RSA PRIVATE KEY-----\nMIIE...\n-----END RSA PRIVATE KEY-----\n";
        assert_eq!(rule("keys/server.pem", rsa), Some("private-key"));
        assert_eq!(rule("notes.txt", rsa), Some("private-key"));
        let pkcs8 = b"x = '''-----BEGIN PRIVATE KEY-----\nMC4CAQ...'''";
        assert_eq!(rule("settings.py", pkcs8), Some("private-key"));
        let enc = b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n";
        assert_eq!(rule("a.key", enc), Some("private-key"));
        let ssh = b"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEA\n";
        assert_eq!(rule("deploy_key", ssh), Some("private-key"));
        let pgp = b"-----BEGIN PGP PRIVATE KEY BLOCK-----\n";
        assert_eq!(rule("k.asc", pgp), Some("private-key"));
        assert_eq!(
            rule("k.ppk", b"PuTTY-User-Key-File-3: ssh-ed25519\n"),
            Some("private-key")
        );
    }

    #[test]
    fn public_keys_and_certificates_pass() {
        let public = b"-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n";
        assert_eq!(rule("issuer.pem", public), None);
        let cert = b"-----BEGIN CERTIFICATE-----\nMIIB...\n-----END CERTIFICATE-----\n";
        assert_eq!(rule("ca.crt", cert), None);
        assert_eq!(rule("id_rsa.pub", b"ssh-rsa AAAAB3Nza user@host\n"), None);
        // A DER certificate opens with a nested SEQUENCE, not a version INTEGER.
        assert_eq!(
            rule("ca.der", &[0x30, 0x82, 0x01, 0x0a, 0x30, 0x82, 0x00, 0xf0]),
            None
        );
    }

    #[test]
    fn credential_files_are_found_by_name() {
        assert_eq!(rule(".env", b"API_TOKEN=abc\n"), Some("dotenv"));
        assert_eq!(rule("config/.env.production", b""), Some("dotenv"));
        assert_eq!(rule("prod.env", b""), Some("dotenv"));
        assert_eq!(rule(".env.example", b"API_TOKEN=\n"), None);
        assert_eq!(rule("id_rsa", b"anything"), Some("ssh-key"));
        assert_eq!(rule("keys/id_ed25519_deploy", b""), Some("ssh-key"));
        assert_eq!(rule("store.p12", b"\x30\x82"), Some("pkcs12"));
        assert_eq!(rule("credentials.json", b"{}"), Some("credentials-json"));
        assert_eq!(
            rule("client_secret_123.json", b"{}"),
            Some("credentials-json")
        );
        assert_eq!(
            rule(".aws/credentials", b"[default]\n"),
            Some("credential-file")
        );
        assert_eq!(
            rule(".netrc", b"machine x login y password z\n"),
            Some("credential-file")
        );
        assert_eq!(rule("environment.py", b"x = 1\n"), None);
    }

    #[test]
    fn service_account_json_and_der_keys_are_found_by_content() {
        let sa = br#"{"type": "service_account", "project_id": "p", "private_key": "..."}"#;
        assert_eq!(rule("gcp.json", sa), Some("service-account"));
        assert_eq!(rule("data.json", br#"{"type": "service_account"}"#), None);
        // PKCS#8 DER: SEQUENCE { INTEGER 0, ... }.
        let der = [0x30, 0x82, 0x04, 0xbe, 0x02, 0x01, 0x00, 0x30, 0x0d];
        assert_eq!(rule("server.key", &der), Some("private-key"));
        assert_eq!(rule("server.bin", &der), None);
    }
}
