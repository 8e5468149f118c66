pub mod account;
mod account_actions;
pub mod activity;
pub mod assets;
pub mod connected_apps;
pub mod endpoints;
pub mod health;
pub mod home;
pub mod interaction;
pub mod login;
pub mod logout;
pub mod passkey;
pub mod picker;
pub mod signin_page;
pub mod workstation;

use actix_web::HttpResponse;

use super::error::WebError;

/// The default service: a path no route serves.
pub async fn not_found() -> Result<HttpResponse, WebError> {
    Err(WebError::not_found("There is nothing at this address."))
}
