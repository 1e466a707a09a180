//! `learnmap token`, and `learnmap serve` with no secret configured, run for
//! real in a folder of their own.

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use learnmap::auth::{AuthArgs, Secret, Verifier};
use learnmap::graphql::Caller;

const SECRET: &str = "a secret for the command-line tests, long enough";

/// `learnmap <args>` in `dir`, with no authentication settings of the
/// environment leaking in.
fn learnmap(dir: &std::path::Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_learnmap"));
    command
        .current_dir(dir)
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("LEARNMAP_JWT_SECRET")
        .env_remove("LEARNMAP_JWT_SECRET_FILE")
        .env_remove("LEARNMAP_JWT_ISSUER")
        .env_remove("LEARNMAP_JWT_AUDIENCE")
        .env_remove("LEARNMAP_JWKS_FILE")
        .env_remove("LEARNMAP_JWKS_URL")
        .env_remove("LEARNMAP_JWKS_CA_FILE")
        .env("RUST_LOG", "info")
        .env("RUST_BACKTRACE", "0");
    command
}

fn run(command: &mut Command) -> Output {
    command.output().expect("run learnmap")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("utf-8 output")
}

fn verifier(secret: &str) -> Verifier {
    Verifier::new("learnmap", "learnmap")
        .with_secret(&Secret::new(secret))
        .expect("verifier")
}

#[test]
fn prints_a_token_alone_on_standard_output() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output =
        run(learnmap(dir.path(), &["token", "--employee", "E10010", "--ttl", "1h"]).env("LEARNMAP_JWT_SECRET", SECRET));
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(stdout.ends_with('\n'));
    assert_eq!(verifier(SECRET).verify(stdout.trim()), Ok(Caller::person("E10010")));
    assert!(!dir.path().join("data").exists(), "a configured secret creates no file");
    assert!(!text(&output.stderr).contains(SECRET));

    let output =
        run(learnmap(dir.path(), &["token", "--employee", "E10001", "--admin"]).env("LEARNMAP_JWT_SECRET", SECRET));
    assert!(output.status.success(), "{}", text(&output.stderr));
    let admin = verifier(SECRET).verify(text(&output.stdout).trim());
    assert_eq!(
        admin,
        Ok(Caller::Admin {
            employee_no: Some("E10001".into())
        })
    );
}

#[test]
fn signs_with_the_configured_issuer_and_audience() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = run(learnmap(
        dir.path(),
        &[
            "token",
            "--employee",
            "E1",
            "--jwt-issuer",
            "city",
            "--jwt-audience",
            "lm",
        ],
    )
    .env("LEARNMAP_JWT_SECRET", SECRET));
    assert!(output.status.success(), "{}", text(&output.stderr));
    let token = text(&output.stdout);
    assert!(
        verifier(SECRET).verify(token.trim()).is_err(),
        "not for the default audience"
    );
    let city = Verifier::new("city", "lm")
        .with_secret(&Secret::new(SECRET))
        .expect("verifier");
    assert_eq!(city.verify(token.trim()), Ok(Caller::person("E1")));
}

#[test]
fn without_a_secret_one_is_made_under_data() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = run(&mut learnmap(dir.path(), &["token", "--employee", "E10010"]));
    assert!(output.status.success(), "{}", text(&output.stderr));
    let path = dir.path().join("data/jwt-secret");
    let secret = std::fs::read_to_string(&path).expect("secret file");
    assert_eq!(secret.trim().len(), 64);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).expect("metadata").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert_eq!(
        verifier(&secret).verify(text(&output.stdout).trim()),
        Ok(Caller::person("E10010"))
    );

    // The same file signs the next token, and the library reads it alike.
    let again = run(&mut learnmap(dir.path(), &["token", "--employee", "E10011"]));
    assert_eq!(
        verifier(&secret).verify(text(&again.stdout).trim()),
        Ok(Caller::person("E10011"))
    );
    let args = AuthArgs::with_secret_file(&path);
    let caller = args.verifier().expect("verifier").verify(text(&again.stdout).trim());
    assert_eq!(caller, Ok(Caller::person("E10011")));
}

