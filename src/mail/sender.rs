//! Delivering the outbox: over SMTP with lettre's pooled async transport, or
//! into `.eml` files when no SMTP server is configured.

use std::path::PathBuf;
use std::time::Duration as StdDuration;

use chrono::{Duration, Utc};
use entity::outbox;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::PoolConfig;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sea_orm::DatabaseConnection;

use super::outbox as queue;
use crate::error::{Error, Result};

/// How mail leaves the system.
#[derive(Debug, Clone)]
pub struct MailConfig {
    /// `smtp://[user:password@]host[:port]`; `None` writes `.eml` files.
    pub smtp_url: Option<String>,
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
}

impl Default for MailConfig {
    fn default() -> Self {
        MailConfig {
            smtp_url: None,
            outbox_dir: PathBuf::from("data/outbox"),
            from: "learnmap <learnmap@localhost>".into(),
            retry_base: Duration::seconds(60),
            max_attempts: 5,
            stale_after: Duration::minutes(10),
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
    message: String,
    transient: bool,
}

impl Sender {
    pub fn new(config: MailConfig) -> Result<Self> {
        let from: Mailbox = config
            .from
            .parse()
            .map_err(|e| Error::bad_input("LEARNMAP_MAIL_FROM", format!("is not a mailbox: {e}")))?;
        let transport = match &config.smtp_url {
            Some(url) => Transport::Smtp(smtp_transport(url)?),
            None => Transport::Files(config.outbox_dir.clone()),
        };
        Ok(Sender {
            transport,
            from,
            config,
        })
    }

    /// Sends every message due now, once each; returns what happened.
    pub async fn drain(&self, db: &DatabaseConnection) -> Result<SendReport> {
        let now = Utc::now();
        let mut report = SendReport::default();

        for id in queue::due_ids(db, now, self.config.stale_after).await? {
            let Some(message) = queue::claim(db, id, Utc::now(), self.config.stale_after).await? else {
                continue;
            };
            match self.deliver(&message).await {
                Ok(()) => {
                    crate::metrics::email_sent(&message.kind);
                    queue::mark_sent(db, message, Utc::now()).await?;
                    report.sent += 1;
                }
                Err(failure) => {
                    let retry_at = self.retry_at(&message, &failure);
                    tracing::warn!(outbox.id = id, outbox.attempt = message.attempts + 1, retry = retry_at.is_some(), error = %failure.message, "mail not delivered");
                    crate::metrics::email_failed(&message.kind, retry_at.is_some());
                    report.retried += usize::from(retry_at.is_some());
                    report.failed += usize::from(retry_at.is_none());
                    queue::mark_attempt_failed(db, message, failure.message, retry_at).await?;
                }
            }
        }

        tracing::info!(
            mail.sent = report.sent,
            mail.retried = report.retried,
            mail.failed = report.failed,
            "outbox drained"
        );
        Ok(report)
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
            Transport::Smtp(smtp) => smtp.send(email).await.map(|_| ()).map_err(|e| Failure {
                transient: !e.is_permanent(),
                message: e.to_string(),
            }),
            Transport::Files(dir) => write_eml(dir, message, &email.formatted()).await,
        }
    }

    fn build(&self, message: &outbox::Model) -> std::result::Result<Message, Failure> {
        let permanent = |e: String| Failure {
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

/// Plain SMTP (no TLS), as an internal relay or a mail catcher speaks it.
fn smtp_transport(url: &str) -> Result<AsyncSmtpTransport<Tokio1Executor>> {
    let bad = |reason: &str| Error::bad_input("SMTP_URL", reason.to_string());
    let parsed = url::Url::parse(url).map_err(|_| bad("is not a URL such as smtp://mail.example.org:25"))?;
    if parsed.scheme() != "smtp" {
        return Err(bad("must start with smtp:// (this build speaks SMTP without TLS)"));
    }
    let host = parsed.host_str().ok_or_else(|| bad("has no host"))?;

    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
        .port(parsed.port().unwrap_or(25))
        .timeout(Some(StdDuration::from_secs(15)))
        .pool_config(PoolConfig::new().max_size(4).idle_timeout(StdDuration::from_secs(30)));
    if !parsed.username().is_empty() {
        let password = parsed.password().unwrap_or_default();
        builder = builder.credentials(Credentials::new(parsed.username().to_string(), password.to_string()));
    }
    Ok(builder.build())
}

async fn write_eml(dir: &std::path::Path, message: &outbox::Model, bytes: &[u8]) -> std::result::Result<(), Failure> {
    let failure = |e: std::io::Error| Failure {
        message: format!("cannot write to {}: {e}", dir.display()),
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
