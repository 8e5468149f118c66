//! The console's client pages: the list, registration with every option of
//! `ward client add` (validated by `manage::clients::add`, its refusal shown
//! next to the field), the secret of a confidential client shown once, and
//! removal behind a confirmation page.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use minijinja::{Value, context};

use super::{Admin, confirm, field, gate, perm, posted, query, refusal, refused_page, run, show};
use crate::domain::{InvalidValue, PkcePolicy, SubjectType};
use crate::manage::clients::NewClientInput;
use crate::manage::records::Client;
use crate::manage::{self, ManageError};
use crate::oidc::params::Params;
use crate::web::WebState;
use crate::web::pages::see_other;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/clients", web::get().to(list))
        .route("/admin/clients", web::post().to(register))
        .route("/admin/clients/new", web::get().to(new_form))
        .route("/admin/clients/{id}/remove", web::get().to(ask_remove))
        .route("/admin/clients/{id}/remove", web::post().to(remove))
        .route(
            "/admin/clients/{id}/rotate-secret",
            web::get().to(ask_rotate),
        )
        .route("/admin/clients/{id}/rotate-secret", web::post().to(rotate));
}

/// The registration form's text fields, as the CLI names its options.
pub const TEXT_FIELDS: &[&str] = &[
    "client_id",
    "name",
    "type",
    "redirect_uris",
    "grant_types",
    "scopes",
    "jwks",
    "jwks_uri",
    "tenant",
    "id_token_alg",
    "access_token_seconds",
    "authz_resources",
    "min_acr",
    "post_logout_redirect_uris",
    "backchannel_logout_uri",
    "pkce",
    "subject_type",
    "sector_identifier_uri",
    "purpose",
    "claims",
];
/// Its checkboxes.
pub const FLAGS: &[&str] = &["first_party", "require_par", "shared_workstation"];

fn client_row(c: &Client) -> Value {
    context! {
        id => c.id.to_string(),
        name => c.name,
        client_type => c.client_type.as_str(),
        redirect_uris => c.redirect_uris,
        scopes => c.scopes.join(" "),
        first_party => c.first_party,
        subject_type => c.subject.subject_type().as_str(),
    }
}

/// `GET /admin/clients` (`clients:read`).
pub async fn list(state: web::Data<WebState>, req: HttpRequest) -> HttpResponse {
    let admin = match gate(&state, &req, perm::CLIENTS_READ).await {
        Ok(a) => a,
        Err(res) => return res,
    };
    let actor = admin.actor();
    let clients = match run(&state, move |ctx| manage::clients::list(ctx, &actor)).await {
        Ok(l) => l.iter().map(client_row).collect::<Vec<_>>(),
        Err(e) => return refused_page(&req, &e),
    };
    let notice = (query(&req, "done") == "removed")
        .then_some("Client removed, and its role assignments with it.");
    let view = context! { clients, notice };
    show(
        &state,
        &req,
        &admin,
        StatusCode::OK,
        "admin/clients.html",
        view,
    )
}

/// `GET /admin/clients/new` (`clients:write`): the registration form.
pub async fn new_form(state: web::Data<WebState>, req: HttpRequest) -> HttpResponse {
    let admin = match gate(&state, &req, perm::CLIENTS_WRITE).await {
        Ok(a) => a,
        Err(res) => return res,
    };
    form_page(
        &state,
        &req,
        &admin,
        StatusCode::OK,
        context! { typed => std::collections::BTreeMap::from([("type", "confidential")]) },
    )
}

fn form_page(
    state: &WebState,
    req: &HttpRequest,
    admin: &Admin,
    status: StatusCode,
    view: Value,
) -> HttpResponse {
    show(state, req, admin, status, "admin/client_new.html", view)
}

