//! Wheels: file names and tags, the `WHEEL` and `METADATA` files, and reading an archive
//! safely (no zip-slip, no corrupt entries, no zip bombs).

use pep440_rs::Version;
use pep508_rs::PackageName;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Seek};
use std::path::Path;
use std::str::FromStr;

/// Most bytes a wheel may expand to; far above the edge budget, so only hostile or broken
/// archives reach it.
pub const MAX_EXPANDED_BYTES: u64 = 256 * 1024 * 1024;
/// Most entries a wheel may hold.
pub const MAX_ENTRIES: usize = 50_000;
/// An entry larger than this must not be compressed more than [`BOMB_RATIO`] times.
pub const BOMB_MIN_BYTES: u64 = 8 * 1024 * 1024;
/// Highest compression ratio accepted for large entries; real data stays well below it.
pub const BOMB_RATIO: u64 = 100;

/// A parsed wheel file name: `{name}-{version}(-{build})?-{python}-{abi}-{platform}.whl`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WheelFilename {
    /// Normalized distribution name.
    pub name: PackageName,
    /// The version in the file name.
    pub version: Version,
    /// Python tags (`py2.py3` gives two).
    pub python: Vec<String>,
    /// ABI tags.
    pub abi: Vec<String>,
    /// Platform tags.
    pub platform: Vec<String>,
}

impl WheelFilename {
    /// Parse a wheel file name; `None` when it is not one.
    pub fn parse(filename: &str) -> Option<Self> {
        let stem = filename.strip_suffix(".whl")?;
        let parts: Vec<&str> = stem.split('-').collect();
        if parts.len() != 5 && parts.len() != 6 {
            return None;
        }
        let n = parts.len();
        let split = |tags: &str| tags.split('.').map(str::to_ascii_lowercase).collect();
        Some(Self {
            name: PackageName::from_str(parts[0]).ok()?,
            version: Version::from_str(parts[1]).ok()?,
            python: split(parts[n - 3]),
            abi: split(parts[n - 2]),
            platform: split(parts[n - 1]),
        })
    }

    /// The compressed tag triple as written in the file name, e.g. `py2.py3-none-any`.
    pub fn tag(&self) -> String {
        format!(
            "{}-{}-{}",
            self.python.join("."),
            self.abi.join("."),
            self.platform.join(".")
        )
    }

    /// Whether the tags say "pure Python": ABI `none` and platform `any` only.
    pub fn is_pure_tagged(&self) -> bool {
        self.abi == ["none"] && self.platform == ["any"]
    }

    /// Whether one of the Python tags admits CPython 3.13 (`py3`, `py313`, `cp313`, ...).
    pub fn supports_target_python(&self) -> bool {
        self.python.iter().any(|tag| python_tag_supports_313(tag))
    }
}

/// `py3`/`cp3` or a `py3N`/`cp3N` tag with N <= 13.
fn python_tag_supports_313(tag: &str) -> bool {
    let digits = match tag.strip_prefix("py").or_else(|| tag.strip_prefix("cp")) {
        Some(digits) => digits,
        None => return false,
    };
    match digits.strip_prefix('3') {
        Some("") => true,
        Some(minor) => minor.parse::<u32>().is_ok_and(|minor| minor <= 13),
        None => false,
    }
}

/// The version in a source distribution's file name (`{name}-{version}.tar.gz` or `.zip`).
pub fn sdist_version(filename: &str, name: &PackageName) -> Option<Version> {
    let stem = filename
        .strip_suffix(".tar.gz")
        .or_else(|| filename.strip_suffix(".zip"))?;
    // Names may contain dashes: try each split point whose prefix normalizes to the name.
    stem.match_indices('-').find_map(|(at, _)| {
        let prefix = PackageName::from_str(&stem[..at]).ok()?;
        (prefix == *name).then(|| Version::from_str(&stem[at + 1..]).ok())?
    })
}

/// Why a wheel archive cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
// Each variant's doc says what its fields hold.
#[allow(missing_docs)]
pub enum ArchiveProblem {
    /// An entry would land outside the install directory (absolute path or `..`).
    ZipSlip { entry: String },
    /// A symbolic link entry (wheels never need one, and it could point anywhere).
    Symlink { entry: String },
    /// Not a readable zip, or an entry that fails its checksum.
    Corrupt { detail: String },
    /// Expands past the limits.
    Bomb { detail: String },
    /// A required `.dist-info` file is missing or unreadable.
    Missing { file: String },
    /// A file's content does not match the hash listed in `RECORD`.
    RecordMismatch { entry: String },
}

