//! The command line and the environment: the only place either is read.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// The database used when `DATABASE_URL` is not set: a SQLite file in the
/// working directory, so a first command needs nothing set up.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://yardstick.db?mode=rwc";

/// Yardstick: the system of record for AI evaluation results.
#[derive(Debug, Parser)]
#[command(name = "yardstick", version, about)]
pub struct Cli {
    /// Database to use: `postgres://…` or `sqlite://FILE?mode=rwc`.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true)]
    pub database_url: String,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the GraphQL API, its explorer and the web app.
    Serve(ServeArgs),
    /// Store evaluation results from files and folders (recursively).
    Ingest(IngestArgs),
    /// Apply, roll back or list database migrations.
    Migrate {
        #[command(subcommand)]
        action: MigrateAction,
    },
    /// Print the GraphQL schema (SDL).
    Schema,
    /// Report data-quality findings per rule and per source file.
    Quality {
        /// Only this run (compared with the other runs of its task).
        #[arg(long, value_parser = run_id)]
        run: Option<uuid::Uuid>,
        /// Print one JSON object per finding instead of the report.
        #[arg(long)]
        json: bool,
    },
    /// List rejected files, or ingest them again after a fix.
    Quarantine {
        #[command(subcommand)]
        action: QuarantineAction,
    },
    /// Manage access tokens.
    Admin {
        #[command(subcommand)]
        action: AdminAction,
    },
}

