//! The `ward` command line against real databases.

mod common;

use common::{Backend, PASSWORD, TestEnv};
use serde_json::Value;

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

fn migrations_apply_from_empty_and_then_are_a_no_op(backend: Backend) {
    let env = TestEnv::new(backend);
    let first = env.ok(&["migrate"], None);
    assert!(first.contains("applied"), "{backend:?}: {first}");
    let second = env.ok(&["migrate"], None);
    assert!(second.contains("up to date"), "{backend:?}: {second}");
    assert_eq!(env.count("SELECT COUNT(*) AS n FROM users"), 0);
    // `migrate` is audited too.
    assert!(
        env.count("SELECT COUNT(*) AS n FROM audit_events WHERE event_type = 'schema.migrate'")
            >= 1
    );
}

per_backend!(migrations_apply_from_empty_and_then_are_a_no_op);

fn user_lifecycle(backend: Backend) {
    let env = TestEnv::new(backend);
    let out = env.ok(
        &[
            "user",
            "add",
            "Alice",
            "--email",
            "alice@example.org",
            "--display-name",
            "Alice Smith",
            "--json",
        ],
        Some(&format!("{PASSWORD}\n")),
    );
    let alice = json(&out);
    assert_eq!(
        alice["username"], "alice",
        "usernames are case-insensitive, stored lower-case"
    );
    assert_eq!(alice["status"], "active");
    let id = alice["id"].as_str().unwrap().to_string();

    // The password is stored as argon2id, never in clear.
    assert_eq!(env.count(&format!("SELECT COUNT(*) AS n FROM password_credentials WHERE user_id = '{id}' AND hash LIKE '$argon2id$%'")), 1);
    assert!(!String::from_utf8_lossy(&env.dump()).contains(PASSWORD));

    let list = json(&env.ok(&["user", "list", "--json"], None));
    assert_eq!(list.as_array().unwrap().len(), 1);
    let shown = json(&env.ok(&["user", "show", &id, "--json"], None));
    assert_eq!(shown["email"], "alice@example.org");

    env.ok(&["user", "disable", "alice"], None);
    assert_eq!(
        json(&env.ok(&["user", "show", "alice", "--json"], None))["status"],
        "disabled"
    );
    env.ok(&["user", "enable", "ALICE"], None);
    assert_eq!(
        json(&env.ok(&["user", "show", "alice", "--json"], None))["status"],
        "active"
    );

    let before = env.count("SELECT COUNT(*) AS n FROM password_credentials");
    let err = env.fails(&["user", "set-password", "alice"], Some("password1\n"));
    assert!(err.contains("commonly used"), "{err}");
    env.ok(
        &["user", "set-password", "alice"],
        Some("another-long-passphrase\n"),
    );
    assert_eq!(
        env.count("SELECT COUNT(*) AS n FROM password_credentials"),
        before
    );

    let err = env.fails(&["user", "show", "nobody"], None);
    assert!(err.contains("no user"), "{err}");

    // Every action left an audit record, attributed to the CLI user.
    for kind in [
        "user.create",
        "user.list",
        "user.view",
        "user.disable",
        "user.enable",
        "user.set_password",
    ] {
        assert!(env.count(&format!("SELECT COUNT(*) AS n FROM audit_events WHERE event_type = '{kind}' AND actor = 'cli:tester'")) >= 1, "{kind}");
    }
    assert_eq!(env.count("SELECT COUNT(*) AS n FROM audit_events WHERE event_type = 'user.set_password' AND outcome = 'failure' AND reason = 'password_common'"), 1);
}

per_backend!(user_lifecycle);

