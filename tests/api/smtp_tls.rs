//! SMTP over TLS for real, on loopback: STARTTLS and implicit TLS against the
//! test server with a certificate from a CA made for the test, a relay that
//! does not offer STARTTLS, and the settings refused at start-up.

use chrono::{Duration, Utc};
use entity::outbox;
use learnmap::mail::outbox::{NewMessage, queue_many};
use learnmap::mail::templates::Rendered;
use learnmap::mail::{MailConfig, Sender};
use sea_orm::{EntityTrait, Set};

use crate::db_test;
use crate::helpers::TestApp;
use crate::smtp::{Command, ServerTls, SmtpServer, TestCa};

const SUBJECT: &str = "2026 年第 1 季資通職能訓練時數提醒：尚缺 25 小時";
const RECIPIENT: &str = "p1@example.gov.tw";

/// Queues one reminder and returns its outbox id.
async fn queue_reminder(app: &TestApp) -> i32 {
    let message = NewMessage {
        key: "reminder:P1:2026:Q1".into(),
        kind: "reminder",
        recipient_no: "P1".into(),
        recipient_name: "林小明".into(),
        recipient_email: RECIPIENT.into(),
        rendered: Rendered {
            subject: SUBJECT.into(),
            text: "請於 2026-12-31 前完成".into(),
            html: "<p>請於 2026-12-31 前完成</p>".into(),
        },
    };
    queue_many(&app.db, vec![message], Utc::now()).await.expect("queue");
    outbox::Entity::find()
        .one(&app.db)
        .await
        .expect("query")
        .expect("queued")
        .id
}

async fn row(app: &TestApp, id: i32) -> outbox::Model {
    outbox::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .expect("query")
        .expect("row")
}

fn mail_to(url: String, ca_file: Option<std::path::PathBuf>) -> MailConfig {
    MailConfig {
        smtp_url: Some(url),
        smtp_ca_file: ca_file,
        from: "學習地圖 <learnmap@example.gov.tw>".into(),
        ..MailConfig::default()
    }
}

/// The password the test servers take, and how a URL writes it.
const PASSWORD: &str = "s3cret:@x";

/// `url` with a login whose password needs percent-encoding.
fn with_login(url: String) -> String {
    url.replacen("://", "://learnmap:s3cret%3A%40x@", 1)
}

fn verbs(commands: &[Command]) -> Vec<&str> {
    commands.iter().map(|c| c.verb.as_str()).collect()
}

/// Asserts the one message arrived intact, as the template wrote it.
fn assert_delivered(server: &SmtpServer) {
    let received = server.received();
    assert_eq!(received.len(), 1, "{received:#?}");
    assert_eq!(received[0].subject, SUBJECT);
    assert_eq!(received[0].to_name, "林小明");
    assert!(
        received[0].to.iter().any(|t| t.contains(RECIPIENT)),
        "{:?}",
        received[0].to
    );
    assert!(
        received[0].text.contains("請於 2026-12-31 前完成"),
        "{}",
        received[0].text
    );
}

db_test! {
    async fn starttls_delivers_to_a_relay_of_a_private_ca(app) {
        let id = queue_reminder(&app).await;
        let ca = TestCa::new();
        let dir = tempfile::tempdir().expect("temp dir");
        let server = SmtpServer::start_with(ca.starttls(), Some(("learnmap", PASSWORD)));

        let sender = Sender::new(mail_to(with_login(server.url()), Some(ca.write_pem(dir.path())))).expect("sender");
        let report = sender.drain(&app.db).await.expect("drain");

        assert_eq!((report.sent, report.retried, report.failed), (1, 0, 0));
        assert_delivered(&server);
        assert_eq!(server.logged_in(), ["learnmap"]);
        assert_eq!(row(&app, id).await.status, "sent");

        let commands = server.commands();
        let upgrade = commands.iter().position(|c| c.verb == "STARTTLS").expect("STARTTLS was sent");
        assert_eq!(verbs(&commands[..=upgrade]), ["EHLO", "STARTTLS"]);
        assert!(commands[..=upgrade].iter().all(|c| !c.encrypted), "{commands:?}");
        assert!(commands[upgrade + 1..].iter().all(|c| c.encrypted), "everything after STARTTLS is encrypted: {commands:?}");
        for verb in ["EHLO", "AUTH", "MAIL", "RCPT", "DATA"] {
            assert!(commands[upgrade + 1..].iter().any(|c| c.verb == verb), "{verb} over TLS: {commands:?}");
        }
    }
}