#[derive(Debug, Subcommand)]
pub enum QuarantineAction {
    /// List quarantined files, newest first.
    List {
        /// Include files a later ingest stored.
        #[arg(long)]
        all: bool,
    },
    /// Ingest the files of open entries again (all of them, or those named).
    Retry {
        /// Entry ids from `quarantine list` (`11` or `#11`); none means
        /// every open entry.
        #[arg(value_parser = quarantine_id)]
        ids: Vec<i64>,
        /// Who is retrying, recorded on every ingest event.
        #[arg(long, env = "USER", default_value = "unknown")]
        actor: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AdminAction {
    /// Create an access token and print it once; only its hash is stored.
    CreateToken {
        /// A unique name for the token, recorded as the actor of its changes.
        #[arg(long)]
        name: String,
        /// What the token may do.
        #[arg(long, value_enum, default_value_t = TokenRole::Admin)]
        role: TokenRole,
        /// Who is creating it, recorded in the audit trail.
        #[arg(long, env = "USER", default_value = "unknown")]
        actor: String,
    },
    /// List tokens (names, roles, dates; never secrets).
    ListTokens,
    /// Revoke a token; it stops working at once.
    RevokeToken {
        /// The token's name.
        name: String,
        /// Who is revoking it, recorded in the audit trail.
        #[arg(long, env = "USER", default_value = "unknown")]
        actor: String,
    },
}

/// The role of a token created on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TokenRole {
    /// May read when reads are closed.
    Reader,
    /// May read and change everything.
    Admin,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on: an IP address or host name, and a port.
    #[arg(long, default_value = "127.0.0.1:8080", value_parser = listen_addr)]
    pub addr: SocketAddr,
    /// Folder of the GraphQL explorer's npm packages [default:
    /// `.tools/explorer/node_modules` in the working directory or the checkout
    /// the binary was built in].
    #[arg(long, env = "YARDSTICK_EXPLORER_DIR")]
    pub explorer_dir: Option<PathBuf>,
    /// Folder of the built web app (Trunk's `dist`); a placeholder page is served
    /// when it has no `index.html` [default: `dist`, found like the explorer].
    #[arg(long, env = "YARDSTICK_WEB_DIR")]
    pub web_dir: Option<PathBuf>,
    /// Who may read: `open` (anyone) or `token` (a reader or admin token).
    /// Changes always need an admin token.
    #[arg(long, env = "YARDSTICK_READ_ACCESS", value_enum, default_value_t)]
    pub read_access: crate::server::ReadAccess,
}

#[derive(Debug, Args)]
pub struct IngestArgs {
    /// Files and folders to ingest; folders are walked recursively.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Name the model of files that identify it only by a local path, or not
    /// at all; a file that names a hub model keeps its own name.
    #[arg(long)]
    pub model: Option<String>,
    /// Attach every stored run to this project (repeatable).
    #[arg(long = "project")]
    pub projects: Vec<String>,
    /// Attach this tag to every stored run (repeatable).
    #[arg(long = "tag")]
    pub tags: Vec<String>,
    /// Attach this tag to the models of stored runs (repeatable).
    #[arg(long = "model-tag")]
    pub model_tags: Vec<String>,
    /// Who is ingesting, recorded on every ingest event.
    #[arg(long, env = "USER", default_value = "unknown")]
    pub actor: String,
    /// List every file stored before or skipped (otherwise the summary
    /// counts the former and skips sharing a reason share a line).
    #[arg(long, short)]
    pub verbose: bool,
}

#[derive(Debug, Subcommand)]
pub enum MigrateAction {
    /// Apply every pending migration.
    Up,
    /// Roll back the newest migrations; rolling back the first drops every
    /// stored result, so this asks for `--yes`.
    Down {
        /// How many migrations to roll back.
        #[arg(long, default_value_t = 1)]
        steps: u32,
        /// Confirm that the rolled-back tables and their rows may be dropped.
        #[arg(long)]
        yes: bool,
    },
    /// List migrations and whether each is applied.
    Status,
}

/// Returns the log filter: `RUST_LOG` if set, else `default`.
pub fn log_filter(default: &str) -> String {
    std::env::var("RUST_LOG").unwrap_or_else(|_| default.to_string())
}

/// Finds `relative` in the working directory, else beside the running binary
/// or in one of its parent folders (the checkout it was built in), so that
/// `yardstick serve` works from any folder. Falls back to `relative` itself.
pub fn locate(relative: &str) -> PathBuf {
    let here = PathBuf::from(relative);
    if here.exists() {
        return here;
    }
    let binary = std::env::current_exe().ok();
    let found = binary
        .as_deref()
        .into_iter()
        .flat_map(std::path::Path::ancestors)
        .map(|folder| folder.join(relative))
        .find(|candidate| candidate.exists());
    found.unwrap_or(here)
}

/// Reads a quarantine entry id as `quarantine list` prints it (`#11`) or bare.
fn quarantine_id(text: &str) -> Result<i64, String> {
    let digits = text.strip_prefix('#').unwrap_or(text);
    digits
        .parse()
        .map_err(|_| format!("`{text}` is not an entry id like 11 or #11"))
}

/// Reads a run id, saying what one looks like when the text is not one.
fn run_id(text: &str) -> Result<uuid::Uuid, String> {
    text.trim().parse().map_err(|_| {
        format!("`{text}` is not a run id; ids are UUIDs like 0f8fad5b-d9cb-469f-a165-70867728950e")
    })
}

/// Reads a listening address: `127.0.0.1:8080`, `[::1]:8080` or a host
/// name with a port (`localhost:8080`), which takes the name's first address.
fn listen_addr(text: &str) -> Result<SocketAddr, String> {
    if let Ok(addr) = text.parse() {
        return Ok(addr);
    }
    let example = "an address and port like 127.0.0.1:8080 or localhost:8080";
    if text
        .rsplit_once(':')
        .is_none_or(|(_, port)| port.parse::<u16>().is_err())
    {
        return Err(format!("`{text}` has no port; expected {example}"));
    }
    match std::net::ToSocketAddrs::to_socket_addrs(text) {
        Ok(mut addrs) => addrs
            .next()
            .ok_or_else(|| format!("`{text}` names no address; expected {example}")),
        Err(error) => Err(format!(
            "`{text}` cannot be resolved ({error}); expected {example}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[test]
    fn quarantine_ids_are_read_as_the_list_prints_them() {
        let cli = Cli::try_parse_from(["yardstick", "quarantine", "retry", "#11", "12"]);
        let ids = match cli.map(|cli| cli.command) {
            Ok(Command::Quarantine {
                action: QuarantineAction::Retry { ids, .. },
                ..
            }) => ids,
            _ => Vec::new(),
        };
        assert_eq!(ids, [11, 12]);
        let refused = Cli::try_parse_from(["yardstick", "quarantine", "retry", "#x"]);
        assert!(refused.is_err_and(|e| e.to_string().contains("not an entry id like 11 or #11")));
    }

    #[test]
    fn a_host_name_with_a_port_is_a_listening_address() {
        let addr = |text: &str| listen_addr(text).map(|a| (a.ip().is_loopback(), a.port()));
        assert_eq!(addr("127.0.0.1:9000"), Ok((true, 9000)));
        assert_eq!(addr("localhost:9001"), Ok((true, 9001)));
        assert_eq!(addr("[::1]:9002"), Ok((true, 9002)));
        let missing_port = listen_addr("localhost").map_err(|e| e.contains("has no port"));
        assert_eq!(missing_port, Err(true));
    }

    #[test]
    fn a_run_id_that_is_not_a_uuid_says_what_one_looks_like() {
        let refused = Cli::try_parse_from(["yardstick", "quality", "--run", "not-a-uuid"]);
        assert!(refused.is_err_and(|e| e.to_string().contains("ids are UUIDs like")));
        let id = "0f8fad5b-d9cb-469f-a165-70867728950e";
        assert!(Cli::try_parse_from(["yardstick", "quality", "--run", id]).is_ok());
    }
}
