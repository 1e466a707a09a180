//! A real SMTP server on loopback for the tests: the protocol is the `mailin`
//! crate's; this file only gives it sockets (plain, upgraded by STARTTLS, or
//! TLS from the start, with rustls) and keeps what arrives.
//!
//! `fail_next(n)` makes the next `n` messages fail with a temporary error
//! (451), as a busy relay does; `reject(address)` refuses a recipient for good
//! (550), and `reject_quoting(address)` does so with a reply that quotes the
//! address back, as many relays do. [`TestCa`] makes a CA and a certificate for
//! `127.0.0.1` and `localhost` signed by it, as an internal relay's would be.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use mailin::{Action, AuthMechanism, Handler, Response, SessionBuilder, response};
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use rustls::pki_types::PrivateKeyDer;
use rustls::{ServerConfig, ServerConnection, StreamOwned};

/// A message as received, decoded.
#[derive(Debug, Clone)]
pub struct Received {
    pub to: Vec<String>,
    /// The `To` header's display name, decoded.
    pub to_name: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// A command as the server read it: its verb, and whether it came over TLS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub verb: String,
    pub encrypted: bool,
}

/// How the server protects its connections.
#[derive(Clone)]
pub enum ServerTls {
    /// No TLS and no STARTTLS offered.
    Plain,
    /// Offers STARTTLS after EHLO.
    StartTls(Arc<ServerConfig>),
    /// TLS from the first byte.
    Implicit(Arc<ServerConfig>),
}

#[derive(Default)]
struct State {
    received: Vec<Received>,
    commands: Vec<Command>,
    /// The user and password the server accepts; `None` takes mail without
    /// a login.
    login: Option<(String, String)>,
    logged_in: Vec<String>,
    fail_next: usize,
    rejected: Vec<String>,
    /// Whether a refusal quotes the recipient's address in its text.
    quote_rejected: bool,
    /// Messages whose data has arrived, whatever the reply.
    arrived: usize,
    /// How long the reply to a message's data is held back.
    delay: std::time::Duration,
}

#[derive(Clone)]
pub struct SmtpServer {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    scheme: &'static str,
}

impl SmtpServer {
    /// Starts a plain server on a free loopback port; it runs until the test
    /// ends.
    pub fn start() -> SmtpServer {
        SmtpServer::start_with(ServerTls::Plain, None)
    }

    /// Starts a server with the given TLS and, with `login`, one that takes
    /// mail only after AUTH PLAIN or LOGIN with that user and password (which
    /// `mailin` offers only over TLS).
    pub fn start_with(tls: ServerTls, login: Option<(&str, &str)>) -> SmtpServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let addr = listener.local_addr().expect("address");
        let state = Arc::new(Mutex::new(State {
            login: login.map(|(user, password)| (user.to_string(), password.to_string())),
            ..State::default()
        }));
        let scheme = match tls {
            ServerTls::Plain => "smtp",
            ServerTls::StartTls(_) => "smtp+starttls",
            ServerTls::Implicit(_) => "smtps",
        };

        let shared = state.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (state, tls) = (shared.clone(), tls.clone());
                std::thread::spawn(move || serve(stream, state, tls));
            }
        });
        SmtpServer { addr, state, scheme }
    }

    /// The URL that reaches this server the way it speaks.
    pub fn url(&self) -> String {
        self.url_as(self.scheme)
    }

    /// The URL with another scheme, to reach the server the wrong way.
    pub fn url_as(&self, scheme: &str) -> String {
        format!("{scheme}://{}", self.addr)
    }

    /// Every command read so far, in order, over all connections.
    pub fn commands(&self) -> Vec<Command> {
        self.state.lock().expect("state").commands.clone()
    }

    /// The users that logged in, one entry a login.
    pub fn logged_in(&self) -> Vec<String> {
        self.state.lock().expect("state").logged_in.clone()
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.lock().expect("state").received.clone()
    }

    pub fn fail_next(&self, count: usize) {
        self.state.lock().expect("state").fail_next = count;
    }

    /// Holds back the reply to each message by `delay`, so that a test can
    /// act while a delivery is in flight.
    pub fn delay_replies(&self, delay: std::time::Duration) {
        self.state.lock().expect("state").delay = delay;
    }

    /// How many messages have arrived so far, replied to or not.
    pub fn arrived(&self) -> usize {
        self.state.lock().expect("state").arrived
    }

    pub fn reject(&self, address: &str) {
        self.state.lock().expect("state").rejected.push(address.to_string());
    }

    /// Refuses a recipient for good with `550 5.1.1 <address>: Recipient
    /// address rejected: User unknown`.
    pub fn reject_quoting(&self, address: &str) {
        let mut state = self.state.lock().expect("state");
        state.rejected.push(address.to_string());
        state.quote_rejected = true;
    }
}