impl std::fmt::Display for ArchiveProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::ZipSlip { entry } => {
                write!(
                    f,
                    "entry `{entry}` escapes the install directory (zip-slip)"
                )
            }
            Self::Symlink { entry } => write!(f, "entry `{entry}` is a symbolic link"),
            Self::Corrupt { detail } => write!(f, "corrupt zip archive: {detail}"),
            Self::Bomb { detail } => write!(f, "refused as a zip bomb: {detail}"),
            Self::Missing { file } => write!(f, "missing {file}"),
            Self::RecordMismatch { entry } => {
                write!(f, "entry `{entry}` does not match its hash in RECORD")
            }
        }
    }
}

/// Check an entry name and return it with `/` separators; zip-slip names are refused.
pub fn safe_entry_name(raw: &str) -> Result<String, ArchiveProblem> {
    let name = raw.replace('\\', "/");
    let slip = || ArchiveProblem::ZipSlip {
        entry: raw.to_string(),
    };
    let drive_letter = name.len() >= 2 && name.as_bytes()[1] == b':';
    if name.starts_with('/') || drive_letter || name.contains('\0') {
        return Err(slip());
    }
    if name.split('/').any(|part| part == "..") {
        return Err(slip());
    }
    Ok(name)
}

/// Call `visit` with every file entry of the wheel (name with `/` separators, content),
/// refusing zip-slip names, symlinks, corrupt data and zip bombs.
pub fn visit_entries(
    path: &Path,
    visit: impl FnMut(&str, &[u8]) -> Result<(), ArchiveProblem>,
) -> Result<(), ArchiveProblem> {
    let file = open_archive(path)?;
    visit_archive(file, visit)
}

fn open_archive(path: &Path) -> Result<File, ArchiveProblem> {
    File::open(path).map_err(|err| ArchiveProblem::Corrupt {
        detail: format!("cannot open: {err}"),
    })
}

/// [`visit_entries`] on any seekable reader (a file, or bytes in memory): the same checks.
pub fn visit_archive<R: Read + Seek>(
    reader: R,
    mut visit: impl FnMut(&str, &[u8]) -> Result<(), ArchiveProblem>,
) -> Result<(), ArchiveProblem> {
    let corrupt = |detail: String| ArchiveProblem::Corrupt { detail };
    let mut zip = zip::ZipArchive::new(reader).map_err(|err| corrupt(err.to_string()))?;
    if zip.len() > MAX_ENTRIES {
        let detail = format!("{} entries (limit {MAX_ENTRIES})", zip.len());
        return Err(ArchiveProblem::Bomb { detail });
    }
    let mut expanded = 0u64;
    for index in 0..zip.len() {
        let mut entry = zip
            .by_index(index)
            .map_err(|err| corrupt(format!("entry {index}: {err}")))?;
        let name = safe_entry_name(entry.name())?;
        if entry.is_symlink() {
            return Err(ArchiveProblem::Symlink { entry: name });
        }
        if entry.is_dir() {
            continue;
        }
        let bytes = read_limited(&mut entry, &name, MAX_EXPANDED_BYTES - expanded)?;
        expanded += bytes.len() as u64;
        visit(&name, &bytes)?;
    }
    Ok(())
}

/// Read one entry, stopping as soon as it is larger than the limits allow.
fn read_limited<R: Read>(
    entry: &mut zip::read::ZipFile<'_, R>,
    name: &str,
    remaining: u64,
) -> Result<Vec<u8>, ArchiveProblem> {
    let ratio_limit = entry
        .compressed_size()
        .saturating_mul(BOMB_RATIO)
        .max(BOMB_MIN_BYTES);
    let limit = ratio_limit.min(remaining);
    let bomb = |what: &str| ArchiveProblem::Bomb {
        detail: format!("`{name}` {what} (limit {limit} bytes for this entry)"),
    };
    // The declared size can lie, so it is only a first check; the read below is bounded.
    if entry.size() > limit {
        return Err(bomb(&format!("declares {} bytes", entry.size())));
    }
    let mut bytes = Vec::with_capacity(entry.size() as usize);
    entry
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|err| ArchiveProblem::Corrupt {
            detail: format!("entry `{name}`: {err}"),
        })?;
    if bytes.len() as u64 > limit {
        return Err(bomb("expands further"));
    }
    Ok(bytes)
}

