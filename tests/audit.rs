//! The tamper-evident audit trail.

mod common;

use std::thread;

use common::{Backend, TestEnv};

fn tamper(env: &TestEnv, sql: &str) {
    let disable = match env.backend {
        Backend::Sqlite => "DROP TRIGGER audit_events_seal_once;",
        Backend::Postgres => "ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only;",
    };
    env.sql(&format!("{disable} {sql}")).expect("tamper");
}

fn verify_passes_on_an_intact_chain_and_names_an_altered_record(backend: Backend) {
    let env = TestEnv::new(backend);
    env.ok(&["user", "add", "alice", "--no-password"], None);
    env.ok(
        &[
            "client",
            "add",
            "app",
            "--type",
            "public",
            "--redirect-uri",
            "https://a.example.org/cb",
        ],
        None,
    );
    let out = env.ok(&["audit", "verify"], None);
    assert!(out.contains("audit chain intact"), "{out}");

    let victim = env.count("SELECT id AS n FROM audit_events WHERE event_type = 'user.create'");
    tamper(
        &env,
        &format!("UPDATE audit_events SET actor = 'someone-else' WHERE id = {victim};"),
    );
    let err = env.fails(&["audit", "verify"], None);
    assert!(
        err.contains(&format!("record id {victim} ")),
        "{backend:?}: {err}"
    );
    assert!(err.contains("altered"), "{err}");
}

per_backend!(verify_passes_on_an_intact_chain_and_names_an_altered_record);

fn a_deleted_record_is_detected(backend: Backend) {
    let env = TestEnv::new(backend);
    env.ok(&["user", "add", "alice", "--no-password"], None);
    env.ok(&["user", "list"], None);
    let victim = env.count("SELECT id AS n FROM audit_events WHERE event_type = 'user.create'");
    let drop = match backend {
        Backend::Sqlite => "DROP TRIGGER audit_events_no_delete;",
        Backend::Postgres => "ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only;",
    };
    env.sql(&format!(
        "{drop} DELETE FROM audit_events WHERE id = {victim};"
    ))
    .unwrap();
    let err = env.fails(&["audit", "verify"], None);
    assert!(err.contains("missing"), "{backend:?}: {err}");
}

per_backend!(a_deleted_record_is_detected);

fn the_table_refuses_edits_and_deletes(backend: Backend) {
    let env = TestEnv::new(backend);
    env.ok(&["user", "add", "alice", "--no-password"], None);
    assert!(
        env.sql("UPDATE audit_events SET actor = 'x'")
            .unwrap_err()
            .contains("append-only")
    );
    assert!(
        env.sql("DELETE FROM audit_events")
            .unwrap_err()
            .contains("append-only")
    );
}

per_backend!(the_table_refuses_edits_and_deletes);

fn tail_and_export_read_the_trail(backend: Backend) {
    let env = TestEnv::new(backend);
    env.ok(&["user", "add", "alice", "--no-password"], None);
    let tail: serde_json::Value =
        serde_json::from_str(&env.ok(&["audit", "tail", "-n", "50", "--json"], None)).unwrap();
    let tail = tail.as_array().unwrap();
    assert!(
        tail.iter().any(|r| r["event_type"] == "user.create"
            && r["seq"].is_i64()
            && r["hash"].is_string())
    );

    let text = env.ok(&["audit", "export", "--format", "jsonl"], None);
    let records: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert!(records.len() >= tail.len());
    let ids: Vec<i64> = records.iter().map(|r| r["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "oldest first");

    let file = env.dir.path().join("export.jsonl");
    env.ok(
        &[
            "audit",
            "export",
            "--format",
            "jsonl",
            "--output",
            file.to_str().unwrap(),
        ],
        None,
    );
    assert!(std::fs::read_to_string(&file).unwrap().lines().count() >= records.len());
    assert!(
        !env.dir.path().join("export.jsonl.partial").exists(),
        "written beside, then renamed"
    );
    assert!(
        env.fails(&["audit", "export", "--format", "csv"], None)
            .contains("invalid value")
    );
}

per_backend!(tail_and_export_read_the_trail);

/// Two `ward serve` processes (each with its own sealer) and two CLI writers,
/// all on one database at once, leave one unbroken chain holding every record.
fn concurrent_writers_and_sealers_leave_one_chain(backend: Backend) {
    let env = TestEnv::new(backend);
    env.ok(&["migrate"], None);
    env.ok(&["keys", "list"], None);
    let _a = env.serve();
    let _b = env.serve();
    thread::scope(|s| {
        for w in 0..2 {
            let env = &env;
            s.spawn(move || {
                for i in 0..12 {
                    env.ok(
                        &["user", "add", &format!("w{w}u{i}"), "--no-password"],
                        None,
                    );
                }
            });
        }
    });
    let out = env.ok(&["audit", "verify", "--json"], None);
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["ok"], true, "{backend:?}: {out}");
    assert_eq!(env.count("SELECT COUNT(*) AS n FROM users"), 24);
    let total = env.count("SELECT COUNT(*) AS n FROM audit_events");
    let sealed = env.count("SELECT COUNT(*) AS n FROM audit_events WHERE seq IS NOT NULL");
    // Only the verify command's own record may still be pending.
    assert!(
        total - sealed <= 1,
        "{backend:?}: {total} records, {sealed} sealed"
    );
    assert_eq!(
        env.count("SELECT COALESCE(MAX(seq), 0) AS n FROM audit_events"),
        sealed,
        "no gaps"
    );
}

per_backend!(concurrent_writers_and_sealers_leave_one_chain);

/// A node killed with SIGKILL loses no audit record: what it committed is in the
/// table, and the next sealer (here `ward audit verify`) chains it.
fn a_killed_node_loses_nothing(backend: Backend) {
    use common::oidc::{self, REDIRECT, basic, post_form};
    let env = TestEnv::new(backend);
    let secret = oidc::service_client(&env, "svc", &["--redirect-uri", REDIRECT]).unwrap();
    let mut server = oidc::serve_with_issuer(&env, &[]);
    for _ in 0..20 {
        let res = post_form(
            &server,
            "/token",
            Some(&basic("svc", &secret)),
            &[("grant_type", "client_credentials")],
        );
        assert_eq!(res.status, 200);
    }
    server.child.kill().unwrap(); // SIGKILL: no shutdown, no final sealing
    server.child.wait().unwrap();
    let issued =
        env.count("SELECT COUNT(*) AS n FROM audit_events WHERE event_type = 'token.issued'");
    assert_eq!(
        issued, 20,
        "{backend:?}: every acknowledged issuance has its record"
    );
    let report: serde_json::Value =
        serde_json::from_str(&env.ok(&["audit", "verify", "--json"], None)).unwrap();
    assert_eq!(report["ok"], true);
    assert_eq!(env.count("SELECT COUNT(*) AS n FROM audit_events WHERE event_type = 'token.issued' AND seq IS NOT NULL"), 20);
}

per_backend!(a_killed_node_loses_nothing);