/// Space- or line-separated values.
fn words(form: &Params, name: &str) -> Vec<String> {
    field(form, name)
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

/// The manage layer's input from the form; the type, PKCE policy, subject
/// type and token lifetime are parsed here, the rest by `manage::clients::add`.
fn input_of(form: &Params) -> Result<NewClientInput, InvalidValue> {
    let opt = |n: &str| Some(field(form, n)).filter(|v| !v.is_empty());
    let flag = |n: &str| form.get(n).ok().flatten().is_some();
    let parse = |n: &'static str, default: &str| opt(n).unwrap_or_else(|| default.to_string());
    let seconds = opt("access_token_seconds")
        .map(|s| {
            s.parse::<i64>()
                .map_err(|_| InvalidValue::new("access_token_seconds", "is a number of seconds"))
        })
        .transpose()?;
    let claims = opt("claims").map(|_| words(form, "claims"));
    Ok(NewClientInput {
        client_id: field(form, "client_id"),
        name: opt("name"),
        client_type: parse("type", "confidential").parse()?,
        redirect_uris: words(form, "redirect_uris"),
        grant_types: words(form, "grant_types"),
        scopes: words(form, "scopes"),
        first_party: flag("first_party"),
        require_par: flag("require_par"),
        jwks: opt("jwks"),
        jwks_uri: opt("jwks_uri"),
        tenant: opt("tenant"),
        id_token_alg: opt("id_token_alg"),
        access_token_seconds: seconds,
        authz_resources: words(form, "authz_resources"),
        min_acr: opt("min_acr"),
        post_logout_redirect_uris: words(form, "post_logout_redirect_uris"),
        backchannel_logout_uri: opt("backchannel_logout_uri"),
        shared_workstation: flag("shared_workstation"),
        pkce: parse("pkce", "required").parse::<PkcePolicy>()?,
        subject_type: parse("subject_type", "public").parse::<SubjectType>()?,
        sector_identifier_uri: opt("sector_identifier_uri"),
        purpose: opt("purpose"),
        claims,
    })
}

/// The form field a refusal of `manage::clients::add` concerns.
fn form_field(f: &str) -> &str {
    match f {
        "redirect_uri" => "redirect_uris",
        "scope" => "scopes",
        "grant_type" => "grant_types",
        "authz_resource" => "authz_resources",
        "post_logout_redirect_uri" => "post_logout_redirect_uris",
        "claim" => "claims",
        "client_type" => "type",
        other => other,
    }
}

/// What was typed, to show the form again (never the secret: there is none yet).
fn typed(form: &Params) -> Value {
    let mut m = std::collections::BTreeMap::new();
    for n in TEXT_FIELDS {
        m.insert(*n, Value::from(field(form, n)));
    }
    for n in FLAGS {
        m.insert(*n, Value::from(form.get(n).ok().flatten().is_some()));
    }
    Value::from_serialize(&m)
}

/// `POST /admin/clients` (`clients:write`): register; a confidential
/// client's secret is on the answer page, once.
pub async fn register(
    state: web::Data<WebState>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let (admin, form) = match posted(&state, &req, &body, perm::CLIENTS_WRITE).await {
        Ok(x) => x,
        Err(res) => return res,
    };
    let actor = admin.actor();
    let done = match input_of(&form) {
        Ok(input) => run(&state, move |ctx| manage::clients::add(ctx, &actor, input)).await,
        Err(e) => Err(ManageError::Invalid(e)),
    };
    match done {
        Ok(created) => {
            let view = context! { client => client_row(&created.client), secret => created.secret };
            show(
                &state,
                &req,
                &admin,
                StatusCode::CREATED,
                "admin/client_created.html",
                view,
            )
        }
        Err(e) => {
            let (f, status, message) = refusal(&e);
            let error = context! { field => f.map(form_field), message };
            form_page(
                &state,
                &req,
                &admin,
                status,
                context! { error, typed => typed(&form) },
            )
        }
    }
}

/// `GET /admin/clients/{id}/remove` (`clients:write`): the confirmation page.
pub async fn ask_remove(
    state: web::Data<WebState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> HttpResponse {
    let admin = match gate(&state, &req, perm::CLIENTS_WRITE).await {
        Ok(a) => a,
        Err(res) => return res,
    };
    let text = format!(
        "{id} can no longer sign anyone in or get tokens, and its role assignments are removed. This cannot be undone."
    );
    let (action, back) = (
        format!("/admin/clients/{id}/remove"),
        "/admin/clients".to_string(),
    );
    let words = ("Remove this client?", text.as_str(), "Remove the client");
    confirm(
        &state,
        &req,
        &admin,
        words,
        (action.as_str(), back.as_str()),
        &[],
    )
}

/// `POST /admin/clients/{id}/remove` (`clients:write`).
pub async fn remove(
    state: web::Data<WebState>,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let admin = match posted(&state, &req, &body, perm::CLIENTS_WRITE).await {
        Ok((a, _)) => a,
        Err(res) => return res,
    };
    let (actor, which) = (admin.actor(), id.into_inner());
    match run(&state, move |ctx| {
        manage::clients::remove(ctx, &actor, &which)
    })
    .await
    {
        Ok(()) => see_other("/admin/clients?done=removed"),
        Err(e) => refused_page(&req, &e),
    }
}

/// `GET /admin/clients/{id}/rotate-secret` (`clients:write`): the confirmation page.
pub async fn ask_rotate(
    state: web::Data<WebState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> HttpResponse {
    let admin = match gate(&state, &req, perm::CLIENTS_WRITE).await {
        Ok(a) => a,
        Err(res) => return res,
    };
    let text = format!(
        "{id} gets a new secret, shown once on the next page; its current secret stops working within 2 seconds."
    );
    let action = format!("/admin/clients/{id}/rotate-secret");
    let words = (
        "Rotate the client secret?",
        text.as_str(),
        "Rotate the secret",
    );
    confirm(
        &state,
        &req,
        &admin,
        words,
        (action.as_str(), "/admin/clients"),
        &[],
    )
}

/// `POST /admin/clients/{id}/rotate-secret` (`clients:write`): the new secret, once.
pub async fn rotate(
    state: web::Data<WebState>,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let admin = match posted(&state, &req, &body, perm::CLIENTS_WRITE).await {
        Ok((a, _)) => a,
        Err(res) => return res,
    };
    let (actor, which) = (admin.actor(), id.to_string());
    match run(&state, move |ctx| {
        manage::client_secret::rotate_secret(ctx, &actor, &which)
    })
    .await
    {
        Ok(secret) => {
            let view =
                context! { client => context! { id => id.as_str() }, secret, rotated => true };
            show(
                &state,
                &req,
                &admin,
                StatusCode::OK,
                "admin/client_created.html",
                view,
            )
        }
        Err(e) => refused_page(&req, &e),
    }
}