/// What pyedge needs from a wheel's `.dist-info`.
#[derive(Debug, Clone, Default)]
pub struct WheelInfo {
    /// The `.dist-info` directory name.
    pub dist_info: String,
    /// `Root-Is-Purelib` from `WHEEL` (`false` when absent).
    pub root_is_purelib: bool,
    /// `Requires-Dist` lines from `METADATA`.
    pub requires_dist: Vec<String>,
    /// `Provides-Extra` lines from `METADATA`.
    pub provides_extra: Vec<String>,
    /// `Requires-Python` from `METADATA`.
    pub requires_python: Option<String>,
    /// All file entries: name and expanded size.
    pub entries: Vec<(String, u64)>,
    /// Entries that look like compiled code, by name or by content.
    pub native_files: Vec<String>,
}

/// Read and verify a whole wheel: every entry is decompressed and checked against RECORD.
pub fn inspect_wheel(path: &Path, filename: &WheelFilename) -> Result<WheelInfo, ArchiveProblem> {
    let file = open_archive(path)?;
    inspect_wheel_archive(file, filename)
}

/// [`inspect_wheel`] on any seekable reader (a file, or bytes in memory).
pub fn inspect_wheel_archive<R: Read + Seek>(
    reader: R,
    filename: &WheelFilename,
) -> Result<WheelInfo, ArchiveProblem> {
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut digests: BTreeMap<String, String> = BTreeMap::new();
    let mut info = WheelInfo::default();
    visit_archive(reader, |name, bytes| {
        info.entries.push((name.to_string(), bytes.len() as u64));
        if is_native_name(name) || has_native_magic(bytes) {
            info.native_files.push(name.to_string());
        }
        digests.insert(name.to_string(), record_digest(bytes));
        if is_dist_info_file(name) {
            files.insert(name.to_string(), bytes.to_vec());
        }
        Ok(())
    })?;
    info.dist_info = find_dist_info(&files, filename)?;
    let read = |file: &str| dist_info_text(&files, &info.dist_info, file);
    let wheel = read("WHEEL")?;
    let metadata = read("METADATA")?;
    info.root_is_purelib = header_values(&wheel, "Root-Is-Purelib")
        .first()
        .is_some_and(|value| value.eq_ignore_ascii_case("true"));
    info.requires_dist = header_values(&metadata, "Requires-Dist");
    info.provides_extra = header_values(&metadata, "Provides-Extra");
    info.requires_python = header_values(&metadata, "Requires-Python")
        .into_iter()
        .next();
    if let Ok(record) = read("RECORD") {
        check_record(&record, &digests)?;
    }
    Ok(info)
}

/// Only `<dir>.dist-info/<file>` at the top level is metadata we read.
fn is_dist_info_file(name: &str) -> bool {
    matches!(name.split_once('/'), Some((dir, rest)) if dir.ends_with(".dist-info") && !rest.contains('/'))
}

/// Pick the `.dist-info` directory: the one named after the wheel, else the only one.
fn find_dist_info(
    files: &BTreeMap<String, Vec<u8>>,
    filename: &WheelFilename,
) -> Result<String, ArchiveProblem> {
    let mut dirs: Vec<&str> = files
        .keys()
        .filter_map(|n| n.split_once('/'))
        .map(|(d, _)| d)
        .collect();
    dirs.dedup();
    let named = dirs.iter().find(|dir| {
        dir.trim_end_matches(".dist-info")
            .rsplit_once('-')
            .and_then(|(name, _)| PackageName::from_str(name).ok())
            .is_some_and(|name| name == filename.name)
    });
    match (named, dirs.as_slice()) {
        (Some(dir), _) | (None, [dir]) => Ok(dir.to_string()),
        _ => Err(ArchiveProblem::Missing {
            file: format!("{}-{}.dist-info/", filename.name, filename.version),
        }),
    }
}

fn dist_info_text(
    files: &BTreeMap<String, Vec<u8>>,
    dist_info: &str,
    file: &str,
) -> Result<String, ArchiveProblem> {
    let path = format!("{dist_info}/{file}");
    let bytes = files
        .get(&path)
        .ok_or_else(|| ArchiveProblem::Missing { file: path.clone() })?;
    // METADATA is UTF-8 by the core metadata spec; replace stray bytes rather than fail.
    Ok(String::from_utf8_lossy(bytes).into_owned())
}

/// Values of an email-style header (`Key: value`) before the first blank line.
pub fn header_values(text: &str, key: &str) -> Vec<String> {
    text.lines()
        .take_while(|line| !line.trim().is_empty())
        // Indented lines continue the previous header's value.
        .filter(|line| !line.starts_with([' ', '\t']))
        .filter_map(|line| line.split_once(':'))
        .filter(|(k, _)| k.trim().eq_ignore_ascii_case(key))
        .map(|(_, v)| v.trim().to_string())
        .collect()
}

