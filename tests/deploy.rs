//! What can be checked here of deploy/ (docs/deploy.md): the Kubernetes
//! manifests parse and hold what running N stateless pods safely needs, their
//! settings are settings Ward accepts, and the systemd unit passes
//! `systemd-analyze verify` with its hardening in place. The container image is
//! not built: no container engine runs on this machine or in CI.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use yaml_rust2::{Yaml, YamlLoader};

fn deploy(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("deploy")
        .join(path)
}

fn read(path: &str) -> String {
    std::fs::read_to_string(deploy(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The one document of a manifest file.
fn manifest(path: &str) -> Yaml {
    let mut docs = YamlLoader::load_from_str(&read(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert_eq!(docs.len(), 1, "{path}: one document per file");
    docs.remove(0)
}

fn text<'a>(y: &'a Yaml, what: &str) -> &'a str {
    y.as_str()
        .unwrap_or_else(|| panic!("{what}: not a string: {y:?}"))
}

/// Every file kustomization.yaml lists exists, and every manifest is listed.
#[test]
fn the_kustomization_lists_every_manifest() {
    let k = manifest("kubernetes/kustomization.yaml");
    let listed: Vec<&str> = k["resources"]
        .as_vec()
        .expect("resources")
        .iter()
        .map(|r| text(r, "resource"))
        .collect();
    let mut present: Vec<String> = std::fs::read_dir(deploy("kubernetes"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yaml") && n != "kustomization.yaml")
        .collect();
    present.sort();
    let mut sorted = listed.clone();
    sorted.sort();
    assert_eq!(sorted, present);
    for r in listed {
        let m = manifest(&format!("kubernetes/{r}"));
        assert!(m["apiVersion"].as_str().is_some(), "{r}: apiVersion");
        assert!(m["kind"].as_str().is_some(), "{r}: kind");
        assert_eq!(m["metadata"]["name"].as_str(), Some("ward"), "{r}: name");
    }
}

#[test]
fn pods_run_as_non_root_on_a_read_only_root_with_probes_and_the_key_from_a_secret() {
    let d = manifest("kubernetes/deployment.yaml");
    assert_eq!(text(&d["kind"], "kind"), "Deployment");
    assert!(d["spec"]["replicas"].as_i64().unwrap() >= 2, "several pods");
    let rolling = &d["spec"]["strategy"]["rollingUpdate"];
    assert_eq!(rolling["maxUnavailable"].as_i64(), Some(0));
    let pod = &d["spec"]["template"]["spec"];
    assert_eq!(pod["securityContext"]["runAsNonRoot"].as_bool(), Some(true));
    assert!(pod["securityContext"]["runAsUser"].as_i64().unwrap() > 0);
    assert_eq!(pod["automountServiceAccountToken"].as_bool(), Some(false));
    let containers = pod["containers"].as_vec().expect("containers");
    assert_eq!(containers.len(), 1);
    let c = &containers[0];
    let sc = &c["securityContext"];
    assert_eq!(sc["readOnlyRootFilesystem"].as_bool(), Some(true));
    assert_eq!(sc["allowPrivilegeEscalation"].as_bool(), Some(false));
    let dropped: Vec<&str> = sc["capabilities"]["drop"]
        .as_vec()
        .expect("capabilities.drop")
        .iter()
        .map(|v| text(v, "drop"))
        .collect();
    assert_eq!(dropped, ["ALL"]);

    // Probes on the routes Ward has (web/handlers/health.rs), on the named port.
    assert_eq!(text(&c["ports"][0]["name"], "port"), "http");
    assert_eq!(c["ports"][0]["containerPort"].as_i64(), Some(8080));
    for (probe, path) in [
        ("readinessProbe", "/readyz"),
        ("livenessProbe", "/healthz"),
        ("startupProbe", "/healthz"),
    ] {
        let get = &c[probe]["httpGet"];
        assert_eq!(get["path"].as_str(), Some(path), "{probe}");
        assert_eq!(get["port"].as_str(), Some("http"), "{probe}");
    }

    // The master key and the database URL come from the Secret, never inline.
    let env = c["env"].as_vec().expect("env");
    for (name, key) in [
        ("WARD_MASTER_KEY", "master-key"),
        ("WARD_DATABASE_URL", "database-url"),
    ] {
        let var = env
            .iter()
            .find(|v| v["name"].as_str() == Some(name))
            .unwrap_or_else(|| panic!("{name} not set"));
        assert!(var["value"].is_badvalue(), "{name} must not be inline");
        let secret = &var["valueFrom"]["secretKeyRef"];
        assert_eq!(secret["name"].as_str(), Some("ward"), "{name}");
        assert_eq!(secret["key"].as_str(), Some(key), "{name}");
    }

    // Measured requests (docs/deploy.md), and a memory limit above them.
    let res = &c["resources"];
    let request = mebibytes(text(&res["requests"]["memory"], "memory request"));
    let limit = mebibytes(text(&res["limits"]["memory"], "memory limit"));
    assert!(request >= 32 && limit > request, "{request} Mi, {limit} Mi");
    assert!(res["requests"]["cpu"].as_str().is_some());
    assert!(!read("kubernetes/deployment.yaml").contains("RESOURCES_MEASURED"));

    // The only writable paths are the mounted volumes.
    let mounts: Vec<&str> = c["volumeMounts"]
        .as_vec()
        .unwrap()
        .iter()
        .map(|m| text(&m["mountPath"], "mountPath"))
        .collect();
    assert!(mounts.contains(&"/var/lib/ward"), "{mounts:?}");
}

fn mebibytes(quantity: &str) -> i64 {
    let n = quantity
        .strip_suffix("Mi")
        .unwrap_or_else(|| panic!("memory in Mi: {quantity}"));
    n.parse().unwrap()
}

#[test]
fn a_disruption_budget_and_a_service_select_the_pods() {
    let d = manifest("kubernetes/deployment.yaml");
    let labels = &d["spec"]["template"]["metadata"]["labels"];
    assert_eq!(d["spec"]["selector"]["matchLabels"], *labels);

    let pdb = manifest("kubernetes/pdb.yaml");
    assert_eq!(text(&pdb["apiVersion"], "apiVersion"), "policy/v1");
    assert_eq!(text(&pdb["kind"], "kind"), "PodDisruptionBudget");
    assert_eq!(pdb["spec"]["selector"]["matchLabels"], *labels);
    let replicas = d["spec"]["replicas"].as_i64().unwrap();
    let may_go = pdb["spec"]["maxUnavailable"]
        .as_i64()
        .expect("maxUnavailable");
    assert!(
        may_go >= 1 && may_go < replicas,
        "a drain keeps pods serving"
    );

    let svc = manifest("kubernetes/service.yaml");
    assert_eq!(text(&svc["kind"], "kind"), "Service");
    for (k, v) in svc["spec"]["selector"].as_hash().unwrap() {
        assert_eq!(labels[text(k, "label")], *v);
    }
    assert_eq!(svc["spec"]["ports"][0]["targetPort"].as_str(), Some("http"));
}

/// The ConfigMap and the Secret's variables together are a configuration Ward
/// accepts (unknown `WARD_*` names are refused), for a PostgreSQL database.
#[test]
fn the_pod_environment_is_a_valid_ward_configuration() {
    let cm = manifest("kubernetes/configmap.yaml");
    let mut env: Vec<(String, String)> = cm["data"]
        .as_hash()
        .expect("data")
        .iter()
        .map(|(k, v)| (text(k, "key").to_string(), text(v, "value").to_string()))
        .collect();
    env.push((
        "WARD_DATABASE_URL".into(),
        "postgres://ward:secret@db.example.internal:5432/ward".into(),
    ));
    env.push((
        "WARD_MASTER_KEY".into(),
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=".into(),
    ));
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.toml");
    std::fs::write(&empty, "").unwrap();
    let config = ward::config::Config::load(Some(&empty), &env)
        .unwrap_or_else(|e| panic!("the ConfigMap is not a valid configuration: {e}"));
    assert!(config.database.is_postgres());
    assert!(config.issuer.starts_with("https://"));
}

/// `Key=value` lines of a unit file's sections (all values of repeated keys).
fn unit_values(unit: &str, key: &str) -> Vec<String> {
    unit.lines()
        .filter_map(|l| l.trim().split_once('='))
        .filter(|(k, _)| k.trim() == key)
        .map(|(_, v)| v.trim().to_string())
        .collect()
}

#[test]
fn the_systemd_unit_is_hardened() {
    let unit = read("systemd/ward.service");
    for (key, value) in [
        ("ProtectSystem", "strict"),
        ("NoNewPrivileges", "yes"),
        ("DynamicUser", "yes"),
        ("StateDirectory", "ward"),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
        ("PrivateDevices", "yes"),
        ("CapabilityBoundingSet", ""),
        ("RestrictSUIDSGID", "yes"),
        ("MemoryDenyWriteExecute", "yes"),
    ] {
        assert_eq!(unit_values(&unit, key), [value], "{key}");
    }
    assert_eq!(
        unit_values(&unit, "ExecStart"),
        ["/usr/local/bin/ward serve"]
    );
    // The master key arrives as a credential, read from $CREDENTIALS_DIRECTORY.
    assert_eq!(
        unit_values(&unit, "LoadCredential"),
        ["master.key:/etc/ward/master.key"]
    );
    // The unit's environment is a configuration Ward accepts.
    let env: Vec<(String, String)> = unit_values(&unit, "Environment")
        .iter()
        .filter_map(|v| v.split_once('='))
        .filter(|(k, _)| *k != "WARD_CONFIG")
        .map(|(k, v)| {
            (
                k.to_string(),
                v.replace("%d", "/run/credentials/ward.service"),
            )
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.toml");
    std::fs::write(&empty, "").unwrap();
    ward::config::Config::load(Some(&empty), &env)
        .unwrap_or_else(|e| panic!("the unit's environment is not a valid configuration: {e}"));
}

/// `systemd-analyze verify` on the unit as shipped, its ExecStart pointed at the
/// binary under test (verify checks that the program exists). It exits 0 even
/// on unknown keys and bad values, so any warning fails the test.
#[test]
fn the_systemd_unit_passes_systemd_analyze_verify() {
    if Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!(
            "skipped: systemd-analyze is not installed (.ci/run installs the systemd package)"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let unit = dir.path().join("ward.service");
    std::fs::write(
        &unit,
        read("systemd/ward.service").replace("/usr/local/bin/ward", common::ward_bin()),
    )
    .unwrap();
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&unit)
        .env("SYSTEMD_LOG_COLOR", "0")
        .output()
        .expect("systemd-analyze");
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Lines about other units on this machine are not the unit's business.
    let ours: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("ward.service"))
        .collect();
    assert!(out.status.success() && ours.is_empty(), "{stderr}");

    // The check can fail: a misspelt key and a bad value are reported.
    let bad = dir.path().join("bad.service");
    std::fs::write(
        &bad,
        read("systemd/ward.service")
            .replace("/usr/local/bin/ward", common::ward_bin())
            .replace("ProtectSystem=strict", "ProtectSystem=strictest")
            .replace("NoNewPrivileges=", "NoNewPrivilege="),
    )
    .unwrap();
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&bad)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("NoNewPrivilege") && stderr.contains("strictest"),
        "{stderr}"
    );
}

/// The container definition: multi-stage, a numeric non-root user, the probes'
/// routes, and nothing that would need a writable root.
#[test]
fn the_container_definition_runs_as_a_numeric_non_root_user() {
    let file = read("Containerfile");
    let froms = file.lines().filter(|l| l.starts_with("FROM ")).count();
    assert_eq!(froms, 2, "a build stage and a runtime stage");
    let user = file
        .lines()
        .rfind(|l| l.starts_with("USER "))
        .expect("USER");
    let uid: u32 = user[5..]
        .split(':')
        .next()
        .unwrap()
        .parse()
        .expect("numeric");
    assert!(uid >= 1000, "{user}");
    assert!(file.contains("HEALTHCHECK") && file.contains("/readyz"));
    assert!(file.contains("cargo build --release --locked"));
    // The Deployment runs the image's user.
    let d = manifest("kubernetes/deployment.yaml");
    assert_eq!(
        d["spec"]["template"]["spec"]["securityContext"]["runAsUser"].as_i64(),
        Some(uid as i64)
    );
}
