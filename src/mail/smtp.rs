//! The SMTP relay: reading `SMTP_URL` and `LEARNMAP_SMTP_CA_FILE`, building
//! lettre's pooled transport with rustls (ring, Mozilla's roots from
//! webpki-roots plus the extra CA file), and telling why a delivery failed
//! without quoting anything the relay or the certificate may say about people.

use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use lettre::transport::smtp::PoolConfig;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, Tokio1Executor};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use url::Url;

use crate::error::{Error, Result};

/// The schemes `SMTP_URL` accepts, for error messages.
const ACCEPTED: &str = "smtp://host[:port] (plain, port 25), smtp+starttls://host[:port] \
     (STARTTLS required, port 587) or smtps://host[:port] (implicit TLS, port 465), \
     with user:password@ before the host to log in";

const URL_FIELD: &str = "SMTP_URL";
const CA_FIELD: &str = "LEARNMAP_SMTP_CA_FILE";

/// How the connection to the relay is protected, chosen by the URL's scheme
/// so that TLS can never be dropped by a query parameter or a server reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// `smtp://`: no TLS, for a relay on the same host or network segment,
    /// or a mail catcher.
    Plain,
    /// `smtp+starttls://`: plain connection upgraded with STARTTLS before
    /// anything else is said; a relay that does not offer it gets nothing.
    StartTls,
    /// `smtps://`: TLS from the first byte (RFC 8314).
    Implicit,
}

impl Security {
    fn from_scheme(scheme: &str) -> Option<Security> {
        match scheme {
            "smtp" => Some(Security::Plain),
            "smtp+starttls" => Some(Security::StartTls),
            "smtps" => Some(Security::Implicit),
            _ => None,
        }
    }

    fn default_port(self) -> u16 {
        match self {
            Security::Plain => 25,
            Security::StartTls => 587,
            Security::Implicit => 465,
        }
    }
}

/// A relay as `SMTP_URL` names it, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relay {
    pub security: Security,
    /// A host name or an IP address (without brackets), as the certificate
    /// must name it.
    pub host: String,
    pub port: u16,
    /// The user and password, percent-decoded.
    pub login: Option<(String, String)>,
}

/// Reads and checks `SMTP_URL`. Every refusal says what is accepted.
pub fn parse_url(url: &str) -> Result<Relay> {
    let bad = |reason: String| Error::bad_input(URL_FIELD, reason);
    let parsed = Url::parse(url).map_err(|e| bad(format!("is not a URL ({e}); use {ACCEPTED}")))?;

    let security = Security::from_scheme(parsed.scheme())
        .ok_or_else(|| bad(format!("has the unknown scheme {}://; use {ACCEPTED}", parsed.scheme())))?;
    let host = relay_host(&parsed).ok_or_else(|| bad(format!("has no host; use {ACCEPTED}")))?;
    let port = match parsed.port() {
        Some(0) => return Err(bad("has port 0; give a port from 1 to 65535".into())),
        Some(port) => port,
        None => security.default_port(),
    };
    only_host_and_port(&parsed).map_err(|reason| bad(reason.into()))?;
    let login = login(&parsed).map_err(bad)?;

    if login.is_some() && security == Security::Plain && !is_loopback(&host) {
        return Err(bad(format!(
            "would send the password in clear to {host} over smtp://; use smtp+starttls:// or smtps:// \
             (plain smtp:// with a password is accepted only for a relay on loopback)"
        )));
    }
    Ok(Relay {
        security,
        host,
        port,
        login,
    })
}

/// The host without the brackets of an IPv6 literal. A URL of an unknown
/// scheme keeps IPv4 addresses as text, which is what TLS wants too.
fn relay_host(url: &Url) -> Option<String> {
    match url.host()? {
        url::Host::Domain(name) if !name.is_empty() => Some(name.to_string()),
        url::Host::Domain(_) => None,
        url::Host::Ipv4(ip) => Some(ip.to_string()),
        url::Host::Ipv6(ip) => Some(ip.to_string()),
    }
}

/// Refuses the parts this transport would otherwise ignore: lettre's own URL
/// form takes `?tls=` and a path, and ignoring `?tls=required` would mean
/// sending in clear what the operator meant to protect.
fn only_host_and_port(url: &Url) -> std::result::Result<(), &'static str> {
    if url.query().is_some() {
        return Err("takes no ?query; choose TLS by the scheme: smtp+starttls:// or smtps://");
    }
    if !matches!(url.path(), "" | "/") || url.fragment().is_some() {
        return Err("takes no path or #fragment, only [user:password@]host[:port]");
    }
    Ok(())
}

