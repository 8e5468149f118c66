//! Carrying an authorization request through sign-in and consent.
//!
//! A request the user must act on is stored server-side (an "interaction"),
//! bound to the browser that started it by the hash of a per-browser cookie.
//! Forms carry a CSRF token that is an HMAC of the interaction id under that
//! cookie: a page elsewhere can neither read the cookie nor compute the token.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::Provider;
use super::authorize::{self, AuthorizationRequest, AuthorizationResponse, AuthorizeError, Next};
use super::error::OAuthError;
use super::risk;
use crate::config::SessionPolicy;
use crate::crypto::secrets;
use crate::domain::records::Client;
use crate::domain::records::User;
use crate::session;
use crate::store::{AuthRequestRow, SessionRow};

/// How long a user has to finish signing in.
pub const LIFETIME_MS: i64 = 15 * 60 * 1000;

/// What to do after a step of the flow.
#[derive(Debug)]
pub enum Step {
    /// Send the authorization response (code or error) to the client.
    Respond(AuthorizationResponse),
    /// Show the login or consent page for this interaction id.
    Interact { interaction: String, next: Next },
}

/// A live interaction, checked against the browser presenting it.
pub struct Interaction {
    pub id_hash: String,
    pub request: AuthorizationRequest,
    pub created_at: i64,
}

