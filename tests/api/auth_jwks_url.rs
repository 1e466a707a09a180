//! RS256 keys fetched from the identity provider's JWKS URL: a provider served
//! from inside the test on a loopback port (over HTTP, or HTTPS with a CA
//! made here), whose key set the tests switch, slow down or break, and whose
//! requests they count.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::future::join_all;
use learnmap::auth::{JwksUrl, Secret, Signer, Verifier};
use learnmap::server::{self, ServerArgs};
use serde_json::json;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use crate::auth_tokens::{Answer, IDP_KEY, IDP_N, OTHER_KEY, OTHER_N, bearer, claims, post, rs256, send};
use crate::db_test;
use crate::helpers::TestApp;
use crate::personnel_import::load_examples;

const SECRET: &str = "the learnmap test secret, 32 bytes or more";
const ME: &str = "{ me { employeeNo } }";

/// What the provider answers at `/jwks`.
#[derive(Clone)]
struct Answering {
    status: StatusCode,
    body: String,
    cache_control: &'static str,
    /// A redirect to this URL instead.
    location: Option<String>,
    delay: Duration,
}

struct ProviderState {
    answering: Mutex<Answering>,
    requests: AtomicUsize,
}

/// An identity provider serving its JWKS on a loopback port.
struct Provider {
    state: Arc<ProviderState>,
    url: String,
}

/// A JWKS of RSA signing keys, by key id.
fn key_set(keys: &[(&str, &str)]) -> String {
    let keys: Vec<_> = keys
        .iter()
        .map(|(kid, n)| json!({ "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid, "n": n, "e": "AQAB" }))
        .collect();
    json!({ "keys": keys }).to_string()
}

impl Provider {
    /// Over HTTP on a free port, serving the key `idp-1`.
    async fn start() -> Provider {
        Provider::start_on(TcpListener::bind("127.0.0.1:0").await.expect("bind")).await
    }

    async fn start_on(listener: TcpListener) -> Provider {
        let url = format!("http://{}/jwks", listener.local_addr().expect("address"));
        let (state, routes) = Provider::routes();
        tokio::spawn(async move { axum::serve(listener, routes).await });
        Provider { state, url }
    }

    /// Over HTTPS with a certificate for 127.0.0.1 that the CA signed.
    async fn start_tls(ca: &TestCa) -> Provider {
        let tcp = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("https://{}/jwks", tcp.local_addr().expect("address"));
        let listener = TlsListener {
            tcp,
            acceptor: TlsAcceptor::from(ca.server_config.clone()),
        };
        let (state, routes) = Provider::routes();
        tokio::spawn(async move { axum::serve(listener, routes).await });
        Provider { state, url }
    }

    fn routes() -> (Arc<ProviderState>, Router) {
        let state = Arc::new(ProviderState {
            answering: Mutex::new(Answering {
                status: StatusCode::OK,
                body: key_set(&[("idp-1", IDP_N)]),
                cache_control: "public, max-age=3600",
                location: None,
                delay: Duration::ZERO,
            }),
            requests: AtomicUsize::new(0),
        });
        let routes = Router::new().route("/jwks", get(answer)).with_state(state.clone());
        (state, routes)
    }

    fn answer_with(&self, change: impl FnOnce(&mut Answering)) {
        change(&mut self.state.answering.lock().expect("lock"));
    }

    /// Serves these keys from now on.
    fn serve(&self, keys: &[(&str, &str)]) {
        self.answer_with(|a| a.body = key_set(keys));
    }

    fn requests(&self) -> usize {
        self.state.requests.load(Ordering::SeqCst)
    }
}

async fn answer(State(state): State<Arc<ProviderState>>) -> Response {
    state.requests.fetch_add(1, Ordering::SeqCst);
    let answering = state.answering.lock().expect("lock").clone();
    tokio::time::sleep(answering.delay).await;
    if let Some(location) = answering.location {
        return (StatusCode::FOUND, [(header::LOCATION, location)]).into_response();
    }
    let headers = [
        (header::CONTENT_TYPE, "application/json"),
        (header::CACHE_CONTROL, answering.cache_control),
    ];
    (answering.status, headers, answering.body).into_response()
}

/// A certificate authority made for one test, and a server certificate for
/// 127.0.0.1 that it signed.
struct TestCa {
    pem: String,
    server_config: Arc<rustls::ServerConfig>,
}

impl TestCa {
    fn new() -> TestCa {
        let ca_key = rcgen::KeyPair::generate().expect("CA key");
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "learnmap test CA");
        ca_params.key_usages = vec![rcgen::KeyUsagePurpose::KeyCertSign, rcgen::KeyUsagePurpose::CrlSign];
        let ca_cert = ca_params.self_signed(&ca_key).expect("CA certificate");
        let issuer = rcgen::Issuer::new(ca_params, ca_key);

        let server_key = rcgen::KeyPair::generate().expect("server key");
        let server_params = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()]).expect("server params");
        let server_cert = server_params
            .signed_by(&server_key, &issuer)
            .expect("server certificate");

        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let key = rustls::pki_types::PrivateKeyDer::Pkcs8(server_key.serialize_der().into());
        let server_config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(vec![server_cert.der().clone()], key)
            .expect("server TLS");
        TestCa {
            pem: ca_cert.pem(),
            server_config: Arc::new(server_config),
        }
    }
}

