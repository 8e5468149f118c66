//! The admin REST API under `/admin/api` (docs/admin-api.md): JSON in and out,
//! RFC 9457 problems for every error, an OpenAPI document at
//! `/admin/api/openapi.json`.
//!
//! Handlers are thin: they call one `manage` operation, which validates,
//! changes and audits in one transaction (the same operations as the CLI),
//! with the administrator of the token as the actor. [`ROUTES`] is the single
//! list of protected routes and their permissions: the guard and the OpenAPI
//! document's `x-ward-permission` both come from it, and a route missing from
//! it cannot be mounted.

pub mod approvals;
pub mod audit;
pub mod auth;
pub mod break_glass;
pub mod clients;
pub mod consents;
pub mod disclosures;
pub mod erasure;
pub mod fhir;
pub mod openapi;
pub mod problem;
pub mod roles;
pub mod sessions;
pub mod users;

use actix_web::http::{Method, header};
use actix_web::middleware::{DefaultHeaders, from_fn};
use actix_web::{FromRequest, Handler, HttpResponse, Responder, Route, web};

use self::auth::Permission;
use crate::app::AppContext;
use crate::manage::ManageError;
use crate::web::WebState;
use crate::web::error::WebError;

pub const PREFIX: &str = "/admin/api";

/// Largest JSON body accepted (a client registration with a JWKS fits easily).
const MAX_BODY: usize = 64 * 1024;

/// A protected route: method, path under [`PREFIX`], and its permission.
#[derive(Debug, Clone, Copy)]
pub struct RouteSpec {
    pub method: &'static str,
    pub path: &'static str,
    pub permission: Permission,
}

const fn r(
    method: &'static str,
    path: &'static str,
    resource: &'static str,
    action: &'static str,
) -> RouteSpec {
    RouteSpec {
        method,
        path,
        permission: Permission::new(resource, action),
    }
}

/// Every protected route. Reading needs `read`, anything that changes needs
/// `write`, each on its own resource (least privilege: an auditor reads the
/// audit trail and nothing else).
pub const ROUTES: &[RouteSpec] = &[
    r("GET", "/users", "users", "read"),
    r("POST", "/users", "users", "write"),
    r("GET", "/users/{id}", "users", "read"),
    r("PATCH", "/users/{id}", "users", "write"),
    r("PATCH", "/users/{id}/profile", "users", "write"),
    r("POST", "/users/{id}/reset-mfa", "users", "write"),
    r("GET", "/users/{id}/roles", "roles", "read"),
    r("POST", "/users/{id}/roles", "roles", "write"),
    r(
        "DELETE",
        "/users/{id}/roles/{tenant}/{role}",
        "roles",
        "write",
    ),
    r("GET", "/users/{id}/sessions", "sessions", "read"),
    r("DELETE", "/users/{id}/sessions", "sessions", "write"),
    r("DELETE", "/users/{id}/sessions/{sid}", "sessions", "write"),
    r("GET", "/users/{id}/consents", "users", "read"),
    r("POST", "/users/{id}/erase", "users", "write"),
    r("PUT", "/users/{id}/legal-hold", "users", "write"),
    r("DELETE", "/users/{id}/legal-hold", "users", "write"),
    r("GET", "/users/{id}/disclosures", "users", "read"),
    r("GET", "/users/{id}/export", "users", "read"),
    r(
        "DELETE",
        "/users/{id}/consents/{client_id}",
        "users",
        "write",
    ),
    r("GET", "/clients", "clients", "read"),
    r("POST", "/clients", "clients", "write"),
    r("GET", "/clients/{id}", "clients", "read"),
    r("PATCH", "/clients/{id}", "clients", "write"),
    r("DELETE", "/clients/{id}", "clients", "write"),
    r("POST", "/clients/{id}/secret", "clients", "write"),
    r("GET", "/fhir-servers", "fhir-servers", "read"),
    r("POST", "/fhir-servers", "fhir-servers", "write"),
    r("DELETE", "/fhir-servers/{id}", "fhir-servers", "write"),
    r("PUT", "/users/{id}/fhir-user", "users", "write"),
    r("POST", "/clients/{id}/roles", "roles", "write"),
    r(
        "DELETE",
        "/clients/{id}/roles/{tenant}/{role}",
        "roles",
        "write",
    ),
    r("GET", "/approvals", "roles", "read"),
    r("POST", "/approvals/{id}/approve", "roles", "write"),
    r("POST", "/approvals/{id}/reject", "roles", "write"),
    r("GET", "/audit", "audit", "read"),
    r("GET", "/break-glass", "break-glass", "review"),
    r("POST", "/break-glass/{id}/review", "break-glass", "review"),
];

