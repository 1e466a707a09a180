//! Authentication settings, as flags and environment variables of the
//! `learnmap` command.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;

use super::secret::{self, Secret};
use super::{DEFAULT_AUDIENCE, DEFAULT_ISSUER, JwksUrl, Signer, Verifier};

/// Where tokens come from and how they are checked.
#[derive(clap::Args, Debug, Clone)]
#[command(next_help_heading = "Authentication")]
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

    /// The identity provider's JWKS URL, for RS256 tokens: `https://`, or
    /// `http://` to a loopback host only. Its keys are fetched at start-up,
    /// again when its `Cache-Control: max-age` runs out (5 min to 24 h; 1 h
    /// without one), and when a token names an unknown key id (at most every
    /// 30 s).
    #[arg(long, global = true, env = "LEARNMAP_JWKS_URL")]
    pub jwks_url: Option<String>,

    /// A PEM file of root certificates to trust for `--jwks-url` besides the
    /// public ones (such as a government CA).
    #[arg(long, global = true, env = "LEARNMAP_JWKS_CA_FILE")]
    pub jwks_ca_file: Option<PathBuf>,

    /// A JWKS file with the identity provider's keys, for RS256 tokens,
    /// instead of `--jwks-url`. It is read again when a token names an
    /// unknown key id.
    #[arg(long, global = true, env = "LEARNMAP_JWKS_FILE")]
    pub jwks_file: Option<PathBuf>,
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
        if self.jwks_file.is_some() || self.jwks_url().is_some() {
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
    /// the secret is the generated one. The keys of a JWKS URL are not
    /// fetched yet: see [`Verifier::start`].
    pub fn verifier(&self) -> anyhow::Result<Verifier> {
        if let Some(path) = &self.jwks_ca_file
            && self.jwks_url().is_none()
        {
            anyhow::bail!(
                "LEARNMAP_JWKS_CA_FILE ({}) is set without LEARNMAP_JWKS_URL: it is only used to fetch from that URL",
                path.display()
            );
        }
        let mut verifier = Verifier::new(&self.jwt_issuer, &self.jwt_audience);
        match (&self.jwks_file, self.jwks_url()) {
            (Some(_), Some(_)) => anyhow::bail!(
                "LEARNMAP_JWKS_FILE and LEARNMAP_JWKS_URL are both set: the identity provider's keys come \
                 from one of them, so unset the other"
            ),
            (Some(path), None) => {
                verifier = verifier
                    .with_jwks_file(path)
                    .with_context(|| format!("cannot use LEARNMAP_JWKS_FILE ({})", path.display()))?;
            }
            (None, Some(url)) => {
                verifier = verifier.with_jwks_url(JwksUrl::new(url, self.jwks_ca_file.as_deref())?);
            }
            (None, None) => {}
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
                "no signing secret: with LEARNMAP_JWKS_URL or LEARNMAP_JWKS_FILE set, tokens come from the \
                 identity provider (set LEARNMAP_JWT_SECRET as well to sign tokens here)"
            );
        };
        Signer::new(&signing.secret, &self.jwt_issuer, &self.jwt_audience)?.token(employee_no, admin, ttl)
    }

    /// The JWKS URL, unless unset or blank.
    fn jwks_url(&self) -> Option<&str> {
        self.jwks_url.as_deref().map(str::trim).filter(|u| !u.is_empty())
    }

    /// The settings with nothing configured, the secret file at `path`.
    pub fn with_secret_file(path: &Path) -> AuthArgs {
        AuthArgs {
            jwt_secret: None,
            jwt_secret_file: path.to_path_buf(),
            jwt_issuer: DEFAULT_ISSUER.into(),
            jwt_audience: DEFAULT_AUDIENCE.into(),
            jwks_url: None,
            jwks_ca_file: None,
            jwks_file: None,
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

    /// Why the verifier of these settings is refused.
    fn refusal(args: &AuthArgs) -> String {
        format!("{:#}", args.verifier().err().expect("refused"))
    }

    #[test]
    fn a_jwks_url_must_be_https_unless_on_loopback() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut args = AuthArgs::with_secret_file(&dir.path().join("jwt-secret"));
        for url in [
            "https://idp.example/jwks",
            "http://127.0.0.1:9/jwks",
            "http://localhost:9/jwks",
            "http://[::1]:9/jwks",
        ] {
            args.jwks_url = Some(url.into());
            assert!(args.verifier().is_ok(), "{url}");
        }
        assert!(!dir.path().join("jwt-secret").exists(), "a URL alone makes no secret");

        args.jwks_url = Some("http://idp.example/jwks".into());
        let error = refusal(&args);
        assert!(error.contains("LEARNMAP_JWKS_URL http://idp.example/jwks"), "{error}");
        assert!(error.contains("loopback host only"), "{error}");
        for (url, reason) in [
            ("http://10.0.0.1/jwks", "loopback host only"),
            ("ftp://idp.example/jwks", "must be an https:// URL"),
            ("idp.example/jwks", "not a URL"),
            ("https://user:pass@idp.example/jwks", "user name or password"),
        ] {
            args.jwks_url = Some(url.into());
            let error = refusal(&args);
            assert!(error.contains(reason), "{url}: {error}");
            assert!(!error.contains("pass@"), "{error}");
        }
    }

    #[test]
    fn a_jwks_file_and_url_together_are_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut args = AuthArgs::with_secret_file(&dir.path().join("jwt-secret"));
        args.jwks_file = Some(dir.path().join("jwks.json"));
        args.jwks_url = Some("https://idp.example/jwks".into());
        let error = refusal(&args);
        assert!(
            error.contains("LEARNMAP_JWKS_FILE and LEARNMAP_JWKS_URL are both set"),
            "{error}"
        );

        // A blank URL counts as unset.
        args.jwks_url = Some("  ".into());
        assert!(!refusal(&args).contains("both set"));
    }

    #[test]
    fn a_bad_ca_file_is_refused_by_name() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut args = AuthArgs::with_secret_file(&dir.path().join("jwt-secret"));
        args.jwks_url = Some("https://idp.example/jwks".into());

        let missing = dir.path().join("missing.pem");
        args.jwks_ca_file = Some(missing.clone());
        let error = refusal(&args);
        assert!(
            error.contains(&format!("LEARNMAP_JWKS_CA_FILE {}: cannot be read", missing.display())),
            "{error}"
        );

        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").expect("write");
        args.jwks_ca_file = Some(empty.clone());
        let error = refusal(&args);
        assert!(
            error.contains(&format!("{}: holds no PEM certificate", empty.display())),
            "{error}"
        );

        let broken = dir.path().join("broken.pem");
        std::fs::write(
            &broken,
            "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n",
        )
        .expect("write");
        args.jwks_ca_file = Some(broken.clone());
        let error = refusal(&args);
        assert!(error.contains(&broken.display().to_string()), "{error}");

        args.jwks_url = None;
        let error = refusal(&args);
        assert!(error.contains("without LEARNMAP_JWKS_URL"), "{error}");
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