fn bad_user_input_is_refused_and_leaves_nothing(backend: Backend) {
    let env = TestEnv::new(backend);
    env.ok(&["user", "add", "bob"], Some(&format!("{PASSWORD}\n")));
    let cases: &[(&[&str], &str, &str)] = &[
        (&["user", "add", "BOB"], PASSWORD, "already taken"),
        (&["user", "add", "carol"], "short", "at least 8"),
        (&["user", "add", "carol"], "qwertyuiop", "commonly used"),
        (
            &["user", "add", "carol", "--email", "not-an-email"],
            PASSWORD,
            "email",
        ),
        (&["user", "add", "has space"], PASSWORD, "username"),
        (&["user", "add", &"x".repeat(65)], PASSWORD, "at most 64"),
        (&["user", "add", "carol"], "", "standard input"),
    ];
    for (args, password, expected) in cases {
        let stdin = if password.is_empty() {
            String::new()
        } else {
            format!("{password}\n")
        };
        let err = env.fails(args, Some(&stdin));
        assert!(err.contains(expected), "{backend:?} {args:?}: {err}");
        assert!(
            !err.to_lowercase().contains("sql") && !err.contains("panicked"),
            "{err}"
        );
    }
    let long = "y".repeat(2000);
    let err = env.fails(&["user", "add", "carol"], Some(&format!("{long}\n")));
    assert!(err.contains("at most 1024"), "{err}");
    assert_eq!(
        env.count("SELECT COUNT(*) AS n FROM users"),
        1,
        "{backend:?}: nothing half-written"
    );
    assert_eq!(
        env.count("SELECT COUNT(*) AS n FROM password_credentials"),
        1
    );
}

per_backend!(bad_user_input_is_refused_and_leaves_nothing);

#[test]
fn passwords_never_come_from_the_command_line() {
    let env = TestEnv::new(Backend::Sqlite);
    let out = env.run(&["user", "add", "dave", "--password", PASSWORD], None);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unexpected argument"));
}

fn client_lifecycle_and_secret_handling(backend: Backend) {
    let env = TestEnv::new(backend);
    let out = env.ok(
        &[
            "client",
            "add",
            "ehr-portal",
            "--type",
            "confidential",
            "--redirect-uri",
            "https://ehr.example.org/cb",
            "--redirect-uri",
            "http://127.0.0.1/cb",
            "--scope",
            "openid profile",
            "--json",
        ],
        None,
    );
    let created = json(&out);
    let secret = created["client_secret"]
        .as_str()
        .expect("secret printed once")
        .to_string();
    assert!(secret.len() >= 43);
    assert_eq!(created["redirect_uris"].as_array().unwrap().len(), 2);
    assert_eq!(
        created["grant_types"],
        serde_json::json!(["authorization_code", "refresh_token"])
    );
    assert_eq!(created["scopes"], serde_json::json!(["openid", "profile"]));

    // Stored only as a SHA-256 hash.
    let dump = env.dump();
    assert!(
        !String::from_utf8_lossy(&dump).contains(&secret),
        "{backend:?}: client secret stored in clear"
    );
    assert_eq!(
        env.count("SELECT COUNT(*) AS n FROM clients WHERE length(secret_hash) = 64"),
        1
    );

    let shown = json(&env.ok(&["client", "show", "ehr-portal", "--json"], None));
    assert!(shown.get("client_secret").is_none() && shown.get("secret_hash").is_none());
    assert_eq!(shown["pkce"], "required", "PKCE is required by default");

    // A confidential client may make PKCE optional; show and list say so.
    let legacy = json(&env.ok(
        &[
            "client",
            "add",
            "legacy",
            "--type",
            "confidential",
            "--redirect-uri",
            "https://legacy.example.org/cb",
            "--pkce",
            "optional",
            "--json",
        ],
        None,
    ));
    assert_eq!(legacy["pkce"], "optional");
    let text = env.ok(&["client", "show", "legacy"], None);
    assert!(
        text.lines()
            .any(|l| l.starts_with("pkce:") && l.ends_with("optional")),
        "{text}"
    );
    let list = env.ok(&["client", "list"], None);
    assert!(list.contains("PKCE"), "{list}");
    let listed = json(&env.ok(&["client", "list", "--json"], None));
    let by_id = |id: &str| {
        listed
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .map(|c| c["pkce"].clone())
    };
    assert_eq!(by_id("legacy"), Some("optional".into()));
    assert_eq!(by_id("ehr-portal"), Some("required".into()));
    env.ok(&["client", "remove", "legacy"], None);

    let public = json(&env.ok(
        &[
            "client",
            "add",
            "mobile",
            "--type",
            "public",
            "--redirect-uri",
            "org.example.mobile:/cb",
            "--json",
        ],
        None,
    ));
    assert!(public.get("client_secret").is_none());
    assert_eq!(
        json(&env.ok(&["client", "list", "--json"], None))
            .as_array()
            .unwrap()
            .len(),
        2
    );

    env.ok(&["client", "remove", "mobile"], None);
    assert!(
        env.fails(&["client", "show", "mobile"], None)
            .contains("no client")
    );
    assert!(
        env.fails(&["client", "remove", "mobile"], None)
            .contains("no client")
    );
}

