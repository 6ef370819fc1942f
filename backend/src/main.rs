//! The `yardstick` command: reads the command line, sets up logging and runs
//! one subcommand.

use std::io::IsTerminal;
use std::net::TcpListener;
use std::process::ExitCode;

use anyhow::Context;
use backend::config::{
    AdminAction, Cli, Command, IngestArgs, MigrateAction, QuarantineAction, ServeArgs, TokenRole,
    locate,
};
use backend::explorer::ExplorerAssets;
use backend::ingest::batch::{IngestOptions, ingest_paths};
use backend::ingest::store::Attachments;
use backend::server::{AppState, serve};
use backend::service::page::PageRequest;
use backend::service::{access, quality, quarantine};
use backend::{db, graphql, report};
use clap::Parser;
use migration::{Migrator, MigratorTrait};
use tracing_subscriber::EnvFilter;

/// Runs the command; a failure prints its causes on one line, never a
/// backtrace (`RUST_BACKTRACE` is for the program's own faults, which
/// panic), and exits with status 1.
fn main() -> ExitCode {
    let outcome = tokio::runtime::Runtime::new()
        .context("while starting the async runtime")
        .and_then(|runtime| runtime.block_on(run()));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", one_line(&error));
            ExitCode::FAILURE
        }
    }
}

/// Joins an error's causes with `: `, leaving out a cause whose words the
/// line holds already (database errors repeat their source in their own).
fn one_line(error: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // A server logs its lifecycle; the other commands print their own report
    // and log only what needs attention.
    let default_level = if matches!(cli.command, Command::Serve(_)) {
        "info"
    } else {
        "warn"
    };
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::new(backend::config::log_filter(default_level)))
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .init();
    match cli.command {
        Command::Schema => {
            print!("{}", graphql::sdl());
            Ok(())
        }
        Command::Serve(args) => run_serve(&cli.database_url, args).await,
        Command::Ingest(args) => run_ingest(&cli.database_url, args).await,
        Command::Migrate { action } => run_migrate(&cli.database_url, action).await,
        Command::Admin { action } => run_admin(&cli.database_url, action).await,
        Command::Quality { run, json } => run_quality(&cli.database_url, run, json).await,
        Command::Quarantine { action } => run_quarantine(&cli.database_url, action).await,
    }
}

async fn run_serve(database_url: &str, args: ServeArgs) -> anyhow::Result<()> {
    tracing::info!(database = %db::redact(database_url), addr = %args.addr, "starting");
    // Bind first: a taken port should fail before any work is done.
    let listener =
        TcpListener::bind(args.addr).with_context(|| format!("while binding {}", args.addr))?;
    let db = db::connect_and_migrate(database_url)
        .await
        .with_context(|| format!("while opening the database {}", db::redact(database_url)))?;
    let explorer = args
        .explorer_dir
        .unwrap_or_else(|| locate(".tools/explorer/node_modules"));
    let web_dir = args.web_dir.unwrap_or_else(|| locate("dist"));
    tracing::info!(read_access = ?args.read_access, "access");
    let state = AppState::new(db, ExplorerAssets::new(explorer), web_dir)
        .with_read_access(args.read_access);
    serve(listener, state).await.context("while serving")
}

async fn run_ingest(database_url: &str, args: IngestArgs) -> anyhow::Result<()> {
    let db = db::connect_and_migrate(database_url)
        .await
        .with_context(|| format!("while opening the database {}", db::redact(database_url)))?;
    let options = IngestOptions {
        model: args.model,
        attachments: Attachments {
            projects: args.projects,
            tags: args.tags,
            model_tags: args.model_tags,
        },
        actor: args.actor,
    };
    let progress = report::ProgressReport::new().listing_every_file(args.verbose);
    let summary = ingest_paths(&db, &args.paths, &options, &progress).await?;
    progress.finish(&summary);
    if summary.rejected > 0 {
        std::process::exit(1);
    }
    Ok(())
}

async fn run_migrate(database_url: &str, action: MigrateAction) -> anyhow::Result<()> {
    let db = db::connect(database_url)
        .await
        .with_context(|| format!("while opening the database {}", db::redact(database_url)))?;
    match action {
        MigrateAction::Up => {
            Migrator::up(&db, None).await?;
            println!("all migrations applied");
        }
        MigrateAction::Down { steps, yes: false } => {
            anyhow::bail!(
                "rolling back {} drops {} tables and every row in them; run again with \
                 --yes to confirm",
                report::count(steps as usize, "migration", "migrations"),
                if steps == 1 { "its" } else { "their" }
            );
        }
        MigrateAction::Down { steps, yes: true } => {
            Migrator::down(&db, Some(steps)).await?;
            println!(
                "rolled back {}",
                report::count(steps as usize, "migration", "migrations")
            );
        }
        MigrateAction::Status => {
            for migration in Migrator::get_migration_with_status(&db).await? {
                println!(
                    "{:<8} {}",
                    format!("{:?}", migration.status()),
                    migration.name()
                );
            }
        }
    }
    Ok(())
}

