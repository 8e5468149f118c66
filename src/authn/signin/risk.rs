//! The sign-in's question to the risk engine (docs/risk.md): its verdict on a
//! sign-in once the account is known, given what its interaction asks for.

use super::{ACCOUNT, Browser, Progress, Risk, SignIn};
use crate::authn::deps::Deps;
use crate::authn::factors;
use crate::authn::login::LoginFailure;
use crate::oidc::risk::{self as judge, Seen};
use crate::oidc::{OAuthError, Provider};

/// What the risk engine sees of this browser.
pub fn seen(b: &Browser) -> Seen {
    Seen {
        ip: b.ip.clone(),
        user_agent: b.user_agent.clone(),
        device_hash: Some(b.device_hash()),
    }
}

/// Ask the risk engine about a sign-in whose account is known. Audited when
/// it changes the outcome: a refusal, or a demand for more than the sign-in
/// has proven so far.
pub async fn judge(s: &SignIn<'_>, progress: &Progress) -> Result<Risk, LoginFailure> {
    let Some(user_id) = progress.user_id.clone() else {
        return Ok(Risk::Allow);
    };
    let so_far = factors::assess(&progress.factors).acr;
    let (id, token) = (s.interaction.to_string(), s.browser.token.clone());
    let (username, seen) = (progress.username.clone(), seen(s.browser));
    on_provider(&s.deps, move |p| {
        let request = if id == ACCOUNT {
            None
        } else {
            crate::oidc::interaction::load(p, &id, Some(&token))?.map(|i| i.request)
        };
        let account = judge::Account {
            user_id: user_id.as_str(),
            username: &username,
        };
        let strong = judge::strong_auth_time(so_far, p.now);
        let a = judge::assess(p, &seen, &account, strong, None, request.as_ref())?;
        let verdict = match &a.decision {
            crate::risk::Decision::Allow => Risk::Allow,
            crate::risk::Decision::StepUp { acr, .. } => Risk::StepUp(*acr),
            crate::risk::Decision::Deny => Risk::Deny,
        };
        let changes = match &verdict {
            Risk::Allow => false,
            Risk::StepUp(acr) => !so_far.satisfies(*acr),
            Risk::Deny => true,
        };
        if changes {
            let client = request.as_ref().map(|r| &r.client_id);
            p.store.audit(judge::event(
                p.now,
                &seen,
                user_id.as_str(),
                client,
                &a,
                "sign_in",
            ))?;
        }
        Ok(verdict)
    })
    .await
}

/// Run protocol-core work (it reads and writes the database) on the
/// blocking pool; any failure is `Unavailable` to the sign-in.
pub(super) async fn on_provider<T, F>(deps: &Deps, f: F) -> Result<T, LoginFailure>
where
    F: FnOnce(&Provider) -> Result<T, OAuthError> + Send + 'static,
    T: Send + 'static,
{
    let deps = deps.clone();
    tokio::task::spawn_blocking(move || f(&deps.provider()))
        .await
        .map_err(|_| LoginFailure::Unavailable)?
        .map_err(|_| LoginFailure::Unavailable)
}