per_backend!(client_lifecycle_and_secret_handling);

fn bad_client_input_is_refused_and_leaves_nothing(backend: Backend) {
    let env = TestEnv::new(backend);
    env.ok(
        &[
            "client",
            "add",
            "app",
            "--type",
            "public",
            "--redirect-uri",
            "https://app.example.org/cb",
        ],
        None,
    );
    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "client",
                "add",
                "app",
                "--type",
                "public",
                "--redirect-uri",
                "https://app.example.org/cb",
            ],
            "already exists",
        ),
        (
            &[
                "client",
                "add",
                "b",
                "--type",
                "public",
                "--redirect-uri",
                "/relative",
            ],
            "absolute",
        ),
        (
            &[
                "client",
                "add",
                "b",
                "--type",
                "public",
                "--redirect-uri",
                "https://a.example.org/cb#x",
            ],
            "fragment",
        ),
        (
            &[
                "client",
                "add",
                "b",
                "--type",
                "public",
                "--redirect-uri",
                "http://a.example.org/cb",
            ],
            "plain http",
        ),
        (
            &["client", "add", "b", "--type", "public"],
            "at least one redirect URI",
        ),
        (
            &[
                "client",
                "add",
                "b",
                "--type",
                "public",
                "--grant-type",
                "client_credentials",
            ],
            "public client",
        ),
        (
            &[
                "client",
                "add",
                "b",
                "--type",
                "confidential",
                "--grant-type",
                "password",
            ],
            "not supported",
        ),
        (
            &[
                "client",
                "add",
                "b",
                "--type",
                "confidential",
                "--redirect-uri",
                "https://a.example.org/cb",
                "--scope",
                "bad\"scope",
            ],
            "scope",
        ),
        (
            &[
                "client",
                "add",
                "b",
                "--type",
                "confidential",
                "--redirect-uri",
                "https://a.example.org/cb",
                "--scope",
                "openid user/Observation.rw",
            ],
            "cruds",
        ),
        (
            &[
                "client",
                "add",
                "b",
                "--type",
                "confidential",
                "--redirect-uri",
                "https://a.example.org/cb",
                "--scope",
                "openid",
                "--scope",
                "patient/Observation.sr",
            ],
            "cruds",
        ),
        (
            &[
                "client",
                "add",
                "has space",
                "--type",
                "public",
                "--redirect-uri",
                "https://a.example.org/cb",
            ],
            "client_id",
        ),
    ];
    for (args, expected) in cases {
        let err = env.fails(args, None);
        assert!(err.contains(expected), "{backend:?} {args:?}: {err}");
    }
    // A public client must use PKCE: refused like any other invalid value
    // (exit code 1, as for a public client asking for client_credentials).
    let exit_code = |args: &[&str]| env.run(args, None).status.code();
    let public_optional = [
        "client",
        "add",
        "b",
        "--type",
        "public",
        "--redirect-uri",
        "https://a.example.org/cb",
        "--pkce",
        "optional",
    ];
    let err = env.fails(&public_optional, None);
    assert!(
        err.contains("pkce") && err.contains("public client must use PKCE"),
        "{backend:?}: {err}"
    );
    assert_eq!(exit_code(&public_optional), Some(1));
    assert_eq!(
        exit_code(&[
            "client",
            "add",
            "b",
            "--type",
            "public",
            "--grant-type",
            "client_credentials"
        ]),
        Some(1)
    );
    let long_uri = format!("https://a.example.org/{}", "x".repeat(3000));
    assert!(
        env.fails(
            &[
                "client",
                "add",
                "b",
                "--type",
                "public",
                "--redirect-uri",
                &long_uri
            ],
            None
        )
        .contains("at most")
    );
    assert_eq!(
        env.count("SELECT COUNT(*) AS n FROM clients"),
        1,
        "{backend:?}"
    );
    assert!(env.count("SELECT COUNT(*) AS n FROM audit_events WHERE event_type = 'client.create' AND outcome = 'failure'") >= 9);
}