#[test]
fn refuses_bad_lifetimes_and_secrets() {
    let dir = tempfile::tempdir().expect("temp dir");
    for ttl in ["0h", "8x", "400d"] {
        let output =
            run(learnmap(dir.path(), &["token", "--employee", "E1", "--ttl", ttl]).env("LEARNMAP_JWT_SECRET", SECRET));
        assert!(!output.status.success(), "--ttl {ttl}");
        assert!(output.stdout.is_empty());
    }

    let output = run(learnmap(dir.path(), &["token", "--employee", "E1"]).env("LEARNMAP_JWT_SECRET", "hunter2"));
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(stderr.contains("at least 32"), "{stderr}");
    assert!(!stderr.contains("hunter2"), "{stderr}");

    let output = run(learnmap(dir.path(), &["token", "--employee", "E1"]).env("LEARNMAP_JWKS_FILE", "jwks.json"));
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("no signing secret"),
        "{}",
        text(&output.stderr)
    );

    let output = run(learnmap(dir.path(), &["--help"]).env("LEARNMAP_JWT_SECRET", SECRET));
    assert!(!text(&output.stdout).contains(SECRET), "--help shows no secret");
}

/// Runs `learnmap serve` on a free port until it logs that it serves (or
/// two minutes pass), then stops it; returns whether it served and its log.
fn serve_until_serving(command: &mut Command) -> (bool, String) {
    let mut child = command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start learnmap serve");
    let stderr = child.stderr.take().expect("stderr");
    let (lines, received) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });

    let mut log = Vec::new();
    let mut serving = false;
    while let Ok(line) = received.recv_timeout(Duration::from_secs(120)) {
        serving |= line.contains("serving GraphQL");
        log.push(line);
        if serving {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    (serving, log.join("\n"))
}

const SERVE: &[&str] = &["serve", "--bind", "127.0.0.1:0", "--scheduler", "false"];

/// `cargo run` with nothing configured: the server makes its secret and says
/// how to get an admin token.
#[test]
fn serve_makes_a_secret_and_says_how_to_get_a_token() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (serving, log) = serve_until_serving(&mut learnmap(dir.path(), SERVE));

    assert!(serving, "{log}");
    assert!(log.contains("token --employee ADMIN --admin"), "{log}");
    assert!(dir.path().join("data/jwt-secret").exists());
    let secret = std::fs::read_to_string(dir.path().join("data/jwt-secret")).expect("secret");
    assert!(!log.contains(secret.trim()), "the secret is never logged");
}

/// An identity provider that cannot be reached does not keep the service
/// from starting; it says why in the log.
#[test]
fn serve_starts_while_the_identity_provider_is_down() {
    let dir = tempfile::tempdir().expect("temp dir");
    let free = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/jwks", free.local_addr().expect("address"));
    drop(free);

    let (serving, log) = serve_until_serving(learnmap(dir.path(), SERVE).env("LEARNMAP_JWKS_URL", &url));

    assert!(serving, "{log}");
    assert!(log.contains("cannot fetch the identity provider's JWKS"), "{log}");
    assert!(log.contains(&format!("cannot fetch {url}")), "{log}");
    assert!(
        !dir.path().join("data/jwt-secret").exists(),
        "with a JWKS URL alone, no secret is made"
    );
}

#[test]
fn serve_refuses_a_bad_jwks_configuration() {
    let dir = tempfile::tempdir().expect("temp dir");
    for (settings, reason) in [
        (
            &[("LEARNMAP_JWKS_URL", "http://idp.example/jwks")][..],
            "plain http:// is accepted for a loopback host only",
        ),
        (
            &[
                ("LEARNMAP_JWKS_URL", "https://idp.example/jwks"),
                ("LEARNMAP_JWKS_FILE", "jwks.json"),
            ][..],
            "LEARNMAP_JWKS_FILE and LEARNMAP_JWKS_URL are both set",
        ),
        (
            &[
                ("LEARNMAP_JWKS_URL", "https://idp.example/jwks"),
                ("LEARNMAP_JWKS_CA_FILE", "no-such-ca.pem"),
            ][..],
            "LEARNMAP_JWKS_CA_FILE no-such-ca.pem: cannot be read",
        ),
    ] {
        let mut command = learnmap(dir.path(), SERVE);
        command.envs(settings.iter().copied());
        let output = run(&mut command);
        assert!(!output.status.success(), "{settings:?}");
        let stderr = text(&output.stderr);
        assert!(stderr.contains(reason), "{settings:?}: {stderr}");
    }
}
