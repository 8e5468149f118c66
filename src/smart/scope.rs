//! SMART on FHIR scopes, parsed into typed values at the edge.
//!
//! SMART App Launch 2.2.0, "Scopes and Launch Context":
//!
//! ```text
//! clinical  = ( "patient" | "user" | "system" ) "/" ( ResourceType | "*" )
//!             "." ( permissions | "read" | "write" | "*" ) [ "?" query ]
//! permissions = [ "c" ] [ "r" ] [ "u" ] [ "d" ] [ "s" ]   (at least one, in this order)
//! ```
//!
//! The v1 forms (`.read`, `.write`, `.*`) map to their v2 equivalents
//! (`.rs`, `.cud`, `.cruds`: §"Scope Equivalence"); a v1 scope keeps its
//! spelling so that the token response can say exactly what was granted in the
//! words the client used. A query (`?category=…`) is allowed on v2 scopes only:
//! v1 had none, and the guide defines finer-grained constraints as a v2 feature.
//!
//! Everything that is not a clinical scope or one of SMART's fixed scopes is
//! [`Scope::Other`] (OpenID Connect's `email`, a client's own API scope): this
//! module does not decide whether a client may ask for it.

use std::fmt;

/// Whose data a clinical scope reaches (§"Clinical Scope Syntax").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Compartment {
    /// The patient in context (`patient/`): never more than one record.
    Patient,
    /// Whatever the signed-in user may see (`user/`).
    User,
    /// A backend service without a user (`system/`): client_credentials only.
    System,
}

impl Compartment {
    pub fn as_str(self) -> &'static str {
        match self {
            Compartment::Patient => "patient",
            Compartment::User => "user",
            Compartment::System => "system",
        }
    }
}

/// A FHIR resource type, or `*` for every type.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Resource {
    Any,
    Type(String),
}

impl Resource {
    /// Whether this (requested) resource falls within `allowed`.
    pub fn within(&self, allowed: &Resource) -> bool {
        match (self, allowed) {
            (_, Resource::Any) => true,
            (Resource::Type(a), Resource::Type(b)) => a == b,
            (Resource::Any, Resource::Type(_)) => false,
        }
    }
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Resource::Any => f.write_str("*"),
            Resource::Type(t) => f.write_str(t),
        }
    }
}

/// A set of the five FHIR interactions SMART v2 names: create, read,
/// update, delete, search. Stored as bits in `cruds` order (c is the high bit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Permissions(u8);

impl Permissions {
    /// The letters in the one order the grammar allows.
    pub const LETTERS: [char; 5] = ['c', 'r', 'u', 'd', 's'];
    pub const NONE: Permissions = Permissions(0);
    pub const ALL: Permissions = Permissions(0b11111);
    /// v1 `.read`: read and search.
    pub const READ: Permissions = Permissions(0b01001);
    /// v1 `.write`: create, update and delete.
    pub const WRITE: Permissions = Permissions(0b10110);

    fn bit(letter: char) -> Option<u8> {
        Self::LETTERS
            .iter()
            .position(|&l| l == letter)
            .map(|i| 1 << (4 - i))
    }

    /// Parses a v2 permission string: at least one letter, in `cruds` order,
    /// none repeated.
    pub fn parse_v2(text: &str) -> Option<Permissions> {
        let mut bits = 0u8;
        let mut last: Option<u8> = None;
        for letter in text.chars() {
            let bit = Self::bit(letter)?;
            // Bits fall as the letters advance; a letter at or before the last
            // one seen is out of order or repeated.
            if last.is_some_and(|l| bit >= l) {
                return None;
            }
            bits |= bit;
            last = Some(bit);
        }
        (bits != 0).then_some(Permissions(bits))
    }

    pub fn contains(self, other: Permissions) -> bool {
        self.0 & other.0 == other.0
    }

    pub fn intersect(self, other: Permissions) -> Permissions {
        Permissions(self.0 & other.0)
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The single letters in this set, in `cruds` order (the actions of the
    /// Casbin policy's `fhir:` resources).
    pub fn letters(self) -> impl Iterator<Item = char> {
        Self::LETTERS
            .into_iter()
            .filter(move |&l| Self::bit(l).is_some_and(|b| self.0 & b != 0))
    }

    pub fn from_letters(letters: impl IntoIterator<Item = char>) -> Permissions {
        Permissions(
            letters
                .into_iter()
                .filter_map(Self::bit)
                .fold(0, |acc, b| acc | b),
        )
    }
}

impl fmt::Display for Permissions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.letters().try_for_each(|l| write!(f, "{l}"))
    }
}