db_test! {
    async fn smtps_delivers_over_tls_from_the_first_byte(app) {
        let id = queue_reminder(&app).await;
        let ca = TestCa::new();
        let dir = tempfile::tempdir().expect("temp dir");
        let server = SmtpServer::start_with(ca.implicit(), Some(("learnmap", PASSWORD)));

        let sender = Sender::new(mail_to(with_login(server.url()), Some(ca.write_pem(dir.path())))).expect("sender");
        let report = sender.drain(&app.db).await.expect("drain");

        assert_eq!((report.sent, report.retried, report.failed), (1, 0, 0));
        assert!(server.url().starts_with("smtps://"));
        assert_delivered(&server);
        assert_eq!(server.logged_in(), ["learnmap"]);
        assert_eq!(row(&app, id).await.status, "sent");
        let commands = server.commands();
        assert!(!commands.is_empty() && commands.iter().all(|c| c.encrypted), "{commands:?}");
        assert!(!commands.iter().any(|c| c.verb == "STARTTLS"), "{commands:?}");
    }
}

db_test! {
    async fn an_untrusted_certificate_is_retried_then_given_up(app) {
        let id = queue_reminder(&app).await;
        let ca = TestCa::new();
        let starttls = SmtpServer::start_with(ca.starttls(), Some(("learnmap", PASSWORD)));
        let implicit = SmtpServer::start_with(ca.implicit(), None);
        let rules = |url: String| MailConfig { max_attempts: 2, retry_base: Duration::seconds(60), ..mail_to(url, None) };

        let first = Sender::new(rules(with_login(starttls.url()))).expect("sender").drain(&app.db).await.expect("drain");
        let after_first = row(&app, id).await;

        assert_eq!((first.sent, first.retried, first.failed), (0, 1, 0));
        assert_eq!((after_first.status.as_str(), after_first.attempts), ("pending", 1));
        assert!(after_first.next_attempt_at > Utc::now() + Duration::seconds(50), "backs off a minute: {after_first:?}");
        let reason = after_first.last_error.clone().unwrap_or_default();
        assert!(reason.starts_with("TLS handshake failed: the relay's certificate is not signed by a trusted CA"), "{reason}");
        assert!(!reason.contains(RECIPIENT), "{reason}");
        assert!(starttls.logged_in().is_empty() && starttls.received().is_empty());
        assert_eq!(verbs(&starttls.commands()), ["EHLO", "STARTTLS"], "nothing after the failed handshake");

        outbox::Entity::update(outbox::ActiveModel { id: Set(id), next_attempt_at: Set(Utc::now()), ..Default::default() })
            .exec(&app.db)
            .await
            .expect("make it due");
        let second = Sender::new(rules(implicit.url())).expect("sender").drain(&app.db).await.expect("drain");
        let after_second = row(&app, id).await;

        assert_eq!((second.sent, second.retried, second.failed), (0, 0, 1));
        assert_eq!((after_second.status.as_str(), after_second.attempts), ("failed", 2));
        assert!(after_second.last_error.unwrap_or_default().contains("not signed by a trusted CA"));
        assert!(implicit.commands().is_empty() && implicit.received().is_empty());
    }
}

db_test! {
    async fn starttls_to_a_relay_without_it_sends_nothing(app) {
        let id = queue_reminder(&app).await;
        let server = SmtpServer::start_with(ServerTls::Plain, Some(("learnmap", PASSWORD)));
        let url = with_login(server.url_as("smtp+starttls"));

        let report = Sender::new(mail_to(url, None)).expect("sender").drain(&app.db).await.expect("drain");

        assert_eq!((report.sent, report.retried, report.failed), (0, 1, 0));
        let row = row(&app, id).await;
        assert_eq!((row.status.as_str(), row.attempts), ("pending", 1));
        let reason = row.last_error.unwrap_or_default();
        assert!(reason.starts_with("the relay does not offer STARTTLS"), "{reason}");
        let commands = server.commands();
        assert!(verbs(&commands).iter().all(|v| matches!(*v, "EHLO" | "QUIT")), "only EHLO in clear: {commands:?}");
        assert_eq!(server.arrived(), 0);
        assert!(server.logged_in().is_empty());
    }
}

db_test! {
    async fn smtps_to_a_plain_relay_says_it_does_not_speak_tls(app) {
        let id = queue_reminder(&app).await;
        let server = SmtpServer::start();

        let report = Sender::new(mail_to(server.url_as("smtps"), None)).expect("sender").drain(&app.db).await.expect("drain");

        assert_eq!(report.retried, 1);
        let reason = row(&app, id).await.last_error.unwrap_or_default();
        assert!(reason.starts_with("TLS handshake failed: the relay did not answer in TLS"), "{reason}");
        assert_eq!(server.arrived(), 0);
        let commands = server.commands();
        assert!(commands.iter().all(|c| c.verb == "DATA-LINE"), "only the TLS hello, read as text: {commands:?}");
    }
}

