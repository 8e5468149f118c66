pub mod account;
pub mod assets;
pub mod endpoints;
pub mod health;
pub mod home;
pub mod interaction;
pub mod login;
pub mod logout;
pub mod passkey;
pub mod signin_page;
pub mod workstation;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};

use super::error;

pub async fn not_found(req: HttpRequest) -> HttpResponse {
    error::page(
        &req,
        StatusCode::NOT_FOUND,
        "not_found",
        "There is nothing at this address.",
    )
}
