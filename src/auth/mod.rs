//! Authentication: who a request's bearer token says the caller is.
//!
//! A token is a JWT signed with the shared secret (HS256) or by an identity
//! provider whose public keys come as a JWKS, fetched from its URL or read
//! from a file (RS256; see [`jwks`]). It must carry `exp`,
//! `iss` and `aud` (checked against the configured issuer and audience, with
//! 30 seconds of leeway on the clock) and `sub`, the employee number. A
//! `roles` claim (a list of strings, or one space-separated string) holding
//! `admin` makes the caller an admin.
//!
//! A request without a token is anonymous. A request with a token that does
//! not verify (bad signature, expired, another issuer or audience, an
//! algorithm not configured) is refused whole with `UNAUTHENTICATED`, even for
//! the public catalog: a client sending a broken token should notice rather
//! than silently see less. What each caller may read is decided in
//! `graphql::access`.

mod config;
pub mod jwks;
mod secret;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

pub use config::AuthArgs;
pub use jwks::{JwksUrl, Keys};
pub use secret::{MIN_SECRET_BYTES, Secret, load_or_create as load_or_create_secret};

use crate::graphql::Caller;

/// The issuer and audience when none is configured.
pub const DEFAULT_ISSUER: &str = "learnmap";
pub const DEFAULT_AUDIENCE: &str = "learnmap";
/// The role that makes a caller an admin.
pub const ADMIN_ROLE: &str = "admin";
/// How far the clocks of the issuer and of this server may disagree.
pub const LEEWAY_SECONDS: u64 = 30;
/// The longest-lived token `learnmap token` signs.
pub const MAX_TTL: Duration = Duration::from_secs(366 * 24 * 3600);
/// The longest employee number a token may name.
const MAX_SUBJECT_CHARS: usize = 64;

/// Why a token was refused. The reason is for the log; clients get
/// [`AuthError::client_message`] only.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("the token has expired")]
    Expired,
    #[error("invalid token: {0}")]
    Invalid(String),
}

impl AuthError {
    pub fn client_message(&self) -> &'static str {
        match self {
            AuthError::Expired => "the token has expired",
            AuthError::Invalid(_) => "the token is invalid",
        }
    }
}

/// The claims learnmap signs.
#[derive(Debug, Serialize)]
struct IssuedClaims<'a> {
    sub: &'a str,
    iss: &'a str,
    aud: &'a str,
    iat: u64,
    exp: u64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    roles: Vec<&'a str>,
}

/// The claims learnmap reads; `exp`, `iss` and `aud` are checked by the
/// validation.
#[derive(Debug, Deserialize)]
struct ReadClaims {
    sub: String,
    #[serde(default)]
    roles: serde_json::Value,
}

impl ReadClaims {
    fn is_admin(&self) -> bool {
        match &self.roles {
            serde_json::Value::Array(roles) => roles.iter().any(|r| r.as_str() == Some(ADMIN_ROLE)),
            serde_json::Value::String(roles) => roles.split_whitespace().any(|r| r == ADMIN_ROLE),
            _ => false,
        }
    }
}

/// Checks tokens: HS256 with the shared secret, RS256 with a JWKS, or both.
pub struct Verifier {
    hmac: Option<DecodingKey>,
    jwks: Option<jwks::KeySource>,
    issuer: String,
    audience: String,
}

