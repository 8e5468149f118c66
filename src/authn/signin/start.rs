//! How a sign-in ends well: a new session, and what accompanies it.

use super::{ACCOUNT, Browser, SignIn, risk::on_provider};
use crate::authn::deps::Deps;
use crate::authn::login::{self, LoginFailure};
use crate::crypto::secrets;
use crate::domain::records::{Client, User};
use crate::oidc::interaction;
use crate::risk::network;
use crate::session::{self, Authentication};
use crate::store::{SessionRow, SignInSeen};

/// Start the session of a finished sign-in and return its cookie value:
/// - a new session id every time (no fixation), and the browser's previous
///   session ended in the same transaction;
/// - the sign-in in progress consumed;
/// - a shared workstation (by address range, or the interaction's client)
///   gets the shorter idle timeout;
/// - the browser's device, network and location remembered for the risk
///   engine, and a new-device notice mailed when the browser is new for the user;
/// - the account's run of failed attempts ended.
pub async fn session(
    s: &SignIn<'_>,
    auth: &Authentication,
    username: &str,
) -> Result<String, LoginFailure> {
    let (deps, b) = (&s.deps, s.browser);
    let now = deps.now();
    let ip: Option<std::net::IpAddr> = b.ip.as_deref().and_then(|i| i.parse().ok());
    let shared = ip
        .is_some_and(|ip| network::contains_any(&deps.config.shared_workstation_networks, ip))
        || client_of(deps, s.interaction, &b.token)
            .await
            .is_some_and(|c| c.shared_workstation);
    let origin = session::Origin {
        ip: b.ip.clone(),
        user_agent: b.user_agent.clone(),
        device_hash: Some(b.device_hash()),
        shared_workstation: shared,
    };
    let (session_id, row) = session::start(auth, origin, now, &deps.config.session);
    let seen = SignInSeen {
        user_id: auth.user_id.to_string(),
        device_hash: b.device_hash(),
        network: ip.map(network::prefix),
        location: ip.and_then(|ip| deps.geo.as_ref().and_then(|g| g.lookup(ip))),
    };
    let event = login::success_event(auth, b.ip.clone(), b.user_agent.clone())
        .detail("sid", crate::oidc::tokens::sid(&row.id_hash));
    let previous = b.session.as_deref().map(session::id_of);
    let progress = b.progress.as_deref().map(secrets::hash);
    let new_device = deps
        .run(move |st| {
            st.create_session(&row, previous.as_ref(), &event)?;
            if let Some(p) = &progress {
                st.finish_progress(p)?;
            }
            Ok::<_, LoginFailure>(st.remember_sign_in(&seen, now)?)
        })
        .await?;
    login::reset_failures(deps, username).await?;
    if new_device && let Some(user) = login::user_by_id(deps, auth.user_id.as_str()).await? {
        let vars = serde_json::json!({
            "ip": b.ip.clone().unwrap_or_default(),
            "user_agent": b.user_agent.clone().unwrap_or_default(),
        });
        login::notify(deps, &user, "new_device_sign_in", vars);
    }
    Ok(session_id)
}

/// The live session of this browser and its active user.
pub async fn signed_in(
    deps: &Deps,
    b: &Browser,
) -> Result<Option<(SessionRow, User)>, LoginFailure> {
    let (cookie, limits) = (b.session.clone(), deps.config.session);
    let found = on_provider(deps, move |p| {
        interaction::current_session(p, cookie.as_deref(), limits)
    })
    .await?;
    Ok(found.filter(|(_, user)| user.status == crate::domain::UserStatus::Active))
}

/// The client of a live interaction of this browser (None for the account
/// pages' pseudo-interaction, or when it is gone).
pub async fn client_of(deps: &Deps, id: &str, browser_token: &str) -> Option<Client> {
    if id == ACCOUNT {
        return None;
    }
    let (id, token) = (id.to_string(), browser_token.to_string());
    on_provider(deps, move |p| {
        let Some(found) = interaction::load(p, &id, Some(&token))? else {
            return Ok(None);
        };
        Ok(p.store.client(&found.request.client_id)?)
    })
    .await
    .ok()
    .flatten()
}
