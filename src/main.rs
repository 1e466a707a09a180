//! The `learnmap` command: serves GraphQL by default, and runs admin tasks.

use std::net::SocketAddr;

use anyhow::Context;
use clap::{Parser, Subcommand};
use learnmap::{db, graphql, seed, server};
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
    }
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

    server::serve(listener, graphql::schema(db))
        .await
        .context("server failed")
}

/// Connects and migrates; the URL is never logged, as it may hold a password.
async fn open(database_url: &str) -> anyhow::Result<DatabaseConnection> {
    let db = db::connect(database_url).await.context("cannot open the database")?;
    db::migrate(&db).await.context("migrations failed")?;
    Ok(db)
}

fn init_tracing() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