impl Verifier {
    /// A verifier with no keys yet: it refuses every token.
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>) -> Verifier {
        Verifier {
            hmac: None,
            jwks: None,
            issuer: issuer.into(),
            audience: audience.into(),
        }
    }

    /// Accepts HS256 tokens signed with the secret.
    pub fn with_secret(mut self, secret: &Secret) -> anyhow::Result<Verifier> {
        secret.check("the JWT secret")?;
        self.hmac = Some(DecodingKey::from_secret(secret.expose())?);
        Ok(self)
    }

    /// Accepts RS256 tokens signed by one of the keys.
    pub fn with_keys(mut self, keys: Keys) -> Verifier {
        self.jwks = Some(jwks::KeySource::Fixed(keys));
        self
    }

    /// Accepts RS256 tokens signed by a key of the JWKS file.
    pub fn with_jwks_file(mut self, path: &std::path::Path) -> anyhow::Result<Verifier> {
        self.jwks = Some(jwks::KeySource::file(path)?);
        Ok(self)
    }

    /// Accepts RS256 tokens signed by a key of the JWKS at the URL, once
    /// fetched: see [`Verifier::start`].
    pub fn with_jwks_url(mut self, url: JwksUrl) -> Verifier {
        self.jwks = Some(jwks::KeySource::Url(Arc::new(jwks::RemoteKeys::new(url))));
        self
    }

    /// Fetches the keys of a JWKS URL and keeps them fresh in the background
    /// while the verifier lives; nothing for other keys. An error says why
    /// the first fetch failed: refreshing goes on all the same.
    pub async fn start(&self) -> anyhow::Result<()> {
        match &self.jwks {
            Some(jwks::KeySource::Url(remote)) => remote.start().await,
            _ => Ok(()),
        }
    }

    /// Whether any token can verify at all.
    pub fn has_keys(&self) -> bool {
        self.hmac.is_some() || self.jwks.is_some()
    }

    /// Whether the keys are there: false while the keys of a JWKS URL have
    /// never been fetched.
    pub fn is_ready(&self) -> bool {
        self.jwks.as_ref().is_none_or(jwks::KeySource::is_ready)
    }

    /// The caller a token names, or why it is refused. Of a JWKS URL's keys
    /// only those held are tried: [`Verifier::verify_fetching`] fetches.
    pub fn verify(&self, token: &str) -> Result<Caller, AuthError> {
        let header = header_of(token)?;
        let key = self.key_held(&header)?;
        self.check(token, &header, key)
    }

    /// Like [`Verifier::verify`], but a token naming a key id that the keys
    /// of a JWKS URL do not hold fetches them again first (see
    /// `jwks::remote` for how often).
    pub async fn verify_fetching(&self, token: &str) -> Result<Caller, AuthError> {
        let header = header_of(token)?;
        let key = match (&self.jwks, header.alg) {
            (Some(jwks::KeySource::Url(remote)), Algorithm::RS256) => remote.find(header.kid.as_deref()).await,
            _ => self.key_held(&header)?,
        };
        self.check(token, &header, key)
    }

    /// The key held for the token's algorithm and key id.
    fn key_held(&self, header: &Header) -> Result<Option<DecodingKey>, AuthError> {
        match header.alg {
            Algorithm::HS256 => Ok(self.hmac.clone()),
            Algorithm::RS256 => Ok(self.jwks.as_ref().and_then(|keys| keys.find(header.kid.as_deref()))),
            other => Err(AuthError::Invalid(format!("algorithm {other:?} is not accepted"))),
        }
    }

    /// Checks the token's signature with the key, and its claims.
    fn check(&self, token: &str, header: &Header, key: Option<DecodingKey>) -> Result<Caller, AuthError> {
        let Some(key) = key else {
            return Err(AuthError::Invalid(match &header.kid {
                Some(kid) => format!("no {:?} key with id {kid:?}", header.alg),
                None => format!("no {:?} key", header.alg),
            }));
        };

        let data =
            jsonwebtoken::decode::<ReadClaims>(token, &key, &self.validation(header.alg)).map_err(|e| {
                match e.kind() {
                    jsonwebtoken::errors::ErrorKind::ExpiredSignature => AuthError::Expired,
                    _ => AuthError::Invalid(e.to_string()),
                }
            })?;
        caller_of(&data.claims)
    }

    fn validation(&self, alg: Algorithm) -> Validation {
        let mut validation = Validation::new(alg);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_nbf = true;
        validation
    }
}

fn header_of(token: &str) -> Result<Header, AuthError> {
    jsonwebtoken::decode_header(token).map_err(|e| AuthError::Invalid(e.to_string()))
}

fn caller_of(claims: &ReadClaims) -> Result<Caller, AuthError> {
    let employee_no = claims.sub.trim();
    if employee_no.is_empty() {
        return Err(AuthError::Invalid("empty subject".into()));
    }
    if employee_no.chars().count() > MAX_SUBJECT_CHARS || employee_no.chars().any(char::is_control) {
        return Err(AuthError::Invalid("the subject is not an employee number".into()));
    }
    // An identity provider may print the number in lower case or full width,
    // as HR systems do; the caller is the person the number folds to.
    let employee_no = crate::personnel::employee_key(employee_no);
    Ok(if claims.is_admin() {
        Caller::Admin {
            employee_no: Some(employee_no),
        }
    } else {
        Caller::Person { employee_no }
    })
}