/// Which grammar a clinical scope was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Syntax {
    /// `read`, `write` or `*` (SMART 1).
    V1,
    /// `cruds` letters (SMART 2).
    V2,
}

/// `patient/Observation.rs?category=…` and its kin.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClinicalScope {
    pub compartment: Compartment,
    pub resource: Resource,
    pub permissions: Permissions,
    /// `name=value` constraints, in the order written; v2 only.
    pub query: Vec<(String, String)>,
    pub syntax: Syntax,
}

impl ClinicalScope {
    /// The part of this (requested) scope that `allowed` covers: the same
    /// compartment, a resource within the allowed one, the shared permissions,
    /// and every constraint of `allowed` kept (a request may narrow a
    /// registered scope with a query, never widen it). `None` when nothing is
    /// left. The result keeps the request's spelling where it is unchanged.
    pub fn within(&self, allowed: &ClinicalScope) -> Option<ClinicalScope> {
        if self.compartment != allowed.compartment || !self.resource.within(&allowed.resource) {
            return None;
        }
        if !allowed.query.iter().all(|c| self.query.contains(c)) {
            return None;
        }
        let permissions = self.permissions.intersect(allowed.permissions);
        if permissions.is_empty() {
            return None;
        }
        Some(self.with_permissions(permissions))
    }

    /// This scope with fewer permissions. A v1 scope whose permissions are no
    /// longer exactly `read`, `write` or `*` is written in v2 form.
    pub fn with_permissions(&self, permissions: Permissions) -> ClinicalScope {
        let syntax = match self.syntax {
            Syntax::V1 if v1_word(permissions).is_none() => Syntax::V2,
            s => s,
        };
        ClinicalScope {
            permissions,
            syntax,
            ..self.clone()
        }
    }
}

fn v1_word(p: Permissions) -> Option<&'static str> {
    match p {
        Permissions::READ => Some("read"),
        Permissions::WRITE => Some("write"),
        Permissions::ALL => Some("*"),
        _ => None,
    }
}

impl fmt::Display for ClinicalScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}.", self.compartment.as_str(), self.resource)?;
        match (self.syntax, v1_word(self.permissions)) {
            (Syntax::V1, Some(word)) => f.write_str(word)?,
            _ => write!(f, "{}", self.permissions)?,
        }
        for (i, (name, value)) in self.query.iter().enumerate() {
            write!(f, "{}{name}={value}", if i == 0 { '?' } else { '&' })?;
        }
        Ok(())
    }
}

/// One scope of a SMART request.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    Clinical(ClinicalScope),
    /// `launch`: the EHR launch's context, bound by the `launch` parameter.
    Launch,
    /// `launch/patient`: pick a patient at a standalone launch.
    LaunchPatient,
    /// `launch/encounter`: pick an encounter at a standalone launch.
    LaunchEncounter,
    OpenId,
    FhirUser,
    Profile,
    OfflineAccess,
    OnlineAccess,
    /// Any other scope token (RFC 6749 §3.3 `scope-token`).
    Other(String),
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Scope::Clinical(c) => return c.fmt(f),
            Scope::Launch => "launch",
            Scope::LaunchPatient => "launch/patient",
            Scope::LaunchEncounter => "launch/encounter",
            Scope::OpenId => "openid",
            Scope::FhirUser => "fhirUser",
            Scope::Profile => "profile",
            Scope::OfflineAccess => "offline_access",
            Scope::OnlineAccess => "online_access",
            Scope::Other(s) => s,
        })
    }
}

/// Why a scope token is not a valid SMART scope; the token endpoint and the
/// authorization endpoint answer it with `invalid_scope` (RFC 6749 §5.2, §4.1.2.1).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScopeError {
    #[error(
        "scope {0:?}: a FHIR scope is compartment/Resource.permissions, e.g. patient/Observation.rs"
    )]
    Malformed(String),
    #[error("scope {0:?}: the resource type is not a FHIR resource type name")]
    ResourceType(String),
    #[error(
        "scope {0:?}: permissions are letters from cruds, in that order, each at most once (or read, write, *)"
    )]
    Permissions(String),
    #[error("scope {0:?}: the query must be name=value pairs joined by &, on a v2 scope")]
    Query(String),
}

