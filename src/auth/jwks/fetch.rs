//! Fetching a JWKS from the identity provider's URL: one small JSON document,
//! with the limits a request made on behalf of a token needs.
//!
//! - Only `https://`, except `http://` to a loopback host (a sidecar or a test
//!   on the same machine): over the network, plain HTTP would let anyone on
//!   the path hand us keys to sign tokens with.
//! - The server's certificate is checked against Mozilla's roots
//!   (webpki-roots) and, with `LEARNMAP_JWKS_CA_FILE`, the roots of that PEM
//!   file as well (a government CA that is not among them).
//! - [`REQUEST_TIMEOUT`] for the whole exchange, redirects included; at most
//!   [`MAX_BODY_BYTES`] of body; at most [`MAX_REDIRECTS`] redirects, never
//!   from https to http.
//! - An answer other than 2xx, or a body that is not a JWKS, is an error that
//!   names the URL and the status.
//!
//! URLs appear in logs and errors without their query, which may hold a key.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Empty, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION};
use hyper::{HeaderMap, Request, Response, StatusCode};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use rustls::{ClientConfig, RootCertStore};
use url::{Host, Url};

use super::Keys;

/// The longest a fetch may take, redirects included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest JWKS accepted: a provider's set holds a few keys of a few KiB.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// The most redirects followed.
pub const MAX_REDIRECTS: usize = 3;

/// A JWKS URL that passed the checks, with the client that fetches it.
pub struct JwksUrl {
    url: Url,
    client: Client<HttpsConnector<HttpConnector>, Empty<Bytes>>,
}

/// A JWKS as fetched: its keys, and how long the provider says they stay fresh.
pub struct Fetched {
    pub keys: Keys,
    pub max_age: Option<Duration>,
}

impl JwksUrl {
    /// Checks the URL (see the module doc) and reads the extra roots of
    /// `ca_file`; fetches nothing yet.
    pub fn new(url: &str, ca_file: Option<&Path>) -> anyhow::Result<JwksUrl> {
        let url = Url::parse(url.trim()).map_err(|e| anyhow!("LEARNMAP_JWKS_URL is not a URL: {e}"))?;
        if !url.username().is_empty() || url.password().is_some() {
            bail!("LEARNMAP_JWKS_URL must not hold a user name or password");
        }
        allowed(&url).map_err(|reason| anyhow!("LEARNMAP_JWKS_URL {}: {reason}", shown(&url)))?;

        let connector = HttpsConnectorBuilder::new()
            .with_tls_config(tls_config(ca_file)?)
            .https_or_http()
            .enable_http1()
            .build();
        let client = Client::builder(TokioExecutor::new()).build(connector);
        Ok(JwksUrl { url, client })
    }

    /// The URL as logs show it.
    pub fn shown(&self) -> String {
        shown(&self.url)
    }

    /// Fetches the JWKS, within [`REQUEST_TIMEOUT`].
    pub async fn fetch(&self) -> anyhow::Result<Fetched> {
        tokio::time::timeout(REQUEST_TIMEOUT, self.fetch_untimed())
            .await
            .map_err(|_| anyhow!("{}: no answer within {} s", self.shown(), REQUEST_TIMEOUT.as_secs()))?
    }

    async fn fetch_untimed(&self) -> anyhow::Result<Fetched> {
        let (url, response) = self.get_following_redirects().await?;
        let status = response.status();
        if !status.is_success() {
            bail!("{} answered {status}", shown(&url));
        }
        let max_age = max_age(response.headers());
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("no content type")
            .to_string();

        let body = read_body(&url, response).await?;

        let keys = std::str::from_utf8(&body)
            .map_err(|_| anyhow!("the body is not UTF-8 text"))
            .and_then(Keys::parse)
            .with_context(|| {
                format!(
                    "{} answered {status} ({content_type}), but not with a JWKS",
                    shown(&url)
                )
            })?;
        Ok(Fetched { keys, max_age })
    }

    /// GETs the URL, following up to [`MAX_REDIRECTS`] redirects that pass
    /// the same checks as the URL and never go from https to http.
    async fn get_following_redirects(&self) -> anyhow::Result<(Url, Response<Incoming>)> {
        let mut url = self.url.clone();
        for _ in 0..=MAX_REDIRECTS {
            let request = Request::get(url.as_str())
                .header(hyper::header::ACCEPT, "application/jwk-set+json, application/json")
                .body(Empty::new())
                .with_context(|| format!("cannot ask {}", shown(&url)))?;
            let response = self
                .client
                .request(request)
                .await
                .with_context(|| format!("cannot fetch {}", shown(&url)))?;
            if !is_redirect(response.status()) {
                return Ok((url, response));
            }
            url = redirect_target(&url, response.status(), response.headers())?;
        }
        bail!("{}: more than {MAX_REDIRECTS} redirects", self.shown())
    }
}

