use actix_web::middleware::from_fn;
use actix_web::test::{self, TestRequest};
use actix_web::{App, HttpResponse, web};

use super::*;

#[test]
fn the_table_sorts_paths_into_route_kinds() {
    for (path, kind) in [
        ("/admin/api", RouteKind::Api),
        ("/admin/api/users/u1", RouteKind::Api),
        ("/admin/apix", RouteKind::Page),
        ("/token", RouteKind::OAuth),
        ("/introspect", RouteKind::OAuth),
        ("/revoke", RouteKind::OAuth),
        ("/par", RouteKind::OAuth),
        ("/parx", RouteKind::Page),
        ("/smart/launch", RouteKind::OAuth),
        ("/userinfo", RouteKind::OAuth),
        ("/jwks", RouteKind::OAuth),
        ("/.well-known/openid-configuration", RouteKind::OAuth),
        ("/.well-known/unknown", RouteKind::Page),
        ("/login/passkey/start", RouteKind::Script),
        ("/login/passkey/finish", RouteKind::Script),
        ("/login/passkey/other", RouteKind::Page),
        ("/account/passkeys/start", RouteKind::Script),
        ("/signup/start", RouteKind::Script),
        ("/signup/finish", RouteKind::Script),
        ("/signup", RouteKind::Page),
        ("/account/passkeys/finish", RouteKind::Script),
        ("/account", RouteKind::Page),
        ("/login", RouteKind::Page),
        ("/authorize", RouteKind::Page),
        ("/", RouteKind::Page),
        ("/nothing/here", RouteKind::Page),
    ] {
        assert_eq!(RouteKind::of(path), kind, "{path}");
    }
}

fn sample() -> WebError {
    WebError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "throttled",
        "Wait \"a\" bit.",
    )
    .retry_after(30)
    .header(header::WWW_AUTHENTICATE, "Bearer realm=\"ward\"")
}

async fn body_json(res: HttpResponse) -> serde_json::Value {
    let bytes = actix_web::body::to_bytes(res.into_body()).await.unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

fn header_of(res: &HttpResponse, name: HeaderName) -> Option<&str> {
    res.headers().get(name).and_then(|v| v.to_str().ok())
}

fn common_headers(res: &HttpResponse) {
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(header_of(res, header::RETRY_AFTER), Some("30"));
    assert_eq!(
        header_of(res, header::WWW_AUTHENTICATE),
        Some("Bearer realm=\"ward\"")
    );
}

#[actix_web::test]
async fn oauth_errors_are_rfc_6749_json_never_stored() {
    let req = TestRequest::post().uri("/token").to_http_request();
    let res = sample().render(RouteKind::OAuth, &req);
    common_headers(&res);
    assert_eq!(header_of(&res, header::CACHE_CONTROL), Some("no-store"));
    assert_eq!(header_of(&res, header::PRAGMA), Some("no-cache"));
    assert_eq!(
        body_json(res).await,
        serde_json::json!({ "error": "throttled", "error_description": "Wait \"a\" bit." })
    );
}

#[actix_web::test]
async fn api_errors_are_problem_json() {
    let req = TestRequest::get().uri("/admin/api/users").to_http_request();
    let res = sample().render(RouteKind::Api, &req);
    common_headers(&res);
    assert_eq!(
        header_of(&res, header::CONTENT_TYPE),
        Some("application/problem+json")
    );
    assert_eq!(
        body_json(res).await,
        serde_json::json!({
            "type": "about:blank",
            "title": "Too Many Requests",
            "status": 429,
            "detail": "Wait \"a\" bit.",
        })
    );
    let typed = WebError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_value", "no").problem(
        ProblemType {
            uri: "https://ward.dev/problems/invalid-value",
            title: "Invalid Value",
            field: Some("username"),
        },
    );
    let body = body_json(typed.render(RouteKind::Api, &req)).await;
    assert_eq!(body["type"], "https://ward.dev/problems/invalid-value");
    assert_eq!(body["field"], "username");
}

#[actix_web::test]
async fn script_errors_are_error_and_message() {
    let req = TestRequest::post()
        .uri("/login/passkey/start")
        .to_http_request();
    let res = sample().render(RouteKind::Script, &req);
    common_headers(&res);
    assert_eq!(header_of(&res, header::CACHE_CONTROL), Some("no-store"));
    assert_eq!(
        body_json(res).await,
        serde_json::json!({ "error": "throttled", "message": "Wait \"a\" bit." })
    );
}