/// The route that needs no token: the API's own description.
pub const PUBLIC_ROUTES: &[(&str, &str)] = &[("GET", "/openapi.json")];

pub fn permission(method: &str, path: &str) -> Option<Permission> {
    ROUTES
        .iter()
        .find(|r| r.method == method && r.path == path)
        .map(|r| r.permission)
}

/// A guarded route. Panics when building the app if the route is not in
/// [`ROUTES`]: an unlisted route would have no permission to check.
fn guarded<F, Args>(method: &'static str, path: &'static str, handler: F) -> Route
where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    let perm = permission(method, path)
        .unwrap_or_else(|| panic!("admin route {method} {path} is not listed in ROUTES"));
    let m = Method::from_bytes(method.as_bytes()).expect("an HTTP method");
    web::method(m)
        .to(handler)
        .wrap(from_fn(move |req, next| auth::guard(perm, req, next)))
}

/// A path's resource, answering a wrong method with a 405 problem and `Allow`.
fn resource(path: &'static str) -> actix_web::Resource {
    let allow = ROUTES
        .iter()
        .filter(|r| r.path == path)
        .map(|r| r.method)
        .chain(PUBLIC_ROUTES.iter().filter(|r| r.1 == path).map(|r| r.0))
        .collect::<Vec<_>>()
        .join(", ");
    web::resource(path).default_service(web::to(move || {
        let allow = allow.clone();
        async move { Err::<HttpResponse, _>(WebError::method_not_allowed(allow)) }
    }))
}

/// `/clients`, one client, and a client's roles.
fn client_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        resource("/clients")
            .route(guarded("GET", "/clients", clients::list))
            .route(guarded("POST", "/clients", clients::create)),
    )
    .service(
        resource("/clients/{id}")
            .route(guarded("GET", "/clients/{id}", clients::show))
            .route(guarded("PATCH", "/clients/{id}", clients::update))
            .route(guarded("DELETE", "/clients/{id}", clients::remove)),
    )
    .service(resource("/clients/{id}/secret").route(guarded(
        "POST",
        "/clients/{id}/secret",
        clients::rotate_secret,
    )))
    .service(resource("/clients/{id}/roles").route(guarded(
        "POST",
        "/clients/{id}/roles",
        roles::grant_client,
    )))
    .service(
        resource("/clients/{id}/roles/{tenant}/{role}").route(guarded(
            "DELETE",
            "/clients/{id}/roles/{tenant}/{role}",
            roles::revoke_client,
        )),
    );
}

