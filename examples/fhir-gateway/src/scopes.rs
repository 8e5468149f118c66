//! SMART scopes as a resource server reads them from an access token's
//! `scope` claim (SMART App Launch 2.2.0 §"Scopes and Launch Context"). Only
//! the clinical scopes matter here; `openid`, `launch` and the rest are
//! ignored. v1 scopes are read through the guide's "Scope Equivalence":
//! `.read` = `.rs`, `.write` = `.cud`, `.*` = `.cruds`.

/// Whose data a scope reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compartment {
    /// Only the patient in the token's context.
    Patient,
    /// Whatever the user may see; the authorization server already narrowed
    /// the scope to the user's roles.
    User,
    /// A backend service, no user.
    System,
}

/// One clinical scope of a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub compartment: Compartment,
    /// None for `*` (every resource type).
    pub resource: Option<String>,
    /// The permission letters, a subset of `cruds`.
    pub permissions: String,
    /// A v2 query constraint (`?category=…`): the grant covers only searches
    /// that carry every one of these parameters with the same value.
    pub query: Vec<(String, String)>,
}

/// The clinical scopes in a `scope` claim; anything else is skipped, and a
/// malformed clinical scope is skipped too (it grants nothing).
pub fn parse(scope_claim: &str) -> Vec<Grant> {
    scope_claim.split(' ').filter_map(parse_one).collect()
}

fn parse_one(token: &str) -> Option<Grant> {
    let (compartment, rest) = match token.split_once('/')? {
        ("patient", rest) => (Compartment::Patient, rest),
        ("user", rest) => (Compartment::User, rest),
        ("system", rest) => (Compartment::System, rest),
        _ => return None,
    };
    let (resource, rest) = rest.split_once('.')?;
    let (permissions, query) = match rest.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (rest, None),
    };
    let permissions = match permissions {
        "read" => "rs".to_owned(),
        "write" => "cud".to_owned(),
        "*" => "cruds".to_owned(),
        letters if is_cruds(letters) => letters.to_owned(),
        _ => return None,
    };
    let query = match query {
        None => Vec::new(),
        Some(q) => q
            .split('&')
            .map(|pair| {
                pair.split_once('=')
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
            })
            .collect::<Option<Vec<_>>>()?,
    };
    Some(Grant {
        compartment,
        resource: (resource != "*").then(|| resource.to_owned()),
        permissions,
        query,
    })
}

/// `c r u d s`, in that order, each at most once, at least one.
fn is_cruds(letters: &str) -> bool {
    let mut order = "cruds".chars();
    !letters.is_empty() && letters.chars().all(|l| order.any(|o| o == l))
}

/// What a request wants to do with a resource type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interaction {
    Create,
    Read,
    Search,
}

impl Interaction {
    fn letter(self) -> char {
        match self {
            Interaction::Create => 'c',
            Interaction::Read => 'r',
            Interaction::Search => 's',
        }
    }
}

/// The grants that allow `interaction` on `resource_type`, given the search
/// parameters of the request (empty for a read or a create).
pub fn permitting<'a>(
    grants: &'a [Grant],
    resource_type: &str,
    interaction: Interaction,
    params: &[(String, String)],
) -> Vec<&'a Grant> {
    grants
        .iter()
        .filter(|g| g.resource.as_deref().is_none_or(|r| r == resource_type))
        .filter(|g| g.permissions.contains(interaction.letter()))
        .filter(|g| g.query.iter().all(|q| params.contains(q)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn v2_and_v1_scopes_are_read_and_the_rest_skipped() {
        let g =
            parse("openid launch patient/Observation.rs user/*.read system/Patient.sr bogus/x.r");
        assert_eq!(g.len(), 2, "{g:?}");
        assert_eq!(g[0].compartment, Compartment::Patient);
        assert_eq!(g[1].resource, None);
        assert_eq!(g[1].permissions, "rs");
    }

    #[test]
    fn a_grant_covers_its_type_letter_and_query() {
        let g = parse("patient/Observation.rs?category=laboratory user/Patient.r");
        let obs = |i, p: &[(&str, &str)]| permitting(&g, "Observation", i, &pairs(p)).len();
        assert_eq!(obs(Interaction::Search, &[("category", "laboratory")]), 1);
        assert_eq!(obs(Interaction::Search, &[("category", "vital-signs")]), 0);
        assert_eq!(
            obs(Interaction::Read, &[]),
            0,
            "a constrained scope never covers a read"
        );
        assert_eq!(permitting(&g, "Patient", Interaction::Read, &[]).len(), 1);
        assert_eq!(permitting(&g, "Patient", Interaction::Search, &[]).len(), 0);
        assert_eq!(permitting(&g, "Patient", Interaction::Create, &[]).len(), 0);
    }
}
