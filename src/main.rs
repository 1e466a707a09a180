//! The `learnmap` command: serves GraphQL by default, and runs admin tasks.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use learnmap::personnel::import::{Action, ImportOptions, ImportReport};
use learnmap::{clock, db, graphql, personnel, seed, server};
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
    #[arg(long, global = true, env = "LEARNMAP_BIND", default_value = "127.0.0.1:8000")]
    bind: SocketAddr,

    #[command(subcommand)]
    command: Option<Command>,
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
    /// Import a CSV file (UTF-8 or Big5, as Excel saves it); all rows or none.
    /// Write a unit's compliance report: one row per person and requirement.
    Report {
        /// The unit; its subtree is included.
        #[arg(long)]
        unit: String,
        #[arg(long)]
        year: i32,
        /// The as-of date (default: today, or Dec 31 of a past year).
        #[arg(long)]
        as_of: Option<chrono::NaiveDate>,
        #[arg(long, value_enum, default_value = "csv")]
        format: ReportKind,
        /// Where to write it (default: standard output).
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    Import {
        kind: ImportKind,
        file: PathBuf,
        /// Check the file and report what would change, writing nothing.
        #[arg(long)]
        dry_run: bool,
    },
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
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_tracing();

    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(&cli.database_url, cli.bind).await,
        Command::Migrate => {
            open(&cli.database_url).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::Seed => {
            let db = open(&cli.database_url).await?;
            let report = seed::run(&db).await.context("seeding failed")?;
            println!(
                "seeded: {} topics, {} courses, {} rule sets added",
                report.topics, report.courses, report.rule_sets
            );
            Ok(())
        }
        Command::PrintSchema => {
            print!("{}", graphql::sdl());
            Ok(())
        }
        Command::Report { unit, year, as_of, format, output } => {
            let db = open_seeded(&cli.database_url).await?;
            let format = match format {
                ReportKind::Csv => learnmap::report::ReportFormat::Csv,
                ReportKind::Xlsx => learnmap::report::ReportFormat::Xlsx,
            };
            let as_of = learnmap::compliance::service::as_of_for(year, as_of, clock::today())?;
            let bytes = learnmap::report::unit_report(&db, &unit, year, as_of, format).await?;
            match output {
                Some(path) => std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display())),
                None => std::io::Write::write_all(&mut std::io::stdout(), &bytes).context("cannot write the report"),
            }
        }
        Command::Import { kind, file, dry_run } => import(&cli.database_url, kind, &file, dry_run).await,
    }
}

/// Runs an import and prints its report; a rejected file prints every error
/// and exits non-zero.
async fn import(database_url: &str, kind: ImportKind, file: &Path, dry_run: bool) -> anyhow::Result<()> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let text = learnmap::import::decode(&bytes).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let db = open_seeded(database_url).await?;
    let options = ImportOptions {
        dry_run,
        today: clock::today(),
    };

    let result = match kind {
        ImportKind::Units => personnel::import::import_units(&db, &text, options).await,
        ImportKind::People => personnel::import::import_people(&db, &text, options).await,
        ImportKind::Evidence => personnel::import::import_evidence(&db, &text, options).await,
    };
    match result {
        Ok(report) => {
            print_report(&report);
            Ok(())
        }
        Err(learnmap::Error::BadInput(errors)) => {
            for error in &errors {
                eprintln!("{}: {error}", file.display());
            }
            anyhow::bail!(
                "{} rejected: {} error(s), nothing was written",
                file.display(),
                errors.len()
            )
        }
        Err(other) => Err(other).context("import failed"),
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
    let verb = if report.dry_run { "would be" } else { "were" };
    println!(
        "{} rows: {} {verb} created, {} {verb} updated, {} unchanged{}",
        report.rows,
        report.created,
        report.updated,
        report.unchanged,
        if report.dry_run {
            " (dry run: nothing written)"
        } else {
            ""
        }
    );
}

async fn serve(database_url: &str, bind: SocketAddr) -> anyhow::Result<()> {
    let db = open(database_url).await?;
    let report = seed::run(&db).await.context("seeding failed")?;
    tracing::info!(
        seed.topics = report.topics,
        seed.courses = report.courses,
        seed.rule_sets = report.rule_sets,
        "catalog ready"
    );

    let listener = server::bind(bind)
        .await
        .with_context(|| format!("cannot listen on {bind}"))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "serving GraphQL at http://{addr}{}", server::GRAPHQL_PATH);

    server::serve(listener, graphql::schema(db.clone()), db)
        .await
        .context("server failed")
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
