//! Erasure by crypto-shredding over real HTTP, on every backend
//! (docs/privacy.md "Erasure by crypto-shredding"): the audit records about a
//! person are sealed under their data key at chaining time; `ward user erase`
//! destroys the key, the account, factors, sessions, grants and consents in
//! one transaction and queues a back-channel logout to every client that saw
//! them. Afterwards `ward audit verify` passes, their records read as about
//! an "erased subject", other people's records read in clear, and their name
//! and email are nowhere in the SQLite files or the pg_dump. A legal hold,
//! the last `ward-admin` and an unknown user are refused and change nothing;
//! an erasure killed with SIGKILL at any point is all or nothing.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::app::TestApp;
use common::logout_rp::{Rp, verify};
use common::oidc::REDIRECT;
use common::{Backend, PASSWORD};
use serde_json::Value;

const SCOPE: &str = "openid profile email offline_access";
/// What must vanish: the erased person's username, names and email.
const TRACES: [&str; 3] = ["zenobia", "Quartermaine", "zq-4471@example.org"];

fn world(backend: Backend, rp: &Rp) -> TestApp {
    TestApp::new(backend)
        .user_with("admin", &["--role", "ward-admin", "--tenant", "ward"])
        .user_with(
            "zenobia",
            &[
                "--email",
                "zq-4471@example.org",
                "--display-name",
                "Zenobia Quartermaine",
            ],
        )
        .user("bob")
        .confidential(
            "rp",
            REDIRECT,
            &[
                "--first-party",
                "--scope",
                SCOPE,
                "--id-token-alg",
                "ES256",
                "--backchannel-logout-uri",
                &rp.uri(),
            ],
        )
        .start()
}

/// The audit trail as `ward audit tail --json` reads it.
fn trail(w: &TestApp) -> Vec<Value> {
    let out = w.env.ok(&["audit", "tail", "-n", "10000", "--json"], None);
    serde_json::from_str(&out).expect("JSON")
}

fn about<'a>(records: &'a [Value], user_id: &str) -> Vec<&'a Value> {
    records
        .iter()
        .filter(|r| r["subject_user"] == user_id || r["actor"] == format!("user:{user_id}"))
        .collect()
}

/// A password sign-in's answer: 303 onwards when the account exists.
fn password_answer(w: &TestApp, username: &str, password: &str) -> u16 {
    let mut b = w.browser();
    let (interaction, csrf) = w.login_form(&mut b, "rp", &[("scope", SCOPE)]);
    b.sign_in(&interaction, &csrf, username, password).status
}

fn find(haystack: &[u8], needle: &str) -> bool {
    position(haystack, needle).is_some()
}

fn position(haystack: &[u8], needle: &str) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|w| w == needle.as_bytes())
}

