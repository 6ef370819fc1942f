//! Throwaway databases for tests: one private PostgreSQL cluster per test
//! process with a fresh database per call, scratch SQLite files, and the path
//! of the real sample data.
//!
//! Nothing here relies on destructors: a test binary exits without dropping
//! its statics. Instead a small shell watchdog, started with the cluster,
//! polls the test process and, once it is gone, stops PostgreSQL and removes
//! the cluster's directory; scratch SQLite directories are reaped the same way.
//! Setting `TEST_POSTGRES_URL` to an admin URL uses that server instead, and
//! then the databases created there stay until dropped.
//!
//! The private cluster skips flushing commits to disk, which tests do not
//! need; a benchmark that compares against a server with default settings
//! asks for a durable cluster with [`request_durable_cluster`].

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection};
use tokio::sync::OnceCell;

/// Where Debian's `postgresql-15` package puts the server binaries.
const PG_BIN: &str = "/usr/lib/postgresql/15/bin";
/// An admin URL of an existing server, used instead of a private cluster.
const ADMIN_URL_VAR: &str = "TEST_POSTGRES_URL";
/// Overrides where the real sample data lives.
const DATA_DIR_VAR: &str = "YARDSTICK_DATA_DIR";
/// How long a starting cluster may take before the tests give up on it.
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long connecting may take once the server is up. sqlx keeps retrying
/// a refused connection until then.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Parallel tests each hold a small pool; the default of 100 runs out.
const MAX_CONNECTIONS: u32 = 300;
/// Written by the watchdog with the exit status of initdb or postgres once
/// the server has stopped or failed to start.
const EXITED_MARKER: &str = "postgres.exited";

/// Creates the cluster and runs postgres in the background, then waits for
/// the test process (pid `$1`) to go away. It then stops postgres with an
/// immediate shutdown (SIGQUIT to the postmaster), or keeps it from starting
/// when initdb is still running, and removes the cluster root `$2`. Doing
/// initdb here too means a test run killed during start-up leaves nothing.
/// The root, and so the server log, stays while the tests run, so a failed
/// start can be reported; the marker file tells the tests that postgres has
/// exited, which `kill -0` would miss while the postmaster is an unreaped
/// zombie.
const PG_WATCHDOG: &str = r#"
test_pid=$1 root=$2 bin=$3 port=$4 max_connections=$5 as_postgres=$6 durable=$7
if [ "$durable" = yes ]; then
  flush="-c fsync=on -c synchronous_commit=on -c full_page_writes=on"
else
  flush="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
fi
run() {
  if [ "$as_postgres" = yes ]; then
    setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"
  else
    "$@"
  fi
}
(
  run "$bin/initdb" -D "$root/data" -A trust -U postgres --no-sync -E UTF8 \
    --locale=C.UTF-8 && [ ! -e "$root/stop" ] &&
  run "$bin/postgres" -D "$root/data" -p "$port" -k "$root" \
    -c listen_addresses=127.0.0.1 $flush -c max_connections="$max_connections"
  echo "$?" >"$root/postgres.exited"
) >"$root/server.log" 2>&1 </dev/null &
while kill -0 "$test_pid" 2>/dev/null && [ ! -e "$root/postgres.exited" ]; do
  sleep 0.5
done
touch "$root/stop"
tries=0
while [ ! -e "$root/postgres.exited" ] && [ "$tries" -lt 600 ]; do
  kill -QUIT "$(head -n 1 "$root/data/postmaster.pid" 2>/dev/null)" 2>/dev/null
  sleep 0.1; tries=$((tries + 1))
done
while kill -0 "$test_pid" 2>/dev/null; do sleep 0.5; done
rm -rf "$root"
"#;

/// Removes a directory once the test process is gone.
const DIR_REAPER: &str = r#"
while kill -0 "$1" 2>/dev/null; do sleep 0.5; done
rm -rf "$2"
"#;

