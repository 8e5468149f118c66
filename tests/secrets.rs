//! Secrets at rest: sealed by the master key, never in clear, and a wrong key refuses to start.

mod common;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use common::{Backend, Server, TestEnv};
use ward::app::{AppContext, OpenOptions};
use ward::crypto::keyring::MasterKey;
use ward::crypto::signing::{Algorithm, verify_with_jwk};
use ward::manage::keys;

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn open(env: &TestEnv) -> AppContext {
    AppContext::open(env.config(), OpenOptions { migrate: true }).expect("open")
}

fn a_sealed_signing_key_never_appears_in_clear(backend: Backend) {
    let env = TestEnv::new(backend);
    let ctx = open(&env);
    for alg in Algorithm::ALL {
        let key = keys::load_active(&ctx, alg).unwrap();
        // The key really is the one published, and it works.
        let sig = key.sign(b"probe").unwrap();
        assert!(verify_with_jwk(&key.public_jwk, b"probe", &sig));
        let der: &[u8] = &key.private_pkcs8_der;
        // Look for the private key in every encoding a careless store might use.
        let forms: Vec<Vec<u8>> = vec![
            der[der.len() - 32..].to_vec(),
            STANDARD.encode(der).into_bytes(),
            URL_SAFE_NO_PAD.encode(der).into_bytes(),
            hex::encode(der).into_bytes(),
        ];
        drop(ctx.db.conn()); // make sure nothing is buffered
        let dump = env.dump();
        assert!(dump.len() > 1000, "{backend:?}: the dump has content");
        for form in &forms {
            assert!(
                !contains(&dump, form),
                "{backend:?} {alg}: private key found in clear"
            );
        }
        assert!(
            contains(&dump, key.kid.as_bytes()),
            "{backend:?}: the key itself is stored (by kid)"
        );
    }
}

per_backend!(a_sealed_signing_key_never_appears_in_clear);

fn the_pairwise_key_is_stored_sealed_made_once_and_audited(backend: Backend) {
    let env = TestEnv::new(backend);
    let key = *open(&env).pairwise_key.as_bytes();
    // A second start opens the same key; nothing new is made.
    assert_eq!(*open(&env).pairwise_key.as_bytes(), key);
    let dump = env.dump();
    for form in [
        key.to_vec(),
        STANDARD.encode(key).into_bytes(),
        URL_SAFE_NO_PAD.encode(key).into_bytes(),
        hex::encode(key).into_bytes(),
    ] {
        assert!(
            !contains(&dump, &form),
            "{backend:?}: pairwise key in clear"
        );
    }
    assert_eq!(
        env.count("SELECT COUNT(*) AS n FROM ward_meta WHERE key = 'pairwise_key' AND value LIKE 'ward1.%'"),
        1
    );
    assert_eq!(
        env.count(
            "SELECT COUNT(*) AS n FROM audit_events WHERE event_type = 'pairwise_key.create'"
        ),
        1
    );
}

per_backend!(the_pairwise_key_is_stored_sealed_made_once_and_audited);

#[test]
fn a_generated_key_file_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let env = TestEnv::new(Backend::Sqlite);
    env.ok(&["keys", "list"], None);
    let meta = std::fs::metadata(env.data_dir().join("master.key")).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let dir = std::fs::metadata(env.data_dir()).unwrap();
    assert_eq!(
        dir.permissions().mode() & 0o077,
        0,
        "data directory is owner-only"
    );
}

fn a_wrong_master_key_refuses_to_start_and_changes_nothing(backend: Backend) {
    let key_a = MasterKey::generate().to_base64();
    let key_b = MasterKey::generate().to_base64();
    let env = TestEnv::new(backend).with_env("WARD_MASTER_KEY", &key_a);
    env.ok(&["user", "add", "alice", "--no-password"], None);
    let counts = |env: &TestEnv| {
        (
            env.count("SELECT COUNT(*) AS n FROM audit_events"),
            env.count("SELECT COUNT(*) AS n FROM signing_keys"),
            env.count("SELECT COUNT(*) AS n FROM users"),
        )
    };
    let before = counts(&env);

    let mut wrong = env;
    wrong.set_env("WARD_MASTER_KEY", &key_b);
    let err = Server::try_start(&wrong, &[]).err().expect("must refuse");
    assert!(
        err.contains("master key") && err.contains("refusing to start"),
        "{backend:?}: {err}"
    );
    let err = wrong.fails(&["user", "add", "bob", "--no-password"], None);
    assert!(err.contains("master key"), "{err}");
    assert_eq!(counts(&wrong), before, "{backend:?}: nothing changed");
    assert!(
        !wrong.data_dir().join("master.key").exists(),
        "no key file was generated either"
    );
}