/// A file name that is a compiled extension or shared library on some platform.
pub fn is_native_name(name: &str) -> bool {
    let lower = name.rsplit('/').next().unwrap_or(name).to_ascii_lowercase();
    [".so", ".pyd", ".dylib", ".dll"]
        .iter()
        .any(|ext| lower.ends_with(ext))
        || lower.contains(".so.")
}

/// Content that starts like an ELF, Mach-O or PE binary, whatever the file is called.
pub fn has_native_magic(bytes: &[u8]) -> bool {
    const MAGICS: [&[u8]; 6] = [
        b"\x7fELF",
        b"\xfe\xed\xfa\xce",
        b"\xce\xfa\xed\xfe",
        b"\xfe\xed\xfa\xcf",
        b"\xcf\xfa\xed\xfe",
        b"\xca\xfe\xba\xbe",
    ];
    MAGICS.iter().any(|magic| bytes.starts_with(magic)) || is_pe(bytes)
}

/// `MZ` alone is too common in data; a PE file also has `PE\0\0` where `e_lfanew` points.
fn is_pe(bytes: &[u8]) -> bool {
    if !bytes.starts_with(b"MZ") || bytes.len() < 0x40 {
        return false;
    }
    let offset = u32::from_le_bytes([bytes[0x3c], bytes[0x3d], bytes[0x3e], bytes[0x3f]]) as usize;
    bytes.get(offset..offset.saturating_add(4)) == Some(b"PE\0\0".as_slice())
}

/// `sha256=<urlsafe base64, no padding>` as RECORD writes it.
pub(crate) fn record_digest(bytes: &[u8]) -> String {
    format!("sha256={}", base64_urlsafe_nopad(&Sha256::digest(bytes)))
}

/// Compare each RECORD line that has a sha256 with the digest of the entry it names.
fn check_record(record: &str, digests: &BTreeMap<String, String>) -> Result<(), ArchiveProblem> {
    for line in record.lines() {
        let mut fields = line.rsplitn(3, ',');
        let (_size, hash, path) = (fields.next(), fields.next(), fields.next());
        let (Some(hash), Some(path)) = (hash, path) else {
            continue;
        };
        let path = path.trim_matches('"');
        if !hash.starts_with("sha256=") {
            continue;
        }
        if let Some(actual) = digests.get(path) {
            if actual != hash {
                return Err(ArchiveProblem::RecordMismatch {
                    entry: path.to_string(),
                });
            }
        }
    }
    Ok(())
}

fn base64_urlsafe_nopad(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len() * 4 / 3 + 3);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// Where a wheel entry goes under `site-packages`, or `None` when it is not installed
/// (`.data/scripts`, `.data/headers`, `.data/data`). Empty and `.` components are dropped,
/// so the path is always relative (`x.data/purelib//m.py` installs `m.py`, not `/m.py`).
pub fn install_path(entry: &str) -> Option<String> {
    let entry: Vec<&str> = entry
        .split('/')
        .filter(|part| !part.is_empty() && *part != ".")
        .collect();
    match entry.as_slice() {
        [top, rest @ ..] if top.ends_with(".data") && !rest.is_empty() => match rest {
            [scheme, path @ ..] if matches!(*scheme, "purelib" | "platlib") && !path.is_empty() => {
                Some(path.join("/"))
            }
            _ => None,
        },
        parts => Some(parts.join("/")),
    }
}

/// The files a wheel installs into `site-packages`, sorted by path: package code and the
/// `.dist-info` directory (so `importlib.metadata` works); scripts and headers are skipped.
pub fn install_files(path: &Path) -> Result<Vec<(String, Vec<u8>)>, ArchiveProblem> {
    let file = open_archive(path)?;
    install_archive_files(file)
}

/// [`install_files`] on any seekable reader (a file, or bytes in memory).
pub fn install_archive_files<R: Read + Seek>(
    reader: R,
) -> Result<Vec<(String, Vec<u8>)>, ArchiveProblem> {
    let mut files = BTreeMap::new();
    visit_archive(reader, |name, bytes| {
        if let Some(target) = install_path(name).filter(|target| !target.is_empty()) {
            files.insert(target, bytes.to_vec());
        }
        Ok(())
    })?;
    Ok(files.into_iter().collect())
}

