//! An identity provider's public keys, from its JWKS URL or a JWKS file.
//!
//! At a URL (`LEARNMAP_JWKS_URL`), the keys are fetched at start-up and kept
//! fresh (see `remote`, and `fetch` for how a fetch goes). A file
//! (`LEARNMAP_JWKS_FILE`) suits a provider that only publishes its keys by
//! other means; whatever rewrites the file rotates the keys. Either way, when
//! a token names a key id the set does not hold, the keys are fetched or read
//! again, at most once every [`RELOAD_INTERVAL`].

mod fetch;
mod remote;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use anyhow::Context;
use jsonwebtoken::DecodingKey;
use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet, KeyAlgorithm, PublicKeyUse};

pub use fetch::JwksUrl;
pub use remote::RemoteKeys;

/// The shortest time between two reads of the file, or two fetches of the
/// URL caused by unknown key ids.
pub const RELOAD_INTERVAL: Duration = Duration::from_secs(30);

/// The RS256 keys of a JWKS, by key id.
#[derive(Clone)]
pub struct Keys(Vec<(Option<String>, DecodingKey)>);

impl Keys {
    /// The RSA signing keys of a set; keys of other types or uses are skipped.
    pub fn from_set(set: &JwkSet) -> Keys {
        let keys = set
            .keys
            .iter()
            .filter(|jwk| matches!(jwk.algorithm, AlgorithmParameters::RSA(_)))
            .filter(|jwk| {
                jwk.common
                    .public_key_use
                    .as_ref()
                    .is_none_or(|u| *u == PublicKeyUse::Signature)
            })
            .filter(|jwk| jwk.common.key_algorithm.is_none_or(|a| a == KeyAlgorithm::RS256))
            .filter_map(|jwk| match DecodingKey::from_jwk(jwk) {
                Ok(key) => Some((jwk.common.key_id.clone(), key)),
                Err(error) => {
                    tracing::warn!(kid = jwk.common.key_id.as_deref().unwrap_or(""), %error, "JWKS key skipped");
                    None
                }
            })
            .collect();
        Keys(keys)
    }

    pub fn parse(json: &str) -> anyhow::Result<Keys> {
        let set: JwkSet = serde_json::from_str(json).context("not a JWKS (a JSON object with `keys`)")?;
        Ok(Keys::from_set(&set))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The key a token's `kid` names; a token without one may use the only key
    /// of a one-key set.
    pub fn find(&self, kid: Option<&str>) -> Option<&DecodingKey> {
        match kid {
            Some(kid) => self.0.iter().find(|(id, _)| id.as_deref() == Some(kid)).map(|(_, k)| k),
            None if self.0.len() == 1 => self.0.first().map(|(_, k)| k),
            None => None,
        }
    }
}

/// Keys held in memory, read from a file and read again on an unknown key id,
/// or fetched from a URL.
pub enum KeySource {
    Fixed(Keys),
    File {
        path: PathBuf,
        keys: RwLock<Keys>,
        last_read: Mutex<Instant>,
    },
    Url(Arc<RemoteKeys>),
}

impl KeySource {
    pub fn file(path: &Path) -> anyhow::Result<KeySource> {
        let keys = read(path)?;
        if keys.is_empty() {
            anyhow::bail!("{} holds no RSA signing key", path.display());
        }
        tracing::info!(path = %path.display(), keys = keys.len(), "JWKS loaded");
        Ok(KeySource::File {
            path: path.to_path_buf(),
            keys: RwLock::new(keys),
            last_read: Mutex::new(Instant::now()),
        })
    }

    /// Whether keys are there to check tokens with: a URL's once a fetch has
    /// succeeded.
    pub fn is_ready(&self) -> bool {
        match self {
            KeySource::Url(remote) => remote.is_ready(),
            KeySource::Fixed(_) | KeySource::File { .. } => true,
        }
    }

    /// The key for a token, reading the file again when the key id is
    /// unknown. Of a URL's keys, only those held: [`RemoteKeys::find`]
    /// fetches.
    pub fn find(&self, kid: Option<&str>) -> Option<DecodingKey> {
        match self {
            KeySource::Fixed(keys) => keys.find(kid).cloned(),
            KeySource::Url(remote) => remote.held(kid),
            KeySource::File { path, keys, last_read } => {
                if let Some(key) = keys.read().ok()?.find(kid) {
                    return Some(key.clone());
                }
                {
                    let mut last = last_read.lock().ok()?;
                    if last.elapsed() < RELOAD_INTERVAL {
                        return None;
                    }
                    *last = Instant::now();
                }
                match read(path) {
                    Ok(fresh) if !fresh.is_empty() => {
                        tracing::info!(path = %path.display(), keys = fresh.len(), "JWKS read again");
                        let key = fresh.find(kid).cloned();
                        if let Ok(mut held) = keys.write() {
                            *held = fresh;
                        }
                        key
                    }
                    Ok(_) => {
                        tracing::warn!(path = %path.display(), "JWKS file holds no RSA signing key; keeping the old keys");
                        None
                    }
                    Err(error) => {
                        tracing::warn!(error = %format!("{error:#}"), "cannot read the JWKS again; keeping the old keys");
                        None
                    }
                }
            }
        }
    }
}

fn read(path: &Path) -> anyhow::Result<Keys> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    Keys::parse(&text).with_context(|| format!("{} is not a usable JWKS", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The public modulus of a throwaway test key.
    const N: &str = "tVNmDbBNmjNRaOvUuYUZ8C4VDaIuQWaFih9EDEcAX7KXw938VmJWDpfKuDA0L6LgXmFgqSSlGA3CHP4hie_3JCfkyveQQehtpkpK947bukSx5QQ6L9lM2rdkiU-txkuOd2JhZI9RORntT_ra_IB-mgYmPLOoNFu5-2qCr9oet6h3Rc27nyuzJiDw0PUCj3eFkI1SxRZhzgayeX20jB1SD0cky5CVFO-LCQV9NsfGGIIS9VZrtq8E_8z0mevQXDlgAP6L8tt_JYCZHxwRqBQGS9axi0gQ5U_1hPOZ08uAK2sNcG2CClHEa6E8wrkN4jFfr3f5L-NV6XEqCRFD5PudsQ";

    fn set(kid: &str) -> String {
        serde_json::json!({ "keys": [{ "kty": "RSA", "kid": kid, "n": N, "e": "AQAB" }] }).to_string()
    }

    #[test]
    fn an_unknown_key_id_reads_the_file_again_but_not_too_often() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("jwks.json");
        std::fs::write(&path, set("old")).expect("write");
        let source = KeySource::file(&path).expect("keys");
        assert!(source.find(Some("old")).is_some());

        std::fs::write(&path, set("new")).expect("write");
        assert!(source.find(Some("new")).is_none(), "read moments ago: not again yet");

        if let KeySource::File { last_read, .. } = &source {
            *last_read.lock().expect("lock") = Instant::now() - RELOAD_INTERVAL - Duration::from_secs(1);
        }
        assert!(source.find(Some("new")).is_some(), "rotated in");
        assert!(source.find(Some("old")).is_none(), "rotated out");

        // A broken file keeps the keys held.
        std::fs::write(&path, "{").expect("write");
        if let KeySource::File { last_read, .. } = &source {
            *last_read.lock().expect("lock") = Instant::now() - RELOAD_INTERVAL - Duration::from_secs(1);
        }
        assert!(source.find(Some("other")).is_none());
        assert!(source.find(Some("new")).is_some());
    }
}