/// The user and password, percent-decoded so that a password may hold `@`,
/// `:` or `/` written as `%40`, `%3A`, `%2F`.
fn login(url: &Url) -> std::result::Result<Option<(String, String)>, String> {
    let decode = |part: &str, what: &str| {
        percent_encoding::percent_decode_str(part)
            .decode_utf8()
            .map(|s| s.into_owned())
            .map_err(|_| format!("has a {what} that is not UTF-8 once percent-decoded"))
    };
    let user = decode(url.username(), "user")?;
    let password = decode(url.password().unwrap_or_default(), "password")?;

    match (user.is_empty(), password.is_empty()) {
        (true, true) => Ok(None),
        (true, false) => Err("has a password but no user; write user:password@host".into()),
        (false, _) => Ok(Some((user, password))),
    }
}

/// Loopback is the one place a password may travel without TLS: it never
/// leaves the machine.
fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost") || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Reads `LEARNMAP_SMTP_CA_FILE`: one or more PEM certificates trusted as
/// roots beside Mozilla's, for a relay whose certificate a government or
/// private CA signed. Each is checked now, so a bad file stops start-up
/// instead of failing every delivery later.
pub fn read_ca_file(path: &Path) -> Result<Vec<Certificate>> {
    let bad = |reason: String| Error::bad_input(CA_FIELD, format!("{}: {reason}", path.display()));
    let pem = std::fs::read(path).map_err(|e| bad(format!("cannot be read: {e}")))?;

    let ders = CertificateDer::pem_slice_iter(&pem)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| bad(format!("is not valid PEM: {e}")))?;
    if ders.is_empty() {
        return Err(bad("holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into()));
    }

    let mut check = rustls::RootCertStore::empty();
    ders.into_iter()
        .enumerate()
        .map(|(index, der)| {
            check
                .add(der.clone())
                .map_err(|e| bad(format!("certificate {} cannot be a root: {e}", index + 1)))?;
            Certificate::from_der(der.to_vec()).map_err(|e| bad(format!("certificate {}: {e}", index + 1)))
        })
        .collect()
}

/// The pooled transport for a relay: `connections` connections at most, each
/// closed after 30 s idle, 15 s to connect or answer.
pub fn transport(
    relay: &Relay,
    extra_roots: Vec<Certificate>,
    connections: usize,
) -> Result<AsyncSmtpTransport<Tokio1Executor>> {
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(relay.host.as_str())
        .port(relay.port)
        .timeout(Some(Duration::from_secs(15)))
        .pool_config(
            PoolConfig::new()
                .max_size(connections as u32)
                .idle_timeout(Duration::from_secs(30)),
        );

    let tls = match relay.security {
        Security::Plain => Tls::None,
        Security::StartTls => Tls::Required(tls_parameters(&relay.host, extra_roots)?),
        Security::Implicit => Tls::Wrapper(tls_parameters(&relay.host, extra_roots)?),
    };
    builder = builder.tls(tls);
    if let Some((user, password)) = &relay.login {
        builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
    }
    Ok(builder.build())
}

/// TLS 1.2 or 1.3, the relay's certificate checked against Mozilla's roots
/// and the extra ones, and against the host the URL names.
fn tls_parameters(host: &str, extra_roots: Vec<Certificate>) -> Result<TlsParameters> {
    extra_roots
        .into_iter()
        .fold(TlsParameters::builder(host.to_string()), |builder, root| {
            builder.add_root_certificate(root)
        })
        .build_rustls()
        .map_err(|e| Error::bad_input(URL_FIELD, format!("cannot set up TLS for {host}: {e}")))
}

/// A failed delivery as the logs may show it: the reply code, never the
/// reply's text, which relays often fill with the recipient's address; for a
/// connection that never got that far with TLS, [`tls_failure`].
pub fn reason(error: &lettre::transport::smtp::Error) -> String {
    if let Some(code) = error.status() {
        return format!("SMTP reply {code}");
    }
    if error.is_timeout() {
        return "SMTP timeout".to_string();
    }
    tls_failure(error).unwrap_or_else(|| "SMTP connection or protocol error".to_string())
}

/// What went wrong with TLS (the handshake, or a relay without STARTTLS), in
/// words of our own: a certificate's names and the relay's text never appear.
pub fn tls_failure(error: &lettre::transport::smtp::Error) -> Option<String> {
    if error.status().is_some() {
        return None;
    }
    if let Some(tls) = rustls_error(error) {
        return Some(tls_reason(tls));
    }
    (error.is_client() && error.to_string().contains("STARTTLS"))
        .then(|| "the relay does not offer STARTTLS, which smtp+starttls:// requires; nothing was sent".to_string())
}

/// The rustls error behind a failed handshake. lettre wraps it in an
/// `io::Error`, whose `source()` skips the error it holds, so each level is
/// also looked into.
fn rustls_error<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    let mut current = Some(error);
    while let Some(err) = current {
        if let Some(tls) = err.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        let held = err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|inner| inner.downcast_ref::<rustls::Error>());
        if held.is_some() {
            return held;
        }
        current = err.source();
    }
    None
}

