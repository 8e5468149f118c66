//! The sign-in's questions to the risk engine (docs/risk.md): its verdict on a
//! sign-in once the account is known, what it sees of the browser, and the
//! refusal a client hears.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::authn::login::Progress;
use crate::oidc::OAuthError;
use crate::web::WebState;
use crate::web::handlers::interaction;
use crate::web::oauth::call_on;
use crate::web::pages::{Browser, page};

/// The risk engine's verdict on a sign-in (docs/risk.md).
pub(crate) enum SignInRisk {
    Allow,
    /// More proof: at least this acr.
    StepUp(String),
    Deny,
}

/// Ask the risk engine about a sign-in whose account is known, with what its
/// interaction asks for. Audited when it changes the outcome: a refusal, or a
/// demand for more than the sign-in has proven so far.
pub(crate) async fn sign_in_risk(
    state: &WebState,
    b: &Browser,
    id: &str,
    progress: &Progress,
) -> Result<SignInRisk, OAuthError> {
    use crate::oidc::risk as judge;
    use crate::risk::Decision;
    let Some(user_id) = progress.user_id.clone() else {
        return Ok(SignInRisk::Allow);
    };
    let so_far = crate::authn::factors::assess(&progress.factors).acr;
    let (id, token, username) = (id.to_string(), b.token.clone(), progress.username.clone());
    let seen = seen(b);
    call_on(state, move |p| {
        let request = if id == interaction::ACCOUNT {
            None
        } else {
            crate::oidc::interaction::load(p, &id, Some(&token))?.map(|i| i.request)
        };
        let account = judge::Account {
            user_id: &user_id,
            username: &username,
        };
        let strong = judge::strong_auth_time(&so_far, p.now);
        let a = judge::assess(p, &seen, &account, strong, None, request.as_ref())?;
        let verdict = match &a.decision {
            Decision::Allow => SignInRisk::Allow,
            Decision::StepUp { acr, .. } => SignInRisk::StepUp(acr.to_string()),
            Decision::Deny => SignInRisk::Deny,
        };
        let changes = match &verdict {
            SignInRisk::Allow => false,
            SignInRisk::StepUp(acr) => !crate::domain::acr::acr_satisfies(&so_far, acr),
            SignInRisk::Deny => true,
        };
        if changes {
            let client = request.as_ref().map(|r| r.client_id.as_str());
            p.store
                .audit(judge::event(p.now, &seen, &user_id, client, &a, "sign_in"))?;
        }
        Ok(verdict)
    })
    .await
}

/// What the risk engine sees of this browser.
pub(crate) fn seen(b: &Browser) -> crate::oidc::risk::Seen {
    crate::oidc::risk::Seen {
        ip: b.ip.clone(),
        user_agent: b.user_agent.clone(),
        device_hash: Some(b.device_hash()),
    }
}

/// A sign-in the risk engine refused: the client hears `access_denied`; the
/// reasons are in the audit trail only.
pub(crate) async fn refuse(
    state: &web::Data<WebState>,
    req: &HttpRequest,
    b: &Browser,
    id: &str,
) -> HttpResponse {
    if id == interaction::ACCOUNT {
        return page(req, StatusCode::FORBIDDEN, REFUSED);
    }
    interaction::fail(state, req, id, &b.token, crate::oidc::risk::denied()).await
}

/// Shown when the risk policy refuses a sign-in to Ward's own pages.
pub(crate) const REFUSED: &str = "This sign-in was refused by the security policy. If you think this is a mistake, contact your administrator.";
