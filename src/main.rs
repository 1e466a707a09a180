//! The `learnmap` command: serves GraphQL by default, and runs admin tasks.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use learnmap::audit::Actor;
use learnmap::compliance::completions::{self, Mapping};
use learnmap::jobs::quarterly::{self, Outcome, RunRequest, Trigger};
use learnmap::jobs::scheduler::{self, ScheduleConfig};
use learnmap::mail::{MailConfig, Sender};
use learnmap::personnel::import::{Action, ImportOptions, ImportReport};
use learnmap::shutdown::{self, Shutdown};
use learnmap::{clock, db, graphql, personnel, seed, server, text};
use sea_orm::DatabaseConnection;
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(
    name = "learnmap",
    version,
    about = "IT competency-training compliance for Taipei City Government"
)]
struct Cli {
    /// The database: a `sqlite:` or `postgres://` URL.
    #[arg(long, global = true, env = "DATABASE_URL", default_value = db::DEFAULT_DATABASE_URL)]
    database_url: String,

    /// The address to serve on.
    #[arg(
        long,
        global = true,
        env = "LEARNMAP_BIND",
        default_value = "127.0.0.1:8000",
        help_heading = "Server"
    )]
    bind: SocketAddr,

    #[command(flatten)]
    mail: MailArgs,

    #[command(flatten)]
    schedule: ScheduleArgs,

    #[command(flatten)]
    auth: learnmap::auth::AuthArgs,

    #[command(flatten)]
    http: server::ServerArgs,

    #[command(subcommand)]
    command: Option<Command>,
}

/// Where mail goes.
#[derive(clap::Args)]
#[command(next_help_heading = "Mail")]
struct MailArgs {
    /// The SMTP relay: `smtp://host[:port]` (plain, port 25),
    /// `smtp+starttls://host[:port]` (STARTTLS required, 587) or
    /// `smtps://host[:port]` (implicit TLS, 465); `user:password@` before the
    /// host logs in (percent-encode `@ : /` in the password; over plain
    /// `smtp://` only to loopback). Unset writes `.eml` files instead.
    #[arg(long, global = true, env = "SMTP_URL")]
    smtp_url: Option<String>,

    /// A PEM file of CA certificates trusted beside the built-in Mozilla roots,
    /// for a relay whose certificate a government or private CA signed.
    // A string rather than a path so that an empty variable means unset, as
    // it does for SMTP_URL (clap refuses an empty path).
    #[arg(long, global = true, env = "LEARNMAP_SMTP_CA_FILE", value_name = "FILE")]
    smtp_ca_file: Option<String>,

    /// The folder for `.eml` files when no SMTP server is set.
    #[arg(long, global = true, env = "LEARNMAP_OUTBOX_DIR", default_value = "data/outbox")]
    outbox_dir: PathBuf,

    /// The sender of every message.
    #[arg(
        long,
        global = true,
        env = "LEARNMAP_MAIL_FROM",
        default_value = "learnmap <learnmap@localhost>"
    )]
    mail_from: String,
}

/// When scheduled jobs run.
#[derive(clap::Args)]
#[command(next_help_heading = "Schedule")]
struct ScheduleArgs {
    /// The quarterly job's cron expression, with a seconds field.
    #[arg(
        long,
        global = true,
        env = "LEARNMAP_QUARTERLY_CRON",
        default_value = "0 0 8 1 1,4,7,10 *"
    )]
    quarterly_cron: String,

    /// The time zone of the schedule and of the compliance year.
    #[arg(long, global = true, env = "LEARNMAP_TIMEZONE", default_value = "Asia/Taipei")]
    timezone: String,

    /// Run scheduled jobs in this process (`false` for replicas that only serve).
    #[arg(long, global = true, env = "LEARNMAP_SCHEDULER", default_value_t = true, action = clap::ArgAction::Set)]
    scheduler: bool,
}

impl MailArgs {
    fn config(&self) -> MailConfig {
        MailConfig {
            smtp_url: self.smtp_url.clone().filter(|u| !u.is_empty()),
            smtp_ca_file: self
                .smtp_ca_file
                .as_deref()
                .filter(|p| !p.is_empty())
                .map(PathBuf::from),
            outbox_dir: self.outbox_dir.clone(),
            from: self.mail_from.clone(),
            ..MailConfig::default()
        }
    }
}