/// Parses one scope token.
pub fn parse(token: &str) -> Result<Scope, ScopeError> {
    Ok(match token {
        "launch" => Scope::Launch,
        "launch/patient" => Scope::LaunchPatient,
        "launch/encounter" => Scope::LaunchEncounter,
        "openid" => Scope::OpenId,
        "fhirUser" => Scope::FhirUser,
        "profile" => Scope::Profile,
        "offline_access" => Scope::OfflineAccess,
        "online_access" => Scope::OnlineAccess,
        _ => match clinical_compartment(token) {
            Some((compartment, rest)) => Scope::Clinical(parse_clinical(token, compartment, rest)?),
            None => Scope::Other(token.to_owned()),
        },
    })
}

/// Parses a space-separated scope string (RFC 6749 §3.3), keeping the order
/// and dropping repeats.
pub fn parse_all(scope: &str) -> Result<Vec<Scope>, ScopeError> {
    let mut out: Vec<Scope> = Vec::new();
    for token in scope.split(' ').filter(|t| !t.is_empty()) {
        let parsed = parse(token)?;
        if !out.contains(&parsed) {
            out.push(parsed);
        }
    }
    Ok(out)
}

/// Joins scopes back into a scope string.
pub fn to_string(scopes: &[Scope]) -> String {
    scopes
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

fn clinical_compartment(token: &str) -> Option<(Compartment, &str)> {
    let (head, rest) = token.split_once('/')?;
    let compartment = match head {
        "patient" => Compartment::Patient,
        "user" => Compartment::User,
        "system" => Compartment::System,
        _ => return None,
    };
    Some((compartment, rest))
}

fn parse_clinical(
    token: &str,
    compartment: Compartment,
    rest: &str,
) -> Result<ClinicalScope, ScopeError> {
    let malformed = || ScopeError::Malformed(token.to_owned());
    let (body, query) = match rest.split_once('?') {
        Some((body, query)) => (body, Some(query)),
        None => (rest, None),
    };
    let (resource, permissions) = body.split_once('.').ok_or_else(malformed)?;
    let resource = match resource {
        "*" => Resource::Any,
        name if is_resource_type(name) => Resource::Type(name.to_owned()),
        "" => return Err(malformed()),
        _ => return Err(ScopeError::ResourceType(token.to_owned())),
    };
    let (permissions, syntax) = match permissions {
        "read" => (Permissions::READ, Syntax::V1),
        "write" => (Permissions::WRITE, Syntax::V1),
        "*" => (Permissions::ALL, Syntax::V1),
        letters => (
            Permissions::parse_v2(letters)
                .ok_or_else(|| ScopeError::Permissions(token.to_owned()))?,
            Syntax::V2,
        ),
    };
    let query = match query {
        None => Vec::new(),
        Some(_) if syntax == Syntax::V1 => return Err(ScopeError::Query(token.to_owned())),
        Some(q) => parse_query(q).ok_or_else(|| ScopeError::Query(token.to_owned()))?,
    };
    Ok(ClinicalScope {
        compartment,
        resource,
        permissions,
        query,
        syntax,
    })
}

/// FHIR resource type names are an upper-case letter followed by letters
/// (FHIR R4 §2.1.3 "Resource names"); anything else cannot name a resource.
pub fn is_resource_type(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_uppercase())
        && chars.all(|c| c.is_ascii_alphabetic())
        && name.len() <= 64
}

