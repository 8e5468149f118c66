use actix_web::HttpResponse;
use actix_web::http::header::{CacheControl, CacheDirective};

const STYLESHEET: &str = include_str!("../../../static/ward.css");

pub async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header(CacheControl(vec![
            CacheDirective::Public,
            CacheDirective::MaxAge(3600),
        ]))
        .body(STYLESHEET)
}
