//! Validating an authorization request (RFC 6749 §4.1.1, OIDC Core §3.1.2.1),
//! one named check per rule, in the order the errors take precedence.

use super::{AuthorizationRequest, AuthorizeError, ResponseMode, ResponseTarget};
use crate::domain::records::Client;
use crate::domain::{Acr, GrantType};
use crate::oidc::claims::ClaimsRequest;
use crate::oidc::error::OAuthError;
use crate::oidc::grants::may_use;
use crate::oidc::params::Params;
use crate::oidc::{Provider, pkce, redirect, scope_list, smart_launch, smart_scopes};

/// Validate a request for `client` (shared by `/authorize` and `/par`).
pub fn validate(
    p: &Provider,
    params: &Params,
    client: &Client,
    pushed: bool,
) -> Result<AuthorizationRequest, AuthorizeError> {
    // 1. The redirect URI: until it is known good, errors are shown, not sent.
    let redirect_uri = check_redirect_uri(params, client).map_err(AuthorizeError::Page)?;

    // From here on errors go to the client. response_mode and state first, so that
    // the error itself can be delivered as the client asked.
    let state = params.get("state").ok().flatten().map(str::to_string);
    let mode = response_mode(params);
    let target = ResponseTarget {
        redirect_uri: redirect_uri.clone(),
        state: state.clone(),
        response_mode: *mode.as_ref().unwrap_or(&ResponseMode::Query),
    };
    let redirect_err = |e: OAuthError| AuthorizeError::Redirect(target.error(p.issuer, &e));
    let response_mode = mode.map_err(redirect_err)?;
    check_shape(p, params, client, pushed).map_err(redirect_err)?;
    let scope = check_scope(params, client).map_err(redirect_err)?;
    let code_challenge = pkce::check_request(
        pkce::policy(client.client_type, client.pkce),
        params.get("code_challenge").map_err(redirect_err)?,
        params.get("code_challenge_method").map_err(redirect_err)?,
        &scope,
        params.get("nonce").map_err(redirect_err)?,
    )
    .map_err(redirect_err)?;
    let (prompt, max_age) = check_prompt(params).map_err(redirect_err)?;
    let checked = Checked {
        redirect_uri,
        state,
        response_mode,
        scope,
        code_challenge,
        prompt,
        max_age,
    };
    let mut request = build(params, client, checked).map_err(redirect_err)?;
    // Last: a request refused for another reason keeps its launch unused.
    smart_launch::check_request(p, params, client, &mut request).map_err(redirect_err)?;
    Ok(request)
}

/// RFC 9700 §4.1.3: registered, compared exactly.
fn check_redirect_uri(params: &Params, client: &Client) -> Result<String, OAuthError> {
    match params.get("redirect_uri")? {
        Some(uri) if redirect::matches(&client.redirect_uris, uri) => Ok(uri.to_string()),
        Some(_) => Err(OAuthError::invalid_request(
            "redirect_uri is not registered for this client",
        )),
        None => Err(OAuthError::invalid_request("redirect_uri is missing")),
    }
}

/// OAuth 2.0 Multiple Response Types / Form Post Response Mode: query or form_post.
fn response_mode(params: &Params) -> Result<ResponseMode, OAuthError> {
    match params.get("response_mode")? {
        None | Some("query") => Ok(ResponseMode::Query),
        Some("form_post") => Ok(ResponseMode::FormPost),
        Some(other) => Err(OAuthError::invalid_request(format!(
            "response_mode `{other}` is not supported; use query or form_post"
        ))),
    }
}

/// The request as a whole: no repeated parameter (RFC 6749 §3.1), the code
/// flow only, no request objects or registration (OIDC Core §6, §7.2.1), PAR
/// where required (RFC 9126 §5), and a client allowed the code grant.
fn check_shape(
    p: &Provider,
    params: &Params,
    client: &Client,
    pushed: bool,
) -> Result<(), OAuthError> {
    if let Some(name) = params.first_repeated() {
        return Err(OAuthError::invalid_request(format!(
            "parameter `{name}` is repeated"
        )));
    }
    params.get("state")?;
    match params.get("response_type")? {
        Some("code") => {}
        Some(_) => {
            return Err(OAuthError::unsupported_response_type(
                "only response_type=code is supported",
            ));
        }
        None => return Err(OAuthError::invalid_request("response_type is missing")),
    }
    if params.get("request")?.is_some() {
        return Err(OAuthError::request_not_supported(
            "request objects are not supported; use PAR",
        ));
    }
    if params.get("registration")?.is_some() {
        return Err(OAuthError::registration_not_supported(
            "the registration parameter is not supported",
        ));
    }
    if pushed && params.get("request_uri")?.is_some() {
        return Err(OAuthError::invalid_request("request_uri cannot be pushed"));
    }
    if !pushed && (p.require_par || client.require_par) {
        return Err(OAuthError::invalid_request(
            "this client must use pushed authorization requests (RFC 9126)",
        ));
    }
    if !may_use(client, GrantType::AuthorizationCode) {
        return Err(OAuthError::unauthorized_client(
            "this client may not use the authorization code flow",
        ));
    }
    Ok(())
}

