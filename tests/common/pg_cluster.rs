//! A private PostgreSQL cluster for tests that stop or restart the database:
//! `initdb` and `pg_ctl` in a temporary directory, on a free port, so the
//! shared server on 5432 is never disturbed.

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct PgCluster {
    _dir: tempfile::TempDir,
    data: PathBuf,
    log: PathBuf,
    bin: PathBuf,
    pub port: u16,
    as_postgres: bool,
}

/// The directory of `initdb` and `pg_ctl` (Debian keeps them out of PATH).
fn pg_bin_dir() -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("bin"))
        .filter(|p| p.join("initdb").exists() && p.join("pg_ctl").exists())
        .collect();
    found.sort();
    found.pop()
}

impl PgCluster {
    /// None when PostgreSQL's server binaries are not installed (then the test
    /// is skipped unless WARD_TEST_DATABASE_URL says PostgreSQL is expected).
    pub fn start() -> Option<Self> {
        let bin = match pg_bin_dir() {
            Some(b) => b,
            None => {
                assert!(
                    !super::postgres_configured(),
                    "WARD_TEST_DATABASE_URL is set but initdb/pg_ctl are not installed"
                );
                return None;
            }
        };
        let dir = tempfile::Builder::new()
            .prefix("ward-pg-")
            .tempdir()
            .expect("temp dir");
        let data = dir.path().join("data");
        let log = dir.path().join("server.log");
        // PostgreSQL refuses to run as root: run it as `postgres` then.
        let as_postgres = // SAFETY: geteuid has no preconditions and cannot fail.
        unsafe { libc::geteuid() } == 0;
        if as_postgres {
            let ok = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .expect("chown")
                .success();
            assert!(ok, "chown the cluster directory to postgres");
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let cluster = Self {
            _dir: dir,
            data,
            log,
            bin,
            port,
            as_postgres,
        };
        cluster.run(
            "initdb",
            &[
                "-D",
                cluster.data.to_str().unwrap(),
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
            ],
        );
        cluster.ctl_start();
        Some(cluster)
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let program = self.bin.join(tool);
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&program);
            c
        } else {
            Command::new(&program)
        };
        let out = cmd.args(args).output().expect("run a PostgreSQL tool");
        assert!(
            out.status.success(),
            "{tool} {args:?}: {}{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(&self.log).unwrap_or_default()
        );
    }

    fn socket_dir(&self) -> &Path {
        self.data.parent().unwrap()
    }

    fn ctl_start(&self) {
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.socket_dir().display()
        );
        self.run(
            "pg_ctl",
            &[
                "-D",
                self.data.to_str().unwrap(),
                "-l",
                self.log.to_str().unwrap(),
                "-o",
                &opts,
                "-w",
                "start",
            ],
        );
    }

    /// Fast shutdown: every client connection is terminated.
    pub fn stop(&self) {
        self.run(
            "pg_ctl",
            &[
                "-D",
                self.data.to_str().unwrap(),
                "-m",
                "fast",
                "-w",
                "stop",
            ],
        );
    }

    /// Immediate shutdown: the server processes quit at once without a
    /// checkpoint, as after a crash or kill -9; the next start runs recovery.
    pub fn crash(&self) {
        self.run(
            "pg_ctl",
            &[
                "-D",
                self.data.to_str().unwrap(),
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
        );
    }

    pub fn start_again(&self) {
        self.ctl_start();
    }

    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// Create a database and return its URL.
    pub fn create_database(&self, name: &str) -> String {
        use diesel::Connection;
        use diesel::connection::SimpleConnection;
        let mut c = diesel::PgConnection::establish(&self.url("postgres")).expect("connect");
        c.batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create database");
        self.url(name)
    }
}

impl PgCluster {
    /// Immediate shutdown that never panics (the drop, and a watchdog's
    /// clean-up when a test is stuck).
    pub fn halt(&self) {
        let program = self.bin.join("pg_ctl");
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&program);
            c
        } else {
            Command::new(&program)
        };
        let _ = cmd
            .args(["-D", self.data.to_str().unwrap(), "-m", "immediate", "stop"])
            .output();
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        self.halt();
    }
}
