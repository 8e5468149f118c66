//! The admin API's guard, wrapped around every route but the OpenAPI document:
//! a Ward access token issued to a user, the route's permission in the `ward`
//! tenant (Casbin, no superuser bypass), and a recent multi-factor sign-in.
//!
//! It runs as route middleware, before any extractor: a caller who may not
//! use a route learns nothing from it, not even whether its body or ids are
//! valid. The order, and why, is in docs/admin-api.md:
//!
//! 1. no token, or an invalid one (one not issued to a person, not issued to
//!    Ward's admin console client, or without the `ward:admin` scope) -> 401;
//! 2. no permission -> 403, before the sign-in's strength is looked at, so a
//!    user without the permission is never told to step up for nothing;
//! 3. not `aal2`/`phr`/`phrh`, or older than `admin_max_auth_age_seconds` ->
//!    401 with an RFC 9470 step-up challenge.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use serde_json::Value;

use crate::authz::WARD_TENANT;
use crate::domain::Acr;
use crate::manage::audit_log::{self, AdminDenial};
use crate::oidc::{OAuthError, tokens};
use crate::web::error::WebError;
use crate::web::{WebState, client_ip, oauth};

/// What a route needs: `resource:action` in the `ward` tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Permission {
    pub resource: &'static str,
    pub action: &'static str,
}

impl Permission {
    pub const fn new(resource: &'static str, action: &'static str) -> Self {
        Self { resource, action }
    }
}

impl std::fmt::Display for Permission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.resource, self.action)
    }
}

/// The scope an admin API token must carry; only the console client may have it.
pub const ADMIN_SCOPE: &str = crate::oidc::ADMIN_SCOPE;

/// The `acr` values that count as multi-factor here, for the step-up challenge.
pub const STEP_UP_ACR_VALUES: &str = "aal2 phr phrh";

/// The administrator of a request, placed in the request by the guard.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: String,
}

impl Actor {
    /// How the audit trail names them.
    pub fn audit_name(&self) -> String {
        format!("user:{}", self.user_id)
    }
}

impl FromRequest for Actor {
    type Error = WebError;
    type Future = std::future::Ready<Result<Self, WebError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        // Only the guard inserts an Actor: a handler mounted without it fails closed.
        std::future::ready(req.extensions().get::<Actor>().cloned().ok_or_else(|| {
            tracing::error!(path = %req.path(), "an admin API handler ran without its guard");
            WebError::internal()
        }))
    }
}

/// A valid token's facts, and what the policy says about the route.
#[derive(Debug, Clone)]
pub struct Verified {
    pub user_id: String,
    /// The token's `acr`; None if absent or not one Ward issues.
    pub acr: Option<Acr>,
    /// Unix seconds.
    pub auth_time: Option<i64>,
    pub allowed: bool,
}

/// Why a valid token is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Forbidden,
    StepUp(&'static str),
}

/// Permission first, then a recent multi-factor sign-in. Pure.
pub fn decide(v: &Verified, now_secs: i64, max_age_secs: u32) -> Result<(), Refusal> {
    if !v.allowed {
        return Err(Refusal::Forbidden);
    }
    if !v.acr.is_some_and(|a| a.satisfies(Acr::Aal2)) {
        return Err(Refusal::StepUp(
            "The admin API needs a sign-in with a second factor or a passkey.",
        ));
    }
    match v.auth_time {
        Some(t) if now_secs - t <= i64::from(max_age_secs) => Ok(()),
        _ => Err(Refusal::StepUp(
            "The admin API needs a more recent sign-in; sign in again.",
        )),
    }
}

/// The token of `Authorization: Bearer <token>` (RFC 6750 §2.1; never the
/// query string). Any other scheme counts as no token.
fn bearer(req: &HttpRequest) -> Option<String> {
    let h = oauth::header_str(req, header::AUTHORIZATION)?;
    let (scheme, token) = h.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_string())
}

/// Check the token and ask the policy, on the blocking pool (it reads the database).
async fn verify(
    state: &web::Data<WebState>,
    token: String,
    perm: Permission,
) -> Result<Verified, OAuthError> {
    let console = state.ctx.config.admin_console_client_id.clone();
    oauth::call(state, move |p| {
        let claims = tokens::verify_access_token(p, &token)?;
        let text = |k: &str| claims.get(k).and_then(Value::as_str).map(str::to_string);
        let (sub, jti) = (
            text("sub").unwrap_or_default(),
            text("jti").unwrap_or_default(),
        );
        // Only a token from a user's sign-in (a grant) acts for a person. A
        // client_credentials token's `sub` is a client id, which could be
        // registered to look like a user's id.
        let grant = match tokens::grant_of_jti(&jti) {
            Some(g) => p.store.grant(g)?,
            None => None,
        };
        match grant {
            Some(g) if g.facts.user_id.as_str() == sub => {}
            _ => {
                return Err(OAuthError::invalid_token(
                    "the admin API needs an access token issued to a user",
                ));
            }
        }
        // Only Ward's own console client, and only with the admin scope: a
        // relying party that receives a user's token cannot turn it against
        // this API (docs/admin-api.md "Which tokens").
        if text("client_id").as_deref() != Some(console.as_str()) {
            return Err(OAuthError::invalid_token(
                "the admin API takes only tokens issued to Ward's admin console client",
            ));
        }
        let scopes = text("scope").unwrap_or_default();
        if !scopes.split(' ').any(|s| s == ADMIN_SCOPE) {
            return Err(OAuthError::invalid_token(
                "the admin API needs a token with the `ward:admin` scope",
            ));
        }
        Ok(Verified {
            allowed: p
                .policy
                .allowed(&sub, WARD_TENANT, perm.resource, perm.action),
            user_id: sub,
            acr: text("acr").and_then(|a| Acr::parse(&a).ok()),
            auth_time: claims.get("auth_time").and_then(Value::as_i64),
        })
    })
    .await
}

