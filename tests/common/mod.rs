//! Shared test harness: a fresh database per test (a temporary SQLite file, or a
//! new PostgreSQL database when WARD_TEST_DATABASE_URL is set), the real `ward`
//! binary, and the real server over HTTP.
#![allow(dead_code)]

pub mod app;
pub mod axe;
pub mod browser;
pub mod client_keys;
pub mod gateway;
pub mod jwks_server;
pub mod logout_rp;
pub mod oidc;
pub mod pg_cluster;
pub mod proxy;
pub mod smart;
pub mod smtp;
pub mod totp;
pub mod webauthn;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc::RecvTimeoutError;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::BigInt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// SQLite always; PostgreSQL too when WARD_TEST_DATABASE_URL is set (CI sets it).
pub fn backends() -> Vec<Backend> {
    let mut v = vec![Backend::Sqlite];
    if pg_admin_url().is_some() {
        v.push(Backend::Postgres);
    }
    v
}

fn pg_admin_url() -> Option<String> {
    std::env::var("WARD_TEST_DATABASE_URL")
        .ok()
        .filter(|s| !s.is_empty())
}

pub fn ward_bin() -> &'static str {
    env!("CARGO_BIN_EXE_ward")
}

/// One test's world: a data directory and a database of its own.
pub struct TestEnv {
    pub backend: Backend,
    pub dir: tempfile::TempDir,
    pub database_url: String,
    pg_database: Option<String>,
    /// Extra environment for every `ward` process of this test.
    pub env: Vec<(String, String)>,
}

impl TestEnv {
    pub fn new(backend: Backend) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let (database_url, pg_database) = match backend {
            Backend::Sqlite => (
                format!("sqlite://{}", dir.path().join("data/ward.db").display()),
                None,
            ),
            Backend::Postgres => {
                let admin = pg_admin_url().expect("WARD_TEST_DATABASE_URL");
                let name = format!("ward_t_{}", uuid::Uuid::new_v4().simple());
                let mut c =
                    PgConnection::establish(&admin).expect("connect to WARD_TEST_DATABASE_URL");
                c.batch_execute(&format!("CREATE DATABASE {name}"))
                    .expect("create test database");
                let mut url = url::Url::parse(&admin).expect("WARD_TEST_DATABASE_URL is a URL");
                url.set_path(&format!("/{name}"));
                (url.to_string(), Some(name))
            }
        };
        Self {
            backend,
            dir,
            database_url,
            pg_database,
            env: Vec::new(),
        }
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn with_env(mut self, key: &str, value: &str) -> Self {
        self.set_env(key, value);
        self
    }

