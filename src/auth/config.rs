//! Authentication settings, as flags and environment variables of the
//! `learnmap` command.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;

use super::secret::{self, Secret};
use super::{DEFAULT_AUDIENCE, DEFAULT_ISSUER, Signer, Verifier};

/// Where tokens come from and how they are checked.
#[derive(clap::Args, Debug, Clone)]
pub struct AuthArgs {
    /// The shared secret of HS256 tokens (at least 32 characters). Unset, and
    /// with no JWKS, the secret in `--jwt-secret-file` is used, created on
    /// first use.
    #[arg(long, global = true, env = "LEARNMAP_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<Secret>,

    /// The file holding the generated secret.
    #[arg(
        long,
        global = true,
        env = "LEARNMAP_JWT_SECRET_FILE",
        default_value = "data/jwt-secret"
    )]
    pub jwt_secret_file: PathBuf,

    /// The `iss` every token must carry.
    #[arg(long, global = true, env = "LEARNMAP_JWT_ISSUER", default_value = DEFAULT_ISSUER)]
    pub jwt_issuer: String,

    /// The `aud` every token must carry.
    #[arg(long, global = true, env = "LEARNMAP_JWT_AUDIENCE", default_value = DEFAULT_AUDIENCE)]
    pub jwt_audience: String,

    /// A JWKS file with the identity provider's keys, for RS256 tokens. It is
    /// read again when a token names an unknown key id.
    #[arg(long, global = true, env = "LEARNMAP_JWKS_FILE")]
    pub jwks_file: Option<PathBuf>,

    /// Not supported: there is no HTTPS client in the build. Save the JWKS
    /// to a file and set `LEARNMAP_JWKS_FILE`.
    #[arg(long, global = true, env = "LEARNMAP_JWKS_URL", hide = true)]
    pub jwks_url: Option<String>,
}

/// The secret to sign and check HS256 tokens with, and where it came from.
pub struct SigningSecret {
    pub secret: Secret,
    /// The generated file, when the secret is not configured.
    pub file: Option<PathBuf>,
    pub created: bool,
}

impl AuthArgs {
    /// The HS256 secret: the configured one, else (when no JWKS is set
    /// either) the file's, created if missing. `None` when only a JWKS is set.
    pub fn signing_secret(&self) -> anyhow::Result<Option<SigningSecret>> {
        if let Some(secret) = self.jwt_secret.clone().filter(|s| !s.expose().is_empty()) {
            secret.check("LEARNMAP_JWT_SECRET")?;
            return Ok(Some(SigningSecret {
                secret,
                file: None,
                created: false,
            }));
        }
        if self.jwks_file.is_some() {
            return Ok(None);
        }
        let (secret, created) = secret::load_or_create(&self.jwt_secret_file)?;
        if created {
            tracing::info!(path = %self.jwt_secret_file.display(), "created a JWT signing secret");
        }
        Ok(Some(SigningSecret {
            secret,
            file: Some(self.jwt_secret_file.clone()),
            created,
        }))
    }

    /// The verifier `serve` checks tokens with; logs how to get a token when
    /// the secret is the generated one.
    pub fn verifier(&self) -> anyhow::Result<Verifier> {
        if self.jwks_url.as_deref().is_some_and(|u| !u.trim().is_empty()) {
            anyhow::bail!(
                "LEARNMAP_JWKS_URL is not supported (this build has no HTTPS client): save the identity \
                 provider's JWKS to a file, refresh it from cron or a sidecar, and set LEARNMAP_JWKS_FILE"
            );
        }
        let mut verifier = Verifier::new(&self.jwt_issuer, &self.jwt_audience);
        if let Some(path) = &self.jwks_file {
            verifier = verifier.with_jwks_file(path).context("cannot use the JWKS")?;
        }
        if let Some(signing) = self.signing_secret()? {
            verifier = verifier.with_secret(&signing.secret)?;
            if let Some(file) = &signing.file {
                tracing::info!(
                    path = %file.display(),
                    "tokens are signed with the generated secret (set LEARNMAP_JWT_SECRET to choose one); \
                     for an admin token run: cargo run -- token --employee ADMIN --admin"
                );
            }
        }
        Ok(verifier)
    }

    /// A token signed with the secret, for `learnmap token`.
    pub fn token(&self, employee_no: &str, admin: bool, ttl: Duration) -> anyhow::Result<String> {
        let Some(signing) = self.signing_secret()? else {
            anyhow::bail!(
                "no signing secret: with LEARNMAP_JWKS_FILE set, tokens come from the identity provider \
                 (set LEARNMAP_JWT_SECRET as well to sign tokens here)"
            );
        };
        Signer::new(&signing.secret, &self.jwt_issuer, &self.jwt_audience)?.token(employee_no, admin, ttl)
    }

    /// The settings with nothing configured, the secret file at `path`.
    pub fn with_secret_file(path: &Path) -> AuthArgs {
        AuthArgs {
            jwt_secret: None,
            jwt_secret_file: path.to_path_buf(),
            jwt_issuer: DEFAULT_ISSUER.into(),
            jwt_audience: DEFAULT_AUDIENCE.into(),
            jwks_file: None,
            jwks_url: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graphql::Caller;

    #[test]
    fn without_configuration_the_file_secret_signs_and_verifies() {
        let dir = tempfile::tempdir().expect("temp dir");
        let args = AuthArgs::with_secret_file(&dir.path().join("data/jwt-secret"));
        let token = args.token("E10010", false, Duration::from_secs(60)).expect("token");
        let caller = args.verifier().expect("verifier").verify(&token);
        assert_eq!(
            caller,
            Ok(Caller::Person {
                employee_no: "E10010".into()
            })
        );
    }

    #[test]
    fn a_jwks_alone_signs_nothing() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut args = AuthArgs::with_secret_file(&dir.path().join("jwt-secret"));
        args.jwks_file = Some(dir.path().join("jwks.json"));
        assert!(args.signing_secret().expect("no error").is_none());
        assert!(args.token("E1", false, Duration::from_secs(60)).is_err());
        assert!(!dir.path().join("jwt-secret").exists());
    }

    #[test]
    fn a_jwks_url_is_refused_with_advice() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut args = AuthArgs::with_secret_file(&dir.path().join("jwt-secret"));
        args.jwks_url = Some("https://idp.example/jwks".into());
        let error = args.verifier().err().expect("refused");
        assert!(error.to_string().contains("LEARNMAP_JWKS_FILE"), "{error}");
    }

    #[test]
    fn a_short_configured_secret_is_refused_without_printing_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut args = AuthArgs::with_secret_file(&dir.path().join("jwt-secret"));
        args.jwt_secret = Some(Secret::new("hunter2"));
        let error = format!("{:#}", args.verifier().err().expect("refused"));
        assert!(error.contains("at least 32"), "{error}");
        assert!(!error.contains("hunter2"), "{error}");
        assert!(!format!("{args:?}").contains("hunter2"));
    }
}