pub fn csrf_token(browser_token: &str, interaction: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(browser_token.as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(interaction.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

pub fn csrf_ok(browser_token: &str, interaction: &str, presented: &str) -> bool {
    let Ok(bytes) = hex::decode(presented) else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(browser_token.as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(interaction.as_bytes());
    mac.verify_slice(&bytes).is_ok()
}

/// The stored interaction `id`, if it is live and belongs to this browser.
pub fn load(
    p: &Provider,
    id: &str,
    browser_token: Option<&str>,
) -> Result<Option<Interaction>, OAuthError> {
    let Some(browser) = browser_token else {
        return Ok(None);
    };
    let hash = secrets::hash(id);
    let Some(row) = p.store.auth_request(&hash, p.now)? else {
        return Ok(None);
    };
    if row.pushed
        || !row
            .browser_hash
            .as_deref()
            .is_some_and(|b| secrets::verify(browser, b))
    {
        return Ok(None);
    }
    let Ok(request) = serde_json::from_str(&row.params) else {
        return Ok(None);
    };
    Ok(Some(Interaction {
        id_hash: row.id_hash,
        request,
        created_at: row.created_at,
    }))
}

/// The live session behind a cookie, with its active user.
pub fn current_session(
    p: &Provider,
    cookie: Option<&str>,
    limits: SessionPolicy,
) -> Result<Option<(SessionRow, User)>, OAuthError> {
    let Some(cookie) = cookie else {
        return Ok(None);
    };
    let Some(row) = p.store.session(&session::id_of(cookie))? else {
        return Ok(None);
    };
    if let Err(expiry) = session::check(&row, p.now, &limits) {
        if expiry != session::Expiry::Ended {
            // A timed-out session ends now, so the clients it reached hear of
            // it (Back-Channel Logout 1.0 §2.7) even before the sweep finds it.
            session::end::end(
                p.store,
                (&row).into(),
                session::EndReason::TimedOut(expiry),
                &session::EndedBy::system(),
                p.now,
            )?;
        }
        return Ok(None);
    }
    let Some(user) = p.store.user(row.user_id.as_str())? else {
        return Ok(None);
    };
    if session::needs_touch(&row, p.now, &limits) {
        p.store.touch_session(&row.id_hash, p.now)?;
    }
    Ok(Some((row, user)))
}

/// Decide and act: issue a code, or store/continue an interaction. A
/// request answered from an existing session is judged by the risk engine
/// first (docs/risk.md), which may refuse it or raise what it needs.
pub fn proceed(
    p: &Provider,
    mut request: AuthorizationRequest,
    client: &Client,
    session: Option<&(SessionRow, User)>,
    browser_token: &str,
    existing: Option<(&str, &Interaction)>,
    seen: &risk::Seen,
) -> Result<Step, AuthorizeError> {
    let page = |e: OAuthError| AuthorizeError::Page(e);
    if let Some((s, user)) = session {
        let raised = judge_session(p, &mut request, s, user, seen)?;
        if raised && let Some((id, _)) = existing {
            // Keep the raised needs with the interaction: the sign-in pages
            // ask for them (docs/risk.md).
            let params =
                serde_json::to_string(&request).map_err(|_| page(OAuthError::server_error()))?;
            p.store
                .update_auth_request(&secrets::hash(id), &params)
                .map_err(|e| page(e.into()))?;
        }
    }
    let consented = match session {
        Some((_, user)) => p
            .store
            .consent(&user.id, &client.id)
            .map_err(|e| page(e.into()))?,
        None => None,
    };
    let next = authorize::next_step(
        p,
        &request,
        client,
        session.map(|(s, u)| (s, u)),
        consented.as_ref(),
        existing.map(|(_, i)| i.created_at),
    )?;
    if next == Next::Issue {
        let (s, user) = session.ok_or_else(|| page(OAuthError::server_error()))?;
        super::consent::imply_first_party(p, &user.id, client, &request, consented.as_ref())
            .map_err(page)?;
        return issue(
            p,
            &request,
            client,
            s,
            existing.map(|(_, i)| i.id_hash.as_str()),
        );
    }
    if let Some((id, _)) = existing {
        return Ok(Step::Interact {
            interaction: id.to_string(),
            next,
        });
    }
    let id = secrets::generate(32);
    p.store
        .save_auth_request(&AuthRequestRow {
            id_hash: secrets::hash(&id),
            client_id: client.id.clone(),
            params: serde_json::to_string(&request)
                .map_err(|_| page(OAuthError::server_error()))?,
            pushed: false,
            browser_hash: Some(secrets::hash(browser_token)),
            created_at: p.now,
            expires_at: p.now + LIFETIME_MS,
        })
        .map_err(|e| page(e.into()))?;
    Ok(Step::Interact {
        interaction: id,
        next,
    })
}

/// Issue the code for `request` from session `s` (the user is done).
fn issue(
    p: &Provider,
    request: &AuthorizationRequest,
    client: &Client,
    s: &SessionRow,
    interaction: Option<&str>,
) -> Result<Step, AuthorizeError> {
    let page = |e: OAuthError| AuthorizeError::Page(e);
    if client.shared_workstation && !s.shared_workstation {
        // A shared-workstation client's sessions get the short idle timeout.
        p.store
            .mark_session_shared(&s.id_hash)
            .map_err(|e| page(e.into()))?;
    }
    let response = authorize::issue_code(p, request, s, interaction).map_err(|e| {
        if e.code == "invalid_request" {
            // A second submission of a completed sign-in: say so; nothing goes to the client.
            AuthorizeError::Page(e)
        } else {
            AuthorizeError::Redirect(request.target().error(p.issuer, &e))
        }
    })?;
    Ok(Step::Respond(response))
}

/// Ask the risk engine about a request answered from `session`: refuse it
/// (`access_denied`, audited), or raise its needs (acr, max_age) and audit
/// when the session falls short of them. True if the request changed.
fn judge_session(
    p: &Provider,
    request: &mut AuthorizationRequest,
    session: &SessionRow,
    user: &User,
    seen: &risk::Seen,
) -> Result<bool, AuthorizeError> {
    let redirect = |e: OAuthError| AuthorizeError::Redirect(request.target().error(p.issuer, &e));
    let account = risk::Account {
        user_id: user.id.as_str(),
        username: &user.username,
    };
    let strong = risk::strong_auth_time(session.acr, session.auth_time);
    let assessment =
        risk::assess(p, seen, &account, strong, Some(session), Some(request)).map_err(redirect)?;
    let audit = |a: &crate::risk::RiskAssessment| {
        p.store
            .audit(risk::event(
                p.now,
                seen,
                user.id.as_str(),
                Some(&request.client_id),
                a,
                "authorize",
            ))
            .map_err(|e| redirect(e.into()))
    };
    match &assessment.decision {
        crate::risk::Decision::Allow => Ok(false),
        crate::risk::Decision::Deny => {
            audit(&assessment)?;
            Err(redirect(risk::denied()))
        }
        crate::risk::Decision::StepUp {
            acr,
            max_auth_age_seconds,
        } => {
            let short_acr = !session.acr.satisfies(*acr);
            let too_old = max_auth_age_seconds
                .is_some_and(|age| p.now - session.auth_time > i64::from(age) * 1000);
            if short_acr || too_old {
                audit(&assessment)?;
            }
            let mut raised = request.clone();
            let changed = risk::raise(&mut raised, &assessment.decision);
            *request = raised;
            Ok(changed)
        }
    }
}

/// One line of the consent page: the scope, what it means in plain
/// language, and whether the person may leave it out (SMART App Launch 2.2.0:
/// the user "may grant a subset" of the clinical scopes).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ConsentItem {
    pub scope: String,
    pub text: String,
    pub optional: bool,
}

/// The consent page's lines for the requested scopes, in the request's order.
pub fn consent_items(scopes: &[String]) -> Vec<ConsentItem> {
    scopes
        .iter()
        .map(|s| {
            let smart = crate::smart::scope::parse(s).ok();
            ConsentItem {
                scope: s.clone(),
                text: smart
                    .as_ref()
                    .and_then(crate::smart::describe::describe)
                    .unwrap_or_else(|| describe_scope(s)),
                optional: smart
                    .as_ref()
                    .is_some_and(crate::smart::describe::deselectable),
            }
        })
        .collect()
}

/// Plain-language descriptions of OpenID and API scopes for the consent page.
pub fn describe_scope(scope: &str) -> String {
    match scope {
        "openid" => "Confirm who you are (your account identifier)".into(),
        "profile" => {
            "See your name and username, and your date of birth, language and time zone if you gave them".into()
        }
        "email" => "See your email address".into(),
        "phone" => "See your phone number".into(),
        "address" => "See your postal address".into(),
        "offline_access" => {
            "Stay connected when you are not using it (until you revoke access)".into()
        }
        other => format!("Use the permission \u{201c}{other}\u{201d}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csrf_tokens_are_bound_to_browser_and_interaction() {
        let t = csrf_token("browser-a", "i1");
        assert!(csrf_ok("browser-a", "i1", &t));
        assert!(!csrf_ok("browser-b", "i1", &t));
        assert!(!csrf_ok("browser-a", "i2", &t));
        assert!(!csrf_ok("browser-a", "i1", "zz"));
    }
}