    /// Set (or replace) an environment variable for later `ward` processes.
    pub fn set_env(&mut self, key: &str, value: &str) {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.into(), value.into()));
    }

    /// The `ward` binary with this test's environment and nothing inherited that starts with WARD_.
    pub fn cmd(&self) -> Command {
        let mut c = Command::new(ward_bin());
        for (k, _) in std::env::vars() {
            if k.starts_with("WARD_") {
                c.env_remove(k);
            }
        }
        c.current_dir(self.dir.path())
            .env("WARD_DATA_DIR", self.data_dir())
            .env("WARD_DATABASE_URL", &self.database_url)
            .env("WARD_LOG", "warn")
            .env("USER", "tester");
        for (k, v) in &self.env {
            c.env(k, v);
        }
        c
    }

    /// Run `ward ARGS` with `stdin`, returning its output.
    pub fn run(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut c = self.cmd();
        c.args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = c.spawn().expect("spawn ward");
        {
            let mut input = child.stdin.take().expect("stdin");
            if let Some(text) = stdin {
                input.write_all(text.as_bytes()).expect("write stdin");
            }
        }
        child.wait_with_output().expect("ward output")
    }

    /// Run and require success; returns stdout.
    pub fn ok(&self, args: &[&str], stdin: Option<&str>) -> String {
        let out = self.run(args, stdin);
        assert!(
            out.status.success(),
            "ward {args:?} failed ({:?}):\nstdout: {}\nstderr: {}",
            self.backend,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    }

    /// Run and require failure; returns stderr.
    pub fn fails(&self, args: &[&str], stdin: Option<&str>) -> String {
        let out = self.run(args, stdin);
        assert!(
            !out.status.success(),
            "ward {args:?} unexpectedly succeeded: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8(out.stderr).expect("utf-8")
    }

    pub fn serve(&self) -> Server {
        Server::start(self, &[])
    }

    /// Execute SQL directly on this test's database (to inspect or to tamper).
    pub fn sql(&self, sql: &str) -> Result<(), String> {
        match self.backend {
            Backend::Sqlite => {
                let path = self.database_url.trim_start_matches("sqlite://");
                let mut c = SqliteConnection::establish(path).map_err(|e| e.to_string())?;
                c.batch_execute(sql).map_err(|e| e.to_string())
            }
            Backend::Postgres => {
                let mut c =
                    PgConnection::establish(&self.database_url).map_err(|e| e.to_string())?;
                c.batch_execute(sql).map_err(|e| e.to_string())
            }
        }
    }

    /// `SELECT <expr> AS n ...` returning one BIGINT.
    pub fn count(&self, sql: &str) -> i64 {
        #[derive(QueryableByName)]
        struct N {
            #[diesel(sql_type = BigInt)]
            n: i64,
        }
        match self.backend {
            Backend::Sqlite => {
                let path = self.database_url.trim_start_matches("sqlite://");
                let mut c = SqliteConnection::establish(path).expect("sqlite");
                diesel::sql_query(sql)
                    .get_result::<N>(&mut c)
                    .expect("count query")
                    .n
            }
            Backend::Postgres => {
                let mut c = PgConnection::establish(&self.database_url).expect("pg");
                diesel::sql_query(sql)
                    .get_result::<N>(&mut c)
                    .expect("count query")
                    .n
            }
        }
    }

    /// `SELECT <text expr> AS t ...`: every row's value.
    pub fn texts(&self, sql: &str) -> Vec<String> {
        #[derive(QueryableByName)]
        struct T {
            #[diesel(sql_type = diesel::sql_types::Text)]
            t: String,
        }
        let rows: Vec<T> = match self.backend {
            Backend::Sqlite => {
                let path = self.database_url.trim_start_matches("sqlite://");
                let mut c = SqliteConnection::establish(path).expect("sqlite");
                diesel::sql_query(sql).load(&mut c).expect("text query")
            }
            Backend::Postgres => {
                let mut c = PgConnection::establish(&self.database_url).expect("pg");
                diesel::sql_query(sql).load(&mut c).expect("text query")
            }
        };
        rows.into_iter().map(|r| r.t).collect()
    }

    /// The audit trail as readers see it, oldest first: `ward audit tail
    /// --json`, which opens the records sealed under a person's data key
    /// (the stored `details` of a record about a person are ciphertext once
    /// the sealer has chained it; docs/audit.md "Sealed records").
    pub fn audit_records(&self) -> Vec<serde_json::Value> {
        let out = self.ok(&["audit", "tail", "-n", "10000", "--json"], None);
        serde_json::from_str(&out).expect("ward audit tail --json")
    }

    /// Every byte the database holds, as the file (SQLite, WAL included) or a pg_dump.
    pub fn dump(&self) -> Vec<u8> {
        match self.backend {
            Backend::Sqlite => {
                let mut all = Vec::new();
                for ext in ["ward.db", "ward.db-wal"] {
                    if let Ok(bytes) = std::fs::read(self.data_dir().join(ext)) {
                        all.extend(bytes);
                    }
                }
                all
            }
            Backend::Postgres => {
                let out = Command::new("pg_dump")
                    .arg("--no-owner")
                    .arg(&self.database_url)
                    .output()
                    .expect("pg_dump");
                assert!(
                    out.status.success(),
                    "pg_dump: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                out.stdout
            }
        }
    }

    /// The configuration a `ward` process of this test would load (for in-process use).
    pub fn config(&self) -> ward::config::Config {
        let mut env = vec![
            (
                "WARD_DATA_DIR".to_string(),
                self.data_dir().display().to_string(),
            ),
            ("WARD_DATABASE_URL".to_string(), self.database_url.clone()),
        ];
        env.extend(self.env.iter().cloned());
        let empty = self.dir.path().join("empty.toml");
        std::fs::write(&empty, "").expect("write empty config");
        ward::config::Config::load(Some(&empty), &env).expect("test config")
    }
}

impl Drop for TestEnv {
    fn drop(&mut self) {
        if let (Some(name), Some(admin)) = (&self.pg_database, pg_admin_url())
            && let Ok(mut c) = PgConnection::establish(&admin)
        {
            let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

/// How long `ward serve` may take to print its ready line.
pub const READY_WITHIN: Duration = Duration::from_secs(60);

/// How long `ward serve` may take to stop after SIGTERM.
pub const STOP_WITHIN: Duration = Duration::from_secs(30);

/// A running `ward serve`, stopped with SIGTERM when dropped.
pub struct Server {
    pub child: Child,
    pub base: String,
    pub ready_after: Duration,
}

impl Server {
    pub fn start(env: &TestEnv, extra: &[(&str, &str)]) -> Self {
        Self::try_start(env, extra)
            .unwrap_or_else(|e| panic!("ward serve did not become ready: {e}"))
    }

    pub fn try_start(env: &TestEnv, extra: &[(&str, &str)]) -> Result<Self, String> {
        let started = Instant::now();
        let mut c = env.cmd();
        c.arg("serve")
            .env("WARD_LISTEN", "127.0.0.1:0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in extra {
            c.env(k, v);
        }
        let mut child = c.spawn().map_err(|e| e.to_string())?;
        let stdout = child.stdout.take().expect("stdout");
        // The first line arrives through a channel so that a server that never
        // gets ready fails the test after READY_WITHIN instead of hanging it.
        let (first, arrived) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let _ = first.send(lines.next().and_then(Result::ok));
            // Keep draining stdout so the server never blocks on a full pipe.
            for _ in lines {}
        });
        let line = match arrived.recv_timeout(READY_WITHIN) {
            Ok(Some(l)) => l,
            Ok(None) | Err(RecvTimeoutError::Disconnected) => {
                let out = child.wait_with_output().map_err(|e| e.to_string())?;
                return Err(String::from_utf8_lossy(&out.stderr).into_owned());
            }
            Err(RecvTimeoutError::Timeout) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "no ready line within {READY_WITHIN:?} (ward serve killed)"
                ));
            }
        };
        let ready_after = started.elapsed();
        let base = line
            .strip_prefix("ward ready: listening on ")
            .and_then(|rest| rest.split_whitespace().next())
            .ok_or_else(|| format!("unexpected first line: {line}"))?
            .to_string();
        Ok(Self {
            child,
            base,
            ready_after,
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// SIGKILL: a crash, nothing flushed or finished.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then wait for the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        self.stop_within(STOP_WITHIN)
            .unwrap_or_else(|| panic!("ward serve did not stop within {STOP_WITHIN:?} of SIGTERM"))
    }

    /// SIGTERM, then the exit status if the server stops within `limit`;
    /// past it the server is killed (SIGKILL) and the answer is None.
    fn stop_within(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + limit;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return Some(status),
                Ok(None) => {}
                Err(_) => return None,
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn stderr(mut self) -> String {
        let mut s = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut e, &mut s);
        }
        s
    }
}

impl Drop for Server {
    /// SIGTERM; a server that does not stop within STOP_WITHIN is killed, so
    /// that a hanging build fails its test instead of hanging it.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait()
            && self.stop_within(STOP_WITHIN).is_none()
        {
            eprintln!("ward serve did not stop within {STOP_WITHIN:?} of SIGTERM: killed");
        }
    }
}

