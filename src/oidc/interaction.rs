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
use super::store::{AuthRequestRow, SessionRow};
use crate::config::SessionLifetimes;
use crate::crypto::secrets;
use crate::session;
use crate::storage::clients::Client;
use crate::storage::users::User;

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
    limits: SessionLifetimes,
) -> Result<Option<(SessionRow, User)>, OAuthError> {
    let Some(cookie) = cookie else {
        return Ok(None);
    };
    let Some(row) = p.store.session(&secrets::hash(cookie))? else {
        return Ok(None);
    };
    if !session::is_live(&row, p.now, limits) {
        return Ok(None);
    }
    let Some(user) = p.store.user(&row.user_id)? else {
        return Ok(None);
    };
    if session::needs_touch(&row, p.now) {
        p.store.touch_session(&row.id_hash, p.now)?;
    }
    Ok(Some((row, user)))
}

/// Decide and act: issue a code, or store/continue an interaction.
pub fn proceed(
    p: &Provider,
    request: AuthorizationRequest,
    client: &Client,
    session: Option<&(SessionRow, User)>,
    browser_token: &str,
    existing: Option<(&str, &Interaction)>,
) -> Result<Step, AuthorizeError> {
    let page = |e: OAuthError| AuthorizeError::Page(e);
    let consented = match session {
        Some((_, user)) => p
            .store
            .consent(user.id.as_str(), &client.id)
            .map_err(|e| page(e.into()))?,
        None => None,
    };
    let next = authorize::next_step(
        p,
        &request,
        client,
        session.map(|(s, u)| (s, u)),
        consented.as_ref().map(|(s, at)| (s.as_slice(), *at)),
        existing.map(|(_, i)| i.created_at),
    )?;
    if next == Next::Issue {
        let (s, _) = session.ok_or_else(|| page(OAuthError::server_error()))?;
        let response =
            authorize::issue_code(p, &request, s, existing.map(|(_, i)| i.id_hash.as_str()))
                .map_err(|e| {
                    if e.code == "invalid_request" {
                        // A second submission of a completed sign-in: say so; nothing goes to the client.
                        AuthorizeError::Page(e)
                    } else {
                        AuthorizeError::Redirect(request.target().error(p.issuer, &e))
                    }
                })?;
        return Ok(Step::Respond(response));
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

/// Plain-language descriptions of scopes for the consent page.
pub fn describe_scope(scope: &str) -> String {
    match scope {
        "openid" => "Confirm who you are (your account identifier)".into(),
        "profile" => "See your name and username".into(),
        "email" => "See your email address".into(),
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
