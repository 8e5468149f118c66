use actix_web::HttpResponse;
use actix_web::http::header::{CacheControl, CacheDirective};

const STYLESHEET: &str = include_str!("../../../static/ward.css");
const FORM_POST_JS: &str = include_str!("../../../static/form_post.js");
const WEBAUTHN_JS: &str = include_str!("../../../static/webauthn.js");
const ADMIN_JS: &str = include_str!("../../../static/admin.js");

/// The admin console's one script: reloads the audit page while a
/// verification runs (docs/admin-console.md).
pub async fn admin_script() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header(CacheControl(vec![
            CacheDirective::Public,
            CacheDirective::MaxAge(3600),
        ]))
        .body(ADMIN_JS)
}

/// The one script of the sign-in and account pages: passkey ceremonies.
pub async fn webauthn_script() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header(CacheControl(vec![
            CacheDirective::Public,
            CacheDirective::MaxAge(3600),
        ]))
        .body(WEBAUTHN_JS)
}

pub async fn form_post_script() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header(CacheControl(vec![
            CacheDirective::Public,
            CacheDirective::MaxAge(3600),
        ]))
        .body(FORM_POST_JS)
}

pub async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header(CacheControl(vec![
            CacheDirective::Public,
            CacheDirective::MaxAge(3600),
        ]))
        .body(STYLESHEET)
}