/// Signs HS256 tokens with the shared secret, for `learnmap token` and tests.
pub struct Signer {
    key: EncodingKey,
    issuer: String,
    audience: String,
}

impl Signer {
    pub fn new(secret: &Secret, issuer: impl Into<String>, audience: impl Into<String>) -> anyhow::Result<Signer> {
        secret.check("the JWT secret")?;
        Ok(Signer {
            key: EncodingKey::from_secret(secret.expose())?,
            issuer: issuer.into(),
            audience: audience.into(),
        })
    }

    /// A token for an employee, valid for `ttl` from now.
    pub fn token(&self, employee_no: &str, admin: bool, ttl: Duration) -> anyhow::Result<String> {
        let employee_no = crate::import::value::parse_employee_no(&crate::import::clean(employee_no))
            .map_err(|e| anyhow::anyhow!("--employee: {e}"))?;
        if ttl.is_zero() || ttl > MAX_TTL {
            anyhow::bail!("the lifetime must be above 0 and at most 366 days");
        }
        let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
        let claims = IssuedClaims {
            sub: &employee_no,
            iss: &self.issuer,
            aud: &self.audience,
            iat: now,
            exp: now + ttl.as_secs(),
            roles: if admin { vec![ADMIN_ROLE] } else { Vec::new() },
        };
        self.sign(&claims)
    }

    /// Signs any claims (tests use it for expired or foreign tokens).
    pub fn sign(&self, claims: &impl Serialize) -> anyhow::Result<String> {
        Ok(jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.key)?)
    }
}