static CLUSTER: OnceCell<Result<Cluster, String>> = OnceCell::const_new();
static SCRATCH: OnceLock<Result<PathBuf, String>> = OnceLock::new();
static COUNTER: AtomicU64 = AtomicU64::new(0);
static DURABLE: AtomicBool = AtomicBool::new(false);

/// A database created for one test.
#[derive(Debug, Clone)]
pub struct TestDb {
    /// Connection URL of the new database.
    pub url: String,
    /// URL of the server's maintenance database, for statements such as
    /// `CREATE DATABASE` that must not run inside the test database.
    pub admin_url: String,
    /// Name of the new database.
    pub name: String,
}

impl TestDb {
    /// Opens a connection pool on this database; fails if the server refuses.
    pub async fn connect(&self) -> anyhow::Result<DatabaseConnection> {
        let mut options = quiet_options(&self.url, CONNECT_TIMEOUT);
        options.max_connections(10);
        Database::connect(options)
            .await
            .with_context(|| format!("while connecting to test database `{}`", self.name))
    }

    /// Drops this database, ending any session still connected to it.
    ///
    /// Databases on the private cluster vanish with it, so this matters only
    /// for a server given by `TEST_POSTGRES_URL`.
    pub async fn drop_database(self) -> anyhow::Result<()> {
        let sql = format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name);
        admin_execute(&self.admin_url, &sql).await
    }
}

/// A private cluster started by this process.
#[derive(Debug)]
struct Cluster {
    admin_url: String,
}

/// Creates an empty database with a unique name and returns its URL.
///
/// The first call in a process starts the private cluster unless
/// `TEST_POSTGRES_URL` is set. Fails, never skips, when PostgreSQL is not
/// installed or does not come up within 30 s.
pub async fn fresh_database() -> anyhow::Result<TestDb> {
    create_database(None).await
}

/// Creates a database copied from `template`, which must exist on the same
/// server and have no open connections (PostgreSQL refuses to copy it
/// otherwise).
pub async fn fresh_database_from_template(template: &str) -> anyhow::Result<TestDb> {
    create_database(Some(template)).await
}

/// Makes the private cluster flush every commit to disk (`fsync`,
/// `synchronous_commit` and `full_page_writes` on, PostgreSQL's defaults)
/// instead of skipping the flushes. Returns false, changing nothing, when
/// this process has started its cluster already or uses `TEST_POSTGRES_URL`.
pub fn request_durable_cluster() -> bool {
    let external = std::env::var(ADMIN_URL_VAR).is_ok_and(|url| !url.is_empty());
    if external || CLUSTER.initialized() {
        return false;
    }
    DURABLE.store(true, Ordering::SeqCst);
    true
}

/// Tells whether the private cluster flushes commits to disk.
pub fn cluster_is_durable() -> bool {
    DURABLE.load(Ordering::SeqCst)
}

/// Returns the admin URL of the test server, starting the private cluster on
/// first use; fails as [`fresh_database`] does.
pub async fn admin_url() -> anyhow::Result<String> {
    if let Ok(url) = std::env::var(ADMIN_URL_VAR)
        && !url.is_empty()
    {
        return Ok(url);
    }
    let start = || async { start_cluster().await.map_err(format_error) };
    match CLUSTER.get_or_init(start).await {
        Ok(cluster) => Ok(cluster.admin_url.clone()),
        Err(message) => bail!("{message}"),
    }
}