per_backend!(bad_client_input_is_refused_and_leaves_nothing);

fn signing_keys_are_generated_listed_and_rotated(backend: Backend) {
    let env = TestEnv::new(backend);
    let keys = json(&env.ok(&["keys", "list", "--json"], None));
    let keys = keys.as_array().unwrap();
    assert_eq!(
        keys.len(),
        2,
        "{backend:?}: an ES256 and an RS256 key on first start"
    );
    let mut algs: Vec<&str> = keys.iter().map(|k| k["alg"].as_str().unwrap()).collect();
    algs.sort();
    assert_eq!(algs, ["ES256", "RS256"]);
    assert!(keys.iter().all(|k| k["state"] == "active"));
    let old_es = keys.iter().find(|k| k["alg"] == "ES256").unwrap()["kid"]
        .as_str()
        .unwrap()
        .to_string();

    let out = env.ok(&["keys", "rotate", "--alg", "ES256"], None);
    assert!(
        out.contains("new active ES256 key") && out.contains(&old_es),
        "{out}"
    );
    let keys = json(&env.ok(&["keys", "list", "--json"], None));
    let keys = keys.as_array().unwrap();
    assert_eq!(keys.len(), 3);
    let old = keys.iter().find(|k| k["kid"] == old_es.as_str()).unwrap();
    assert_eq!(old["state"], "retired", "still published");
    let until = old["publish_until"].as_i64().unwrap();
    let retired_at = old["retired_at"].as_i64().unwrap();
    assert!(
        until - retired_at >= 300_000,
        "published at least as long as a token lives"
    );
    assert_eq!(keys.iter().filter(|k| k["state"] == "active").count(), 2);

    let err = env.fails(&["keys", "rotate", "--alg", "HS256"], None);
    assert!(err.contains("unsupported"), "{err}");
    assert_eq!(env.count("SELECT COUNT(*) AS n FROM signing_keys"), 3);
}

per_backend!(signing_keys_are_generated_listed_and_rotated);

#[test]
fn configuration_errors_name_the_key() {
    let env = TestEnv::new(Backend::Sqlite);
    let file = env.dir.path().join("ward.toml");

    std::fs::write(
        &file,
        "issuer = \"https://login.example.org\"\nlistn = \"127.0.0.1:1\"\n",
    )
    .unwrap();
    let out = env.run(&["--config", file.to_str().unwrap(), "user", "list"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("listn"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    std::fs::write(&file, "issuer = [\n").unwrap();
    let out = env.run(&["--config", file.to_str().unwrap(), "user", "list"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("ward.toml"));

    let err = env.fails(
        &["--config", "/nonexistent/ward.toml", "user", "list"],
        None,
    );
    assert!(err.contains("cannot read"), "{err}");

    // Without --config, ./ward.toml is read when present.
    let out = env.run(&["user", "list"], None);
    assert_eq!(
        out.status.code(),
        Some(2),
        "./ward.toml is picked up by default"
    );
    std::fs::remove_file(&file).unwrap();

    let mut c = env.cmd();
    let out = c
        .env("WARD_LOG_FORMAT", "xml")
        .args(["user", "list"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("log_format") && err.contains("WARD_LOG_FORMAT"),
        "{err}"
    );
    assert!(
        !env.data_dir().join("ward.db").exists(),
        "a bad configuration changes nothing"
    );
}

#[test]
fn an_unreachable_database_is_reported_as_such() {
    let env = TestEnv::new(Backend::Sqlite);
    let mut c = env.cmd();
    let out = c
        .env("WARD_DATABASE_URL", "postgres://ward@127.0.0.1:1/ward")
        .args(["user", "list"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("database is unreachable") && err.contains("127.0.0.1"),
        "{err}"
    );

    let mut c = env.cmd();
    let out = c
        .env(
            "WARD_DATABASE_URL",
            "postgres://ward:hunter2@127.0.0.1:1/ward",
        )
        .args(["migrate"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("unreachable") && !err.contains("hunter2"),
        "the password is never printed: {err}"
    );
}