async fn run_admin(database_url: &str, action: AdminAction) -> anyhow::Result<()> {
    let db = db::connect_and_migrate(database_url)
        .await
        .with_context(|| format!("while opening the database {}", db::redact(database_url)))?;
    match action {
        AdminAction::CreateToken { name, role, actor } => {
            let role = match role {
                TokenRole::Reader => access::Role::Reader,
                TokenRole::Admin => access::Role::Admin,
            };
            let created = access::create_token(&db, &name, role, &format!("cli:{actor}"))
                .await
                .map_err(|error| anyhow::anyhow!(error.message()))?;
            eprintln!(
                "created {} token `{}`; it is shown once, store it now:",
                created.role.as_str(),
                created.name
            );
            println!("{}", created.token);
        }
        AdminAction::ListTokens => {
            let tokens = access::list_tokens(&db)
                .await
                .map_err(|error| anyhow::anyhow!(error.message()))?;
            let minute = |at: chrono::DateTime<chrono::Utc>| at.format("%Y-%m-%d %H:%M UTC");
            println!("{:<24} {:<7} {:<21} REVOKED", "NAME", "ROLE", "CREATED");
            for token in tokens {
                let revoked = token
                    .revoked_at
                    .map_or_else(|| "-".to_string(), |at| minute(at).to_string());
                println!(
                    "{:<24} {:<7} {:<21} {}",
                    token.name,
                    token.role,
                    minute(token.created_at).to_string(),
                    revoked
                );
            }
        }
        AdminAction::RevokeToken { name, actor } => {
            access::revoke_token(&db, &name, &format!("cli:{actor}"))
                .await
                .map_err(|error| anyhow::anyhow!(error.message()))?;
            println!("revoked token `{name}`");
        }
    }
    Ok(())
}

async fn run_quality(
    database_url: &str,
    run: Option<uuid::Uuid>,
    json: bool,
) -> anyhow::Result<()> {
    let db = db::connect_and_migrate(database_url)
        .await
        .with_context(|| format!("while opening the database {}", db::redact(database_url)))?;
    let findings = quality::check(&db, run)
        .await
        .map_err(|error| anyhow::anyhow!(error.message()))?;
    let text = if json {
        findings
            .iter()
            .map(|finding| {
                let line = serde_json::json!({
                    "rule": finding.rule.code(),
                    "run": finding.run_id,
                    "source": finding.source_path,
                    "detail": finding.detail,
                });
                format!("{line}\n")
            })
            .collect()
    } else {
        report::quality_text(&findings)
    };
    // A reader that stops early (`| head`) closes the pipe; that is not an error.
    let mut stdout = std::io::stdout().lock();
    match std::io::Write::write_all(&mut stdout, text.as_bytes()) {
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("while printing the report"),
    }
}

async fn run_quarantine(database_url: &str, action: QuarantineAction) -> anyhow::Result<()> {
    let db = db::connect_and_migrate(database_url)
        .await
        .with_context(|| format!("while opening the database {}", db::redact(database_url)))?;
    match action {
        QuarantineAction::List { all } => {
            let request = PageRequest {
                offset: 0,
                limit: u64::MAX >> 1,
            };
            let page = quarantine::list(&db, all, request)
                .await
                .map_err(|error| anyhow::anyhow!(error.message()))?;
            if page.items.is_empty() {
                println!("nothing is quarantined");
            }
            for entry in page.items {
                let state = entry
                    .resolved_at
                    .map_or_else(|| "open".to_string(), |_| "resolved".to_string());
                println!(
                    "#{} {} {state} error[{}] {}{}: {}",
                    entry.id,
                    entry.quarantined_at.format("%Y-%m-%d %H:%M"),
                    entry.code,
                    entry.source_path,
                    report::location(&entry.location),
                    entry.message
                );
            }
        }
        QuarantineAction::Retry { ids, actor } => {
            let unknown = quarantine::unknown_ids(&db, &ids)
                .await
                .map_err(|error| anyhow::anyhow!(error.message()))?;
            if !unknown.is_empty() {
                let listed: Vec<String> = unknown.iter().map(|id| format!("#{id}")).collect();
                anyhow::bail!(
                    "no quarantine entry {}; see `yardstick quarantine list --all`",
                    listed.join(", ")
                );
            }
            let paths = quarantine::open_paths(&db, &ids)
                .await
                .map_err(|error| anyhow::anyhow!(error.message()))?;
            if paths.is_empty() {
                println!("no open quarantine entries to retry");
                return Ok(());
            }
            let paths: Vec<std::path::PathBuf> = paths.into_iter().map(Into::into).collect();
            let options = IngestOptions {
                actor,
                ..IngestOptions::default()
            };
            let progress = report::ProgressReport::new();
            let summary = ingest_paths(&db, &paths, &options, &progress).await?;
            progress.finish(&summary);
            if summary.rejected > 0 {
                std::process::exit(1);
            }
        }
    }
    Ok(())
}