/// Record a refused valid token: someone signed in tried an admin route. The
/// refusal is not answered unless it is on the record.
async fn audit_refusal(
    state: &web::Data<WebState>,
    req: &HttpRequest,
    user_id: &str,
    perm: Permission,
    reason: &'static str,
) -> Result<(), WebError> {
    let ctx = state.ctx.clone();
    let xff = client_ip::forwarded_for(
        req.headers()
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok()),
    );
    let denial = AdminDenial {
        user_id: user_id.to_string(),
        method: req.method().as_str().to_string(),
        route: req.match_pattern().unwrap_or_default(),
        permission: perm.to_string(),
        reason,
        ip: client_ip::resolve(
            req.peer_addr().map(|a| a.ip()),
            xff.as_deref(),
            &ctx.config.trusted_proxies,
        )
        .map(|i| i.to_string()),
    };
    web::block(move || audit_log::record_admin_denial(&ctx, &denial))
        .await
        .map_err(|_| WebError::internal())?
        .map_err(WebError::from)
}

/// The whole check for one request: the actor, or the error to answer.
async fn check(req: &HttpRequest, perm: Permission) -> Result<Actor, WebError> {
    let token = bearer(req).ok_or_else(WebError::no_token)?;
    let state = req
        .app_data::<web::Data<WebState>>()
        .cloned()
        .ok_or_else(WebError::internal)?;
    let v = verify(&state, token, perm).await.map_err(|e| {
        if e.status == 401 {
            WebError::invalid_token(&e.description)
        } else {
            WebError::internal()
        }
    })?;
    let max_age = state.ctx.config.admin_max_auth_age_seconds;
    match decide(&v, state.ctx.clock.now_ms() / 1000, max_age) {
        Ok(()) => Ok(Actor { user_id: v.user_id }),
        Err(Refusal::Forbidden) => {
            audit_refusal(&state, req, &v.user_id, perm, "forbidden").await?;
            Err(WebError::missing_permission(perm.resource, perm.action))
        }
        Err(Refusal::StepUp(why)) => {
            audit_refusal(&state, req, &v.user_id, perm, "step_up").await?;
            Err(WebError::step_up(why, STEP_UP_ACR_VALUES, max_age))
        }
    }
}

/// Route middleware: the handler runs only for an allowed, recent, multi-factor caller.
pub async fn guard<B: MessageBody + 'static>(
    perm: Permission,
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    match check(req.request(), perm).await {
        Ok(actor) => {
            req.extensions_mut().insert(actor);
            next.call(req)
                .await
                .map(ServiceResponse::map_into_left_body)
        }
        Err(e) => Ok(req.error_response(e).map_into_right_body()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(acr: Option<&str>, auth_time: Option<i64>, allowed: bool) -> Verified {
        Verified {
            user_id: "u".into(),
            acr: acr.and_then(|a| Acr::parse(a).ok()),
            auth_time,
            allowed,
        }
    }

    #[test]
    fn permission_comes_before_the_strength_of_the_sign_in() {
        let now = 10_000;
        assert_eq!(
            decide(&token(Some("aal1"), Some(now), false), now, 900),
            Err(Refusal::Forbidden)
        );
        assert_eq!(
            decide(&token(Some("phrh"), Some(now), false), now, 900),
            Err(Refusal::Forbidden)
        );
    }

    #[test]
    fn multi_factor_and_recent() {
        let now = 10_000;
        for acr in ["aal2", "phr", "phrh"] {
            assert_eq!(
                decide(&token(Some(acr), Some(now - 900), true), now, 900),
                Ok(())
            );
            assert!(matches!(
                decide(&token(Some(acr), Some(now - 901), true), now, 900),
                Err(Refusal::StepUp(_))
            ));
        }
        for acr in [None, Some("aal1"), Some("something")] {
            assert!(matches!(
                decide(&token(acr, Some(now), true), now, 900),
                Err(Refusal::StepUp(_))
            ));
        }
        assert!(matches!(
            decide(&token(Some("aal2"), None, true), now, 900),
            Err(Refusal::StepUp(_))
        ));
    }
}