fn tls_reason(error: &rustls::Error) -> String {
    use rustls::{CertificateError, Error as E};
    let text = match error {
        E::InvalidCertificate(CertificateError::UnknownIssuer) => {
            "the relay's certificate is not signed by a trusted CA (LEARNMAP_SMTP_CA_FILE adds one)"
        }
        E::InvalidCertificate(CertificateError::Expired | CertificateError::ExpiredContext { .. }) => {
            "the relay's certificate has expired"
        }
        E::InvalidCertificate(CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. }) => {
            "the relay's certificate is not valid yet"
        }
        E::InvalidCertificate(CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. }) => {
            "the relay's certificate does not name the host in SMTP_URL"
        }
        E::InvalidCertificate(CertificateError::Revoked) => "the relay's certificate is revoked",
        E::InvalidCertificate(_) => "the relay's certificate was refused",
        E::AlertReceived(alert) => return format!("TLS handshake failed: the relay sent the alert {alert:?}"),
        E::InvalidMessage(_) | E::InappropriateMessage { .. } | E::InappropriateHandshakeMessage { .. } => {
            "the relay did not answer in TLS (smtps:// needs an implicit-TLS port such as 465; \
             a STARTTLS port takes smtp+starttls://)"
        }
        E::NoCertificatesPresented => "the relay presented no certificate",
        _ => "the TLS handshake failed",
    };
    format!("TLS handshake failed: {text}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(url: &str) -> String {
        parse_url(url).expect_err(url).to_string()
    }

    #[test]
    fn each_scheme_has_its_port() {
        let cases = [
            ("smtp://mail.example.org", Security::Plain, 25),
            ("smtp+starttls://mail.example.org", Security::StartTls, 587),
            ("smtps://mail.example.org", Security::Implicit, 465),
            ("SMTPS://mail.example.org:2465/", Security::Implicit, 2465),
        ];
        for (url, security, port) in cases {
            let relay = parse_url(url).expect(url);
            assert_eq!((relay.security, relay.port), (security, port), "{url}");
        }
        assert_eq!(parse_url("smtps://[::1]:465").expect("IPv6").host, "::1");
    }

    #[test]
    fn a_login_is_percent_decoded() {
        let relay = parse_url("smtps://learn%40map:p%40ss%3Aword@mail.example.org").expect("url");
        assert_eq!(relay.login, Some(("learn@map".into(), "p@ss:word".into())));
    }

    #[test]
    fn a_password_in_clear_goes_only_to_loopback() {
        for url in ["smtp://u:p@mail.example.org", "smtp://u@10.0.0.5:25"] {
            assert!(refusal(url).contains("in clear"), "{url}: {}", refusal(url));
        }
        for url in [
            "smtp://u:p@127.0.0.1:2525",
            "smtp://u:p@localhost",
            "smtp://u:p@[::1]:25",
        ] {
            assert!(parse_url(url).is_ok(), "{url}");
        }
        assert!(parse_url("smtp+starttls://u:p@mail.example.org").is_ok());
    }

    #[test]
    fn refusals_say_what_is_accepted() {
        for url in [
            "http://mail.example.org",
            "smtp+tls://mail.example.org",
            "mail.example.org:25",
            "smtp://",
        ] {
            let message = refusal(url);
            assert!(message.contains("smtp+starttls://host[:port]"), "{url}: {message}");
        }
        assert!(refusal("smtp://mail.example.org?tls=required").contains("no ?query"));
        assert!(refusal("smtp://mail.example.org/ehlo").contains("no path"));
        assert!(refusal("smtps://:secret@mail.example.org").contains("no user"));
        assert!(refusal("smtps://mail.example.org:0").contains("port 0"));
    }
}