/// Why the URL may not be fetched, if it may not: it must be https, or
/// http to a loopback host.
fn allowed(url: &Url) -> Result<(), String> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(url) => Ok(()),
        "http" => {
            Err("plain http:// is accepted for a loopback host only (127.0.0.1, ::1, localhost); use https://".into())
        }
        other => Err(format!("must be an https:// URL, not {other}:")),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

fn is_redirect(status: StatusCode) -> bool {
    matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308)
}

/// Where a redirect leads, if it may be followed.
fn redirect_target(from: &Url, status: StatusCode, headers: &HeaderMap) -> anyhow::Result<Url> {
    let location = headers
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| anyhow!("{} answered {status} without a Location", shown(from)))?;
    let to = from
        .join(location)
        .map_err(|e| anyhow!("{} redirects to a bad URL: {e}", shown(from)))?;
    if from.scheme() == "https" && to.scheme() != "https" {
        bail!(
            "{} redirects to {}: from https to plain http is refused",
            shown(from),
            shown(&to)
        );
    }
    allowed(&to).map_err(|reason| anyhow!("{} redirects to {}, which {reason}", shown(from), shown(&to)))?;
    Ok(to)
}

async fn read_body(url: &Url, response: Response<Incoming>) -> anyhow::Result<Bytes> {
    match Limited::new(response.into_body(), MAX_BODY_BYTES).collect().await {
        Ok(body) => Ok(body.to_bytes()),
        Err(error) if error.is::<LengthLimitError>() => {
            bail!(
                "{}: the answer is larger than {} KiB",
                shown(url),
                MAX_BODY_BYTES / 1024
            )
        }
        Err(error) => Err(anyhow!(error).context(format!("{}: the answer was cut off", shown(url)))),
    }
}

/// The `max-age` of the `Cache-Control` headers, if any.
pub fn max_age(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get_all(CACHE_CONTROL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|directive| {
            let (name, value) = directive.split_once('=')?;
            name.trim().eq_ignore_ascii_case("max-age").then_some(value)
        })
        .find_map(|value| value.trim().trim_matches('"').parse::<u64>().ok())
        .map(Duration::from_secs)
}

/// The URL without its query or fragment.
fn shown(url: &Url) -> String {
    let mut shown = url.clone();
    shown.set_query(None);
    shown.set_fragment(None);
    shown.to_string()
}