struct Recorder {
    state: Arc<Mutex<State>>,
    /// Set when the reply just given should end the connection, as a relay
    /// in trouble does.
    hang_up: Arc<std::sync::atomic::AtomicBool>,
    to: Vec<String>,
    data: Vec<u8>,
}

impl Handler for Recorder {
    fn auth_plain(&mut self, _authorization_id: &str, authentication_id: &str, password: &str) -> Response {
        self.auth_login(authentication_id, password)
    }

    fn auth_login(&mut self, username: &str, password: &str) -> Response {
        let mut state = self.state.lock().expect("state");
        let accepted = state
            .login
            .as_ref()
            .is_some_and(|(user, pass)| user == username && pass == password);
        if !accepted {
            return response::INVALID_CREDENTIALS;
        }
        state.logged_in.push(username.to_string());
        response::AUTH_OK
    }

    fn rcpt(&mut self, to: &str) -> Response {
        let (rejected, quoting) = {
            let state = self.state.lock().expect("state");
            let rejected = state.rejected.iter().any(|r| to.contains(r.as_str()));
            (rejected, state.quote_rejected)
        };
        if rejected && quoting {
            return Response::custom(550, format!("5.1.1 <{to}>: Recipient address rejected: User unknown"));
        }
        if rejected {
            return response::NO_MAILBOX;
        }
        self.to.push(to.to_string());
        response::OK
    }

    fn data_start(&mut self, _domain: &str, _from: &str, _is8bit: bool, _to: &[String]) -> Response {
        self.data.clear();
        response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        let delay = {
            let mut state = self.state.lock().expect("state");
            state.arrived += 1;
            state.delay
        };
        std::thread::sleep(delay);

        let mut state = self.state.lock().expect("state");
        let to = std::mem::take(&mut self.to);
        if state.fail_next > 0 {
            state.fail_next -= 1;
            self.hang_up.store(true, std::sync::atomic::Ordering::SeqCst);
            return response::INTERNAL_ERROR;
        }
        state.received.push(decode(to, &self.data));
        response::OK
    }
}

/// A connection, plain or wrapped in TLS, read and written the same way.
enum Conn {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ServerConnection, TcpStream>>),
}

impl Conn {
    /// Wraps the socket in TLS; the handshake runs on the first read or write.
    fn tls(stream: TcpStream, config: &Arc<ServerConfig>) -> Conn {
        let connection = ServerConnection::new(config.clone()).expect("TLS session");
        Conn::Tls(Box::new(StreamOwned::new(connection, stream)))
    }

    fn encrypted(&self) -> bool {
        matches!(self, Conn::Tls(_))
    }
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Conn::Plain(s) => s.read(buf),
            Conn::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Conn::Plain(s) => s.write(buf),
            Conn::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Conn::Plain(s) => s.flush(),
            Conn::Tls(s) => s.flush(),
        }
    }
}

