//! A real SMTP server on loopback for the tests: the protocol is the `mailin`
//! crate's; this file only gives it sockets and keeps what arrives.
//!
//! `fail_next(n)` makes the next `n` messages fail with a temporary error
//! (451), as a busy relay does; `reject(address)` refuses a recipient for good
//! (550), and `reject_quoting(address)` does so with a reply that quotes the
//! address back, as many relays do.

use std::io::{BufRead, BufReader, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use mailin::{Action, Handler, Response, SessionBuilder, response};

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

#[derive(Default)]
struct State {
    received: Vec<Received>,
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
}

impl SmtpServer {
    /// Starts a server on a free loopback port; it runs until the test ends.
    pub fn start() -> SmtpServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let addr = listener.local_addr().expect("address");
        let state = Arc::new(Mutex::new(State::default()));

        let shared = state.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let state = shared.clone();
                std::thread::spawn(move || serve(stream, state));
            }
        });
        SmtpServer { addr, state }
    }

    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
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

fn serve(stream: TcpStream, state: Arc<Mutex<State>>) {
    let peer = stream
        .peer_addr()
        .map(|a| a.ip())
        .unwrap_or(IpAddr::from([127, 0, 0, 1]));
    let mut writer = stream.try_clone().expect("clone stream");
    let mut reader = BufReader::new(stream);
    let hang_up = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let recorder = Recorder {
        state,
        hang_up: hang_up.clone(),
        to: Vec::new(),
        data: Vec::new(),
    };
    let mut session = SessionBuilder::new("learnmap-test").build(peer, recorder);

    if session.greeting().write_to(&mut writer).is_err() {
        return;
    }
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let response = session.process(&line);
        match response.action {
            Action::Reply
                if response.write_to(&mut writer).is_err() || hang_up.load(std::sync::atomic::Ordering::SeqCst) =>
            {
                return;
            }
            Action::Close => {
                let _ = response.write_to(&mut writer);
                let _ = writer.flush();
                return;
            }
            _ => {}
        }
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