/// TLS with ring, trusting Mozilla's roots and those of the CA file.
fn tls_config(ca_file: Option<&Path>) -> anyhow::Result<ClientConfig> {
    let mut roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    if let Some(path) = ca_file {
        let added = add_roots(&mut roots, path)?;
        tracing::info!(path = %path.display(), certificates = added, "trusting extra roots for the JWKS URL");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS set-up failed")?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// Adds the certificates of a PEM file as roots; a file without any, or
/// with one that cannot be a root, is refused.
fn add_roots(roots: &mut RootCertStore, path: &Path) -> anyhow::Result<usize> {
    let refused = |reason: String| anyhow!("LEARNMAP_JWKS_CA_FILE {}: {reason}", path.display());
    let pem = std::fs::read(path).map_err(|e| refused(format!("cannot be read: {e}")))?;
    let certificates = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| refused(format!("is not a PEM file of certificates: {e}")))?;
    if certificates.is_empty() {
        return Err(refused("holds no PEM certificate".into()));
    }
    let count = certificates.len();
    for certificate in certificates {
        roots
            .add(certificate)
            .map_err(|e| refused(format!("holds a certificate that cannot be a root: {e}")))?;
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    const JWKS: &str = r#"{"keys":[{"kty":"RSA","kid":"k","n":"tVNmDbBNmjNRaOvUuYUZ8C4VDaIuQWaFih9EDEcAX7KXw938VmJWDpfKuDA0L6LgXmFgqSSlGA3CHP4hie_3JCfkyveQQehtpkpK947bukSx5QQ6L9lM2rdkiU-txkuOd2JhZI9RORntT_ra_IB-mgYmPLOoNFu5-2qCr9oet6h3Rc27nyuzJiDw0PUCj3eFkI1SxRZhzgayeX20jB1SD0cky5CVFO-LCQV9NsfGGIIS9VZrtq8E_8z0mevQXDlgAP6L8tt_JYCZHxwRqBQGS9axi0gQ5U_1hPOZ08uAK2sNcG2CClHEa6E8wrkN4jFfr3f5L-NV6XEqCRFD5PudsQ","e":"AQAB"}]}"#;

    /// A loopback HTTP server answering each path (whatever the query) with
    /// a fixed response (status line and headers, then the body); any other
    /// path gets 404.
    async fn serve(answers: Vec<(&'static str, String)>) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).await.is_ok_and(|n| n == 1) {
                    head.push(byte[0]);
                }
                let head = String::from_utf8_lossy(&head);
                let target = head.split(' ').nth(1).unwrap_or("/");
                let path = target.split('?').next().unwrap_or(target);
                let answer = answers
                    .iter()
                    .find(|(p, _)| *p == path)
                    .map(|(_, a)| a.clone())
                    .unwrap_or_else(|| "HTTP/1.1 404 Not Found\r\n\r\n".into());
                let _ = stream.write_all(answer.as_bytes()).await;
                let _ = stream.shutdown().await;
            }
        });
        base
    }

    fn ok(headers: &str, body: &str) -> String {
        format!(
            "HTTP/1.1 200 OK\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    }

    fn redirect(to: &str) -> String {
        format!("HTTP/1.1 302 Found\r\nLocation: {to}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    }

    async fn fetch(url: &str) -> anyhow::Result<Fetched> {
        JwksUrl::new(url, None).expect("allowed").fetch().await
    }

    #[tokio::test]
    async fn a_jwks_is_fetched_with_its_max_age() {
        let base = serve(vec![(
            "/jwks",
            ok(
                "Cache-Control: public, max-age=600\r\nContent-Type: application/json\r\n",
                JWKS,
            ),
        )])
        .await;
        let fetched = fetch(&format!("{base}/jwks")).await.expect("fetched");
        assert_eq!(fetched.keys.len(), 1);
        assert_eq!(fetched.max_age, Some(Duration::from_secs(600)));
    }

    #[tokio::test]
    async fn errors_name_the_url_and_status() {
        let base = serve(vec![
            (
                "/gone",
                "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".into(),
            ),
            ("/html", ok("Content-Type: text/html\r\n", "<html>sign in</html>")),
            (
                "/huge",
                ok(
                    "",
                    &format!("{{\"keys\":[], \"pad\": \"{}\"}}", "x".repeat(MAX_BODY_BYTES)),
                ),
            ),
        ])
        .await;

        let error = format!(
            "{:#}",
            fetch(&format!("{base}/gone?api_key=s3cr3t"))
                .await
                .err()
                .expect("refused")
        );
        assert!(error.contains(&format!("{base}/gone answered 503")), "{error}");
        assert!(!error.contains("s3cr3t"), "no query in errors: {error}");

        let error = format!("{:#}", fetch(&format!("{base}/html")).await.err().expect("refused"));
        assert!(
            error.contains(&format!("{base}/html answered 200 OK (text/html), but not with a JWKS")),
            "{error}"
        );

        let error = format!("{:#}", fetch(&format!("{base}/huge")).await.err().expect("refused"));
        assert!(error.contains("larger than 1024 KiB"), "{error}");
    }

    #[tokio::test]
    async fn redirects_are_followed_a_few_times_and_never_to_plain_http() {
        let base = serve(vec![
            ("/jwks", ok("", JWKS)),
            ("/moved", redirect("/jwks")),
            ("/loop", redirect("/loop")),
            ("/away", redirect("http://idp.example/jwks")),
        ])
        .await;
        assert_eq!(fetch(&format!("{base}/moved")).await.expect("followed").keys.len(), 1);

        let error = format!("{:#}", fetch(&format!("{base}/loop")).await.err().expect("refused"));
        assert!(error.contains("more than 3 redirects"), "{error}");

        let error = format!("{:#}", fetch(&format!("{base}/away")).await.err().expect("refused"));
        assert!(
            error.contains("plain http:// is accepted for a loopback host only"),
            "{error}"
        );
    }

    #[test]
    fn a_redirect_from_https_stays_on_https() {
        let from: Url = "https://idp.example/keys/jwks".parse().expect("url");
        let target = |location: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(LOCATION, location.parse().expect("header"));
            redirect_target(&from, StatusCode::FOUND, &headers).map(|u| u.to_string())
        };
        assert_eq!(target("/v2/jwks").expect("followed"), "https://idp.example/v2/jwks");
        assert_eq!(
            target("https://keys.example/jwks").expect("followed"),
            "https://keys.example/jwks"
        );
        for location in ["http://idp.example/jwks", "http://127.0.0.1/jwks"] {
            let error = format!("{:#}", target(location).expect_err("refused"));
            assert!(error.contains("from https to plain http is refused"), "{error}");
        }
        let error = format!(
            "{:#}",
            redirect_target(&from, StatusCode::FOUND, &HeaderMap::new()).expect_err("refused")
        );
        assert!(error.contains("302 Found without a Location"), "{error}");
    }

    #[test]
    fn max_age_is_read_from_cache_control() {
        let headers = |values: &[&str]| {
            let mut map = HeaderMap::new();
            for v in values {
                map.append(CACHE_CONTROL, v.parse().expect("header"));
            }
            map
        };
        assert_eq!(
            max_age(&headers(&["public, max-age=3600"])),
            Some(Duration::from_secs(3600))
        );
        assert_eq!(
            max_age(&headers(&["no-transform", "Max-Age=\"60\""])),
            Some(Duration::from_secs(60))
        );
        assert_eq!(max_age(&headers(&["no-cache"])), None);
        assert_eq!(max_age(&headers(&["max-age=soon"])), None);
        assert_eq!(max_age(&headers(&[])), None);
    }
}
