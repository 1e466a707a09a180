//! Delivering the outbox: over SMTP with lettre's pooled async transport
//! (plain, STARTTLS or implicit TLS, see [`super::smtp`]), or into `.eml`
//! files when no SMTP server is configured.

use std::path::PathBuf;

use chrono::{Duration, Utc};
use entity::outbox;
use futures_util::stream::{self, StreamExt};
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sea_orm::DatabaseConnection;
use tokio_util::sync::CancellationToken;

use super::outbox as queue;
use super::smtp;
use crate::error::{Error, Result};

/// Messages claimed per statement: one round trip claims them and one marks
/// them sent, instead of three per message.
const CLAIM_BATCH: u64 = 100;
/// How mail leaves the system.
#[derive(Debug, Clone)]
pub struct MailConfig {
    /// `smtp://host[:port]` (plain), `smtp+starttls://host[:port]` or
    /// `smtps://host[:port]`, optionally with `user:password@` before the
    /// host; `None` writes `.eml` files.
    pub smtp_url: Option<String>,
    /// PEM certificates trusted as roots beside Mozilla's, for a relay whose
    /// certificate a government or private CA signed (TLS schemes only).
    pub smtp_ca_file: Option<PathBuf>,
    /// The folder for `.eml` files without SMTP.
    pub outbox_dir: PathBuf,
    /// The sender, e.g. `學習地圖 <learnmap@example.gov.tw>`.
    pub from: String,
    /// The first retry waits this long; each further one twice as long.
    pub retry_base: Duration,
    /// Attempts before a message is given up as failed.
    pub max_attempts: i32,
    /// A message claimed longer ago than this, by a sender that then stopped,
    /// is sent again.
    pub stale_after: Duration,
    /// Deliveries in flight at once; the SMTP pool holds as many connections.
    pub parallel: usize,
}

impl Default for MailConfig {
    fn default() -> Self {
        MailConfig {
            smtp_url: None,
            smtp_ca_file: None,
            outbox_dir: PathBuf::from("data/outbox"),
            from: "learnmap <learnmap@localhost>".into(),
            retry_base: Duration::seconds(60),
            max_attempts: 5,
            stale_after: Duration::minutes(10),
            parallel: 4,
        }
    }
}

/// What one drain of the outbox did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SendReport {
    pub sent: usize,
    /// Temporary failures, to be tried again later.
    pub retried: usize,
    /// Permanent failures, or temporary ones that ran out of attempts.
    pub failed: usize,
}

enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Files(PathBuf),
}

/// Sends queued messages. One sender keeps one SMTP connection pool.
pub struct Sender {
    transport: Transport,
    from: Mailbox,
    config: MailConfig,
}

/// Why one delivery failed, and whether trying again may help.
struct Failure {
    /// The whole reason, kept on the outbox row for admins: a relay's reply
    /// text may quote the address, which that row holds already.
    message: String,
    /// The reason without anything a relay may quote back (addresses,
    /// names), for the logs.
    reason: String,
    transient: bool,
}

impl Sender {
    pub fn new(config: MailConfig) -> Result<Self> {
        let from: Mailbox = config
            .from
            .parse()
            .map_err(|e| Error::bad_input("LEARNMAP_MAIL_FROM", format!("is not a mailbox: {e}")))?;
        let transport = match &config.smtp_url {
            Some(url) => Transport::Smtp(smtp_transport(
                url,
                config.smtp_ca_file.as_deref(),
                config.parallel.max(1),
            )?),
            None => Transport::Files(outbox_dir(&config)?),
        };
        Ok(Sender {
            transport,
            from,
            config,
        })
    }

    /// Sends every message due now, once each; returns what happened.
    pub async fn drain(&self, db: &DatabaseConnection) -> Result<SendReport> {
        self.drain_until(db, &CancellationToken::new()).await
    }

    /// Like [`Sender::drain`], but stops early once `stop` is cancelled: the
    /// messages being delivered at that moment finish and are recorded, the
    /// claimed ones not yet tried go back to pending, and the rest wait for
    /// the next drain. So a shutdown neither cuts a message off halfway nor
    /// leaves one claimed for `stale_after` (which would mean a duplicate
    /// risk later).
    pub async fn drain_until(&self, db: &DatabaseConnection, stop: &CancellationToken) -> Result<SendReport> {
        let mut report = SendReport::default();
        let mut after = 0;

        while !stop.is_cancelled() {
            let batch = queue::claim_batch(db, after, CLAIM_BATCH, Utc::now(), self.config.stale_after).await?;
            let Some(last) = batch.last() else { break };
            after = last.id;

            let (tried, untried) = self.deliver_batch(batch, stop).await;
            queue::release(db, &untried).await?;
            self.record(db, tried, &mut report).await?;
        }

        tracing::info!(
            mail.sent = report.sent,
            mail.retried = report.retried,
            mail.failed = report.failed,
            mail.stopped = stop.is_cancelled(),
            "outbox drained"
        );
        Ok(report)
    }

    /// Delivers a claimed batch a few at a time over the pool. A message not
    /// yet started when `stop` is cancelled is returned untried.
    async fn deliver_batch(
        &self,
        batch: Vec<outbox::Model>,
        stop: &CancellationToken,
    ) -> (Vec<(outbox::Model, std::result::Result<(), Failure>)>, Vec<i32>) {
        let results: Vec<_> = stream::iter(batch)
            .map(|message| async move {
                if stop.is_cancelled() {
                    return Err(message.id);
                }
                let outcome = self.deliver(&message).await;
                Ok((message, outcome))
            })
            .buffer_unordered(self.config.parallel.max(1))
            .collect()
            .await;

        let mut tried = Vec::with_capacity(results.len());
        let mut untried = Vec::new();
        for result in results {
            match result {
                Ok(done) => tried.push(done),
                Err(id) => untried.push(id),
            }
        }
        (tried, untried)
    }