/// An HTTP client that returns 4xx/5xx responses instead of errors.
pub fn http() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into()
}

pub fn get(url: &str) -> (u16, http_types::Headers, String) {
    get_with(url, &[])
}

pub fn get_with(url: &str, headers: &[(&str, &str)]) -> (u16, http_types::Headers, String) {
    let mut req = http().get(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let mut res = req.call().unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = res.status().as_u16();
    let headers = res
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                v.to_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let body = res.body_mut().read_to_string().unwrap_or_default();
    (status, headers, body)
}

pub mod http_types {
    pub type Headers = Vec<(String, String)>;

    pub fn header<'a>(headers: &'a Headers, name: &str) -> Option<&'a str> {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

pub const PASSWORD: &str = "tulip-anaesthesia-42";

pub fn path_exists(p: &Path) -> bool {
    p.exists()
}

/// Is a PostgreSQL server configured for the tests (WARD_TEST_DATABASE_URL)?
pub fn postgres_configured() -> bool {
    pg_admin_url().is_some()
}

/// One `#[test]` per backend for each named `fn(Backend)`, so that a failure on
/// PostgreSQL carries its own name (`name::postgres`). The PostgreSQL test
/// passes with a note when no server is configured (CI always configures one).
#[macro_export]
macro_rules! per_backend {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[test]
                fn sqlite() {
                    super::$name($crate::common::Backend::Sqlite)
                }

                #[test]
                fn postgres() {
                    if $crate::common::postgres_configured() {
                        super::$name($crate::common::Backend::Postgres)
                    } else {
                        eprintln!("skipped: WARD_TEST_DATABASE_URL is not set");
                    }
                }
            }
        )*
    };
}