/// Returns `sqlite://…?mode=rwc` for a file in a fresh directory, which is
/// removed after the test process exits; fails if the directory cannot be
/// created.
pub fn sqlite_url() -> anyhow::Result<String> {
    let dir = scratch_dir()?.join(format!(
        "sqlite-{}",
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    fs::create_dir(&dir).with_context(|| format!("while creating `{}`", dir.display()))?;

    Ok(format!(
        "sqlite://{}?mode=rwc",
        dir.join("yardstick.db").display()
    ))
}

/// Returns the folder of real sample data: `YARDSTICK_DATA_DIR`, or
/// `../shared/data/real` beside the workspace.
///
/// # Panics
/// Panics with a hint when the folder does not exist, so that tests built on
/// the real data fail rather than pass vacuously.
pub fn data_dir() -> PathBuf {
    let dir = match std::env::var_os(DATA_DIR_VAR) {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/real"),
    };
    match dir.canonicalize() {
        Ok(dir) if dir.is_dir() => dir,
        _ => panic!(
            "the real sample data folder `{}` does not exist; set {DATA_DIR_VAR} to \
             the folder holding `lm-eval-harness-v0.3-results` and the other samples",
            dir.display()
        ),
    }
}

async fn create_database(template: Option<&str>) -> anyhow::Result<TestDb> {
    let admin_url = admin_url().await?;
    let name = unique_name("t");
    let template = template
        .map(|t| format!(" TEMPLATE \"{t}\""))
        .unwrap_or_default();
    admin_execute(&admin_url, &format!("CREATE DATABASE \"{name}\"{template}")).await?;

    Ok(TestDb {
        url: database_url(&admin_url, &name),
        admin_url,
        name,
    })
}

/// Runs one statement on a short-lived admin connection. A pool cannot be
/// shared between tests: each test has its own runtime, and a pool's sockets
/// die with the runtime that opened them.
async fn admin_execute(admin_url: &str, sql: &str) -> anyhow::Result<()> {
    admin_execute_within(admin_url, sql, CONNECT_TIMEOUT).await
}

/// Like [`admin_execute`], giving up on connecting after `timeout`.
async fn admin_execute_within(admin_url: &str, sql: &str, timeout: Duration) -> anyhow::Result<()> {
    let db = Database::connect(quiet_options(admin_url, timeout))
        .await
        .context("while connecting to the test PostgreSQL server")?;
    let result = db.execute_unprepared(sql).await;
    db.close().await.ok();
    result.with_context(|| format!("while running `{sql}` on the test server"))?;

    Ok(())
}

fn quiet_options(url: &str, timeout: Duration) -> ConnectOptions {
    let mut options = ConnectOptions::new(url);
    options
        .max_connections(5)
        .connect_timeout(timeout)
        .acquire_timeout(timeout)
        .sqlx_logging(false);
    options
}

/// Replaces the database in `admin_url` by `name`, keeping any query string.
fn database_url(admin_url: &str, name: &str) -> String {
    let (base, query) = match admin_url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (admin_url, String::new()),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let server = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    format!("{server}/{name}{query}")
}

async fn start_cluster() -> anyhow::Result<Cluster> {
    let (root, port) = tokio::task::spawn_blocking(init_and_spawn)
        .await
        .context("while starting the test PostgreSQL cluster")??;
    let admin_url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
    wait_until_ready(&admin_url, &root).await?;

    Ok(Cluster { admin_url })
}

/// Prepares the cluster root and hands it to the watchdog; blocking.
fn init_and_spawn() -> anyhow::Result<(PathBuf, u16)> {
    let bin = Path::new(PG_BIN);
    if !bin.join("initdb").is_file() || !bin.join("postgres").is_file() {
        bail!(
            "PostgreSQL 15 server binaries not found at {PG_BIN}; install the \
             `postgresql` package (scripts/setup.sh does)"
        );
    }
    // initdb and postgres refuse to run as root, so the watchdog runs them as
    // the `postgres` user, which must own the cluster root.
    let as_postgres = running_as_root()?;
    let root = make_temp_dir("pg")?;
    if as_postgres {
        let chown = run(
            Command::new("chown").arg("postgres:postgres").arg(&root),
            "chown",
        );
        if let Err(error) = chown {
            fs::remove_dir_all(&root).ok();
            return Err(error);
        }
    }
    let port = free_port()?;
    let mut watchdog = Command::new("sh");
    watchdog.args(["-c", PG_WATCHDOG, "yardstick-pg-watchdog"]);
    watchdog
        .arg(std::process::id().to_string())
        .arg(&root)
        .arg(bin);
    watchdog.args([port.to_string(), MAX_CONNECTIONS.to_string()]);
    watchdog.arg(if as_postgres { "yes" } else { "no" });
    watchdog.arg(if cluster_is_durable() { "yes" } else { "no" });
    spawn_detached(&mut watchdog, "the PostgreSQL watchdog")?;

    Ok((root, port))
}

async fn wait_until_ready(admin_url: &str, root: &Path) -> anyhow::Result<()> {
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        if root.join(EXITED_MARKER).exists() {
            bail!(
                "the test PostgreSQL server failed to start:\n{}",
                log_tail(root)
            );
        }
        let probe = admin_execute_within(admin_url, "SELECT 1", Duration::from_millis(500));
        if probe.await.is_ok() {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!(
                "the test PostgreSQL server did not accept connections within {} s:\n{}",
                READY_TIMEOUT.as_secs(),
                log_tail(root)
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn log_tail(root: &Path) -> String {
    let log_path = root.join("server.log");
    let Ok(log) = fs::read(&log_path) else {
        return format!("(no server log at `{}`)", log_path.display());
    };
    let log = String::from_utf8_lossy(&log);
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// Returns this process's scratch directory, created on first use and
/// removed by a reaper after the process exits.
fn scratch_dir() -> anyhow::Result<PathBuf> {
    let scratch = SCRATCH.get_or_init(|| {
        let dir = make_temp_dir("scratch").map_err(format_error)?;
        let mut reaper = Command::new("sh");
        reaper.args(["-c", DIR_REAPER, "yardstick-scratch-reaper"]);
        reaper.arg(std::process::id().to_string()).arg(&dir);
        spawn_detached(&mut reaper, "the scratch directory reaper").map_err(format_error)?;
        Ok(dir)
    });
    match scratch {
        Ok(dir) => Ok(dir.clone()),
        Err(message) => bail!("{message}"),
    }
}

/// Starts a helper that outlives this process: in its own process group so a
/// Ctrl-C aimed at the tests does not kill it before it has cleaned up, and
/// with no inherited output so nothing waits on it after the tests end.
fn spawn_detached(command: &mut Command, what: &str) -> anyhow::Result<()> {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .with_context(|| format!("while starting {what}"))?;

    Ok(())
}

fn make_temp_dir(kind: &str) -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(unique_name(&format!("yardstick-{kind}")));
    fs::create_dir(&dir).with_context(|| format!("while creating `{}`", dir.display()))?;

    Ok(dir)
}

/// Returns `prefix_PID_MICROS_N`: unique among concurrent processes and
/// across runs that reuse a pid on a shared server.
fn unique_name(prefix: &str) -> String {
    let micros = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_micros());
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}_{}_{micros}_{n}", std::process::id())
}

fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0))
        .context("while looking for a free loopback port")?;
    Ok(listener.local_addr()?.port())
}