/// The bytes around `needle` in `haystack`, to say where a trace was left.
fn around(haystack: &[u8], needle: &str) -> String {
    let at = position(haystack, needle).unwrap_or(0);
    let from = at.saturating_sub(300);
    let to = (at + 300).min(haystack.len());
    String::from_utf8_lossy(&haystack[from..to]).into_owned()
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn an_erased_person_leaves_a_verifiable_chain_and_no_trace(backend: Backend) {
    let rp = Rp::start();
    let w = world(backend, &rp);
    let (zid, bob) = (
        w.user_id("zenobia").to_string(),
        w.user_id("bob").to_string(),
    );
    // A mistyped password names the account only by what was typed: sealed too.
    assert_eq!(password_answer(&w, "zenobia", "wrong-password-1"), 401);
    let (_, tokens) = w.sign_in("rp", "zenobia", &[("scope", SCOPE)]);
    let refresh = tokens["refresh_token"].as_str().unwrap().to_string();
    w.sign_in("rp", "bob", &[("scope", SCOPE)]);
    w.env.ok(&["audit", "verify"], None);

    // Chained records about a person are sealed as stored, open as read.
    let stored = w.env.texts(&format!(
        "SELECT details AS t FROM audit_events WHERE subject_user = '{zid}'"
    ));
    assert!(!stored.is_empty());
    assert!(
        stored.iter().all(|d| d.starts_with(r#"{"sealed":"#)),
        "{stored:?}"
    );
    let before = trail(&w);
    let created = |id: &str, records: &[Value]| {
        about(records, id)
            .into_iter()
            .find(|r| r["event_type"] == "user.create")
            .cloned()
            .expect("user.create")
    };
    assert_eq!(
        created(&zid, &before)["details"],
        r#"{"password":true,"username":"zenobia"}"#
    );
    let typed: Vec<&Value> = before
        .iter()
        .filter(|r| r["event_type"] == "login.password" && r["outcome"] == "failure")
        .collect();
    assert_eq!(typed.len(), 1, "{typed:?}");
    assert!(typed[0]["details"].as_str().unwrap().contains("zenobia"));
    // Her accounting of disclosures (the ID token the rp received) goes with her.
    let disclosed = format!("SELECT COUNT(*) AS n FROM disclosures WHERE user_id = '{zid}'");
    assert!(w.env.count(&disclosed) >= 1);

    let out = w.env.ok(
        &[
            "user",
            "erase",
            "zenobia",
            "--reason",
            "Art. 17 request 2026-118",
        ],
        None,
    );
    assert!(out.contains(&format!("erased user {zid}")), "{out}");
    // The client that saw her is told (sid: her open session).
    let token = rp
        .wait_token(Duration::from_secs(20))
        .expect("a logout token");
    let claims = verify(&w.server, &token);
    assert_eq!(claims["sub"], zid.as_str());
    assert_eq!(w.refresh("rp", &refresh).status, 400);
    assert!(!w.env.ok(&["user", "list"], None).contains("zenobia"));

    let verified = w.env.ok(&["audit", "verify"], None);
    assert!(verified.contains("audit chain intact"), "{verified}");
    let after = trail(&w);
    let hers = about(&after, &zid);
    assert!(hers.len() >= 3, "{hers:?}");
    for r in &hers {
        assert_eq!(r["details"], r#"{"erased_subject":true}"#, "{r}");
        assert!(r["ip"].is_null() && r["user_agent"].is_null(), "{r}");
    }
    let failed = after
        .iter()
        .find(|r| r["event_type"] == "login.password" && r["outcome"] == "failure")
        .unwrap();
    assert_eq!(failed["details"], r#"{"erased_subject":true}"#);
    assert_eq!(
        created(&bob, &after)["details"],
        r#"{"password":true,"username":"bob"}"#
    );
    let erased = after
        .iter()
        .find(|r| r["event_type"] == "user.erased")
        .unwrap();
    assert!(
        erased["details"].as_str().unwrap().contains(&zid),
        "{erased}"
    );

    for (table, column) in [
        ("users", "id"),
        ("sessions", "user_id"),
        ("grants", "user_id"),
        ("password_credentials", "user_id"),
        ("user_data_keys", "user_id"),
        ("consent_records", "user_id"),
        ("disclosures", "user_id"),
    ] {
        let n = w.env.count(&format!(
            "SELECT COUNT(*) AS n FROM {table} WHERE {column} = '{zid}'"
        ));
        assert_eq!(n, 0, "{table}");
    }
    assert_eq!(
        w.env.count(&format!(
            "SELECT COUNT(*) AS n FROM erasures WHERE user_id = '{zid}'"
        )),
        1
    );
    // Her name and email are in no byte of the database (SQLite: the file
    // and its WAL; PostgreSQL: the dump); bob's still are.
    wait_until("the sealer", || {
        w.env
            .count("SELECT COUNT(*) AS n FROM audit_events WHERE seq IS NULL")
            == 0
    });
    let bytes = w.env.dump();
    for t in TRACES {
        assert!(
            !find(&bytes, t),
            "{t} is still in the database ({backend:?}): {}",
            around(&bytes, t)
        );
    }
    assert!(find(&bytes, "bob@example.org"));
    // Last, since typing her name at the sign-in page records what was typed.
    assert_eq!(password_answer(&w, "zenobia", PASSWORD), 401);
}
per_backend!(an_erased_person_leaves_a_verifiable_chain_and_no_trace);

fn holds_the_last_administrator_and_unknown_users_are_refused(backend: Backend) {
    let rp = Rp::start();
    let w = world(backend, &rp);
    let zid = w.user_id("zenobia").to_string();
    let unchanged = |w: &TestApp| {
        assert_eq!(password_answer(w, "zenobia", PASSWORD), 303);
        assert_eq!(
            w.env.count("SELECT COUNT(*) AS n FROM erasures"),
            0,
            "nothing erased"
        );
    };

    w.env.ok(
        &["user", "hold", "zenobia", "--reason", "litigation 44-C"],
        None,
    );
    let err = w
        .env
        .fails(&["user", "hold", "zenobia", "--reason", "again"], None);
    assert!(err.contains("already under a legal hold"), "{err}");
    let err = w
        .env
        .fails(&["user", "erase", "zenobia", "--reason", "asked"], None);
    assert!(
        err.contains("legal hold") && err.contains("litigation 44-C"),
        "{err}"
    );
    unchanged(&w);

    let err = w
        .env
        .fails(&["user", "erase", "admin", "--reason", "asked"], None);
    assert!(err.contains("last holder of `ward-admin`"), "{err}");
    assert_eq!(password_answer(&w, "admin", PASSWORD), 303);
    let err = w
        .env
        .fails(&["user", "erase", "nobody-here", "--reason", "asked"], None);
    assert!(err.contains("no user `nobody-here`"), "{err}");
    let err = w
        .env
        .fails(&["user", "erase", "zenobia", "--reason", " "], None);
    assert!(err.contains("reason"), "{err}");
    unchanged(&w);

    w.env.ok(&["user", "release-hold", "zenobia"], None);
    let err = w.env.fails(&["user", "release-hold", "zenobia"], None);
    assert!(err.contains("not under a legal hold"), "{err}");
    w.env
        .ok(&["user", "erase", zid.as_str(), "--reason", "asked"], None);
    assert_eq!(password_answer(&w, "zenobia", PASSWORD), 401);

    // Holds are audited, about the person (their records now read erased);
    // the refusals too.
    let records = trail(&w);
    let kinds: Vec<(&str, &str)> = about(&records, &zid)
        .iter()
        .map(|r| {
            (
                r["event_type"].as_str().unwrap(),
                r["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    for expected in [
        ("legal_hold.placed", "success"),
        ("legal_hold.placed", "failure"),
        ("user.erased", "failure"),
        ("legal_hold.released", "success"),
        ("legal_hold.released", "failure"),
    ] {
        assert!(kinds.contains(&expected), "{expected:?} in {kinds:?}");
    }
    w.env.ok(&["audit", "verify"], None);
}
per_backend!(holds_the_last_administrator_and_unknown_users_are_refused);

/// Kill `ward user erase` with SIGKILL after `delay`: whatever it had done.
fn killed_erasure(w: &TestApp, username: &str, delay: Duration) {
    let mut c = w.env.cmd();
    c.args(["user", "erase", username, "--reason", "killed"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = c.spawn().expect("spawn ward");
    std::thread::sleep(delay);
    let _ = Command::new("kill")
        .args(["-KILL", &child.id().to_string()])
        .status();
    let _ = child.wait();
}

fn an_erasure_killed_at_any_point_is_all_or_nothing(backend: Backend) {
    let rp = Rp::start();
    let w = world(backend, &rp);
    let (mut erased, mut intact) = (0, 0);
    // Delays from "before it opened the database" to "after it committed".
    for (i, ms) in [0u64, 30, 60, 90, 120, 150, 200, 260, 330, 450]
        .iter()
        .enumerate()
    {
        let name = format!("victim{i}");
        let id = common::oidc::user(&w.env, &name);
        w.sign_in("rp", &name, &[("scope", SCOPE)]);
        killed_erasure(&w, &name, Duration::from_millis(*ms));
        let rows = |table: &str, column: &str| {
            w.env.count(&format!(
                "SELECT COUNT(*) AS n FROM {table} WHERE {column} = '{id}'"
            ))
        };
        let marked = rows("erasures", "user_id");
        if marked == 1 {
            erased += 1;
            for (table, column) in [
                ("users", "id"),
                ("sessions", "user_id"),
                ("grants", "user_id"),
                ("password_credentials", "user_id"),
                ("user_data_keys", "user_id"),
            ] {
                assert_eq!(rows(table, column), 0, "{name} half-erased: {table}");
            }
            assert_eq!(password_answer(&w, &name, PASSWORD), 401);
        } else {
            intact += 1;
            assert_eq!(rows("users", "id"), 1, "{name}");
            assert_eq!(rows("sessions", "user_id"), 1, "{name}");
            assert_eq!(rows("grants", "user_id"), 1, "{name}");
            assert_eq!(password_answer(&w, &name, PASSWORD), 303, "{name} unusable");
            // And the erasure can be run again to completion.
            w.env
                .ok(&["user", "erase", &name, "--reason", "again"], None);
            assert_eq!(rows("users", "id"), 0);
        }
    }
    eprintln!("{backend:?}: {erased} erasures had committed when killed, {intact} had not");
    let verified = w.env.ok(&["audit", "verify"], None);
    assert!(verified.contains("audit chain intact"), "{verified}");
}
per_backend!(an_erasure_killed_at_any_point_is_all_or_nothing);

/// A person's data key is sealed by the keyring like every other secret:
/// `ward keys rotate-master` reseals it, and their records still open.
fn data_keys_follow_a_master_key_rotation(backend: Backend) {
    let env = common::TestEnv::new(backend);
    let id = common::oidc::user(&env, "zenobia");
    let created = |env: &common::TestEnv| -> String {
        let out = env.ok(&["audit", "tail", "-n", "1000", "--json"], None);
        let records: Vec<Value> = serde_json::from_str(&out).unwrap();
        records
            .iter()
            .find(|r| r["event_type"] == "user.create" && r["subject_user"] == id.as_str())
            .map(|r| r["details"].as_str().unwrap().to_string())
            .expect("user.create")
    };
    assert!(created(&env).contains(r#""username":"zenobia""#));
    let sealed_before = env.texts(&format!(
        "SELECT key_sealed AS t FROM user_data_keys WHERE user_id = '{id}'"
    ));
    assert_eq!(sealed_before.len(), 1);

    let out = env.ok(&["keys", "rotate-master"], None);
    assert!(out.contains("re-sealed 5 secrets"), "{out}");
    let sealed_after = env.texts(&format!(
        "SELECT key_sealed AS t FROM user_data_keys WHERE user_id = '{id}'"
    ));
    assert_ne!(sealed_before, sealed_after);
    assert!(created(&env).contains(r#""username":"zenobia""#));
    env.ok(&["user", "erase", "zenobia", "--reason", "asked"], None);
    assert_eq!(created(&env), r#"{"erased_subject":true}"#);
    env.ok(&["audit", "verify"], None);
}
per_backend!(data_keys_follow_a_master_key_rotation);