/// RFC 6749 §3.3: every requested scope must be allowed to the client; a
/// SMART clinical scope must fall within one the client is registered for,
/// and is narrowed to it (`oidc::smart_scopes`).
fn check_scope(params: &Params, client: &Client) -> Result<Vec<String>, OAuthError> {
    let mut scope: Vec<String> = Vec::new();
    for s in scope_list(params.get("scope")?.unwrap_or_default()) {
        let allowed = if smart_scopes::is_clinical(&s) {
            smart_scopes::within_registration(&s, &client.scopes)
                .map_err(OAuthError::invalid_scope)?
        } else if client.scopes.contains(&s) {
            s
        } else {
            return Err(OAuthError::invalid_scope(format!(
                "scope `{s}` is not allowed for this client"
            )));
        };
        if !scope.contains(&allowed) {
            scope.push(allowed);
        }
    }
    Ok(scope)
}

/// OIDC Core §3.1.2.1: known prompt values, `none` alone, and a
/// non-negative integer `max_age`.
fn check_prompt(params: &Params) -> Result<(Vec<String>, Option<i64>), OAuthError> {
    let prompt = scope_list(params.get("prompt")?.unwrap_or_default());
    if let Some(bad) = prompt
        .iter()
        .find(|v| !["none", "login", "consent", "select_account"].contains(&v.as_str()))
    {
        return Err(OAuthError::invalid_request(format!(
            "prompt `{bad}` is not supported"
        )));
    }
    if prompt.len() > 1 && prompt.iter().any(|v| v == "none") {
        // OIDC Core §3.1.2.1: none with any other value is an error.
        return Err(OAuthError::invalid_request(
            "prompt=none cannot be combined with other values",
        ));
    }
    let max_age = match params.get("max_age")? {
        Some(v) => Some(v.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
            OAuthError::invalid_request("max_age must be a non-negative integer")
        })?),
        None => None,
    };
    Ok((prompt, max_age))
}

/// What the checks above established.
struct Checked {
    redirect_uri: String,
    state: Option<String>,
    response_mode: ResponseMode,
    scope: Vec<String>,
    code_challenge: Option<String>,
    prompt: Vec<String>,
    max_age: Option<i64>,
}

/// The validated request: the checked values and the remaining parameters
/// (`claims`, OIDC Core §5.5; Ward's `tenant`).
fn build(params: &Params, client: &Client, c: Checked) -> Result<AuthorizationRequest, OAuthError> {
    let text = |name: &str| params.get(name).map(|v| v.map(str::to_string));
    // OIDC Core §5.5: malformed JSON is an invalid_request.
    let claims = params
        .get("claims")?
        .map(ClaimsRequest::parse)
        .transpose()?;
    // In the order the parameters were always read (the first error wins).
    let nonce = text("nonce")?;
    let login_hint = text("login_hint")?;
    let ui_locales = text("ui_locales")?;
    let id_token_hint = text("id_token_hint")?;
    let acr_values = scope_list(params.get("acr_values")?.unwrap_or_default());
    Ok(AuthorizationRequest {
        client_id: client.id.clone(),
        redirect_uri: c.redirect_uri,
        scope: c.scope,
        state: c.state,
        nonce,
        code_challenge: c.code_challenge,
        response_mode: c.response_mode,
        prompt: c.prompt,
        max_age: c.max_age,
        login_hint,
        ui_locales,
        id_token_hint,
        required_acr: required_acr(&acr_values, claims.as_ref()),
        acr_values,
        requested_claims: claims
            .as_ref()
            .map(ClaimsRequest::names)
            .unwrap_or_default(),
        claims: claims
            .map(|c| c.releasable(client))
            .filter(|c| !c.is_empty()),
        confirmed_sid: None,
        smart: None,
        tenant: match text("tenant")? {
            Some(t) => Some(
                crate::authz::rules::check_name(&t)
                    .map(|()| t)
                    .map_err(|e| OAuthError::invalid_request(format!("tenant: {e}")))?,
            ),
            None => None,
        },
    })
}

/// The weakest acr Ward knows among those the client named: `acr_values`
/// (OIDC Core §3.1.2.1), or the values of an essential `acr` claim in the
/// `claims` parameter (§5.5.1.1), which wins when present. Unknown values are
/// ignored; Ward treats the list as a requirement, not a hint, so a client that
/// asks for `phr` never receives a password-only token.
fn required_acr(acr_values: &[String], claims: Option<&ClaimsRequest>) -> Option<Acr> {
    use crate::domain::acr::weakest_known;
    if let Some(acr) = claims.and_then(|c| c.id_token.get("acr"))
        && acr.essential
        && let Some(w) = weakest_known(acr.string_values().iter().map(String::as_str))
    {
        return Some(w);
    }
    weakest_known(acr_values.iter().map(String::as_str))
}
