//! What the user must still do before a code is issued: sign in (again, or
//! more strongly), confirm who they are, consent, or choose an organisation.

use super::{AuthorizationRequest, AuthorizeError};
use crate::clock::Millis;
use crate::domain::consent::ConsentRecord;
use crate::domain::records::Client;
use crate::domain::records::User;
use crate::domain::{Acr, UserStatus};
use crate::oidc::claims::ClaimsRequest;
use crate::oidc::error::OAuthError;
use crate::oidc::{Provider, consent, jwt, subject, tokens};
use crate::store::SessionRow;

/// The acr a request needs: its own requirement, the client's minimum and
/// the minimum of any scope it asks for (`scope_min_acr`), the strongest.
pub fn needed_acr(
    req: &AuthorizationRequest,
    client: &Client,
    scope_min_acr: &std::collections::BTreeMap<String, Acr>,
) -> Option<Acr> {
    use crate::domain::acr::stronger;
    let mut need = stronger(req.required_acr, client.min_acr);
    for scope in &req.scope {
        need = stronger(need, scope_min_acr.get(scope).copied());
    }
    need
}

/// What the user must still do before a code can be issued.
#[derive(Debug, Clone, PartialEq)]
pub enum Next {
    Login,
    Consent,
    /// The user belongs to several organisations and the client wants roles:
    /// the user chooses one.
    ChooseTenant,
    /// A shared workstation: whoever is at the keyboard confirms they are the
    /// session's user ("continue as …") or switches user.
    ConfirmUser,
    /// A standalone SMART launch needs a patient or an encounter that the
    /// user chooses on the picker (`oidc::smart_picker`).
    Pick(crate::smart::picker::Pick),
    Issue,
}

/// Decide the next step. `interaction_started`: when the user's interaction for
/// this request began; a login after it satisfies `prompt=login` and `max_age`.
pub fn next_step(
    p: &Provider,
    req: &AuthorizationRequest,
    client: &Client,
    session: Option<(&SessionRow, &User)>,
    consented: Option<&ConsentRecord>,
    interaction_started: Option<Millis>,
) -> Result<Next, AuthorizeError> {
    let redirect_err = |e: OAuthError| AuthorizeError::Redirect(req.target().error(p.issuer, &e));
    let fresh_login = |s: &SessionRow| interaction_started.is_some_and(|t| s.auth_time >= t);
    let needs_login = match session {
        None => true,
        Some((s, user)) => {
            user.status != UserStatus::Active
                || ((req.has_prompt("login") || req.has_prompt("select_account"))
                    && !fresh_login(s))
                || req.max_age.is_some_and(|max| {
                    p.now - s.auth_time > max.saturating_mul(1000) && !fresh_login(s)
                })
                || hint_names_someone_else(p, req, client, &user.id.to_string())
                // Step-up: the session is weaker than the client needs.
                || needed_acr(req, client, p.scope_min_acr)
                    .is_some_and(|need| !s.acr.satisfies(need))
        }
    };
    if needs_login {
        return if req.has_prompt("none") {
            Err(redirect_err(OAuthError::login_required(
                "the user must sign in",
            )))
        } else {
            Ok(Next::Login)
        };
    }
    // A session on a shared workstation is not assumed to belong to whoever
    // is at the keyboard now: unless they signed in during this interaction,
    // they confirm or switch user. prompt=none asks for no page: it gets a
    // code, as it would anywhere (the short idle timeout protects it).
    if let Some((s, _)) = session
        && (client.shared_workstation || s.shared_workstation)
        && !fresh_login(s)
        && !req.has_prompt("none")
        && req.confirmed_sid.as_deref() != Some(tokens::sid(&s.id_hash).as_str())
    {
        return Ok(Next::ConfirmUser);
    }
    // A standalone SMART launch's patient (and encounter), chosen before
    // consent so that the consent is for an app working on that record.
    if let Some((_, user)) = session
        && let Some(pick) = pick_step(p, req, user)?
    {
        return Ok(pick);
    }
    if needs_consent(req, client, consented, interaction_started) {
        return if req.has_prompt("none") {
            Err(redirect_err(OAuthError::consent_required(
                "the user must consent",
            )))
        } else {
            Ok(Next::Consent)
        };
    }
    if let Some((_, user)) = session
        && needs_tenant_choice(p, req, client, user.id.as_str())
    {
        return if req.has_prompt("none") {
            Err(redirect_err(OAuthError::interaction_required(
                "the user must choose an organisation (or send the tenant parameter)",
            )))
        } else {
            Ok(Next::ChooseTenant)
        };
    }
    Ok(Next::Issue)
}

