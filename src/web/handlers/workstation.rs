//! Shared workstations (docs/sessions.md): "continue as …" before a session
//! on a shared computer is used for another app, and "switch user", which
//! ends the session (with back-channel logout) and starts the next person's
//! sign-in for the same request in one step.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use minijinja::context;

use crate::session::EndReason;
use crate::web::WebState;
use crate::web::error::WebError;
use crate::web::handlers::account::{sign_out, signed_in};
use crate::web::handlers::interaction::{
    EXPIRED, amend_request, checked_form, interaction_page, page_request,
};
use crate::web::pages::{browser, page, see_other};

/// `GET /continue?interaction=…`: whose session this is, and the two choices.
pub async fn continue_form(
    state: web::Data<WebState>,
    req: HttpRequest,
) -> Result<HttpResponse, WebError> {
    let (id, b, info) = page_request(&state, &req).await?;
    let Ok(who) = signed_in(&state, &b).await else {
        // The session ended meanwhile: sign in afresh.
        return Ok(see_other(&format!("/login?interaction={id}")));
    };
    let display_name = crate::authn::login::display_name(&who.user);
    Ok(interaction_page(
        &state,
        &req,
        (&id, &b, &info),
        "pages/continue.html",
        context! { display_name },
    ))
}

/// `POST /continue`: the person at the keyboard is the session's user; note
/// it on the request (for this session only) and resume the flow.
pub async fn continue_submit(
    state: web::Data<WebState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let b = browser(&state, &req);
    let (id, _) = checked_form(&req, &body, &b)?;
    let outcome = amend_request(&state, &b, &id, |_, request, session, _| {
        request.confirmed_sid = Some(crate::oidc::tokens::sid(&session.id_hash));
        true
    })
    .await;
    Ok(match outcome {
        Ok(true) => see_other(&format!("/authorize/resume?interaction={id}")),
        Ok(false) => page(&req, StatusCode::BAD_REQUEST, EXPIRED),
        Err(e) => page(&req, StatusCode::SERVICE_UNAVAILABLE, &e.description),
    })
}

/// `POST /switch-user`: end the current session (audited as `switch_user`;
/// its clients get back-channel logout tokens) and show the sign-in form of
/// the same request, empty, for the next person.
pub async fn switch_user(
    state: web::Data<WebState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let b = browser(&state, &req);
    let (id, _) = checked_form(&req, &body, &b)?;
    let next = format!("/login?interaction={id}");
    Ok(match signed_in(&state, &b).await {
        Ok(who) => sign_out(&state, &req, &b, &who, EndReason::SwitchUser, &next).await,
        // Nobody is signed in any more: the sign-in form is what is wanted.
        Err(()) => see_other(&next),
    })
}
