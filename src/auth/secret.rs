//! The HS256 signing secret: a type that never prints, and the file that
//! `cargo run` creates when no secret is configured.

use std::fmt;
use std::io::Write;
use std::path::Path;

use anyhow::Context;

/// The fewest bytes a signing secret may have (the size of an HS256 key).
pub const MIN_SECRET_BYTES: usize = 32;

/// A secret string. `Debug` and `Display` print `[redacted]`; only
/// [`Secret::expose`] gives the bytes.
#[derive(Clone)]
pub struct Secret(String);

/// Secrets compare by the bytes they sign with.
impl PartialEq for Secret {
    fn eq(&self, other: &Secret) -> bool {
        self.expose() == other.expose()
    }
}

impl Eq for Secret {}

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The bytes to sign and verify with: the text without surrounding
    /// whitespace, so a file with a trailing newline works.
    pub fn expose(&self) -> &[u8] {
        self.0.trim().as_bytes()
    }

    /// Refuses secrets too short to be an HS256 key.
    pub fn check(&self, source: &str) -> anyhow::Result<()> {
        let len = self.expose().len();
        if len < MIN_SECRET_BYTES {
            anyhow::bail!("{source} must be at least {MIN_SECRET_BYTES} characters long (it has {len})");
        }
        Ok(())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// For clap: any text is taken as is (and checked later), so that a parse
/// error can never echo the secret.
impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Secret::new(s))
    }
}

/// Reads the secret file, or creates it (and its folder) with 32 random bytes
/// written as 64 hexadecimal digits, readable by its owner only. Returns the
/// secret and whether the file was created.
pub fn load_or_create(path: &Path) -> anyhow::Result<(Secret, bool)> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let secret = Secret::new(text);
            secret.check(&format!("the secret in {}", path.display()))?;
            warn_if_shared(path);
            return Ok((secret, false));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    }

    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let text = hex(&random_bytes()?);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(mut file) => {
            file.write_all(format!("{text}\n").as_bytes())
                .and_then(|()| file.sync_all())
                .with_context(|| format!("cannot write {}", path.display()))?;
            Ok((Secret::new(text), true))
        }
        // Another process created it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => load_or_create(path),
        Err(e) => Err(e).with_context(|| format!("cannot create {}", path.display())),
    }
}

#[cfg(unix)]
fn warn_if_shared(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(path = %path.display(), "the JWT secret file is readable by others; chmod 600 it");
    }
}

#[cfg(not(unix))]
fn warn_if_shared(_path: &Path) {}

#[cfg(unix)]
fn random_bytes() -> anyhow::Result<[u8; 32]> {
    use std::io::Read;
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .context("cannot read /dev/urandom")?;
    Ok(bytes)
}

#[cfg(not(unix))]
fn random_bytes() -> anyhow::Result<[u8; 32]> {
    anyhow::bail!("cannot create a JWT secret on this system: set LEARNMAP_JWT_SECRET")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints_itself() {
        let secret = Secret::new("correct horse battery staple, and more");
        assert_eq!(format!("{secret}"), "[redacted]");
        assert_eq!(format!("{secret:?}"), "[redacted]");
        assert_eq!(format!("{:?}", Some(secret)), "Some([redacted])");
    }

    #[test]
    fn short_secrets_are_refused() {
        assert!(Secret::new("short").check("LEARNMAP_JWT_SECRET").is_err());
        assert!(Secret::new(" ".repeat(40)).check("LEARNMAP_JWT_SECRET").is_err());
        assert!(Secret::new("x".repeat(32)).check("LEARNMAP_JWT_SECRET").is_ok());
    }

    #[test]
    fn the_file_is_created_once_for_its_owner_only() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("data").join("jwt-secret");

        let (first, created) = load_or_create(&path).expect("created");
        assert!(created);
        assert_eq!(first.expose().len(), 64);
        let (again, created) = load_or_create(&path).expect("read back");
        assert!(!created);
        assert_eq!(first, again);

        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("metadata").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn two_files_hold_different_secrets() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (a, _) = load_or_create(&dir.path().join("a")).expect("a");
        let (b, _) = load_or_create(&dir.path().join("b")).expect("b");
        assert_ne!(a, b);
    }
}
