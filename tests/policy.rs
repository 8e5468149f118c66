//! The authorization policy in the database: seed, `ward policy`, and a change
//! made by one Ward process reaching another.

mod common;

use std::time::{Duration, Instant};

use common::{Backend, TestEnv};
use serde_json::{Value, json};
use ward::app::{AppContext, OpenOptions};

fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// Create a user without a password; returns its id.
fn add_user(env: &TestEnv, name: &str) -> String {
    let out = env.ok(&["user", "add", name, "--no-password", "--json"], None);
    parse(&out)["id"].as_str().unwrap().to_string()
}

/// `ward policy grant|revoke USER ROLE --tenant T`, which must succeed; its stdout.
fn change(env: &TestEnv, verb: &str, user: &str, role: &str, tenant: &str) -> String {
    env.ok(&["policy", verb, user, role, "--tenant", tenant], None)
}

/// The same, which must fail; its stderr.
fn refused(env: &TestEnv, verb: &str, user: &str, role: &str, tenant: &str) -> String {
    env.fails(&["policy", verb, user, role, "--tenant", tenant], None)
}

fn show(env: &TestEnv, user: &str) -> Value {
    parse(&env.ok(&["policy", "show", user, "--json"], None))
}

fn version(env: &TestEnv) -> i64 {
    env.count("SELECT version AS n FROM policy_version")
}

fn events(env: &TestEnv, kind: &str, outcome: &str) -> i64 {
    env.count(&format!(
        "SELECT COUNT(*) AS n FROM audit_events WHERE event_type = '{kind}' AND outcome = '{outcome}'"
    ))
}

fn the_seed_policy_is_written_once_on_first_start(backend: Backend) {
    let env = TestEnv::new(backend);
    env.ok(&["migrate"], None);
    let rules = env.count("SELECT COUNT(*) AS n FROM policy_rules WHERE ptype = 'p'");
    assert!(rules > 50, "{backend:?}: {rules} seed permissions");
    assert_eq!(
        env.count("SELECT COUNT(*) AS n FROM policy_rules WHERE ptype = 'g'"),
        0,
        "the seed assigns no one"
    );
    assert_eq!(version(&env), 1);
    assert_eq!(events(&env, "policy.seed", "success"), 1);

    // Later starts leave it alone.
    env.ok(&["user", "list"], None);
    env.ok(&["migrate"], None);
    assert_eq!(version(&env), 1);
    assert_eq!(events(&env, "policy.seed", "success"), 1);

    let export = env.ok(&["policy", "export"], None);
    assert!(
        export.contains("p, ward-admin, ward, users, write"),
        "{export}"
    );
    assert!(export.contains("p, physician, st-mary, emergency, elevate"));
    assert!(!export.contains('*'));
    assert_eq!(
        export.lines().filter(|l| l.starts_with("p, ")).count() as i64,
        rules
    );
}

per_backend!(the_seed_policy_is_written_once_on_first_start);

fn a_command_that_opens_the_app_seeds_too(backend: Backend) {
    let env = TestEnv::new(backend);
    env.ok(&["user", "list"], None);
    assert_eq!(version(&env), 1, "{backend:?}");
    assert!(env.count("SELECT COUNT(*) AS n FROM policy_rules") > 50);
}

per_backend!(a_command_that_opens_the_app_seeds_too);

