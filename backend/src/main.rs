//! The `yardstick` command: reads the command line, sets up logging and runs
//! one subcommand.

use std::net::TcpListener;

use anyhow::Context;
use backend::config::{Cli, Command, MigrateAction};
use backend::explorer::ExplorerAssets;
use backend::ingest::batch::{IngestOptions, ingest_paths};
use backend::ingest::store::Attachments;
use backend::server::{AppState, serve};
use backend::{db, graphql, report};
use clap::Parser;
use migration::{Migrator, MigratorTrait};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::new(backend::config::log_filter()))
        .with_writer(std::io::stderr)
        .init();
    match cli.command {
        Command::Schema => {
            print!("{}", graphql::sdl());
            Ok(())
        }
        Command::Serve(args) => {
            tracing::info!(database = %db::redact(&cli.database_url), addr = %args.addr, "starting");
            let db = db::connect_and_migrate(&cli.database_url)
                .await
                .context("while opening the database")?;
            let listener = TcpListener::bind(args.addr)
                .with_context(|| format!("while binding {}", args.addr))?;
            let state = AppState::new(db, ExplorerAssets::new(args.explorer_dir), args.web_dir);
            serve(listener, state).await.context("while serving")
        }
        Command::Ingest(args) => {
            let db = db::connect_and_migrate(&cli.database_url)
                .await
                .context("while opening the database")?;
            let options = IngestOptions {
                model: args.model,
                attachments: Attachments {
                    projects: args.projects,
                    tags: args.tags,
                    model_tags: args.model_tags,
                },
                actor: args.actor,
            };
            let progress = report::ProgressReport::new();
            let summary = ingest_paths(&db, &args.paths, &options, &progress).await?;
            progress.finish(&summary);
            if summary.rejected > 0 {
                std::process::exit(1);
            }
            Ok(())
        }
        Command::Migrate { action } => {
            let db = db::connect(&cli.database_url)
                .await
                .context("while opening the database")?;
            match action {
                MigrateAction::Up => Migrator::up(&db, None).await?,
                MigrateAction::Down { steps } => Migrator::down(&db, Some(steps)).await?,
                MigrateAction::Status => Migrator::status(&db).await?,
            }
            Ok(())
        }
    }
}
