//! The OpenAPI 3.1 document of the admin API, generated with utoipa from the
//! handlers' annotations, served without authentication at
//! `/admin/api/openapi.json`. Each protected operation carries its permission
//! as `x-ward-permission` (from [`super::ROUTES`], the list the guard uses)
//! and the problem responses every guarded route can give.

use std::sync::OnceLock;

use actix_web::HttpResponse;
use actix_web::http::header::{CacheControl, CacheDirective};
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, Ref, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use super::problem::{CONTENT_TYPE, Problem};
use super::{
    PREFIX, approvals, audit, break_glass, clients, consents, disclosures, erasure, fhir,
    permission, roles, sessions, users,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Ward admin API",
        description = "Administration of a Ward deployment: users, clients, role assignments, \
            sessions and the audit trail. Every route but this document needs a Ward access \
            token of a user who holds the route's permission (`x-ward-permission`) in the `ward` \
            tenant, from a multi-factor sign-in (acr `aal2`, `phr` or `phrh`) recent enough. \
            Errors are RFC 9457 problem details. Guide: docs/admin-api.md."
    ),
    paths(
        document,
        users::list, users::create, users::show, users::set_status, users::set_profile,
        users::reset_mfa, erasure::erase, erasure::hold, erasure::release,
        roles::show, roles::grant, roles::revoke, roles::grant_client, roles::revoke_client,
        approvals::list, approvals::approve, approvals::reject,
        sessions::list, sessions::end_all, sessions::end,
        consents::list, consents::withdraw,
        disclosures::list, disclosures::export,
        clients::list, clients::create, clients::show, clients::update, clients::remove,
        clients::rotate_secret,
        fhir::list, fhir::create, fhir::remove, fhir::set_fhir_user,
        audit::query,
        break_glass::list, break_glass::review,
    ),
    components(schemas(Problem)),
    modifiers(&Guarded),
    security(("bearer" = [])),
    tags(
        (name = "users", description = "Accounts (`users:read`, `users:write`)"),
        (name = "roles", description = "Role assignments per tenant (`roles:read`, `roles:write`)"),
        (name = "sessions", description = "Browser sessions (`sessions:read`, `sessions:write`)"),
        (name = "consents", description = "A user's consent records; withdrawal (`users:read`, `users:write`)"),
        (name = "disclosures", description = "A user's accounting of disclosures and data export (`users:read`)"),
        (name = "clients", description = "Relying parties (`clients:read`, `clients:write`)"),
        (name = "fhir-servers", description = "FHIR servers SMART apps get tokens for (`fhir-servers:read`, `fhir-servers:write`)"),
        (name = "audit", description = "The audit trail (`audit:read`)"),
        (name = "break-glass", description = "Emergency access review (`break-glass:review`)"),
        (name = "meta", description = "This document"),
    )
)]
pub struct AdminApi;

/// The bearer scheme, and what the guard adds to every protected operation.
struct Guarded;

fn problem(description: &str) -> RefOr<utoipa::openapi::Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            CONTENT_TYPE,
            Content::new(Some(Ref::from_schema_name("Problem"))),
        )
        .build()
        .into()
}

fn add_guard_responses(op: &mut Operation, perm: super::auth::Permission) {
    let responses = &mut op.responses.responses;
    // The handlers' annotations name their error statuses; every error body
    // is a problem, so the schema is added here once.
    for (status, response) in responses.iter_mut() {
        if let RefOr::T(r) = response
            && !status.starts_with('2')
            && r.content.is_empty()
        {
            *response = problem(&r.description);
        }
    }
    let mut add = |status: &str, description: &str| {
        responses
            .entry(status.to_string())
            .or_insert_with(|| problem(description));
    };
    if op.request_body.is_some() || op.parameters.is_some() {
        add(
            "400",
            "The body, a path or a query parameter is malformed (`invalid-request`)",
        );
    }
    add(
        "401",
        "No valid token (`unauthorized`), or the sign-in behind it is not multi-factor or not \
         recent enough (`insufficient-user-authentication`, with an RFC 9470 challenge)",
    );
    add(
        "403",
        "The token's user lacks the permission in the `ward` tenant (`forbidden`)",
    );
    add(
        "500",
        "Ward failed; the detail says nothing more (`about:blank`)",
    );
    add("503", "The database is not answering (`about:blank`)");
    let ext = op.extensions.get_or_insert_with(Default::default);
    ext.insert(
        "x-ward-permission".to_string(),
        serde_json::Value::String(perm.to_string()),
    );
}

impl Modify for Guarded {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        let components = api.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "A Ward access token (RFC 9068) from a user's sign-in at this Ward",
                    ))
                    .build(),
            ),
        );
        for (path, item) in api.paths.paths.iter_mut() {
            let relative = path.strip_prefix(PREFIX).unwrap_or(path);
            for (method, op) in [
                ("GET", &mut item.get),
                ("POST", &mut item.post),
                ("PUT", &mut item.put),
                ("PATCH", &mut item.patch),
                ("DELETE", &mut item.delete),
            ] {
                if let (Some(op), Some(perm)) = (op.as_mut(), permission(method, relative)) {
                    add_guard_responses(op, perm);
                }
            }
        }
    }
}