fn grant_show_revoke_export_import_round_trip(backend: Backend) {
    let env = TestEnv::new(backend);
    let alice = add_user(&env, "alice");
    add_user(&env, "bob");
    let v0 = version(&env);

    let out = change(&env, "grant", "alice", "physician", "st-mary");
    assert!(
        out.contains("granted physician to alice in st-mary"),
        "{out}"
    );
    // By id as well as by username.
    change(&env, "grant", &alice, "receptionist", "riverside");
    assert_eq!(version(&env), v0 + 2, "each change bumps the version");
    assert_eq!(
        env.count(&format!(
            "SELECT COUNT(*) AS n FROM policy_rules WHERE ptype = 'g' AND v0 = '{alice}'"
        )),
        2,
        "stored by user id"
    );

    let shown = show(&env, "alice");
    assert_eq!(shown["user_id"], alice.as_str());
    assert_eq!(shown["policy_version"], v0 + 2);
    assert_eq!(
        shown["tenants"],
        json!([
            {"tenant": "riverside", "roles": ["receptionist"], "permissions": [
                "demographics:read", "demographics:write",
                "fhir:Appointment:c", "fhir:Appointment:r", "fhir:Appointment:s", "fhir:Appointment:u",
                "fhir:Patient:r", "fhir:Patient:s", "fhir:Patient:u",
                "schedule:read", "schedule:write"]},
            {"tenant": "st-mary", "roles": ["physician"], "permissions": [
                "ehr:read", "ehr:write", "emergency:elevate",
                "fhir:MedicationRequest:c", "fhir:MedicationRequest:r",
                "fhir:MedicationRequest:s", "fhir:MedicationRequest:u",
                "fhir:Observation:c", "fhir:Observation:r", "fhir:Observation:s", "fhir:Observation:u",
                "fhir:Patient:r", "fhir:Patient:s",
                "prescription:write", "schedule:read"]},
        ]),
        "{backend:?}"
    );
    assert_eq!(show(&env, "bob")["tenants"], json!([]));
    let text = env.ok(&["policy", "show", "alice"], None);
    assert!(
        text.contains("st-mary") && text.contains("prescription:write"),
        "{text}"
    );

    // Refusals: a duplicate, a role that does not exist in the tenant, an unknown user.
    let err = refused(&env, "grant", "alice", "physician", "st-mary");
    assert!(err.contains("already has role"), "{err}");
    let err = refused(&env, "grant", "bob", "emergency", "riverside");
    assert!(
        err.contains("no role `emergency` in tenant `riverside`"),
        "{err}"
    );
    let err = refused(&env, "grant", "nobody", "nurse", "st-mary");
    assert!(err.contains("no user"), "{err}");
    assert_eq!(version(&env), v0 + 2, "refusals change nothing");
    assert_eq!(events(&env, "policy.grant", "success"), 2);
    assert_eq!(events(&env, "policy.grant", "failure"), 3);

    // Export to a file, change the policy, import the file: back as it was.
    let file = env.dir.path().join("policy.csv");
    env.ok(
        &["policy", "export", "--output", file.to_str().unwrap()],
        None,
    );
    let exported = std::fs::read_to_string(&file).unwrap();
    assert!(
        exported.contains(&format!("g, {alice}, physician, st-mary")),
        "{exported}"
    );
    assert_eq!(
        env.ok(&["policy", "export"], None),
        exported,
        "stable order"
    );

    let out = change(&env, "revoke", "alice", "receptionist", "riverside");
    assert!(
        out.contains("revoked receptionist from alice in riverside"),
        "{out}"
    );
    assert_eq!(
        show(&env, "alice")["tenants"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["tenant"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["st-mary"]
    );
    let err = refused(&env, "revoke", "alice", "receptionist", "riverside");
    assert!(err.contains("has no role"), "{err}");
    assert_eq!(events(&env, "policy.revoke", "success"), 1);

    let out = env.ok(&["policy", "import", file.to_str().unwrap()], None);
    assert!(out.contains("2 assignment(s)"), "{out}");
    assert_eq!(env.ok(&["policy", "export"], None), exported);
    // The import's record names the policy: the SHA-256 of its export.
    use sha2::Digest;
    let digest = hex::encode(sha2::Sha256::digest(exported.as_bytes()));
    assert_eq!(
        env.count(&format!(
            "SELECT COUNT(*) AS n FROM audit_events WHERE event_type = 'policy.import' AND details LIKE '%{digest}%'"
        )),
        1
    );
    assert_eq!(show(&env, "alice")["tenants"].as_array().unwrap().len(), 2);
    assert_eq!(events(&env, "policy.import", "success"), 1);
    assert!(
        env.count("SELECT COUNT(*) AS n FROM audit_events WHERE event_type = 'policy.view'") >= 1,
        "show is audited"
    );
    let verify = parse(&env.ok(&["audit", "verify", "--json"], None));
    assert_eq!(verify["ok"], true, "{verify}");
}

per_backend!(grant_show_revoke_export_import_round_trip);

fn an_invalid_policy_file_is_refused_and_nothing_changes(backend: Backend) {
    let env = TestEnv::new(backend);
    add_user(&env, "alice");
    change(&env, "grant", "alice", "nurse", "st-mary");
    let before = env.ok(&["policy", "export"], None);
    let version_before = version(&env);
    let good = "p, nurse, st-mary, ehr, read\n";
    for (bad, needle) in [
        ("p, nurse, st-mary, ehr\n", "4 fields"),
        ("g, alice, nurse, st-mary, extra\n", "3 fields"),
        ("m, nurse, st-mary, ehr, read\n", "unknown rule type"),
        ("p, Nurse, st-mary, ehr, read\n", "lower-case"),
        ("p, admin, st-mary, *, *\n", "wildcards"),
        ("g, *, admin, st-mary\n", "wildcards"),
        ("p, nurse, *, ehr, read\n", "wildcards"),
    ] {
        let file = env.dir.path().join("bad.csv");
        std::fs::write(&file, format!("# header\n{good}{bad}")).unwrap();
        let out = env.run(&["policy", "import", file.to_str().unwrap()], None);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{backend:?} {bad}: {err}");
        assert!(
            err.contains("line 3") && err.contains(needle),
            "{bad}: {err}"
        );
        assert_eq!(version(&env), version_before, "{bad}");
        assert_eq!(env.ok(&["policy", "export"], None), before, "{bad}");
    }
    assert_eq!(events(&env, "policy.import", "failure"), 7);
    assert_eq!(events(&env, "policy.import", "success"), 0);

    // Nor can a wildcard come in through grant.
    let err = refused(&env, "grant", "alice", "*", "st-mary");
    assert!(err.contains("wildcards"), "{err}");
    let err = refused(&env, "grant", "alice", "nurse", "*");
    assert!(err.contains("wildcards"), "{err}");
    let out = env.run(&["policy", "import", "/nonexistent/policy.csv"], None);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(version(&env), version_before);
}

per_backend!(an_invalid_policy_file_is_refused_and_nothing_changes);

fn the_first_administrator_is_created_with_its_role(backend: Backend) {
    let env = TestEnv::new(backend);
    let admin = add_user_with(&env, &["admin", "--role", "ward-admin", "--tenant", "ward"]);
    let shown = show(&env, "admin");
    assert_eq!(shown["user_id"], admin.as_str());
    assert_eq!(shown["tenants"][0]["tenant"], "ward");
    assert_eq!(shown["tenants"][0]["roles"], json!(["ward-admin"]));
    assert_eq!(
        shown["tenants"][0]["permissions"].as_array().unwrap().len(),
        // users, clients, fhir-servers, roles, sessions, keys: read and
        // write; audit:read, break-glass:review.
        14
    );
    assert_eq!(events(&env, "policy.grant", "success"), 1);

    // --role needs --tenant (usage, exit 2), and a role that does not exist
    // refuses the whole creation: no user without its role.
    let out = env.run(
        &[
            "user",
            "add",
            "carol",
            "--no-password",
            "--role",
            "ward-admin",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    let err = env.fails(
        &[
            "user",
            "add",
            "dave",
            "--no-password",
            "--role",
            "root",
            "--tenant",
            "ward",
        ],
        None,
    );
    assert!(err.contains("no role `root`"), "{err}");
    assert_eq!(
        env.count("SELECT COUNT(*) AS n FROM users WHERE username = 'dave'"),
        0
    );
}

per_backend!(the_first_administrator_is_created_with_its_role);

fn add_user_with(env: &TestEnv, args: &[&str]) -> String {
    let mut all = vec!["user", "add"];
    all.extend(args);
    all.extend(["--no-password", "--json"]);
    parse(&env.ok(&all, None))["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Wait until `check` holds, up to `limit`.
fn eventually(limit: Duration, mut check: impl FnMut() -> bool) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < limit {
        if check() {
            return Some(started.elapsed());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

/// Two Ward processes share one database: a change made by the `ward` CLI (its
/// own process) and one made by another in-process node reach a running node
/// through its background poll, without anyone telling it.
fn a_policy_change_reaches_every_node_within_seconds(backend: Backend) {
    let env = TestEnv::new(backend);
    let alice = add_user(&env, "alice");
    let node_a = AppContext::open(env.config(), OpenOptions { migrate: true }).unwrap();
    let node_b = AppContext::open(env.config(), OpenOptions { migrate: true }).unwrap();
    assert!(node_b.authz.roles(&alice, "st-mary").is_empty());

    // Node B runs its background task, as `ward serve` does.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sealer = {
        let _entered = rt.enter();
        ward::app::sealer::Sealer::spawn(node_b.clone())
    };

    // A grant by another OS process.
    change(&env, "grant", "alice", "nurse", "st-mary");
    let took = eventually(Duration::from_secs(5), || {
        node_b.authz.roles(&alice, "st-mary") == ["nurse"]
    });
    assert!(
        took.is_some(),
        "{backend:?}: node B never saw the CLI's grant"
    );
    assert!(node_b.authz.allowed(&alice, "st-mary", "ehr", "write"));

    // A grant and a revoke by node A.
    ward::manage::policy::grant(&node_a, "test", "alice", "auditor", "riverside").unwrap();
    assert_eq!(
        node_a.authz.roles(&alice, "riverside"),
        ["auditor"],
        "the changing node sees its change at once"
    );
    ward::manage::policy::revoke(&node_a, "test", &alice, "nurse", "st-mary").unwrap();
    let took = eventually(Duration::from_secs(5), || {
        node_b.authz.tenants(&alice) == ["riverside"]
    });
    assert!(
        took.is_some(),
        "{backend:?}: node B never saw node A's changes"
    );
    assert!(!node_b.authz.allowed(&alice, "st-mary", "ehr", "write"));
    assert_eq!(
        node_b.authz.permissions(&alice, "riverside"),
        ["audit:read"]
    );
    assert_eq!(node_b.authz.version(), node_a.authz.version());

    // Without the background task, one explicit poll does it.
    let node_c = AppContext::open(env.config(), OpenOptions { migrate: true }).unwrap();
    ward::manage::policy::grant(&node_a, "test", "alice", "patient", "st-mary").unwrap();
    assert!(node_c.authz.roles(&alice, "st-mary").is_empty());
    assert!(node_c.authz.reload_if_changed(&node_c.db).unwrap());
    assert_eq!(node_c.authz.roles(&alice, "st-mary"), ["patient"]);
    assert!(
        !node_c.authz.reload_if_changed(&node_c.db).unwrap(),
        "nothing new"
    );

    rt.block_on(sealer.shutdown());
}

per_backend!(a_policy_change_reaches_every_node_within_seconds);

/// Nodes starting together on an empty database: exactly one writes the seed.
fn concurrent_first_starts_seed_once(backend: Backend) {
    let env = TestEnv::new(backend);
    let config = env.config();
    std::fs::create_dir_all(env.data_dir()).unwrap();
    let db = ward::storage::Database::connect(&config.database, 8).unwrap();
    ward::storage::migrations::run_pending(&mut db.conn().unwrap()).unwrap();
    let seeded: Vec<bool> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..6)
            .map(|_| s.spawn(|| ward::manage::policy::seed_if_empty(&db, "test", 1).unwrap()))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        seeded.iter().filter(|s| **s).count(),
        1,
        "{backend:?}: {seeded:?}"
    );
    assert_eq!(version(&env), 1);
    assert_eq!(events(&env, "policy.seed", "success"), 1);
    let rules = ward::authz::rules::parse_csv(ward::authz::SEED_POLICY).unwrap();
    assert_eq!(
        env.count("SELECT COUNT(*) AS n FROM policy_rules"),
        rules.len() as i64
    );
}

per_backend!(concurrent_first_starts_seed_once);