fn serve(stream: TcpStream, state: Arc<Mutex<State>>, tls: ServerTls) {
    let peer = stream
        .peer_addr()
        .map(|a| a.ip())
        .unwrap_or(IpAddr::from([127, 0, 0, 1]));
    let hang_up = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let needs_login = state.lock().expect("state").login.is_some();
    let recorder = Recorder {
        state: state.clone(),
        hang_up: hang_up.clone(),
        to: Vec::new(),
        data: Vec::new(),
    };

    let mut builder = SessionBuilder::new("learnmap-test");
    if matches!(tls, ServerTls::StartTls(_)) {
        builder.enable_start_tls();
    }
    if needs_login {
        builder
            .enable_auth(AuthMechanism::Plain)
            .enable_auth(AuthMechanism::Login);
    }
    let mut session = builder.build(peer, recorder);
    let conn = match &tls {
        ServerTls::Implicit(config) => {
            session.tls_active();
            Conn::tls(stream, config)
        }
        _ => Conn::Plain(stream),
    };

    let mut reader = BufReader::new(conn);
    if session.greeting().write_to(reader.get_mut()).is_err() {
        return;
    }
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        record_command(&state, &line, reader.get_ref().encrypted());
        let response = session.process(&line);
        match response.action {
            Action::Reply
                if response.write_to(reader.get_mut()).is_err()
                    || hang_up.load(std::sync::atomic::Ordering::SeqCst) =>
            {
                return;
            }
            Action::Close => {
                let _ = response.write_to(reader.get_mut());
                let _ = reader.get_mut().flush();
                return;
            }
            Action::UpgradeTls => {
                let (ServerTls::StartTls(config), Conn::Plain(_)) = (&tls, reader.get_ref()) else {
                    return;
                };
                if response.write_to(reader.get_mut()).is_err() {
                    return;
                }
                let Conn::Plain(stream) = reader.into_inner() else {
                    return;
                };
                reader = BufReader::new(Conn::tls(stream, config));
                session.tls_active();
            }
            _ => {}
        }
    }
}

/// Keeps the verb of a command (never its arguments, which hold addresses
/// and, for AUTH, the password); lines of a message's data are kept too,
/// as `DATA-LINE`, so that a test can tell whether a message came over TLS.
fn record_command(state: &Arc<Mutex<State>>, line: &[u8], encrypted: bool) {
    let text = String::from_utf8_lossy(line);
    let word = text.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
    let verb = match word.as_str() {
        "EHLO" | "HELO" | "STARTTLS" | "AUTH" | "MAIL" | "RCPT" | "DATA" | "QUIT" | "RSET" | "NOOP" => word,
        _ => "DATA-LINE".to_string(),
    };
    state.lock().expect("state").commands.push(Command { verb, encrypted });
}

/// A CA made for one test, and a certificate for `127.0.0.1` and
/// `localhost` that it signed.
pub struct TestCa {
    /// The CA's certificate, PEM.
    pub pem: String,
    config: Arc<ServerConfig>,
}

impl TestCa {
    pub fn new() -> TestCa {
        let ca_key = KeyPair::generate().expect("CA key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "learnmap test CA");
        let ca_cert = ca_params.self_signed(&ca_key).expect("CA certificate");
        let issuer = Issuer::new(ca_params, ca_key);

        let leaf_key = KeyPair::generate().expect("server key");
        let leaf_params =
            CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()]).expect("server params");
        let leaf = leaf_params.signed_by(&leaf_key, &issuer).expect("server certificate");

        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(
                vec![leaf.der().clone()],
                PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
            )
            .expect("server TLS config");
        TestCa {
            pem: ca_cert.pem(),
            config: Arc::new(config),
        }
    }

    pub fn starttls(&self) -> ServerTls {
        ServerTls::StartTls(self.config.clone())
    }

    pub fn implicit(&self) -> ServerTls {
        ServerTls::Implicit(self.config.clone())
    }

    /// Writes the CA's certificate as `ca.pem` in `dir`.
    pub fn write_pem(&self, dir: &Path) -> PathBuf {
        let path = dir.join("ca.pem");
        std::fs::write(&path, &self.pem).expect("write CA file");
        path
    }
}

fn decode(to: Vec<String>, raw: &[u8]) -> Received {
    let parsed = mailparse::parse_mail(raw).expect("a MIME message");
    let header = |name: &str| {
        parsed
            .headers
            .iter()
            .find(|h| h.get_key().eq_ignore_ascii_case(name))
            .map(|h| h.get_value())
            .unwrap_or_default()
    };
    let part = |mime: &str| {
        parsed
            .subparts
            .iter()
            .find(|p| p.ctype.mimetype == mime)
            .and_then(|p| p.get_body().ok())
            .unwrap_or_default()
    };
    let to_header = header("To");
    let to_name = to_header
        .split('<')
        .next()
        .unwrap_or("")
        .trim()
        .trim_matches('"')
        .to_string();
    Received {
        to,
        to_name,
        subject: header("Subject"),
        text: part("text/plain"),
        html: part("text/html"),
    }
}