fn parse_query(query: &str) -> Option<Vec<(String, String)>> {
    query
        .split('&')
        .map(|pair| {
            let (name, value) = pair.split_once('=')?;
            let name_ok = !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.'));
            (name_ok && !value.is_empty()).then(|| (name.to_owned(), value.to_owned()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clinical(s: &str) -> ClinicalScope {
        match parse(s).unwrap() {
            Scope::Clinical(c) => c,
            other => panic!("{s} parsed as {other:?}"),
        }
    }

    #[test]
    fn v2_scopes_parse_into_their_parts() {
        let c = clinical("patient/Observation.rs");
        assert_eq!(c.compartment, Compartment::Patient);
        assert_eq!(c.resource, Resource::Type("Observation".into()));
        assert_eq!(c.permissions.to_string(), "rs");
        assert!(c.query.is_empty());
        assert_eq!(c.syntax, Syntax::V2);

        let c = clinical("user/*.cruds");
        assert_eq!(c.resource, Resource::Any);
        assert_eq!(c.permissions, Permissions::ALL);

        let c = clinical(
            "patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory",
        );
        assert_eq!(
            c.query,
            vec![(
                "category".to_string(),
                "http://terminology.hl7.org/CodeSystem/observation-category|laboratory".to_string()
            )]
        );
    }

    #[test]
    fn permissions_must_be_in_cruds_order_without_repeats() {
        for bad in ["rc", "rr", "sr", "x", "", "cruds ", "cRuds", "crudsc"] {
            assert_eq!(Permissions::parse_v2(bad), None, "{bad:?}");
        }
        for good in ["c", "r", "rs", "cud", "cruds", "ds"] {
            assert_eq!(Permissions::parse_v2(good).unwrap().to_string(), good);
        }
        assert!(matches!(
            parse("patient/Observation.sr"),
            Err(ScopeError::Permissions(_))
        ));
    }

    #[test]
    fn v1_scopes_map_to_their_v2_equivalents_and_keep_their_spelling() {
        assert_eq!(clinical("patient/*.read").permissions.to_string(), "rs");
        assert_eq!(
            clinical("user/Patient.write").permissions.to_string(),
            "cud"
        );
        assert_eq!(clinical("system/*.*").permissions, Permissions::ALL);
        for s in ["patient/*.read", "user/Patient.write", "system/*.*"] {
            assert_eq!(clinical(s).to_string(), s);
            assert_eq!(clinical(s).syntax, Syntax::V1);
        }
        // A v1 scope has no query.
        assert!(matches!(
            parse("patient/Observation.read?category=x"),
            Err(ScopeError::Query(_))
        ));
    }

    #[test]
    fn malformed_clinical_scopes_are_errors_not_other_scopes() {
        for bad in [
            "patient/Observation",
            "patient/.rs",
            "patient/observation.rs",
            "patient/Obs-ervation.rs",
            "user/Observation.rs?",
            "user/Observation.rs?category",
            "user/Observation.rs?=x",
            "user/Observation.rs?a=1&",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn fixed_and_other_scopes() {
        let all = parse_all("openid fhirUser launch launch/patient launch/encounter profile offline_access online_access email api:read launch").unwrap();
        assert_eq!(
            all,
            vec![
                Scope::OpenId,
                Scope::FhirUser,
                Scope::Launch,
                Scope::LaunchPatient,
                Scope::LaunchEncounter,
                Scope::Profile,
                Scope::OfflineAccess,
                Scope::OnlineAccess,
                Scope::Other("email".into()),
                Scope::Other("api:read".into()),
            ]
        );
        assert_eq!(
            to_string(&all),
            "openid fhirUser launch launch/patient launch/encounter profile offline_access online_access email api:read"
        );
        // `launch/other` is not a SMART scope the server knows: an ordinary token.
        assert_eq!(
            parse("launch/other").unwrap(),
            Scope::Other("launch/other".into())
        );
    }

    #[test]
    fn a_request_narrows_to_what_is_allowed() {
        let allowed = clinical("patient/*.rs");
        let got = clinical("patient/Observation.cruds")
            .within(&allowed)
            .unwrap();
        assert_eq!(got.to_string(), "patient/Observation.rs");

        // Another compartment, or a resource outside the allowed one: nothing.
        assert_eq!(clinical("user/Observation.rs").within(&allowed), None);
        assert_eq!(
            clinical("patient/*.rs").within(&clinical("patient/Observation.rs")),
            None
        );
        // No shared permission: nothing.
        assert_eq!(clinical("patient/Observation.c").within(&allowed), None);

        // A registered constraint must be kept by the request.
        let labs = clinical("patient/Observation.rs?category=laboratory");
        assert_eq!(clinical("patient/Observation.rs").within(&labs), None);
        assert_eq!(
            clinical("patient/Observation.rs?category=laboratory")
                .within(&labs)
                .unwrap()
                .to_string(),
            "patient/Observation.rs?category=laboratory"
        );
        // A request may add its own constraint to an unconstrained registration.
        assert!(labs.within(&allowed).is_some());

        // v1 spelling survives when the permissions do; otherwise v2 letters.
        assert_eq!(
            clinical("patient/*.read")
                .within(&allowed)
                .unwrap()
                .to_string(),
            "patient/*.read"
        );
        assert_eq!(
            clinical("patient/*.*")
                .within(&allowed)
                .unwrap()
                .to_string(),
            "patient/*.read"
        );
        assert_eq!(
            clinical("patient/*.*")
                .within(&clinical("patient/*.r"))
                .unwrap()
                .to_string(),
            "patient/*.r"
        );
    }

    #[test]
    fn permission_letters_round_trip() {
        let p = Permissions::from_letters("sdr".chars());
        assert_eq!(p.to_string(), "rds");
        assert_eq!(p.letters().collect::<String>(), "rds");
        assert!(Permissions::ALL.contains(p));
        assert!(!p.contains(Permissions::WRITE));
    }
}