/// The document as JSON, built once.
pub fn json() -> &'static str {
    static DOC: OnceLock<String> = OnceLock::new();
    DOC.get_or_init(|| AdminApi::openapi().to_json().unwrap_or_default())
}

#[utoipa::path(
    get, path = "/admin/api/openapi.json", tag = "meta", security(()),
    responses((status = 200, description = "This document (OpenAPI 3.1)", body = Object))
)]
pub async fn document() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(CacheControl(vec![
            CacheDirective::Public,
            CacheDirective::MaxAge(3600),
        ]))
        .content_type("application/json")
        .body(json())
}

#[cfg(test)]
mod tests {
    use actix_web::App;
    use actix_web::http::StatusCode;
    use actix_web::test as web_test;
    use serde_json::Value;

    use super::super::{PUBLIC_ROUTES, ROUTES, scope};
    use super::*;

    fn operations() -> Vec<(String, String, Value)> {
        let doc: Value = serde_json::from_str(json()).unwrap();
        let mut out = Vec::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                out.push((method.to_uppercase(), path.clone(), op.clone()));
            }
        }
        out
    }

    #[test]
    fn the_document_lists_exactly_the_routes_and_their_permissions() {
        let ops = operations();
        assert_eq!(ops.len(), ROUTES.len() + PUBLIC_ROUTES.len());
        for r in ROUTES {
            let full = format!("{PREFIX}{}", r.path);
            let (_, _, op) = ops
                .iter()
                .find(|(m, p, _)| *m == r.method && *p == full)
                .unwrap_or_else(|| panic!("{} {full} is not documented", r.method));
            assert_eq!(op["x-ward-permission"], r.permission.to_string());
            let errors = op["responses"]
                .as_object()
                .unwrap()
                .keys()
                .filter(|s| !s.starts_with('2'));
            for status in errors {
                assert_eq!(
                    op["responses"][status]["content"][CONTENT_TYPE]["schema"]["$ref"],
                    "#/components/schemas/Problem"
                );
            }
            assert!(
                op.get("security").is_none(),
                "inherits the bearer requirement"
            );
        }
        for (method, path) in PUBLIC_ROUTES {
            let full = format!("{PREFIX}{path}");
            let (_, _, op) = ops
                .iter()
                .find(|(m, p, _)| m == method && *p == full)
                .unwrap();
            assert_eq!(op["security"], serde_json::json!([{}]), "no token needed");
        }
        let doc: Value = serde_json::from_str(json()).unwrap();
        assert_eq!(
            doc["components"]["securitySchemes"]["bearer"]["scheme"],
            "bearer"
        );
    }

    /// Every mounted route refuses a request without a token, before looking at
    /// its path or body; the API's own errors are problems, never plain text.
    #[actix_web::test]
    async fn every_route_is_guarded_and_every_error_is_a_problem() {
        // As mounted by `web::bind`: errors rendered for their route.
        let app = web_test::init_service(
            App::new()
                .wrap(actix_web::middleware::from_fn(
                    crate::web::error::render_errors,
                ))
                .service(scope()),
        )
        .await;
        for r in ROUTES {
            let uri = format!("{PREFIX}{}", r.path)
                .replace("{id}", "x")
                .replace("{tenant}", "t")
                .replace("{role}", "r")
                .replace("{sid}", "s");
            let req = web_test::TestRequest::default()
                .method(r.method.parse().unwrap())
                .uri(&uri)
                .set_payload("not json")
                .to_request();
            let res = web_test::call_service(&app, req).await;
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{} {uri}", r.method);
            assert_eq!(
                res.headers().get("www-authenticate").unwrap(),
                "Bearer realm=\"ward\""
            );
            assert_eq!(res.headers().get("content-type").unwrap(), CONTENT_TYPE);
            assert_eq!(res.headers().get("cache-control").unwrap(), "no-store");
        }
        let res = web_test::call_service(
            &app,
            web_test::TestRequest::get()
                .uri("/admin/api/nothing")
                .to_request(),
        )
        .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        assert_eq!(res.headers().get("content-type").unwrap(), CONTENT_TYPE);
        let res = web_test::call_service(
            &app,
            web_test::TestRequest::put()
                .uri("/admin/api/users")
                .to_request(),
        )
        .await;
        assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(res.headers().get("allow").unwrap(), "GET, POST");
        let res = web_test::call_service(
            &app,
            web_test::TestRequest::get()
                .uri("/admin/api/openapi.json")
                .to_request(),
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(
            res.headers().get("cache-control").unwrap(),
            "public, max-age=3600"
        );
    }
}
