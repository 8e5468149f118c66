//! The HTTP edge: the only module that imports actix. Handlers are thin: parse
//! the input, make one call, render.

pub mod admin;
pub mod client_ip;
pub mod console;
pub mod error;
pub mod handlers;
pub mod metrics;
pub mod middleware;
pub mod oauth;
pub mod pages;
pub mod tls;
pub mod views;

use std::net::SocketAddr;

use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};

use crate::app::AppContext;
use crate::app::sealer::Sealer;
use crate::manage::audit_log;

/// Shared state of every worker.
pub struct WebState {
    pub ctx: AppContext,
    /// The discovery document, rendered once.
    pub discovery: String,
    /// The SMART configuration document, rendered once.
    pub smart_configuration: String,
    pub metrics: metrics::Metrics,
    pub views: views::Views,
    /// The admin console's background job (audit chain verification).
    pub console_jobs: console::jobs::Jobs,
}

/// Routes, shared by the server and the tests.
pub fn configure(cfg: &mut web::ServiceConfig) {
    use handlers::{assets, endpoints, health, home};
    cfg.app_data(web::PayloadConfig::new(oauth::MAX_FORM_BYTES))
        .app_data(
            // The passkey endpoints' JSON: small, and errors as JSON, never actix's text.
            web::JsonConfig::default()
                .limit(64 * 1024)
                .error_handler(|_, _| {
                    error::WebError::bad_request(
                        "The request body is not the JSON this endpoint expects.",
                    )
                    .into()
                }),
        )
        .route("/", web::get().to(home::index))
        .route("/healthz", web::get().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz))
        .route("/metrics", web::get().to(health::metrics))
        .route("/static/ward.css", web::get().to(assets::stylesheet))
        .route(
            "/static/form_post.js",
            web::get().to(assets::form_post_script),
        )
        .route(
            "/.well-known/openid-configuration",
            web::get().to(endpoints::discovery),
        )
        .route(
            "/.well-known/oauth-authorization-server",
            web::get().to(endpoints::discovery),
        )
        .route(
            "/.well-known/smart-configuration",
            web::get().to(endpoints::smart_configuration),
        )
        .route("/jwks", web::get().to(endpoints::jwks))
        .configure(browser_routes)
        .route("/userinfo", web::get().to(endpoints::userinfo))
        .route("/userinfo", web::post().to(endpoints::userinfo))
        .route("/token", web::post().to(endpoints::token))
        .route("/token", web::to(oauth::post_only))
        .route("/introspect", web::post().to(endpoints::introspection))
        .route("/introspect", web::to(oauth::post_only))
        .route("/revoke", web::post().to(endpoints::revocation))
        .route("/revoke", web::to(oauth::post_only))
        .route("/par", web::post().to(endpoints::pushed_authorization))
        .route("/par", web::to(oauth::post_only))
        .route("/smart/launch", web::post().to(endpoints::smart_launch))
        .route("/smart/launch", web::to(oauth::post_only))
        .route("/static/admin.js", web::get().to(assets::admin_script))
        .configure(console::routes)
        .service(admin::scope());
}

/// The pages of sign-in, consent, account and logout, and the passkey script's JSON.
fn browser_routes(cfg: &mut web::ServiceConfig) {
    use handlers::{
        account, activity, assets, connected_apps, interaction, login, logout, passkey, picker,
        workstation,
    };
    cfg.route("/authorize", web::get().to(interaction::authorize))
        .route("/authorize", web::post().to(interaction::authorize))
        .route("/authorize/resume", web::get().to(interaction::resume))
        .route("/login", web::get().to(login::login_form))
        .route("/login", web::post().to(login::login_submit))
        .route("/login/verify", web::get().to(login::verify_form))
        .route("/login/verify", web::post().to(login::verify_submit))
        .route("/login/recover", web::get().to(login::recover_form))
        .route("/login/recover", web::post().to(login::recover_submit))
        .route(
            "/login/passkey/start",
            web::post().to(passkey::sign_in_start),
        )
        .route(
            "/login/passkey/finish",
            web::post().to(passkey::sign_in_finish),
        )
        .route("/signup", web::get().to(login::signup_form))
        .route("/signup/start", web::post().to(passkey::signup_start))
        .route("/signup/finish", web::post().to(passkey::signup_finish))
        .route("/account", web::get().to(account::show))
        .route("/account", web::post().to(account::change))
        .route("/account/apps", web::get().to(connected_apps::list))
        .route("/account/activity", web::get().to(activity::show))
        .route("/account/export", web::post().to(activity::download))
        .route(
            "/account/apps/withdraw",
            web::get().to(connected_apps::confirm),
        )
        .route(
            "/account/apps/withdraw",
            web::post().to(connected_apps::withdraw),
        )
        .route("/account/totp", web::get().to(account::totp_form))
        .route("/account/totp", web::post().to(account::totp_confirm))
        .route(
            "/account/passkeys/start",
            web::post().to(passkey::register_start),
        )
        .route(
            "/account/passkeys/finish",
            web::post().to(passkey::register_finish),
        )
        .route(
            "/static/webauthn.js",
            web::get().to(assets::webauthn_script),
        )
        .route("/logout", web::get().to(logout::logout))
        .route("/logout", web::post().to(logout::logout))
        .route("/logout/confirm", web::post().to(logout::confirm))
        .route("/tenant", web::get().to(interaction::tenant_form))
        .route("/tenant", web::post().to(interaction::tenant_submit))
        .route("/continue", web::get().to(workstation::continue_form))
        .route("/continue", web::post().to(workstation::continue_submit))
        .route("/switch-user", web::post().to(workstation::switch_user))
        .route("/consent", web::get().to(interaction::consent_form))
        .route("/consent", web::post().to(interaction::consent_submit))
        .route("/picker/{kind}", web::get().to(picker::form))
        .route("/picker/{kind}", web::post().to(picker::search_submit))
        .route(
            "/picker/{kind}/choose",
            web::post().to(picker::choose_submit),
        );
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("TLS: {0}")]
    Tls(String),
    #[error("templates: {0}")]
    Templates(String),
    #[error("server: {0}")]
    Io(#[from] std::io::Error),
}

