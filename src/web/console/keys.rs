//! The console's signing-key page: the keys (active, retired but still
//! published, expired) and rotation of one algorithm's key behind a
//! confirmation page, through `manage::keys` as `ward keys list` and
//! `ward keys rotate` (recorded as `signing_key.list`, `signing_key.rotate`).
//! This node uses the new key at once; the others pick it up on their next
//! key reload.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use minijinja::{Value, context};

use super::{confirm, field, gate, perm, posted, query, refused_page, run, show, when};
use crate::manage;
use crate::web::WebState;
use crate::web::pages::{page as error_page, see_other};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/keys", web::get().to(list))
        .route("/admin/keys/rotate", web::get().to(ask))
        .route("/admin/keys/rotate", web::post().to(rotate));
}

fn key_row(k: &manage::keys::KeyInfo) -> Value {
    context! {
        kid => k.kid,
        alg => k.alg,
        state => k.state,
        created => when(k.created_at),
        publish_until => k.publish_until.map(when),
    }
}

/// `GET /admin/keys` (`keys:read`).
pub async fn list(state: web::Data<WebState>, req: HttpRequest) -> HttpResponse {
    let admin = match gate(&state, &req, perm::KEYS_READ).await {
        Ok(a) => a,
        Err(res) => return res,
    };
    let actor = admin.actor();
    let keys = match run(&state, move |ctx| manage::keys::list(ctx, &actor)).await {
        Ok(k) => k.iter().map(key_row).collect::<Vec<_>>(),
        Err(e) => return refused_page(&req, &e),
    };
    let notice = (query(&req, "done") == "rotated").then_some(
        "Rotated: new tokens are signed with the new key; the old one stays published until the tokens it signed have expired.",
    );
    let view = context! { keys, notice };
    show(
        &state,
        &req,
        &admin,
        StatusCode::OK,
        "admin/keys.html",
        view,
    )
}

/// The algorithms Ward signs with.
fn alg_of(text: &str) -> Option<&'static str> {
    ["ES256", "RS256"].into_iter().find(|a| *a == text)
}

/// `GET /admin/keys/rotate?alg=` (`keys:write`): the confirmation page.
pub async fn ask(state: web::Data<WebState>, req: HttpRequest) -> HttpResponse {
    let Some(alg) = alg_of(&query(&req, "alg")) else {
        return error_page(&req, StatusCode::BAD_REQUEST, "alg is ES256 or RS256.");
    };
    let admin = match gate(&state, &req, perm::KEYS_WRITE).await {
        Ok(a) => a,
        Err(res) => return res,
    };
    let text = format!(
        "A new {alg} key signs every new token from now on. The current one is retired but stays published until every token it signed has expired."
    );
    let words = ("Rotate the signing key?", text.as_str(), "Rotate the key");
    let target = ("/admin/keys/rotate", "/admin/keys");
    confirm(&state, &req, &admin, words, target, &[("alg", alg)])
}

/// `POST /admin/keys/rotate` (`keys:write`): `alg`.
pub async fn rotate(
    state: web::Data<WebState>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let (admin, form) = match posted(&state, &req, &body, perm::KEYS_WRITE).await {
        Ok(x) => x,
        Err(res) => return res,
    };
    let Some(alg) = alg_of(&field(&form, "alg")) else {
        return error_page(&req, StatusCode::BAD_REQUEST, "alg is ES256 or RS256.");
    };
    let actor = admin.actor();
    let done = run(&state, move |ctx| {
        let rotated = manage::keys::rotate(ctx, &actor, alg)?;
        // This node signs with the new key at once.
        ctx.reload_keys()?;
        Ok(rotated)
    })
    .await;
    match done {
        Ok(_) => see_other("/admin/keys?done=rotated"),
        Err(e) => refused_page(&req, &e),
    }
}