/// The `/admin/api` scope, mounted by `web::configure`.
pub fn scope() -> impl actix_web::dev::HttpServiceFactory {
    web::scope(PREFIX)
        // Answers carry personal data: no cache keeps them (a route may say otherwise).
        .wrap(DefaultHeaders::new().add((header::CACHE_CONTROL, "no-store")))
        .app_data(
            web::JsonConfig::default()
                .limit(MAX_BODY)
                .error_handler(problem::json_error),
        )
        .app_data(web::PathConfig::default().error_handler(problem::path_error))
        .app_data(web::QueryConfig::default().error_handler(problem::query_error))
        .service(resource("/openapi.json").route(web::get().to(openapi::document)))
        .service(
            resource("/users")
                .route(guarded("GET", "/users", users::list))
                .route(guarded("POST", "/users", users::create)),
        )
        .service(
            resource("/users/{id}")
                .route(guarded("GET", "/users/{id}", users::show))
                .route(guarded("PATCH", "/users/{id}", users::set_status)),
        )
        .service(resource("/users/{id}/profile").route(guarded(
            "PATCH",
            "/users/{id}/profile",
            users::set_profile,
        )))
        .service(resource("/users/{id}/reset-mfa").route(guarded(
            "POST",
            "/users/{id}/reset-mfa",
            users::reset_mfa,
        )))
        .service(
            resource("/users/{id}/roles")
                .route(guarded("GET", "/users/{id}/roles", roles::show))
                .route(guarded("POST", "/users/{id}/roles", roles::grant)),
        )
        .service(resource("/users/{id}/roles/{tenant}/{role}").route(guarded(
            "DELETE",
            "/users/{id}/roles/{tenant}/{role}",
            roles::revoke,
        )))
        .service(
            resource("/users/{id}/sessions")
                .route(guarded("GET", "/users/{id}/sessions", sessions::list))
                .route(guarded("DELETE", "/users/{id}/sessions", sessions::end_all)),
        )
        .service(resource("/users/{id}/sessions/{sid}").route(guarded(
            "DELETE",
            "/users/{id}/sessions/{sid}",
            sessions::end,
        )))
        .service(resource("/users/{id}/consents").route(guarded(
            "GET",
            "/users/{id}/consents",
            consents::list,
        )))
        .service(resource("/users/{id}/consents/{client_id}").route(guarded(
            "DELETE",
            "/users/{id}/consents/{client_id}",
            consents::withdraw,
        )))
        .configure(erasure_routes)
        .configure(privacy_routes)
        .configure(client_routes)
        .configure(fhir_routes)
        .configure(approval_routes)
        .service(resource("/audit").route(guarded("GET", "/audit", audit::query)))
        .service(resource("/break-glass").route(guarded("GET", "/break-glass", break_glass::list)))
        .service(resource("/break-glass/{id}/review").route(guarded(
            "POST",
            "/break-glass/{id}/review",
            break_glass::review,
        )))
        .default_service(web::to(|| async {
            Err::<HttpResponse, _>(WebError::no_route())
        }))
}

/// Erasure (under dual control) and legal holds.
fn erasure_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/users/{id}/erase").route(guarded(
        "POST",
        "/users/{id}/erase",
        erasure::erase,
    )))
    .service(
        resource("/users/{id}/legal-hold")
            .route(guarded("PUT", "/users/{id}/legal-hold", erasure::hold))
            .route(guarded(
                "DELETE",
                "/users/{id}/legal-hold",
                erasure::release,
            )),
    );
}

/// A user's accounting of disclosures and their data export (docs/privacy.md).
fn privacy_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/users/{id}/disclosures").route(guarded(
        "GET",
        "/users/{id}/disclosures",
        disclosures::list,
    )))
    .service(resource("/users/{id}/export").route(guarded(
        "GET",
        "/users/{id}/export",
        disclosures::export,
    )));
}

/// Dual control: requests waiting for a second administrator.
fn approval_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/approvals").route(guarded("GET", "/approvals", approvals::list)))
        .service(resource("/approvals/{id}/approve").route(guarded(
            "POST",
            "/approvals/{id}/approve",
            approvals::approve,
        )))
        .service(resource("/approvals/{id}/reject").route(guarded(
            "POST",
            "/approvals/{id}/reject",
            approvals::reject,
        )));
}

/// The SMART on FHIR routes: FHIR servers and a user's FHIR resource.
fn fhir_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        resource("/fhir-servers")
            .route(guarded("GET", "/fhir-servers", fhir::list))
            .route(guarded("POST", "/fhir-servers", fhir::create)),
    )
    .service(resource("/fhir-servers/{id}").route(guarded(
        "DELETE",
        "/fhir-servers/{id}",
        fhir::remove,
    )))
    .service(resource("/users/{id}/fhir-user").route(guarded(
        "PUT",
        "/users/{id}/fhir-user",
        fhir::set_fhir_user,
    )));
}

/// Run a `manage` operation on the blocking pool (it reads and writes the database).
pub(crate) async fn run<T, F>(state: &web::Data<WebState>, f: F) -> Result<T, WebError>
where
    F: FnOnce(&AppContext) -> Result<T, ManageError> + Send + 'static,
    T: Send + 'static,
{
    let ctx = state.ctx.clone();
    let span = tracing::Span::current();
    web::block(move || span.in_scope(|| f(&ctx)))
        .await
        .map_err(|_| WebError::internal())?
        .map_err(WebError::from)
}

/// Page sizes: 100 unless asked, at most 1,000.
pub(crate) fn page_limit(asked: Option<i64>) -> Result<i64, WebError> {
    match asked {
        None => Ok(100),
        Some(n) if (1..=1_000).contains(&n) => Ok(n),
        Some(_) => Err(WebError::invalid_value("limit", "limit: must be 1 to 1000")),
    }
}
