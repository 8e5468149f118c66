//! Backups that restore (docs/backup.md): `ward backup` under load on SQLite and
//! `ward restore` into a stopped Ward, the refusals that change nothing (wrong
//! master key, truncated or damaged file, a running Ward), and on PostgreSQL
//! the pg_dump / pg_restore procedure the docs give.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::app::TestApp;
use common::oidc::{self, basic};
use common::{Backend, TestEnv};
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use serde_json::Value;

const SCOPE: &str = "openid profile offline_access";

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// Usernames, client ids: what a restored Ward must still have.
fn names(env: &TestEnv, noun: &str, field: &str) -> Vec<String> {
    let mut v: Vec<String> = json(&env.ok(&[noun, "list", "--json"], None))
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x[field].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

/// Every file of the data directory and its bytes (the lock file is empty).
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

fn service_client(app: &TestApp) -> (String, String) {
    (app.server.url("/token"), basic("svc", app.secret("svc")))
}

/// Requests sent by the load, and those that did not get a 200.
#[derive(Default)]
struct Load {
    sent: AtomicU64,
    failed: AtomicU64,
}

/// client_credentials tokens in a loop until `stop`.
fn token_load(app: &TestApp, stop: &AtomicBool, load: &Load) {
    let (url, auth) = service_client(app);
    let agent = common::http();
    while !stop.load(Ordering::Relaxed) {
        let status = agent
            .post(&url)
            .header("authorization", &auth)
            .send_form([("grant_type", "client_credentials"), ("scope", "api")])
            .map(|r| r.status().as_u16())
            .unwrap_or(0);
        load.sent.fetch_add(1, Ordering::Relaxed);
        if status != 200 {
            load.failed.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Whole sign-ins (password, code, tokens) in a loop until `stop`.
fn sign_in_load(app: &TestApp, stop: &AtomicBool, load: &Load) {
    while !stop.load(Ordering::Relaxed) {
        let (_, tokens) = app.sign_in("app", "bob", &[("scope", SCOPE)]);
        load.sent.fetch_add(1, Ordering::Relaxed);
        if tokens["refresh_token"].as_str().is_none() {
            load.failed.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// The backup is taken while token requests and sign-ins run; after the
/// restore, Ward serves the users, clients, browser session and refresh token
/// of the moment of the backup (not what changed after it), and the audit
/// chain verifies.
#[test]
fn a_backup_under_load_restores_users_clients_sessions_and_refresh_tokens() {
    let mut app = TestApp::new(Backend::Sqlite)
        .users(&["alice", "bob"])
        .first_party("app", SCOPE, &[])
        .client(
            "svc",
            &[
                "--type",
                "confidential",
                "--grant-type",
                "client_credentials",
                "--scope",
                "api",
            ],
        )
        .start();
    let (browser, tokens) = app.sign_in("app", "alice", &[("scope", SCOPE)]);
    let refresh_token = tokens["refresh_token"].as_str().unwrap().to_string();
    let users = names(&app.env, "user", "username");
    let clients = names(&app.env, "client", "id");
    let file = app.env.dir.path().join("ward.backup");

    let stop = AtomicBool::new(false);
    let load = Load::default();
    let backup_out = std::thread::scope(|s| {
        s.spawn(|| token_load(&app, &stop, &load));
        s.spawn(|| token_load(&app, &stop, &load));
        s.spawn(|| sign_in_load(&app, &stop, &load));
        std::thread::sleep(Duration::from_millis(1500));
        let before = load.sent.load(Ordering::Relaxed);
        let out = app.env.run(&["backup", file.to_str().unwrap()], None);
        let during = load.sent.load(Ordering::Relaxed) - before;
        std::thread::sleep(Duration::from_millis(500));
        stop.store(true, Ordering::Relaxed);
        (out, during)
    });
    let (out, during) = backup_out;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(
        printed.contains("sha256") && printed.contains("master key"),
        "{printed}"
    );
    assert!(during > 0, "the load went on while the backup ran");
    assert_eq!(load.failed.load(Ordering::Relaxed), 0, "no request failed");
    assert!(load.sent.load(Ordering::Relaxed) > 10);
    assert_eq!(
        app.env
            .count("SELECT COUNT(*) AS n FROM audit_events WHERE event_type = 'backup.create'"),
        1
    );
    // The file holds no master key.
    let key = std::fs::read_to_string(app.env.data_dir().join("master.key")).unwrap();
    let bytes = std::fs::read(&file).unwrap();
    assert!(!String::from_utf8_lossy(&bytes).contains(key.trim()));

    // After the backup: a new user, and the refresh token used (rotated).
    oidc::user(&app.env, "carol");
    let used = app.refresh("app", &refresh_token);
    assert_eq!(used.status, 200, "{}", used.body);

    app.server.terminate();
    let restored = app.env.ok(&["restore", file.to_str().unwrap()], None);
    assert!(restored.contains("audit chain intact"), "{restored}");
    app.restart_with(|| {});

    assert_eq!(
        names(&app.env, "user", "username"),
        users,
        "carol came after"
    );
    assert_eq!(names(&app.env, "client", "id"), clients);
    // The refresh token issued before the backup works on the restored Ward.
    let again = app.refresh("app", &refresh_token);
    assert_eq!(again.status, 200, "{}", again.body);
    // So does the browser's session: a silent authorization gets a code.
    let mut b = app.browser();
    b.cookies = browser.cookies.clone();
    assert_eq!(app.silent(&mut b, "app").as_deref(), Some("code"));
    // The restore is audited, and the chain holds.
    let verified = app.env.ok(&["audit", "verify"], None);
    assert!(verified.contains("audit chain intact"), "{verified}");
    assert_eq!(
        app.env
            .count("SELECT COUNT(*) AS n FROM audit_events WHERE event_type = 'backup.restore'"),
        1
    );
    // The database it replaced is kept beside it.
    assert!(
        files(&app.env.data_dir())
            .keys()
            .any(|n| n.starts_with("ward.db.pre-restore-"))
    );
}

/// A stopped Ward with a user, and a backup of it: the environment and the file.
fn stopped_ward_with_backup() -> (TestEnv, PathBuf) {
    let env = TestEnv::new(Backend::Sqlite);
    oidc::user(&env, "alice");
    let file = env.dir.path().join("ward.backup");
    env.ok(&["backup", file.to_str().unwrap()], None);
    // A change after the backup, so that a restore would be visible.
    oidc::user(&env, "bob");
    (env, file)
}

fn refused(env: &TestEnv, file: &Path, more_env: &[(&str, &str)]) -> String {
    let mut c = env.cmd();
    c.arg("restore").arg(file);
    for (k, v) in more_env {
        c.env(k, v);
    }
    let out = c.output().unwrap();
    assert!(!out.status.success(), "the restore went ahead");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_wrong_master_key_refuses_the_restore_and_changes_nothing() {
    let (env, file) = stopped_ward_with_backup();
    let before = files(&env.data_dir());
    let other = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    let err = refused(&env, &file, &[("WARD_MASTER_KEY", other)]);
    assert!(
        err.contains("master key") && err.contains("not the one that sealed"),
        "{err}"
    );
    assert_eq!(files(&env.data_dir()), before, "nothing changed");
    // With no key at all (the key file gone), it is refused too.
    let elsewhere = env.dir.path().join("no-such.key");
    let err = refused(
        &env,
        &file,
        &[("WARD_MASTER_KEY_FILE", elsewhere.to_str().unwrap())],
    );
    assert!(err.contains("does not exist"), "{err}");
    assert!(!elsewhere.exists(), "no key is generated");
    assert_eq!(files(&env.data_dir()), before, "nothing changed");
    assert_eq!(names(&env, "user", "username"), ["alice", "bob"]);
}

#[test]
fn a_truncated_or_damaged_backup_is_refused_and_changes_nothing() {
    let (env, file) = stopped_ward_with_backup();
    let before = files(&env.data_dir());
    let bytes = std::fs::read(&file).unwrap();

    let truncated = env.dir.path().join("truncated.backup");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let err = refused(&env, &truncated, &[]);
    assert!(err.contains("truncated"), "{err}");

    let damaged = env.dir.path().join("damaged.backup");
    let mut d = bytes.clone();
    let i = d.len() - 100;
    d[i] ^= 0x40;
    std::fs::write(&damaged, &d).unwrap();
    let err = refused(&env, &damaged, &[]);
    assert!(err.contains("damaged") && err.contains("SHA-256"), "{err}");

    let stranger = env.dir.path().join("stranger.backup");
    std::fs::write(&stranger, b"just some file\n").unwrap();
    let err = refused(&env, &stranger, &[]);
    assert!(err.contains("not a Ward backup"), "{err}");

    // A damaged page under a matching hash (a backup written from a damaged
    // disk): SQLite's integrity check refuses it.
    let err = refused(&env, &rehashed_with_damage(&env, &bytes), &[]);
    assert!(err.contains("damaged"), "{err}");

    assert_eq!(files(&env.data_dir()), before, "nothing changed");
    assert_eq!(names(&env, "user", "username"), ["alice", "bob"]);
}

/// The backup with bytes of its image overwritten and the manifest's hash
/// recomputed to match.
fn rehashed_with_damage(env: &TestEnv, bytes: &[u8]) -> PathBuf {
    use sha2::{Digest, Sha256};
    let first = bytes.iter().position(|b| *b == b'\n').unwrap() + 1;
    let second = first + bytes[first..].iter().position(|b| *b == b'\n').unwrap() + 1;
    let mut manifest: Value = serde_json::from_slice(&bytes[first..second - 1]).unwrap();
    let mut image = bytes[second..].to_vec();
    // Scribble over the start of page 2 (the first b-tree page after the header page).
    let page: usize = u16::from_be_bytes([image[16], image[17]]) as usize;
    for b in &mut image[page..page + 64] {
        *b = 0xA5;
    }
    manifest["image_sha256"] = Value::String(hex::encode(Sha256::digest(&image)));
    let path = env.dir.path().join("rehashed.backup");
    let mut out = bytes[..first].to_vec();
    out.extend(serde_json::to_vec(&manifest).unwrap());
    out.push(b'\n');
    out.extend(image);
    std::fs::write(&path, out).unwrap();
    path
}

#[test]
fn a_restore_into_a_running_ward_is_refused() {
    let (env, file) = stopped_ward_with_backup();
    let server = env.serve();
    let err = refused(&env, &file, &[]);
    assert!(err.contains("Ward is running"), "{err}");
    let (status, _, _) = common::get(&server.url("/readyz"));
    assert_eq!(status, 200, "the running Ward is untouched");
    drop(server);
    assert_eq!(names(&env, "user", "username"), ["alice", "bob"]);
    // Stopped, the same restore goes ahead.
    env.ok(&["restore", file.to_str().unwrap()], None);
    assert_eq!(names(&env, "user", "username"), ["alice"]);
}

/// `ward backup` on PostgreSQL points to pg_dump; the documented pg_dump /
/// pg_restore procedure gives a database a Ward serves from: the same user
/// signs in and the refresh token issued before the dump works.
#[test]
fn postgres_is_backed_up_with_pg_dump_and_serves_after_pg_restore() {
    if !common::postgres_configured() {
        eprintln!("skipped: WARD_TEST_DATABASE_URL is not set");
        return;
    }
    if Command::new("pg_dump").arg("--version").output().is_err() {
        eprintln!("skipped: pg_dump is not installed (.ci/run installs postgresql-client)");
        return;
    }
    let mut app = TestApp::new(Backend::Postgres)
        .user("alice")
        .first_party("app", SCOPE, &[])
        .start();
    let err = app.env.fails(&["backup", "x.backup"], None);
    assert!(err.contains("pg_dump"), "{err}");

    let (_, tokens) = app.sign_in("app", "alice", &[("scope", SCOPE)]);
    let refresh_token = tokens["refresh_token"].as_str().unwrap().to_string();
    // docs/backup.md: pg_dump --format=custom of the live database.
    let dump = app.env.dir.path().join("ward.pgdump");
    run(Command::new("pg_dump")
        .args(["--format=custom", "--no-owner", "--file"])
        .arg(&dump)
        .arg(&app.env.database_url));
    let restored = Database::create();
    run(Command::new("pg_restore")
        .args(["--no-owner", "--exit-on-error", "--dbname"])
        .arg(&restored.url)
        .arg(&dump));

    app.env.set_env("WARD_DATABASE_URL", &restored.url);
    app.restart_with(|| {});
    let again = app.refresh("app", &refresh_token);
    assert_eq!(again.status, 200, "{}", again.body);
    let (_, fresh) = app.sign_in("app", "alice", &[("scope", SCOPE)]);
    assert!(fresh["id_token"].as_str().is_some());
    let verified = app.env.ok(&["audit", "verify"], None);
    assert!(verified.contains("audit chain intact"), "{verified}");
    app.server.terminate();
}

fn run(c: &mut Command) {
    let started = Instant::now();
    let out = c.output().expect("run");
    assert!(
        out.status.success(),
        "{c:?} ({:?}): {}",
        started.elapsed(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A fresh PostgreSQL database on the test server, dropped at the end.
struct Database {
    name: String,
    url: String,
    admin: String,
}

impl Database {
    fn create() -> Self {
        let admin = std::env::var("WARD_TEST_DATABASE_URL").unwrap();
        // ward_t_*: .ci/run drops what an interrupted run leaves behind.
        let name = format!("ward_t_restore_{}", uuid::Uuid::new_v4().simple());
        let mut c = PgConnection::establish(&admin).expect("connect to WARD_TEST_DATABASE_URL");
        c.batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create the database to restore into");
        let mut url = url::Url::parse(&admin).unwrap();
        url.set_path(&format!("/{name}"));
        Self {
            name,
            url: url.to_string(),
            admin,
        }
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Ok(mut c) = PgConnection::establish(&self.admin) {
            let _ = c.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}