/// OIDC Core §3.1.2.1: prompt=consent MUST ask, even when consent was given
/// before (and for first-party clients): only a consent given during this
/// interaction counts. Otherwise a first-party client needs none, and any
/// other needs a live consent that covers the scopes, the claims and the
/// client's current purpose (docs/privacy.md).
fn needs_consent(
    req: &AuthorizationRequest,
    client: &Client,
    consented: Option<&ConsentRecord>,
    interaction_started: Option<Millis>,
) -> bool {
    if req.has_prompt("consent") {
        return consented.is_none_or(|c| interaction_started.is_none_or(|t| c.given_at < t));
    }
    let wanted = consent::Wanted::of(req, client);
    !client.first_party && !consented.is_some_and(|c| consent::covers(c, client, &wanted))
}

/// The picker page a standalone SMART launch needs before consent, if any
/// (`oidc::smart_picker`); `interaction_required` for `prompt=none`, which
/// may show no page, and the picker's refusals, sent to the client.
fn pick_step(
    p: &Provider,
    req: &AuthorizationRequest,
    user: &User,
) -> Result<Option<Next>, AuthorizeError> {
    let redirect_err = |e: OAuthError| AuthorizeError::Redirect(req.target().error(p.issuer, &e));
    let Some(pick) =
        crate::oidc::smart_picker::needed(p, req, user.id.as_str()).map_err(redirect_err)?
    else {
        return Ok(None);
    };
    if req.has_prompt("none") {
        return Err(redirect_err(OAuthError::interaction_required(
            "the user must choose the patient (or encounter) for the app",
        )));
    }
    Ok(Some(Next::Pick(pick)))
}

/// The organisations a user may sign in to a client for (the reserved `ward`
/// domain only when asked for by name).
pub fn tenant_choices(p: &Provider, user_id: &str) -> Vec<String> {
    p.policy
        .tenants(user_id)
        .into_iter()
        .filter(|t| t != crate::authz::WARD_TENANT)
        .collect()
}

/// A choice is needed when the client wants roles (the `roles` scope, or
/// permission resources it may see), none was requested, and there are several.
fn needs_tenant_choice(
    p: &Provider,
    req: &AuthorizationRequest,
    client: &Client,
    user_id: &str,
) -> bool {
    let wants_roles = req.scope.iter().any(|s| s == "roles") || !client.authz_resources.is_empty();
    wants_roles && req.tenant.is_none() && tenant_choices(p, user_id).len() > 1
}

/// An `id_token_hint` for another user means the current session is not the one wanted.
fn hint_names_someone_else(
    p: &Provider,
    req: &AuthorizationRequest,
    client: &Client,
    user_id: &str,
) -> bool {
    // OIDC Core §5.5.1: a `sub` with a value may be answered only for that
    // user, as this client knows them (§8: perhaps pairwise).
    if req
        .claims
        .as_ref()
        .and_then(ClaimsRequest::required_sub)
        .is_some_and(|sub| !subject::names(p, client, sub, user_id))
    {
        return true;
    }
    let Some(hint) = &req.id_token_hint else {
        return false;
    };
    let Some(decoded) = jwt::decode(hint) else {
        return true;
    };
    let ours = decoded
        .kid()
        .and_then(|k| p.keys.verifier(k))
        .is_some_and(|v| decoded.verify(v));
    // Expired hints are fine (OIDC Core §3.1.2.1); forged or foreign ones are
    // not trusted. The hint's `sub` is the one its audience sees (§8); a
    // store that does not answer makes it count as someone else's.
    !ours || !subject::hint_names(p, &decoded.claims, user_id).unwrap_or(false)
}