/// A bound server, accepting connections once polled.
pub struct Bound {
    pub server: actix_web::dev::Server,
    pub addr: SocketAddr,
    pub scheme: &'static str,
}

/// Build the application and bind its socket (TLS when configured).
pub fn bind(ctx: AppContext) -> Result<Bound, ServeError> {
    let config = ctx.config.clone();
    let discovery =
        crate::oidc::discovery::metadata(&config.issuer, config.require_par).to_string();
    let smart_configuration =
        crate::oidc::discovery::smart_configuration(&config.issuer).to_string();
    let state = web::Data::new(WebState {
        ctx,
        discovery,
        smart_configuration,
        metrics: metrics::Metrics::new(),
        views: views::Views::new().map_err(|e| ServeError::Templates(e.to_string()))?,
        console_jobs: console::jobs::Jobs::new(),
    });
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            // Innermost: the layers outside see every error already rendered.
            .wrap(from_fn(error::render_errors))
            .wrap(from_fn(middleware::bounded_body))
            .wrap(from_fn(middleware::security_headers))
            .wrap(from_fn(middleware::observe))
            .configure(configure)
            .default_service(web::to(handlers::not_found))
    })
    // In-flight requests get this long to finish after SIGTERM/SIGINT.
    .shutdown_timeout(30);

    let bind_err = |source| ServeError::Bind {
        addr: config.listen,
        source,
    };
    let (server, scheme) = match &config.tls {
        Some(files) => {
            let tls = tls::server_config(files).map_err(ServeError::Tls)?;
            (
                server
                    .bind_rustls_0_23(config.listen, tls)
                    .map_err(bind_err)?,
                "https",
            )
        }
        None => (server.bind(config.listen).map_err(bind_err)?, "http"),
    };
    let addr = server.addrs().first().copied().unwrap_or(config.listen);
    Ok(Bound {
        server: server.run(),
        addr,
        scheme,
    })
}

/// Bind, print the ready line, serve until SIGINT/SIGTERM, then drain in-flight
/// requests and chain the last audit records.
pub async fn serve(ctx: AppContext) -> Result<(), ServeError> {
    let issuer = ctx.config.issuer.clone();
    let bound = bind(ctx.clone())?;
    let addr = bound.addr.to_string();
    record_lifecycle(&ctx, "server.start", &addr).await;
    let sealer = Sealer::spawn(ctx.clone());

    // One line, on stdout, once the socket accepts connections: scripts and tests wait for it.
    println!(
        "ward ready: listening on {}://{} (issuer {issuer})",
        bound.scheme, bound.addr
    );
    tracing::info!(addr = %bound.addr, %issuer, "ward ready");

    let result = bound.server.await;
    tracing::info!("stopped accepting requests; sealing the audit trail");
    record_lifecycle(&ctx, "server.stop", &addr).await;
    sealer.shutdown().await;
    result.map_err(ServeError::Io)
}

/// Server starts and stops are part of the audit trail (who ran what, when).
async fn record_lifecycle(ctx: &AppContext, kind: &'static str, addr: &str) {
    let (ctx, addr) = (ctx.clone(), addr.to_string());
    let result =
        tokio::task::spawn_blocking(move || audit_log::record_lifecycle(&ctx, kind, &addr)).await;
    if !matches!(result, Ok(Ok(()))) {
        tracing::warn!(event = kind, "could not record the server lifecycle event");
    }
}