/// TLS over a TCP listener, for `axum::serve`: a failed handshake (a client
/// that does not trust the certificate) is skipped.
struct TlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((stream, addr)) = self.tcp.accept().await else {
                continue;
            };
            let handshake = tokio::time::timeout(Duration::from_secs(5), self.acceptor.accept(stream));
            if let Ok(Ok(tls)) = handshake.await {
                return (tls, addr);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

/// A verifier with the test secret and the JWKS at `url`, not started.
fn verifier(url: &str, ca_file: Option<&Path>) -> Verifier {
    Verifier::new("learnmap", "learnmap")
        .with_secret(&Secret::new(SECRET))
        .expect("secret")
        .with_jwks_url(JwksUrl::new(url, ca_file).expect("an allowed URL"))
}

fn routes(app: &TestApp, verifier: Verifier) -> Router {
    server::app(app.schema.clone(), app.db.clone(), verifier, ServerArgs::default())
}

/// `me` with a token of the provider, signed by `key` under the key id.
async fn me(routes: &Router, key: &str, kid: &str) -> Answer {
    let token = rs256(key, Some(kid), &claims("E10010"));
    send(routes.clone(), post(json!({ "query": ME }), Some(&bearer(&token)))).await
}

fn is_me(answer: &Answer) -> bool {
    answer.status == StatusCode::OK && answer.json() == json!({ "data": { "me": { "employeeNo": "E10010" } } })
}

fn is_refused(answer: &Answer) -> bool {
    answer.status == StatusCode::UNAUTHORIZED && answer.code() == "UNAUTHENTICATED"
}

async fn readyz(routes: &Router) -> Answer {
    send(
        routes.clone(),
        Request::get("/readyz").body(Body::empty()).expect("request"),
    )
    .await
}

db_test! {
    async fn identity_provider_tokens_verify_with_the_keys_at_its_url(app) {
        load_examples(&app).await;
        let idp = Provider::start().await;
        let verifier = verifier(&idp.url, None);
        verifier.start().await.expect("first fetch");
        let routes = routes(&app, verifier);

        let answer = me(&routes, IDP_KEY, "idp-1").await;
        assert!(is_me(&answer), "{}", answer.text);
        assert!(is_refused(&me(&routes, OTHER_KEY, "idp-1").await), "signed by a key not in the set");
        assert_eq!(readyz(&routes).await.status, StatusCode::OK);

        // The shared secret works alongside.
        let hs256 = Signer::new(&Secret::new(SECRET), "learnmap", "learnmap").expect("signer").token("E10010", false, Duration::from_secs(60)).expect("token");
        let answer = send(routes.clone(), post(json!({ "query": ME }), Some(&bearer(&hs256)))).await;
        assert!(is_me(&answer), "{}", answer.text);

        assert_eq!(idp.requests(), 1, "fetched once, at start-up");
    }
}

db_test! {
    async fn a_rotated_key_is_fetched_once_and_the_old_one_dropped(app) {
        load_examples(&app).await;
        let idp = Provider::start().await;
        let verifier = verifier(&idp.url, None);
        verifier.start().await.expect("first fetch");
        let routes = routes(&app, verifier);
        assert!(is_me(&me(&routes, IDP_KEY, "idp-1").await));

        idp.serve(&[("idp-2", OTHER_N)]);
        let answer = me(&routes, OTHER_KEY, "idp-2").await;
        assert!(is_me(&answer), "the new key id is fetched at once: {}", answer.text);
        assert_eq!(idp.requests(), 2);

        assert!(is_refused(&me(&routes, IDP_KEY, "idp-1").await), "rotated out");
        assert!(is_me(&me(&routes, OTHER_KEY, "idp-2").await));
        assert_eq!(idp.requests(), 2, "an id gone from the set does not fetch again within the interval");
    }
}

db_test! {
    async fn a_storm_of_unknown_key_ids_fetches_once(app) {
        load_examples(&app).await;
        let idp = Provider::start().await;
        let verifier = verifier(&idp.url, None);
        verifier.start().await.expect("first fetch");
        let routes = routes(&app, verifier);

        // A slow provider, so that the requests arrive while it answers.
        idp.serve(&[("idp-1", IDP_N), ("idp-2", OTHER_N)]);
        idp.answer_with(|a| a.delay = Duration::from_millis(300));
        let rotated = join_all((0..40).map(|_| me(&routes, OTHER_KEY, "idp-2"))).await;
        assert!(rotated.iter().all(is_me), "every request waited for the one fetch");
        assert_eq!(idp.requests(), 2);

        let forged = join_all((0..40).map(|i| {
            let kid = format!("made-up-{i}");
            let routes = routes.clone();
            async move { me(&routes, OTHER_KEY, &kid).await }
        }))
        .await;
        assert!(forged.iter().all(is_refused));
        assert_eq!(idp.requests(), 2, "no more than one fetch per interval");
        assert!(is_me(&me(&routes, IDP_KEY, "idp-1").await));
    }
}

db_test! {
    async fn a_failed_refresh_keeps_the_keys_held(app) {
        load_examples(&app).await;
        let idp = Provider::start().await;
        let verifier = verifier(&idp.url, None);
        verifier.start().await.expect("first fetch");
        let routes = routes(&app, verifier);

        idp.answer_with(|a| {
            a.status = StatusCode::INTERNAL_SERVER_ERROR;
            a.body = "upstream trouble".into();
        });
        assert!(is_refused(&me(&routes, OTHER_KEY, "idp-2").await));
        assert_eq!(idp.requests(), 2, "the unknown id tried a fetch, which failed");

        let answer = me(&routes, IDP_KEY, "idp-1").await;
        assert!(is_me(&answer), "the old keys are kept: {}", answer.text);
        assert_eq!(readyz(&routes).await.status, StatusCode::OK);
    }
}

db_test! {
    async fn with_the_provider_down_at_start_tokens_are_refused_until_its_keys_come(app) {
        load_examples(&app).await;
        let free = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = free.local_addr().expect("address");
        drop(free);

        let url = format!("http://{addr}/jwks");
        let verifier = verifier(&url, None);
        let error = format!("{:#}", verifier.start().await.expect_err("the provider is down"));
        assert!(error.contains(&format!("cannot fetch {url}")), "{error}");
        let routes = routes(&app, verifier);

        let answer = readyz(&routes).await;
        assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(answer.text, "identity provider keys not fetched yet");
        assert!(is_refused(&me(&routes, IDP_KEY, "idp-1").await));

        // The provider comes up; the background retries find it.
        let idp = Provider::start_on(TcpListener::bind(addr).await.expect("bind the provider's port")).await;
        let deadline = Instant::now() + Duration::from_secs(60);
        while readyz(&routes).await.status != StatusCode::OK {
            assert!(Instant::now() < deadline, "never ready");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let answer = me(&routes, IDP_KEY, "idp-1").await;
        assert!(is_me(&answer), "{}", answer.text);
        assert!(idp.requests() >= 1);
    }
}

db_test! {
    async fn over_https_the_provider_is_trusted_through_the_ca_file(app) {
        load_examples(&app).await;
        let ca = TestCa::new();
        let idp = Provider::start_tls(&ca).await;
        let dir = tempfile::tempdir().expect("temp dir");
        let ca_file = dir.path().join("ca.pem");
        std::fs::write(&ca_file, &ca.pem).expect("write the CA");

        let verifier = verifier(&idp.url, Some(&ca_file));
        verifier.start().await.expect("fetched over TLS");
        let routes = routes(&app, verifier);
        let answer = me(&routes, IDP_KEY, "idp-1").await;
        assert!(is_me(&answer), "{}", answer.text);
        assert_eq!(idp.requests(), 1);

        // A redirect from https to plain http is not followed.
        let plain = Provider::start().await;
        idp.answer_with(|a| a.location = Some(plain.url.clone()));
        let error = format!("{:#}", self::verifier(&idp.url, Some(&ca_file)).start().await.expect_err("refused"));
        assert!(error.contains("from https to plain http is refused"), "{error}");
        assert_eq!(plain.requests(), 0);
    }
}

db_test! {
    async fn over_https_without_the_ca_file_the_certificate_is_refused(app) {
        load_examples(&app).await;
        let ca = TestCa::new();
        let idp = Provider::start_tls(&ca).await;

        let verifier = verifier(&idp.url, None);
        let error = format!("{:#}", verifier.start().await.expect_err("an unknown CA"));
        assert!(error.contains(&format!("cannot fetch {}", idp.url)), "{error}");
        assert!(error.contains("certificate"), "{error}");
        let routes = routes(&app, verifier);

        assert!(is_refused(&me(&routes, IDP_KEY, "idp-1").await));
        assert_eq!(readyz(&routes).await.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(idp.requests(), 0, "no request goes through");
    }
}