impl ScheduleArgs {
    fn config(&self) -> ScheduleConfig {
        ScheduleConfig {
            quarterly_cron: self.quarterly_cron.clone(),
            timezone: self.timezone.clone(),
            ..ScheduleConfig::default()
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Migrate, seed what is missing, and serve GraphQL (the default).
    Serve,
    /// Apply the database migrations.
    Migrate,
    /// Migrate, then load the learning-map catalog and rules where missing.
    Seed,
    /// Print the GraphQL schema (SDL).
    PrintSchema,
    /// Generate made-up agencies, units, people, roles, evidence and
    /// completions (2024–2026) into the database; deterministic for a seed.
    GenDemo {
        /// How many people (at most 1,000,000, about 90 million completion rows).
        #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
        people: u32,
        /// The seed of the made-up data: the same seed on an empty database gives the same data.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Print a bearer token signed with the configured secret (alone on
    /// standard output).
    Token {
        /// The employee number the token names.
        #[arg(long)]
        employee: String,
        /// Add the `admin` role.
        #[arg(long)]
        admin: bool,
        /// How long the token lives: 30m, 8h, 7d, 1h30m.
        #[arg(long, default_value = "8h", value_parser = learnmap::auth::parse_ttl)]
        ttl: std::time::Duration,
    },
    /// Write a unit's compliance report: one row per person and requirement.
    Report {
        /// The unit; its subtree is included.
        #[arg(long)]
        unit: String,
        #[arg(long)]
        year: i32,
        /// The as-of date, in any form the imports read (2026-03-31,
        /// 115/03/31, ...); default: today, or Dec 31 of a past year.
        #[arg(long, value_parser = learnmap::import::parse_date)]
        as_of: Option<chrono::NaiveDate>,
        #[arg(long, value_enum, default_value = "csv")]
        format: ReportKind,
        /// Where to write it (default: standard output).
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Run a job now.
    Jobs {
        #[command(subcommand)]
        job: JobCommand,
    },
    /// Work the mail outbox.
    Mail {
        #[command(subcommand)]
        action: MailCommand,
    },
    /// Import a CSV file (UTF-8 or Big5, as Excel saves it); all rows or none.
    Import {
        kind: ImportKind,
        file: PathBuf,
        /// Check the file and report what would change, writing nothing.
        #[arg(long)]
        dry_run: bool,
        /// For completions: a mapping file (TOML) naming which of another
        /// platform's export columns holds each field.
        #[arg(long, value_name = "FILE")]
        mapping: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum JobCommand {
    /// Compute a quarter's shortfalls, queue the reminders and digests, send them.
    Run {
        #[command(subcommand)]
        job: RunnableJob,
    },
}

#[derive(Subcommand)]
enum RunnableJob {
    /// One quarter's shortfalls, reminders to staff and digests to supervisors.
    Quarterly {
        /// The compliance year (2000–2100).
        #[arg(long)]
        year: i32,
        /// The quarter, 1 to 4; the shortfalls are as of its last day.
        #[arg(long)]
        quarter: u32,
        /// Show what would be sent; write no snapshot or mail and send
        /// nothing (the run itself is recorded in jobRuns).
        #[arg(long)]
        dry_run: bool,
        /// Queue the messages but leave sending to `learnmap mail send` or
        /// the server's next scheduled drain (to look at the outbox first).
        #[arg(long, conflicts_with = "dry_run")]
        queue_only: bool,
    },
}

#[derive(Subcommand)]
enum MailCommand {
    /// Send every message due in the outbox.
    Send,
}

#[derive(Clone, Copy, ValueEnum)]
enum ReportKind {
    Csv,
    Xlsx,
}

#[derive(Clone, Copy, ValueEnum)]
enum ImportKind {
    Units,
    People,
    Evidence,
    Completions,
}

/// Bad input about a year, quarter or as-of date, worded with the command
/// line's flags (`--as-of`) rather than GraphQL's argument names (`asOf`).
fn flag_errors(error: learnmap::Error) -> anyhow::Error {
    match error {
        learnmap::Error::BadInput(fields) => {
            let lines: Vec<String> = fields
                .iter()
                .map(|f| {
                    let flag = match f.field.as_str() {
                        "asOf" => "--as-of",
                        "year" => "--year",
                        "quarter" => "--quarter",
                        other => other,
                    };
                    format!("{flag}: {}", f.reason)
                })
                .collect();
            anyhow::anyhow!(lines.join("; "))
        }
        other => other.into(),
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    init_tracing();

    match run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            // The message and its causes on one line, never a backtrace (even
            // with RUST_BACKTRACE set): these are errors for the user to act
            // on, such as a rejected file or a bad setting.
            eprintln!("Error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(mut cli: Cli) -> anyhow::Result<()> {
    let command = cli.command.take().unwrap_or(Command::Serve);
    match command {
        Command::Serve => serve(&cli).await,
        Command::Jobs {
            job:
                JobCommand::Run {
                    job:
                        RunnableJob::Quarterly {
                            year,
                            quarter,
                            dry_run,
                            queue_only,
                        },
                },
        } => run_quarterly(&cli, year, quarter, dry_run, !dry_run && !queue_only).await,
        Command::Mail {
            action: MailCommand::Send,
        } => {
            let db = open(&cli.database_url).await?;
            send_mail(&cli, &db, "").await
        }
        Command::Migrate => {
            let db = db::connect(&cli.database_url)
                .await
                .context("cannot open the database")?;
            let applied = db::migrate(&db).await.context("migrations failed")?;
            println!("{}", migrated(applied));
            Ok(())
        }
        Command::Seed => {
            let db = open(&cli.database_url).await?;
            let report = seed::run(&db).await.context("seeding failed")?;
            println!(
                "seeded: {}, {}, {} added",
                text::count(report.topics, "topic", "topics"),
                text::count(report.courses, "course", "courses"),
                text::count(report.rule_sets, "rule set", "rule sets")
            );
            Ok(())
        }
        Command::Token { employee, admin, ttl } => {
            println!("{}", cli.auth.token(&employee, admin, ttl)?);
            Ok(())
        }
        Command::GenDemo { people, seed } => {
            let db = open_seeded(&cli.database_url).await?;
            let started = std::time::Instant::now();
            let report = learnmap::demo::generate(
                &db,
                learnmap::demo::DemoOptions {
                    people: people as usize,
                    seed,
                },
            )
            .await
            .context("gen-demo failed")?;
            println!(
                "generated {}, {}, {}, {}, {}, {} in {:.1} s",
                text::count(report.agencies, "agency", "agencies"),
                text::count(report.units, "unit", "units"),
                text::count(report.people, "person", "people"),
                text::count(report.roles, "role", "roles"),
                text::count(report.evidence, "piece of evidence", "pieces of evidence"),
                text::count(report.completions, "completion", "completions"),
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::PrintSchema => {
            print!("{}", graphql::sdl());
            Ok(())
        }
        Command::Report {
            unit,
            year,
            as_of,
            format,
            output,
        } => {
            if matches!(format, ReportKind::Xlsx)
                && output.is_none()
                && std::io::IsTerminal::is_terminal(&std::io::stdout())
            {
                anyhow::bail!(
                    "an xlsx report is a binary file; write it to one with -o FILE (or redirect standard output)"
                );
            }
            let db = open_seeded(&cli.database_url).await?;
            let format = match format {
                ReportKind::Csv => learnmap::report::ReportFormat::Csv,
                ReportKind::Xlsx => learnmap::report::ReportFormat::Xlsx,
            };
            let as_of = learnmap::compliance::service::as_of_for(year, as_of, clock::today()).map_err(flag_errors)?;
            let bytes = learnmap::report::unit_report(&db, &unit, year, as_of, format).await?;
            match output {
                Some(path) => std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display())),
                None => std::io::Write::write_all(&mut std::io::stdout(), &bytes).context("cannot write the report"),
            }
        }
        Command::Import {
            kind,
            file,
            dry_run,
            mapping,
        } => import(&cli.database_url, kind, &file, dry_run, mapping.as_deref()).await,
    }
}

/// Runs an import and prints its report; a rejected file prints every error
/// and exits non-zero.
async fn import(
    database_url: &str,
    kind: ImportKind,
    file: &Path,
    dry_run: bool,
    mapping: Option<&Path>,
) -> anyhow::Result<()> {
    let mapping = match (kind, mapping) {
        (ImportKind::Completions, Some(path)) => Some(read_mapping(path)?),
        (_, Some(_)) => anyhow::bail!("--mapping applies only to `import completions`"),
        (_, None) => None,
    };
    let text = read_text(file)?;
    let db = open_seeded(database_url).await?;
    let options = ImportOptions {
        dry_run,
        today: clock::today(),
        actor: Actor::cli(),
        source: file.file_name().map(|name| name.to_string_lossy().into_owned()),
    };

    let result = match kind {
        ImportKind::Units => personnel::import::import_units(&db, &text, options).await,
        ImportKind::People => personnel::import::import_people(&db, &text, options).await,
        ImportKind::Evidence => personnel::import::import_evidence(&db, &text, options).await,
        ImportKind::Completions => completions::import_completions(&db, &text, mapping.as_ref(), options).await,
    };
    match result {
        Ok(report) => {
            print_report(&report);
            Ok(())
        }
        Err(learnmap::Error::BadInput(errors)) => {
            print_errors(file, &errors);
            anyhow::bail!(
                "{} rejected: {}, nothing was written",
                file.display(),
                text::count(errors.len(), "error", "errors")
            )
        }
        Err(other) => Err(other).context("import failed"),
    }
}

/// Prints the errors of a file, one a line, the first hundred of them.
fn print_errors(file: &Path, errors: &[learnmap::error::FieldError]) {
    let (shown, more) = learnmap::error::listed(errors);
    for error in shown {
        eprintln!("{}: {error}", file.display());
    }
    if more > 0 {
        eprintln!("{}: {}", file.display(), learnmap::error::more_errors(more));
    }
}

/// Reads a file as Excel and Notepad save it: UTF-8 (with or without a
/// byte-order mark) or Big5.
fn read_text(file: &Path) -> anyhow::Result<String> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    learnmap::import::decode(&bytes).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))
}

/// Reads a completions mapping file; a bad one prints every problem.
fn read_mapping(path: &Path) -> anyhow::Result<Mapping> {
    match Mapping::parse(&read_text(path)?) {
        Ok(mapping) => Ok(mapping),
        Err(learnmap::Error::BadInput(errors)) => {
            print_errors(path, &errors);
            anyhow::bail!(
                "{} rejected: {}",
                path.display(),
                text::count(errors.len(), "error", "errors")
            )
        }
        Err(other) => Err(other).context("cannot read the mapping"),
    }
}

fn print_report(report: &ImportReport) {
    for change in &report.changes {
        let action = match change.action {
            Action::Created => "create",
            Action::Updated => "update",
            Action::Unchanged => "keep",
        };
        let detail = if change.detail.is_empty() {
            String::new()
        } else {
            format!(": {}", change.detail)
        };
        println!("row {}: {action} {}{detail}", change.row, change.key);
    }
    println!("{}", import_summary(report));
}

/// `12 rows: 12 created, 0 updated, 0 unchanged`; a dry run says what would
/// be. The verbs take no number, so one row reads as well as many.
fn import_summary(report: &ImportReport) -> String {
    let rows = text::count(report.rows, "row", "rows");
    let (created, updated, unchanged) = (report.created, report.updated, report.unchanged);
    if report.dry_run {
        format!(
            "{rows}: {created} would be created, {updated} would be updated, {unchanged} unchanged (dry run: nothing written)"
        )
    } else {
        format!("{rows}: {created} created, {updated} updated, {unchanged} unchanged")
    }
}

async fn serve(cli: &Cli) -> anyhow::Result<()> {
    let mail = cli.mail.config();
    Sender::new(mail.clone()).context("mail is misconfigured")?;
    let verifier = cli.auth.verifier()?;
    let db = open(&cli.database_url).await?;
    let report = seed::run(&db).await.context("seeding failed")?;
    tracing::info!(
        seed.topics = report.topics,
        seed.courses = report.courses,
        seed.rule_sets = report.rule_sets,
        "catalog ready"
    );

    let schema = graphql::schema_with_mail(db.clone(), mail.clone());
    if let Some(metrics) = schema.data::<learnmap::metrics::Metrics>() {
        learnmap::metrics::install(metrics);
    }
    let shutdown = Shutdown::new();
    let scheduler = if cli.schedule.scheduler {
        Some(start_scheduler(cli, &db, &mail, &shutdown).await?)
    } else {
        None
    };

    if let Err(error) = verifier.start().await {
        tracing::warn!(
            error = %format!("{error:#}"),
            "cannot fetch the identity provider's JWKS: RS256 tokens are refused and /readyz answers 503 \
             until a fetch succeeds (retrying in the background)"
        );
    }

    let listener = server::bind(cli.bind)
        .await
        .with_context(|| format!("cannot listen on {}", cli.bind))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "serving GraphQL at http://{addr}{}", server::GRAPHQL_PATH);

    let app = server::app(schema, db, verifier, cli.http.clone());
    let served = server::serve(listener, app, shutdown.token().clone()).await;

    if let Some(mut scheduler) = scheduler
        && let Err(error) = scheduler.shutdown().await
    {
        tracing::warn!(error = %error, "scheduler did not stop cleanly");
    }
    if !shutdown.finish(shutdown::GRACE).await {
        tracing::warn!(
            grace_s = shutdown::GRACE.as_secs(),
            "background work still running at exit"
        );
    }
    served.context("server failed")
}

/// Starts the quarterly schedule and, in the background, the catch-up run.
async fn start_scheduler(
    cli: &Cli,
    db: &DatabaseConnection,
    mail: &MailConfig,
    shutdown: &Shutdown,
) -> anyhow::Result<tokio_cron_scheduler::JobScheduler> {
    let schedule = cli.schedule.config();
    let scheduler = scheduler::start(db.clone(), schedule.clone(), mail.clone(), shutdown.clone()).await?;

    let (db, mail, stop) = (db.clone(), mail.clone(), shutdown.token().clone());
    shutdown.spawn(async move { scheduler::run_last_quarter(&db, &schedule, &mail, Trigger::CatchUp, &stop).await });
    Ok(scheduler)
}

/// Drains the outbox and prints what happened after `prefix`.
async fn send_mail(cli: &Cli, db: &DatabaseConnection, prefix: &str) -> anyhow::Result<()> {
    let report = Sender::new(cli.mail.config())?.drain(db).await?;
    println!(
        "{prefix}{} sent, {} to retry, {} failed",
        report.sent, report.retried, report.failed
    );
    Ok(())
}

/// What a dry run of the quarter leaves behind: its `jobRuns` row, so that
/// operators can see it ran and what it found, and nothing else.
const DRY_RUN_NOTE: &str = " (dry run: no snapshot or mail written, nothing sent; the run is recorded in jobRuns)";

async fn run_quarterly(cli: &Cli, year: i32, quarter: u32, dry_run: bool, send: bool) -> anyhow::Result<()> {
    let db = open_seeded(&cli.database_url).await?;
    let started = std::time::Instant::now();
    let tz = scheduler::timezone(&cli.schedule.timezone)?;
    let today = chrono::Utc::now().with_timezone(&tz).date_naive();
    let request = RunRequest {
        year,
        quarter,
        dry_run,
        trigger: Trigger::Cli,
        holder: format!("cli-{}", std::process::id()),
        today,
    };

    match quarterly::run(&db, request).await.map_err(flag_errors)? {
        Outcome::Ran { run, messages } => {
            for m in &messages {
                let note = if m.new { "" } else { " (queued before)" };
                println!("{} to {}: {}{note}", m.kind, m.recipient_no, m.subject);
            }
            println!(
                "run {}: {}, {}, {}, {} in {:.1} s{}",
                run.id,
                text::count(count_of(run.people), "person", "people"),
                text::count(count_of(run.lines), "line", "lines"),
                text::count(count_of(run.reminders), "reminder", "reminders"),
                text::count(count_of(run.digests), "digest", "digests"),
                started.elapsed().as_secs_f64(),
                if dry_run { DRY_RUN_NOTE } else { "" }
            );
        }
        Outcome::Busy => anyhow::bail!("another process is running this quarter's job; try again later"),
        Outcome::AlreadyDone { run } => println!("quarter already done by run {}", run.id),
        Outcome::NobodyYet => println!("no people loaded yet: nothing to do"),
    }
    if send {
        send_mail(cli, &db, "mail: ").await?;
    }
    Ok(())
}

/// What `migrate` did: how many migrations it applied, or that there was
/// nothing to do.
fn migrated(applied: usize) -> String {
    match applied {
        0 => "the database is up to date: no migration to apply".to_string(),
        1 => "1 migration applied; the database is up to date".to_string(),
        n => format!("{n} migrations applied; the database is up to date"),
    }
}

/// A count stored as an `i32` column, which is never negative.
fn count_of(stored: i32) -> usize {
    usize::try_from(stored).unwrap_or(0)
}

/// Connects and migrates; the URL is never logged, as it may hold a password.
async fn open(database_url: &str) -> anyhow::Result<DatabaseConnection> {
    let db = db::connect(database_url).await.context("cannot open the database")?;
    db::migrate(&db).await.context("migrations failed")?;
    Ok(db)
}

/// Opens, migrates and loads the seed where missing: every command that reads
/// or writes data needs the catalog and the rules in place.
async fn open_seeded(database_url: &str) -> anyhow::Result<DatabaseConnection> {
    let db = open(database_url).await?;
    seed::run(&db).await.context("seeding failed")?;
    Ok(db)
}

fn init_tracing() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
