//! How a sign-in ends well: a new session, and what accompanies it.

use super::{ACCOUNT, Browser, SignIn, risk::on_provider};
use crate::authn::login::{self, LoginFailure};
use crate::context::AppContext;
use crate::crypto::secrets;
use crate::oidc::interaction;
use crate::risk::network;
use crate::session::{self, Authentication};
use crate::storage::{self, users::User};
use crate::store::{SessionRow, SessionStore};

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
    let (ctx, b) = (s.app, s.browser);
    let now = ctx.clock.now_ms();
    let ip: Option<std::net::IpAddr> = b.ip.as_deref().and_then(|i| i.parse().ok());
    let shared = ip
        .is_some_and(|ip| network::contains_any(&ctx.config.shared_workstation_networks, ip))
        || client_of(ctx, s.interaction, &b.token)
            .await
            .is_some_and(|c| c.shared_workstation);
    let origin = session::Origin {
        ip: b.ip.clone(),
        user_agent: b.user_agent.clone(),
        device_hash: Some(b.device_hash()),
        shared_workstation: shared,
    };
    let (session_id, row) = session::start(auth, origin, now, &ctx.config.session);
    let network = ip.map(network::prefix);
    let location = ip.and_then(|ip| ctx.geo.as_ref().and_then(|g| g.lookup(ip)));
    let event = login::success_event(auth, b.ip.clone(), b.user_agent.clone())
        .detail("sid", crate::oidc::tokens::sid(&row.id_hash));
    let previous = b.session.as_deref().map(secrets::hash);
    let progress = b.progress.as_deref().map(secrets::hash);
    let (device, uid) = (b.device_hash(), auth.user_id.clone());
    let new_device = ctx
        .db
        .run(move |db| {
            db.create_session(&row, previous.as_deref(), &event)
                .map_err(|_| LoginFailure::Unavailable)?;
            let mut c = db.conn()?;
            if let Some(p) = &progress {
                storage::login_progress::finish(&mut c, p)?;
            }
            let new_device = storage::login_progress::note_device(&mut c, &uid, &device, now)?;
            storage::risk_history::remember(&mut c, &uid, network.as_deref(), location, now)?;
            Ok::<_, LoginFailure>(new_device)
        })
        .await?;
    login::reset_failures(ctx, username).await?;
    if new_device && let Some(user) = login::user_by_id(ctx, &auth.user_id).await? {
        let vars = serde_json::json!({
            "ip": b.ip.clone().unwrap_or_default(),
            "user_agent": b.user_agent.clone().unwrap_or_default(),
        });
        login::notify(ctx, &user, "new_device_sign_in", vars);
    }
    Ok(session_id)
}

/// The live session of this browser and its active user.
pub async fn signed_in(
    ctx: &AppContext,
    b: &Browser,
) -> Result<Option<(SessionRow, User)>, LoginFailure> {
    let (cookie, limits) = (b.session.clone(), ctx.config.session);
    let found = on_provider(ctx, move |p| {
        interaction::current_session(p, cookie.as_deref(), limits)
    })
    .await?;
    Ok(found.filter(|(_, user)| user.status == crate::domain::UserStatus::Active))
}

/// The client of a live interaction of this browser (None for the account
/// pages' pseudo-interaction, or when it is gone).
pub async fn client_of(
    ctx: &AppContext,
    id: &str,
    browser_token: &str,
) -> Option<crate::storage::clients::Client> {
    if id == ACCOUNT {
        return None;
    }
    let (id, token) = (id.to_string(), browser_token.to_string());
    on_provider(ctx, move |p| {
        let Some(found) = interaction::load(p, &id, Some(&token))? else {
            return Ok(None);
        };
        Ok(p.store.client(&found.request.client_id)?)
    })
    .await
    .ok()
    .flatten()
}