/// Hex sha256 of a file.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher)?;
    Ok(hex::encode(hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_wheel_names_and_tags() {
        let w = WheelFilename::parse("PyJWT-2.10.1-py3-none-any.whl").expect("wheel name");
        assert_eq!(w.name.as_ref(), "pyjwt");
        assert_eq!(w.version.to_string(), "2.10.1");
        assert!(w.is_pure_tagged() && w.supports_target_python());

        let w = WheelFilename::parse("six-1.16.0-py2.py3-none-any.whl").expect("wheel name");
        assert_eq!(w.tag(), "py2.py3-none-any");
        assert!(w.is_pure_tagged() && w.supports_target_python());

        let w = WheelFilename::parse("cryptography-44.0.0-cp39-abi3-manylinux_2_28_x86_64.whl")
            .expect("wheel name");
        assert!(!w.is_pure_tagged());

        let w = WheelFilename::parse("foo-1.0-1build-py2-none-any.whl").expect("build tag");
        assert!(!w.supports_target_python());
        assert!(WheelFilename::parse("foo-1.0.tar.gz").is_none());
        assert!(WheelFilename::parse("foo-1.0-py3-none.whl").is_none());
    }

    #[test]
    fn python_tags_for_313() {
        for ok in ["py3", "py313", "py38", "cp313", "cp3"] {
            assert!(python_tag_supports_313(ok), "{ok}");
        }
        for bad in ["py2", "py314", "cp314", "pp310", "py"] {
            assert!(!python_tag_supports_313(bad), "{bad}");
        }
    }

    #[test]
    fn sdist_versions() {
        let name = PackageName::from_str("python-dateutil").expect("name");
        let v = sdist_version("python-dateutil-2.9.0.post0.tar.gz", &name).expect("version");
        assert_eq!(v.to_string(), "2.9.0.post0");
        let v = sdist_version("python_dateutil-2.9.0.zip", &name).expect("version");
        assert_eq!(v.to_string(), "2.9.0");
        assert!(sdist_version("other-1.0.tar.gz", &name).is_none());
    }

    #[test]
    fn zip_slip_names_are_refused() {
        for bad in ["/etc/passwd", "../x.py", "pkg/../../x", "C:/x", "a\\..\\b"] {
            assert!(safe_entry_name(bad).is_err(), "{bad}");
        }
        assert_eq!(
            safe_entry_name("pkg/mod.py").ok().as_deref(),
            Some("pkg/mod.py")
        );
    }

    #[test]
    fn native_files_by_name_and_content() {
        assert!(is_native_name(
            "pkg/_speedups.cpython-313-x86_64-linux-gnu.so"
        ));
        assert!(is_native_name("pkg.libs/libz.so.1.2.13"));
        assert!(is_native_name("pkg/x.PYD"));
        assert!(!is_native_name("pkg/sober.py"));
        assert!(has_native_magic(b"\x7fELF\x02\x01"));
        assert!(!has_native_magic(
            b"MZ but not a PE file at all, just text........................"
        ));
        let mut pe = vec![0u8; 0x80];
        pe[..2].copy_from_slice(b"MZ");
        pe[0x3c] = 0x40;
        pe[0x40..0x44].copy_from_slice(b"PE\0\0");
        assert!(has_native_magic(&pe));
    }

    #[test]
    fn record_digest_matches_pip() {
        // RECORD line for an empty file as pip writes it.
        assert_eq!(
            record_digest(b""),
            "sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU"
        );
    }

    #[test]
    fn data_scheme_mapping() {
        assert_eq!(install_path("pkg/a.py").as_deref(), Some("pkg/a.py"));
        assert_eq!(
            install_path("x-1.0.data/purelib/m.py").as_deref(),
            Some("m.py")
        );
        assert_eq!(
            install_path("x-1.0.data/platlib/p/m.py").as_deref(),
            Some("p/m.py")
        );
        assert_eq!(install_path("x-1.0.data/scripts/tool"), None);
        // Found by the wheel_names fuzz target: an empty component made it `/m.py`.
        assert_eq!(
            install_path("demo-1.0.data/purelib//m.py").as_deref(),
            Some("m.py")
        );
        assert_eq!(install_path("./pkg//a.py").as_deref(), Some("pkg/a.py"));
        assert_eq!(install_path("x-1.0.data/headers/h.h"), None);
    }

    #[test]
    fn headers_stop_at_the_body() {
        let text =
            "Name: x\nRequires-Dist: a\nrequires-dist: b ; extra == 'c'\n\nRequires-Dist: no";
        assert_eq!(
            header_values(text, "Requires-Dist"),
            ["a", "b ; extra == 'c'"]
        );
    }
}