/// The token of an `Authorization` header value: `Bearer <token>` (the
/// scheme in any case). `None` for any other scheme or an empty token.
pub fn bearer_token(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Reads a lifetime such as `8h`, `30m`, `90s`, `7d` or `1h30m`.
pub fn parse_ttl(text: &str) -> Result<Duration, String> {
    let invalid = || format!("`{text}` is not a lifetime such as 8h, 30m, 7d or 1h30m");
    let mut total: u64 = 0;
    let mut digits = String::new();
    for c in text.trim().chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return Err(invalid()),
        };
        let n: u64 = digits.parse().map_err(|_| invalid())?;
        total = n
            .checked_mul(unit)
            .and_then(|s| total.checked_add(s))
            .ok_or_else(invalid)?;
        digits.clear();
    }
    if !digits.is_empty() || total == 0 {
        return Err(invalid());
    }
    let ttl = Duration::from_secs(total);
    if ttl > MAX_TTL {
        return Err(format!("`{text}` is longer than the most a token may live (366d)"));
    }
    Ok(ttl)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "a test secret that is long enough for HS256";

    fn signer() -> Signer {
        Signer::new(&Secret::new(SECRET), DEFAULT_ISSUER, DEFAULT_AUDIENCE).expect("signer")
    }

    fn verifier() -> Verifier {
        Verifier::new(DEFAULT_ISSUER, DEFAULT_AUDIENCE)
            .with_secret(&Secret::new(SECRET))
            .expect("verifier")
    }

    fn now() -> u64 {
        SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_secs()
    }

    #[test]
    fn a_signed_token_names_its_employee() {
        let token = signer()
            .token("E10010", false, Duration::from_secs(600))
            .expect("token");
        assert_eq!(
            verifier().verify(&token),
            Ok(Caller::Person {
                employee_no: "E10010".into()
            })
        );
        let admin = signer().token("E10001", true, Duration::from_secs(600)).expect("token");
        assert_eq!(
            verifier().verify(&admin),
            Ok(Caller::Admin {
                employee_no: Some("E10001".into())
            })
        );
    }

    #[test]
    fn roles_may_be_a_list_or_a_string() {
        let claims = |roles: serde_json::Value| serde_json::json!({ "sub": "E1", "iss": "learnmap", "aud": "learnmap", "exp": now() + 60, "roles": roles });
        for (roles, admin) in [
            (serde_json::json!(["reader", "admin"]), true),
            (serde_json::json!("reader admin"), true),
            (serde_json::json!(["administrator"]), false),
            (serde_json::json!({ "admin": true }), false),
            (serde_json::json!(null), false),
        ] {
            let token = signer().sign(&claims(roles.clone())).expect("token");
            let caller = verifier().verify(&token).expect("valid");
            assert_eq!(matches!(caller, Caller::Admin { .. }), admin, "roles {roles}");
        }
    }

    #[test]
    fn expired_foreign_and_forged_tokens_are_refused() {
        let claims =
            |iss: &str, aud: &str, exp: u64| serde_json::json!({ "sub": "E1", "iss": iss, "aud": aud, "exp": exp });
        let expired = signer()
            .sign(&claims("learnmap", "learnmap", now() - 3600))
            .expect("token");
        assert_eq!(verifier().verify(&expired), Err(AuthError::Expired));
        // Within the leeway, a token just past its expiry still passes.
        let just = signer()
            .sign(&claims("learnmap", "learnmap", now() - 5))
            .expect("token");
        assert!(verifier().verify(&just).is_ok());

        for token in [
            signer()
                .sign(&claims("someone-else", "learnmap", now() + 60))
                .expect("token"),
            signer()
                .sign(&claims("learnmap", "another-app", now() + 60))
                .expect("token"),
            signer()
                .sign(&serde_json::json!({ "sub": "E1", "aud": "learnmap", "exp": now() + 60 }))
                .expect("token"),
            signer()
                .sign(&serde_json::json!({ "sub": "E1", "iss": "learnmap", "exp": now() + 60 }))
                .expect("token"),
            signer()
                .sign(&serde_json::json!({ "sub": "E1", "iss": "learnmap", "aud": "learnmap" }))
                .expect("token"),
            signer()
                .sign(&serde_json::json!({ "iss": "learnmap", "aud": "learnmap", "exp": now() + 60 }))
                .expect("token"),
            signer()
                .sign(&claims("learnmap", "learnmap", now() + 60))
                .expect("token")
                .replace('.', ".x"),
            Signer::new(
                &Secret::new("another secret, just as long as the first"),
                "learnmap",
                "learnmap",
            )
            .expect("signer")
            .token("E1", true, Duration::from_secs(60))
            .expect("token"),
            "not a token".to_string(),
        ] {
            assert!(
                matches!(verifier().verify(&token), Err(AuthError::Invalid(_))),
                "{token}"
            );
        }
    }

    #[test]
    fn a_verifier_without_keys_refuses_everything() {
        let token = signer().token("E1", false, Duration::from_secs(60)).expect("token");
        let none = Verifier::new(DEFAULT_ISSUER, DEFAULT_AUDIENCE);
        assert!(!none.has_keys());
        assert!(matches!(none.verify(&token), Err(AuthError::Invalid(_))));
    }

    #[test]
    fn subjects_are_employee_numbers() {
        for sub in ["", "   ", "E1\n2", &"x".repeat(65)] {
            let claims = serde_json::json!({ "sub": sub, "iss": "learnmap", "aud": "learnmap", "exp": now() + 60 });
            let token = signer().sign(&claims).expect("token");
            assert!(verifier().verify(&token).is_err(), "{sub:?}");
        }
        let claims = serde_json::json!({ "sub": " E10010 ", "iss": "learnmap", "aud": "learnmap", "exp": now() + 60 });
        let token = signer().sign(&claims).expect("token");
        assert_eq!(
            verifier().verify(&token),
            Ok(Caller::Person {
                employee_no: "E10010".into()
            })
        );
    }

    #[test]
    fn bearer_headers() {
        assert_eq!(bearer_token("Bearer abc.def.ghi"), Some("abc.def.ghi"));
        assert_eq!(bearer_token("bearer   abc "), Some("abc"));
        assert_eq!(bearer_token("Basic dXNlcjpwYXNz"), None);
        assert_eq!(bearer_token("Bearer "), None);
        assert_eq!(bearer_token("Bearer"), None);
    }

    #[test]
    fn lifetimes() {
        assert_eq!(parse_ttl("8h"), Ok(Duration::from_secs(8 * 3600)));
        assert_eq!(parse_ttl("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_ttl("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_ttl("7d"), Ok(Duration::from_secs(7 * 86_400)));
        assert_eq!(parse_ttl("90s"), Ok(Duration::from_secs(90)));
        for bad in ["", "8", "h", "0h", "8x", "-1h", "400d", "99999999999999999999d"] {
            assert!(parse_ttl(bad).is_err(), "{bad}");
        }
    }
}
