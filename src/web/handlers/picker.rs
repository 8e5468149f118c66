//! The standalone SMART launch's pickers (docs/smart.md, "Standalone
//! launch"): `/picker/patient` searches the FHIR server by name and lists the
//! patients found, `/picker/encounter` lists the chosen patient's encounters;
//! a choice resumes the authorization flow. Plain HTML forms: no script
//! needed. The protocol side is `oidc::smart_picker`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use minijinja::context;

use crate::oidc::OAuthError;
use crate::oidc::interaction;
use crate::oidc::smart_picker::{self, Http, Pick, Searched};
use crate::web::WebState;
use crate::web::error::WebError;
use crate::web::handlers::interaction::{
    EXPIRED, PageInfo, checked_form, interaction_page, load_page, page_request,
};
use crate::web::oauth::call;
use crate::web::pages::{Browser, browser, page, page_error, see_other};

/// Where the flow sends a user who must choose `pick`.
pub fn path(pick: Pick) -> &'static str {
    match pick {
        Pick::Patient => "/picker/patient",
        Pick::Encounter => "/picker/encounter",
    }
}

fn pick_of(kind: &str) -> Result<Pick, WebError> {
    Pick::parse(kind).ok_or_else(|| WebError::not_found("There is nothing at this address."))
}

/// `GET /picker/{patient|encounter}?interaction=…`: the patient search form;
/// for encounters, the patient's encounters at once (there is nothing to type).
pub async fn form(
    state: web::Data<WebState>,
    req: HttpRequest,
    kind: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let pick = pick_of(&kind)?;
    let (id, b, info) = page_request(&state, &req).await?;
    let searched = match pick {
        Pick::Patient => None,
        Pick::Encounter => Some(search(&state, &b, &id, pick, String::new()).await?),
    };
    Ok(picker_page(
        &state,
        &req,
        (&id, &b, &info),
        pick,
        "",
        searched,
    ))
}

/// `POST /picker/{kind}`: search (patients by the `name` given).
pub async fn search_submit(
    state: web::Data<WebState>,
    req: HttpRequest,
    kind: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let pick = pick_of(&kind)?;
    let b = browser(&state, &req);
    let (id, form) = checked_form(&req, &body, &b)?;
    let name = form
        .get("name")
        .ok()
        .flatten()
        .unwrap_or_default()
        .to_string();
    let searched = search(&state, &b, &id, pick, name.clone()).await?;
    let info = match load_page(&state, id.clone(), b.token.clone()).await {
        Ok(Some(info)) => info,
        _ => return Err(page_error(StatusCode::BAD_REQUEST, EXPIRED)),
    };
    Ok(picker_page(
        &state,
        &req,
        (&id, &b, &info),
        pick,
        &name,
        Some(searched),
    ))
}

/// `POST /picker/{kind}/choose`: the choice (one the search offered), then resume.
pub async fn choose_submit(
    state: web::Data<WebState>,
    req: HttpRequest,
    kind: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let pick = pick_of(&kind)?;
    let b = browser(&state, &req);
    let (id, form) = checked_form(&req, &body, &b)?;
    let choice = form
        .get("choice")
        .ok()
        .flatten()
        .unwrap_or_default()
        .to_string();
    let (cookie, token, limits) = (b.session.clone(), b.token.clone(), state.ctx.config.session);
    let id2 = id.clone();
    let outcome = call(&state, move |p| {
        let found = interaction::load(p, &id2, Some(&token))?;
        let session = interaction::current_session(p, cookie.as_deref(), limits)?;
        let (Some(found), Some((_, user))) = (found, session) else {
            return Err(OAuthError::invalid_request(EXPIRED));
        };
        smart_picker::choose(p, &found, &user, pick, &choice)
    })
    .await;
    Ok(match outcome {
        Ok(()) => see_other(&format!("/authorize/resume?interaction={id}")),
        Err(e) => page(&req, status_of(&e), &e.description),
    })
}

fn status_of(e: &OAuthError) -> StatusCode {
    StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST)
}

/// Run one search for this browser's interaction and its signed-in user.
async fn search(
    state: &web::Data<WebState>,
    b: &Browser,
    id: &str,
    pick: Pick,
    name: String,
) -> Result<Searched, WebError> {
    let (cookie, token, limits) = (b.session.clone(), b.token.clone(), state.ctx.config.session);
    let id = id.to_string();
    call(state, move |p| {
        let found = interaction::load(p, &id, Some(&token))?;
        let session = interaction::current_session(p, cookie.as_deref(), limits)?;
        let (Some(found), Some((_, user))) = (found, session) else {
            return Err(OAuthError::invalid_request(EXPIRED));
        };
        smart_picker::search(p, &Http, &found, &user, pick, &name)
    })
    .await
    .map_err(|e| page_error(status_of(&e), &e.description))
}

/// The picker page: the search form (patients), what a search found, or why
/// it could not be done. 400 for a name that cannot be searched for.
fn picker_page(
    state: &WebState,
    req: &HttpRequest,
    at: (&str, &Browser, &PageInfo),
    pick: Pick,
    name: &str,
    searched: Option<Searched>,
) -> HttpResponse {
    let (mut results, mut more, mut error, mut unavailable) = (Vec::new(), false, "", "");
    let done = searched.is_some();
    match searched {
        Some(Searched::Found(c)) => (results, more) = (c.items, c.more),
        Some(Searched::BadInput(why)) => error = why,
        Some(Searched::Unavailable(why)) => unavailable = why,
        None => {}
    }
    let extra = context! {
        kind => pick.as_str(), name, results, more, error, unavailable, searched => done,
    };
    let mut res = interaction_page(state, req, at, "pages/picker.html", extra);
    if !error.is_empty() {
        *res.status_mut() = StatusCode::BAD_REQUEST;
    }
    res
}