per_backend!(a_wrong_master_key_refuses_to_start_and_changes_nothing);

#[test]
fn a_lost_key_file_is_not_replaced_by_a_new_one() {
    let env = TestEnv::new(Backend::Sqlite);
    env.ok(&["keys", "list"], None);
    std::fs::remove_file(env.data_dir().join("master.key")).unwrap();
    let err = env.fails(&["keys", "list"], None);
    assert!(
        err.contains("does not exist") && err.contains("Refusing to start"),
        "{err}"
    );
    assert!(!env.data_dir().join("master.key").exists());
}

fn rotate_master_reseals_everything_under_a_new_key_file(backend: Backend) {
    let env = TestEnv::new(backend);
    let ctx = open(&env);
    let before = keys::load_active(&ctx, Algorithm::Rs256).unwrap();
    let pairwise_before = *ctx.pairwise_key.as_bytes();
    let old_key_file = std::fs::read_to_string(env.data_dir().join("master.key")).unwrap();
    drop(ctx);

    let out = env.ok(&["keys", "rotate-master"], None);
    // Two signing keys, the pairwise subject key and the check value.
    assert!(out.contains("re-sealed 4 secrets"), "{backend:?}: {out}");
    let new_key_file = std::fs::read_to_string(env.data_dir().join("master.key")).unwrap();
    assert_ne!(old_key_file, new_key_file);
    assert!(!env.data_dir().join("master.key.next").exists());

    // Everything opens under the new key, and the secret itself is unchanged.
    let ctx = open(&env);
    let after = keys::load_active(&ctx, Algorithm::Rs256).unwrap();
    assert_eq!(*before.private_pkcs8_der, *after.private_pkcs8_der);
    // The pairwise key too: no client's `sub` changes with the master key.
    assert_eq!(*ctx.pairwise_key.as_bytes(), pairwise_before);
    drop(ctx);

    // The old key no longer opens the database.
    let mut old = env;
    old.set_env("WARD_MASTER_KEY", old_key_file.trim());
    assert!(old.fails(&["keys", "list"], None).contains("master key"));
    assert!(old.count("SELECT COUNT(*) AS n FROM audit_events WHERE event_type = 'master_key.rotate' AND outcome = 'success'") == 1);
}

per_backend!(rotate_master_reseals_everything_under_a_new_key_file);

#[test]
fn rotate_master_with_an_environment_key_reads_the_new_key_from_stdin() {
    let key_a = MasterKey::generate().to_base64();
    let key_b = MasterKey::generate().to_base64();
    let env = TestEnv::new(Backend::Sqlite).with_env("WARD_MASTER_KEY", &key_a);
    env.ok(&["keys", "list"], None);
    let err = env.fails(&["keys", "rotate-master"], None);
    assert!(err.contains("--new-key-stdin"), "{err}");
    let out = env.ok(
        &["keys", "rotate-master", "--new-key-stdin"],
        Some(&format!("{key_b}\n")),
    );
    assert!(out.contains("WARD_MASTER_KEY"), "{out}");
    let mut env_b = env;
    env_b.set_env("WARD_MASTER_KEY", &key_b);
    env_b.ok(&["keys", "list"], None);
}

#[test]
fn an_interrupted_rotation_is_finished_at_start() {
    // Simulate a crash after the commit and before the rename: re-seal by hand
    // under a staged key, leave the staged file, and start.
    let env = TestEnv::new(Backend::Sqlite);
    let ctx = open(&env);
    let next = MasterKey::generate();
    let staged = env.data_dir().join("master.key.next");
    next.write_new_file(&staged).unwrap();
    keys::rotate_master(
        &ctx,
        "test",
        &ward::crypto::keyring::Keyring::new(next.clone()),
    )
    .unwrap();
    drop(ctx);
    env.ok(&["keys", "list"], None);
    assert!(!staged.exists());
    assert_eq!(
        MasterKey::read_file(&env.data_dir().join("master.key"))
            .unwrap()
            .id(),
        next.id()
    );
}