/// Why `Sender::new` refuses these settings.
fn refusal(url: &str, ca_file: Option<std::path::PathBuf>) -> String {
    match Sender::new(mail_to(url.to_string(), ca_file)) {
        Ok(_) => panic!("{url} was accepted"),
        Err(error) => error.to_string(),
    }
}

#[tokio::test]
async fn a_password_in_clear_goes_only_to_loopback() {
    let message = refusal("smtp://learnmap:secret@mail.example.gov.tw", None);
    assert!(
        message.starts_with("SMTP_URL: would send the password in clear"),
        "{message}"
    );
    assert!(message.contains("smtp+starttls://"), "{message}");
    assert!(!message.contains("secret"), "the password is never repeated: {message}");

    for url in [
        "smtp://learnmap:secret@127.0.0.1:2525",
        "smtp://learnmap:secret@localhost",
        "smtp+starttls://learnmap:secret@mail.example.gov.tw",
        "smtps://learnmap:secret@mail.example.gov.tw",
    ] {
        assert!(Sender::new(mail_to(url.into(), None)).is_ok(), "{url}");
    }
}

#[tokio::test]
async fn an_unknown_scheme_is_refused_with_the_accepted_ones() {
    for url in [
        "smtp+tls://mail.example.gov.tw",
        "https://mail.example.gov.tw",
        "mail.example.gov.tw:25",
    ] {
        let message = refusal(url, None);
        assert!(message.starts_with("SMTP_URL: "), "{message}");
        for accepted in [
            "smtp://host[:port] (plain, port 25)",
            "smtp+starttls://host[:port] (STARTTLS required, port 587)",
            "smtps://host[:port] (implicit TLS, port 465)",
        ] {
            assert!(message.contains(accepted), "{url}: {message}");
        }
    }
    assert!(refusal("smtp://mail.example.gov.tw?tls=required", None).contains("no ?query"));
}

#[tokio::test]
async fn a_bad_ca_file_is_refused_naming_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("write");
        path
    };
    let cases = [
        (dir.path().join("missing.pem"), "cannot be read"),
        (write("empty.pem", "not a certificate\n"), "holds no PEM certificate"),
        (
            write(
                "garbage.pem",
                "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            ),
            "certificate 1 cannot be a root",
        ),
    ];

    for (path, expected) in cases {
        let message = refusal("smtps://mail.example.gov.tw", Some(path.clone()));
        assert!(
            message.starts_with(&format!("LEARNMAP_SMTP_CA_FILE: {}", path.display())),
            "{message}"
        );
        assert!(message.contains(expected), "{message}");
    }

    let good = TestCa::new().write_pem(dir.path());
    assert!(
        Sender::new(mail_to(
            "smtp+starttls://mail.example.gov.tw".into(),
            Some(good.clone())
        ))
        .is_ok()
    );
    let plain = refusal("smtp://mail.example.gov.tw", Some(good.clone()));
    assert!(plain.contains("SMTP_URL is smtp://, which has no TLS"), "{plain}");

    let without_relay = MailConfig {
        smtp_ca_file: Some(good.clone()),
        ..MailConfig::default()
    };
    let message = Sender::new(without_relay)
        .err()
        .expect("a CA file without a relay is refused")
        .to_string();
    assert_eq!(
        message,
        format!(
            "LEARNMAP_SMTP_CA_FILE: {} is set without SMTP_URL, so mail goes to .eml files and no relay uses it; set SMTP_URL or unset LEARNMAP_SMTP_CA_FILE",
            good.display()
        )
    );
}

/// `learnmap serve` with a password in clear stops before it opens the
/// database or listens, with the reason on standard error.
#[test]
fn serve_refuses_a_password_in_clear_at_start_up() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = format!("sqlite://{}?mode=rwc", dir.path().join("x.db").display());
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_learnmap"))
        .args(["--database-url", &db, "--bind", "127.0.0.1:0", "serve"])
        .env("SMTP_URL", "smtp://learnmap:secret@mail.example.gov.tw")
        .env("LEARNMAP_SMTP_CA_FILE", "")
        .env("LEARNMAP_JWT_SECRET", "test-secret-test-secret-test-secret")
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run learnmap");

    let started = std::time::Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if started.elapsed() > std::time::Duration::from_secs(30) {
            let _ = child.kill();
            panic!("serve started with a password in clear");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let output = child.wait_with_output().expect("output");

    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("mail is misconfigured"), "{stderr}");
    assert!(
        stderr.contains("SMTP_URL: would send the password in clear"),
        "{stderr}"
    );
    assert!(!dir.path().join("x.db").exists(), "the database was not opened");
}
