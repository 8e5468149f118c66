//! `/account/activity` (docs/privacy.md, "Your activity page"): a person's
//! sign-ins and which apps received which details, in plain words, ten of
//! each per page ("Older" / "Newer"); and `POST /account/export`, "Download
//! my data" (docs/privacy.md, "Export"), which needs a sign-in at most
//! `EXPORT_FRESH_SECONDS` old: otherwise the person signs in again and comes
//! back to `/account`, where the button then works.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use minijinja::context;

use super::account::{AccountUser, SIGN_IN_AGAIN, account_form, signed_in};
use crate::clock::to_rfc3339;
use crate::manage::activity::{self, Activity};
use crate::manage::export;
use crate::web::WebState;
use crate::web::error::WebError;
use crate::web::oauth;
use crate::web::pages::{browser, page, page_error, remember_browser, render, see_other};

/// How recent the sign-in behind a download of one's data must be (GDPR
/// Art. 32: the whole file is worth more than any one page of the account).
pub const EXPORT_FRESH_SECONDS: i64 = 300;

/// `GET /account/activity?sign_ins=N&apps=M`
pub async fn show(state: web::Data<WebState>, req: HttpRequest) -> HttpResponse {
    let b = browser(&state, &req);
    let Ok(who) = signed_in(&state, &b).await else {
        let mut res = see_other(SIGN_IN_AGAIN);
        remember_browser(&mut res, &b);
        return res;
    };
    let q = oauth::query(&req);
    let number = |name: &str| {
        let asked = q
            .get(name)
            .ok()
            .flatten()
            .and_then(|v| v.parse::<usize>().ok());
        asked.unwrap_or(0).min(activity::MAX_PAGE)
    };
    let (sp, ap) = (number("sign_ins"), number("apps"));
    let (ctx, user) = (state.ctx.clone(), who.user.clone());
    match web::block(move || activity::own(&ctx, &user, sp, ap)).await {
        Ok(Ok(a)) => render(
            &state,
            &req,
            StatusCode::OK,
            "pages/activity.html",
            view(&a, sp, ap),
        ),
        _ => page(
            &req,
            StatusCode::SERVICE_UNAVAILABLE,
            "Your activity cannot be shown right now.",
        ),
    }
}

fn view(a: &Activity, sp: usize, ap: usize) -> minijinja::Value {
    let link = |s: usize, p: usize| format!("/account/activity?sign_ins={s}&apps={p}");
    let sign_ins: Vec<minijinja::Value> = a
        .sign_ins
        .iter()
        .map(|s| context! { when => to_rfc3339(s.at), device => s.device, place => s.place, factors => s.factors })
        .collect();
    let received: Vec<minijinja::Value> = a
        .received
        .iter()
        .map(|r| context! { when => to_rfc3339(r.at), app => r.app, what => r.what, details => r.details })
        .collect();
    context! {
        sign_ins,
        received,
        sign_ins_older => a.more_sign_ins.then(|| link(sp + 1, ap)),
        sign_ins_newer => (sp > 0).then(|| link(sp - 1, ap)),
        apps_older => a.more_received.then(|| link(sp, ap + 1)),
        apps_newer => (ap > 0).then(|| link(sp, ap - 1)),
    }
}

fn fresh(state: &WebState, who: &AccountUser) -> bool {
    state.ctx.clock.now_ms() - who.session.auth_time <= EXPORT_FRESH_SECONDS * 1000
}

/// `POST /account/export`: the person's data as one JSON file.
pub async fn download(
    state: web::Data<WebState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let Some((_, who, _)) = account_form(&state, &req, &body).await? else {
        return Ok(see_other(SIGN_IN_AGAIN));
    };
    if !fresh(&state, &who) {
        return Ok(see_other(SIGN_IN_AGAIN));
    }
    let (ctx, user) = (state.ctx.clone(), who.user.clone());
    let doc = web::block(move || export::export_own(&ctx, &user))
        .await
        .map_err(|_| WebError::internal())?
        .map_err(|_| {
            page_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "Your data cannot be downloaded right now. Try again in a moment.",
            )
        })?;
    Ok(HttpResponse::Ok()
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"my-ward-data.json\"",
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(doc))
}