/// The owner of `/proc/self` is this process's effective user.
fn running_as_root() -> anyhow::Result<bool> {
    let metadata = fs::metadata("/proc/self").context("while reading `/proc/self`")?;
    Ok(metadata.uid() == 0)
}

fn run(command: &mut Command, what: &str) -> anyhow::Result<()> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("while running {what}"))?;
    if !output.status.success() {
        bail!(
            "{what} failed ({}):\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}

fn format_error(error: anyhow::Error) -> String {
    format!("{error:#}")
}

#[cfg(test)]
mod tests {
    use super::database_url;

    #[test]
    fn database_url_replaces_the_database() {
        let url = database_url("postgres://postgres@127.0.0.1:5432/postgres", "t_1");
        assert_eq!(url, "postgres://postgres@127.0.0.1:5432/t_1");
    }

    #[test]
    fn database_url_keeps_credentials_and_query() {
        let admin = "postgres://u:p@db.local:5433/admin?sslmode=disable";
        let url = database_url(admin, "t_2");
        assert_eq!(url, "postgres://u:p@db.local:5433/t_2?sslmode=disable");
    }

    #[test]
    fn database_url_adds_a_missing_database() {
        let url = database_url("postgres://postgres@127.0.0.1:5432", "t_3");
        assert_eq!(url, "postgres://postgres@127.0.0.1:5432/t_3");
    }
}