    /// Marks the delivered messages sent in one statement and each failure on
    /// its own (failures are few).
    async fn record(
        &self,
        db: &DatabaseConnection,
        tried: Vec<(outbox::Model, std::result::Result<(), Failure>)>,
        report: &mut SendReport,
    ) -> Result<()> {
        let mut sent = Vec::with_capacity(tried.len());
        let mut kinds = Vec::with_capacity(tried.len());
        for (message, outcome) in tried {
            match outcome {
                Ok(()) => {
                    sent.push(message.id);
                    kinds.push(message.kind);
                }
                Err(failure) => {
                    let retry_at = self.retry_at(&message, &failure);
                    tracing::warn!(outbox.id = message.id, outbox.attempt = message.attempts + 1, retry = retry_at.is_some(), error = %failure.reason, "mail not delivered");
                    report.retried += usize::from(retry_at.is_some());
                    report.failed += usize::from(retry_at.is_none());
                    crate::metrics::email_failed(&message.kind, retry_at.is_some());
                    queue::mark_attempt_failed(db, message, failure.message, retry_at).await?;
                }
            }
        }

        queue::mark_sent(db, &sent, Utc::now()).await?;
        report.sent += sent.len();
        kinds.iter().for_each(|kind| crate::metrics::email_sent(kind));
        Ok(())
    }

    /// Exponential backoff for temporary failures, within the attempt limit.
    fn retry_at(&self, message: &outbox::Model, failure: &Failure) -> Option<chrono::DateTime<Utc>> {
        let attempt = message.attempts + 1;
        if !failure.transient || attempt >= self.config.max_attempts {
            return None;
        }
        let factor = 1_i32 << (attempt - 1).clamp(0, 16);
        Some(Utc::now() + self.config.retry_base * factor)
    }

    async fn deliver(&self, message: &outbox::Model) -> std::result::Result<(), Failure> {
        let email = self.build(message)?;
        match &self.transport {
            Transport::Smtp(smtp) => smtp.send(email).await.map(|_| ()).map_err(smtp_failure),
            Transport::Files(dir) => write_eml(dir, message, &email.formatted()).await,
        }
    }

    fn build(&self, message: &outbox::Model) -> std::result::Result<Message, Failure> {
        let permanent = |e: String| Failure {
            reason: e.clone(),
            message: e,
            transient: false,
        };
        let address = message
            .recipient_email
            .parse()
            .map_err(|e| permanent(format!("bad recipient address: {e}")))?;
        let to = Mailbox::new(Some(message.recipient_name.clone()), address);

        Message::builder()
            .message_id(None)
            .from(self.from.clone())
            .to(to)
            .subject(message.subject.clone())
            .multipart(MultiPart::alternative_plain_html(
                message.text_body.clone(),
                message.html_body.clone(),
            ))
            .map_err(|e| permanent(format!("cannot build the message: {e}")))
    }
}

/// An SMTP failure: the logs get [`smtp::reason`]; the outbox row keeps
/// lettre's whole text, led by our own words when TLS was the trouble.
/// Whether it is tried again follows the reply: only a 5xx is permanent.
fn smtp_failure(error: lettre::transport::smtp::Error) -> Failure {
    let message = match smtp::tls_failure(&error) {
        Some(tls) => format!("{tls} ({error})"),
        None => error.to_string(),
    };
    Failure {
        transient: !error.is_permanent(),
        reason: smtp::reason(&error),
        message,
    }
}

/// The folder `.eml` files go to when no relay is set. A CA file then has
/// nothing to verify, so it is refused rather than silently ignored: it
/// means the relay was meant to be set too.
fn outbox_dir(config: &MailConfig) -> Result<PathBuf> {
    if let Some(path) = &config.smtp_ca_file {
        return Err(Error::bad_input(
            "LEARNMAP_SMTP_CA_FILE",
            format!(
                "{} is set without SMTP_URL, so mail goes to .eml files and no relay uses it; set SMTP_URL or unset LEARNMAP_SMTP_CA_FILE",
                path.display()
            ),
        ));
    }
    Ok(config.outbox_dir.clone())
}

/// The transport `SMTP_URL` and `LEARNMAP_SMTP_CA_FILE` describe, checked
/// here so that a mistake stops start-up rather than every delivery.
fn smtp_transport(
    url: &str,
    ca_file: Option<&std::path::Path>,
    connections: usize,
) -> Result<AsyncSmtpTransport<Tokio1Executor>> {
    let relay = smtp::parse_url(url)?;

    let extra_roots = match ca_file {
        Some(path) if relay.security == smtp::Security::Plain => {
            return Err(Error::bad_input(
                "LEARNMAP_SMTP_CA_FILE",
                format!(
                    "{} is set but SMTP_URL is smtp://, which has no TLS; use smtp+starttls:// or smtps://",
                    path.display()
                ),
            ));
        }
        Some(path) => smtp::read_ca_file(path)?,
        None => Vec::new(),
    };
    smtp::transport(&relay, extra_roots, connections)
}

async fn write_eml(dir: &std::path::Path, message: &outbox::Model, bytes: &[u8]) -> std::result::Result<(), Failure> {
    let failure = |e: std::io::Error| Failure {
        message: format!("cannot write to {}: {e}", dir.display()),
        reason: format!("cannot write an .eml file: {}", e.kind()),
        transient: true,
    };
    tokio::fs::create_dir_all(dir).await.map_err(failure)?;
    let name: String = message
        .key
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' })
        .collect();
    tokio::fs::write(dir.join(format!("{:06}-{name}.eml", message.id)), bytes)
        .await
        .map_err(failure)
}
