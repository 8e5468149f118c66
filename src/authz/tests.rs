//! The seed policy, role by role and tenant by tenant.

use super::rules::{Rule, parse_csv};
use super::{PolicyEngine, SEED_POLICY};

const ALICE: &str = "0a1b2c3d-0000-4000-8000-00000000000a";
const BOB: &str = "0a1b2c3d-0000-4000-8000-00000000000b";
const CAROL: &str = "0a1b2c3d-0000-4000-8000-00000000000c";

/// The seed plus the given assignments `(user, role, tenant)`.
fn engine(assignments: &[(&str, &str, &str)]) -> PolicyEngine {
    let mut rules = parse_csv(SEED_POLICY).expect("the seed policy is valid");
    rules.extend(
        assignments
            .iter()
            .map(|(u, r, t)| Rule::assignment(u, r, t)),
    );
    PolicyEngine::build(7, &rules).expect("the engine builds")
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// The permissions a user holding only `role` in `tenant` gets there, apart
/// from the FHIR ones (see [`fhir_permissions_of`]).
fn permissions_of(role: &str, tenant: &str) -> Vec<String> {
    without_fhir(engine(&[(ALICE, role, tenant)]).permissions(ALICE, tenant))
}

/// Only the `fhir:<Type>:<letter>` permissions (SMART scopes, docs/smart.md).
fn fhir_permissions_of(role: &str, tenant: &str) -> Vec<String> {
    let all = engine(&[(ALICE, role, tenant)]).permissions(ALICE, tenant);
    all.into_iter().filter(|p| p.starts_with("fhir:")).collect()
}

fn without_fhir(permissions: Vec<String>) -> Vec<String> {
    permissions
        .into_iter()
        .filter(|p| !p.starts_with("fhir:"))
        .collect()
}

#[test]
fn seed_has_no_assignments_and_no_wildcards() {
    let rules = parse_csv(SEED_POLICY).unwrap();
    assert!(rules.len() > 50, "{}", rules.len());
    assert!(rules.iter().all(|r| matches!(r, Rule::Permission { .. })));
    assert!(
        !SEED_POLICY
            .lines()
            .any(|l| !l.starts_with('#') && l.contains('*'))
    );
}

#[test]
fn one_user_with_different_roles_in_two_tenants() {
    let e = engine(&[
        (ALICE, "physician", "st-mary"),
        (ALICE, "receptionist", "riverside"),
    ]);
    assert_eq!(e.version(), 7);
    assert_eq!(e.tenants(ALICE), strings(&["riverside", "st-mary"]));
    assert_eq!(e.roles(ALICE, "st-mary"), strings(&["physician"]));
    assert_eq!(e.roles(ALICE, "riverside"), strings(&["receptionist"]));
    assert_eq!(
        without_fhir(e.permissions(ALICE, "st-mary")),
        strings(&[
            "ehr:read",
            "ehr:write",
            "emergency:elevate",
            "prescription:write",
            "schedule:read",
        ])
    );
    assert_eq!(
        without_fhir(e.permissions(ALICE, "riverside")),
        strings(&[
            "demographics:read",
            "demographics:write",
            "schedule:read",
            "schedule:write",
        ])
    );
    // Nothing crosses tenants: the physician's rights stay in st-mary.
    assert!(e.allowed(ALICE, "st-mary", "ehr", "write"));
    assert!(!e.allowed(ALICE, "riverside", "ehr", "read"));
    assert!(!e.allowed(ALICE, "riverside", "prescription", "write"));
    assert!(!e.allowed(ALICE, "st-mary", "demographics", "write"));
    assert!(e.roles(ALICE, "ward").is_empty());
    assert!(e.permissions(ALICE, "ward").is_empty());
}

#[test]
fn unknown_users_and_tenants_get_nothing() {
    let e = engine(&[(ALICE, "nurse", "st-mary")]);
    for (user, tenant) in [
        (BOB, "st-mary"),
        (BOB, "ward"),
        (ALICE, "nowhere"),
        // Casbin reads an empty filter value as "any": an empty id must not
        // collect every permission of the tenant.
        ("", "st-mary"),
        (ALICE, ""),
        ("*", "st-mary"),
    ] {
        assert!(e.roles(user, tenant).is_empty(), "{user}@{tenant}");
        assert!(e.permissions(user, tenant).is_empty(), "{user}@{tenant}");
        assert!(!e.allowed(user, tenant, "ehr", "read"), "{user}@{tenant}");
    }
    assert!(e.tenants(BOB).is_empty());
    // A request spelled with wildcards matches nothing: matching is exact.
    assert!(!e.allowed(ALICE, "st-mary", "*", "*"));
    assert!(!e.allowed(ALICE, "*", "ehr", "read"));
}

#[test]
fn each_hospital_role_grants_exactly_its_permissions() {
    for tenant in ["st-mary", "riverside"] {
        assert_eq!(
            permissions_of("patient", tenant),
            strings(&[
                "own-appointment:read",
                "own-appointment:write",
                "own-record:read",
            ]),
            "{tenant}"
        );
        assert_eq!(
            permissions_of("nurse", tenant),
            strings(&["ehr:read", "ehr:write", "schedule:read"]),
            "{tenant}"
        );
        assert_eq!(
            permissions_of("auditor", tenant),
            strings(&["audit:read"]),
            "{tenant}"
        );
        assert_eq!(
            permissions_of("admin", tenant),
            strings(&["roles:read", "roles:write", "users:read"]),
            "{tenant}"
        );
        assert_eq!(
            permissions_of("receptionist", tenant),
            strings(&[
                "demographics:read",
                "demographics:write",
                "schedule:read",
                "schedule:write",
            ]),
            "{tenant}"
        );
    }
    assert_eq!(
        permissions_of("emergency", "st-mary"),
        strings(&[
            "demographics:read",
            "ehr:read",
            "ehr:write",
            "prescription:write",
            "schedule:read",
            "schedule:write",
        ])
    );
    // The clinic has no emergency role, so nobody there can break the glass.
    assert!(permissions_of("emergency", "riverside").is_empty());
    assert!(!permissions_of("physician", "riverside").contains(&"emergency:elevate".to_string()));
}

#[test]
fn fhir_defaults_follow_the_clinical_roles() {
    for tenant in ["st-mary", "riverside"] {
        assert_eq!(
            fhir_permissions_of("nurse", tenant),
            strings(&[
                "fhir:Observation:c",
                "fhir:Observation:r",
                "fhir:Observation:s",
                "fhir:Patient:r",
                "fhir:Patient:s",
            ]),
            "{tenant}"
        );
        // Receptionists: patients and appointments, never an Observation.
        assert_eq!(
            fhir_permissions_of("receptionist", tenant),
            strings(&[
                "fhir:Appointment:c",
                "fhir:Appointment:r",
                "fhir:Appointment:s",
                "fhir:Appointment:u",
                "fhir:Patient:r",
                "fhir:Patient:s",
                "fhir:Patient:u",
            ]),
            "{tenant}"
        );
        assert_eq!(
            fhir_permissions_of("patient", tenant),
            strings(&[
                "fhir:Appointment:r",
                "fhir:Appointment:s",
                "fhir:Observation:r",
                "fhir:Observation:s",
                "fhir:Patient:r",
            ]),
            "{tenant}"
        );
        // Auditors and tenant administrators see no clinical data.
        assert!(fhir_permissions_of("auditor", tenant).is_empty());
        assert!(fhir_permissions_of("admin", tenant).is_empty());
    }
}

#[test]
fn least_privilege() {
    let e = engine(&[
        (ALICE, "receptionist", "st-mary"),
        (BOB, "nurse", "st-mary"),
        (CAROL, "admin", "st-mary"),
    ]);
    // Receptionists never see clinical data.
    assert!(!e.allowed(ALICE, "st-mary", "ehr", "write"));
    assert!(!e.allowed(ALICE, "st-mary", "ehr", "read"));
    assert!(e.allowed(ALICE, "st-mary", "schedule", "write"));
    // Nurses chart but do not prescribe or break the glass.
    assert!(e.allowed(BOB, "st-mary", "ehr", "write"));
    assert!(!e.allowed(BOB, "st-mary", "prescription", "write"));
    assert!(!e.allowed(BOB, "st-mary", "emergency", "elevate"));
    // A tenant administrator manages roles, not records, and not Ward itself.
    assert!(e.allowed(CAROL, "st-mary", "roles", "write"));
    assert!(!e.allowed(CAROL, "st-mary", "ehr", "read"));
    assert!(!e.allowed(CAROL, "ward", "roles", "write"));
    assert!(!e.allowed(CAROL, "riverside", "roles", "write"));
    // A read permission never implies the write.
    let patient = engine(&[(ALICE, "patient", "riverside")]);
    assert!(patient.allowed(ALICE, "riverside", "own-record", "read"));
    assert!(!patient.allowed(ALICE, "riverside", "own-record", "write"));
    assert!(!patient.allowed(ALICE, "riverside", "ehr", "read"));
}

#[test]
fn the_ward_domain_holds_wards_own_administration() {
    assert_eq!(
        permissions_of("ward-admin", "ward"),
        strings(&[
            "audit:read",
            "break-glass:review",
            "clients:read",
            "clients:write",
            "fhir-servers:read",
            "fhir-servers:write",
            "keys:read",
            "keys:write",
            "roles:read",
            "roles:write",
            "sessions:read",
            "sessions:write",
            "users:read",
            "users:write",
        ])
    );
    assert_eq!(
        permissions_of("auditor", "ward"),
        strings(&["audit:read", "break-glass:review"])
    );
    // Ward's administrator is no clinician anywhere.
    let e = engine(&[(ALICE, "ward-admin", "ward")]);
    assert_eq!(e.tenants(ALICE), strings(&["ward"]));
    for tenant in ["st-mary", "riverside"] {
        assert!(e.permissions(ALICE, tenant).is_empty());
        assert!(!e.allowed(ALICE, tenant, "ehr", "read"));
    }
    // A role that exists only elsewhere grants nothing in `ward`.
    let nurse = engine(&[(BOB, "nurse", "ward")]);
    assert_eq!(nurse.roles(BOB, "ward"), strings(&["nurse"]));
    assert!(nurse.permissions(BOB, "ward").is_empty());
}

#[test]
fn roles_inherit_within_their_tenant_only() {
    let mut rules = parse_csv(SEED_POLICY).unwrap();
    rules.push(Rule::assignment("charge-nurse", "nurse", "st-mary"));
    rules.push(Rule::permission(
        "charge-nurse",
        "st-mary",
        "schedule",
        "write",
    ));
    rules.push(Rule::assignment(ALICE, "charge-nurse", "st-mary"));
    rules.push(Rule::assignment(ALICE, "patient", "riverside"));
    let e = PolicyEngine::build(1, &rules).unwrap();
    assert_eq!(
        e.roles(ALICE, "st-mary"),
        strings(&["charge-nurse", "nurse"])
    );
    assert_eq!(
        without_fhir(e.permissions(ALICE, "st-mary")),
        strings(&["ehr:read", "ehr:write", "schedule:read", "schedule:write"])
    );
    assert_eq!(e.roles(ALICE, "riverside"), strings(&["patient"]));
    assert!(!e.allowed(ALICE, "riverside", "ehr", "read"));
}

#[test]
fn an_empty_engine_allows_nothing() {
    let e = PolicyEngine::empty().unwrap();
    assert_eq!(e.version(), -1);
    assert!(!e.allowed(ALICE, "ward", "users", "write"));
    assert!(e.tenants(ALICE).is_empty());
}

#[test]
fn a_client_holds_a_role_under_its_client_subject() {
    // An EHR allowed to launch SMART apps in st-mary (docs/smart.md).
    let text = "p, ehr-launcher, st-mary, smart, launch\ng, client:ehr-1, ehr-launcher, st-mary\n";
    let rules = parse_csv(text).unwrap();
    let e = PolicyEngine::build(1, &rules).unwrap();
    let ehr = super::client_subject(&crate::domain::ClientId::parse("ehr-1").unwrap());
    assert_eq!(ehr, "client:ehr-1");
    assert!(e.allowed(&ehr, "st-mary", "smart", "launch"));
    assert!(!e.allowed(&ehr, "riverside", "smart", "launch"));
    assert!(!e.allowed("ehr-1", "st-mary", "smart", "launch"));
    // Only an assignment's subject may name a client, and a valid one.
    for bad in [
        "g, client:, ehr-launcher, st-mary",
        "g, client:a b, ehr-launcher, st-mary",
        "g, ehr-launcher, client:ehr-1, st-mary",
        "p, client:ehr-1, st-mary, smart, launch",
    ] {
        assert!(parse_csv(bad).is_err(), "{bad}");
    }
}

/// SMART Backend Services: a client holds roles as `client:<client_id>`,
/// per tenant like a user, and its subject never matches a user's.
#[test]
fn a_client_holds_roles_in_its_tenant_only() {
    let svc = super::client_subject(&crate::domain::ClientId::parse("Lab.Feed-1").unwrap());
    assert_eq!(svc, "client:Lab.Feed-1");
    let e = engine(&[(&svc, "nurse", "st-mary"), (ALICE, "physician", "st-mary")]);
    assert_eq!(e.roles(&svc, "st-mary"), strings(&["nurse"]));
    assert!(e.allowed(&svc, "st-mary", "fhir:Observation", "r"));
    assert!(!e.allowed(&svc, "st-mary", "fhir:Observation", "u"));
    assert!(!e.allowed(&svc, "riverside", "fhir:Observation", "r"));
    assert_eq!(e.tenants(&svc), strings(&["st-mary"]));
    // Another client, or the bare id, holds nothing.
    assert!(e.permissions("client:lab.feed-1", "st-mary").is_empty());
    assert!(e.permissions("Lab.Feed-1", "st-mary").is_empty());
    assert!(e.permissions("client:", "st-mary").is_empty());
}