#[actix_web::test]
async fn page_errors_are_html_or_json_when_asked() {
    let req = TestRequest::get().uri("/login").to_http_request();
    req.extensions_mut().insert(RequestId("r-1".into()));
    let res = sample().render(RouteKind::Page, &req);
    common_headers(&res);
    assert_eq!(
        header_of(&res, header::CONTENT_TYPE),
        Some("text/html; charset=utf-8")
    );
    let html = actix_web::body::to_bytes(res.into_body()).await.unwrap();
    assert!(String::from_utf8_lossy(&html).contains("429"));

    let req = TestRequest::get()
        .uri("/login")
        .insert_header((header::ACCEPT, "application/json"))
        .to_http_request();
    req.extensions_mut().insert(RequestId("r-2".into()));
    let res = sample().render(RouteKind::Page, &req);
    assert_eq!(
        body_json(res).await,
        serde_json::json!({ "error": "throttled", "error_description": "Wait \"a\" bit.", "request_id": "r-2" })
    );
}

#[actix_web::test]
async fn bare_errors_have_no_body() {
    let req = TestRequest::get().uri("/userinfo").to_http_request();
    let res = WebError::new(StatusCode::UNAUTHORIZED, "", "")
        .header(header::WWW_AUTHENTICATE, "Bearer realm=\"ward\"")
        .bare()
        .render(RouteKind::OAuth, &req);
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.headers().get(header::CONTENT_TYPE).is_none());
    let bytes = actix_web::body::to_bytes(res.into_body()).await.unwrap();
    assert!(bytes.is_empty());
}

#[test]
fn oauth_errors_keep_their_status_code_and_description() {
    let e = WebError::from(OAuthError::invalid_client("who are you"));
    assert_eq!(
        (e.status, e.code.as_ref(), e.message.as_str()),
        (StatusCode::UNAUTHORIZED, "invalid_client", "who are you")
    );
}

async fn failing() -> Result<HttpResponse, WebError> {
    Err(WebError::bad_request("no"))
}

/// The middleware finds a handler's error and renders it for the route; the
/// headers that an inner layer added stay.
#[actix_web::test]
async fn the_middleware_renders_each_route_in_its_envelope() {
    let app = test::init_service(
        App::new()
            .wrap(from_fn(render_errors))
            .route("/token", web::post().to(failing))
            .route("/login/passkey/start", web::post().to(failing))
            .service(
                web::scope("/admin/api")
                    .wrap(
                        actix_web::middleware::DefaultHeaders::new()
                            .add((header::CACHE_CONTROL, "private")),
                    )
                    .route("/users", web::get().to(failing)),
            )
            .route("/login", web::get().to(failing)),
    )
    .await;
    let call = |req: TestRequest| test::call_service(&app, req.to_request());

    let res = call(TestRequest::post().uri("/token")).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = test::read_body_json(res).await;
    assert_eq!(body["error_description"], "no");

    let res = call(TestRequest::post().uri("/login/passkey/start")).await;
    let body: serde_json::Value = test::read_body_json(res).await;
    assert_eq!(body["message"], "no");

    let res = call(TestRequest::get().uri("/admin/api/users")).await;
    assert_eq!(
        res.headers().get(header::CONTENT_TYPE).unwrap(),
        "application/problem+json"
    );
    // The rendering's own Cache-Control wins over the inner layer's.
    assert_eq!(
        res.headers().get(header::CACHE_CONTROL).unwrap(),
        "no-store"
    );
    let body: serde_json::Value = test::read_body_json(res).await;
    assert_eq!(body["detail"], "no");

    let res = call(TestRequest::get().uri("/login")).await;
    assert_eq!(
        res.headers().get(header::CONTENT_TYPE).unwrap(),
        "text/html; charset=utf-8"
    );
}

/// A middleware that refuses with a `WebError` itself (as a guard does).
async fn refuses_guarded(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    if req.path() == "/guarded" {
        return Ok(req
            .error_response(WebError::forbidden("not you"))
            .map_into_right_body());
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

#[actix_web::test]
async fn a_middleware_error_is_rendered_too() {
    let app = test::init_service(
        App::new()
            .wrap(from_fn(refuses_guarded))
            .wrap(from_fn(render_errors))
            .route("/guarded", web::get().to(HttpResponse::Ok)),
    )
    .await;
    let res = test::call_service(
        &app,
        TestRequest::get()
            .uri("/guarded")
            .insert_header((header::ACCEPT, "application/json"))
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let body: serde_json::Value = test::read_body_json(res).await;
    assert_eq!(body["error"], "access_denied");
    assert!(body.get("request_id").is_some());
}
