//! The authorization endpoint (RFC 6749 §4.1, OIDC Core §3.1.2): validate the
//! request, decide what the user must still do, and issue the code.
//!
//! Until client_id and redirect_uri are known good, errors are shown to the user
//! and never redirected (RFC 6749 §4.1.2.1); afterwards they go back to the
//! client with `state` and `iss` (RFC 9207).

use serde::{Deserialize, Serialize};

use super::claims::ClaimsRequest;
use super::error::OAuthError;
use super::params::Params;
use super::store::{AuthFacts, CodeRow, SessionRow};
use super::{Provider, jwt, pkce, redirect, scope_list, tokens};
use crate::audit::{AuditEvent, Outcome};
use crate::clock::Millis;
use crate::crypto::secrets;
use crate::domain::UserStatus;
use crate::storage::clients::Client;
use crate::storage::users::User;

pub const REQUEST_URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseMode {
    Query,
    FormPost,
}

/// A request that passed every check; stored while the user signs in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthorizationRequest {
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: Vec<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    /// None only for a client registered with `pkce = optional` that sent
    /// none (and so sent scope `openid` and a `nonce`, RFC 9700 §2.1.1).
    pub code_challenge: Option<String>,
    pub response_mode: ResponseMode,
    pub prompt: Vec<String>,
    pub max_age: Option<i64>,
    pub login_hint: Option<String>,
    pub ui_locales: Option<String>,
    pub id_token_hint: Option<String>,
    /// Requested ACR values (`acr_values`), in the client's order of preference.
    pub acr_values: Vec<String>,
    /// The weakest acr the client accepts, from `acr_values` or an essential
    /// `acr` in the `claims` parameter (docs/sessions-stepup in docs/mfa.md).
    #[serde(default)]
    pub required_acr: Option<String>,
    /// Ward's `tenant` parameter: the organisation whose roles and permissions
    /// the tokens should carry (docs/authorization.md).
    #[serde(default)]
    pub tenant: Option<String>,
    /// The claim names the `claims` parameter asks for (OIDC Core §5.5), for
    /// the risk engine's sensitive claims (docs/risk.md).
    #[serde(default)]
    pub requested_claims: Vec<String>,
    /// The `claims` parameter (OIDC Core §5.5), reduced to the claims Ward
    /// supports and the client may receive; carried through the code and the
    /// grant to the ID token and userinfo.
    #[serde(default)]
    pub claims: Option<ClaimsRequest>,
    /// On a shared workstation: the `sid` of the session whose user confirmed
    /// "continue as …" during this interaction (docs/sessions.md).
    #[serde(default)]
    pub confirmed_sid: Option<String>,
}

/// Where an authorization response (success or error) goes.
#[derive(Debug, Clone, PartialEq)]
pub struct ResponseTarget {
    pub redirect_uri: String,
    pub state: Option<String>,
    pub response_mode: ResponseMode,
}

/// The parameters to send back, and how.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthorizationResponse {
    pub target: ResponseTarget,
    pub params: Vec<(String, String)>,
}

impl AuthorizationResponse {
    /// For `response_mode=query`: the redirect URI with the parameters appended.
    pub fn redirect_url(&self) -> String {
        let mut url = self.target.redirect_uri.clone();
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&self.params)
            .finish();
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(&query);
        url
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum AuthorizeError {
    /// Shown to the user; never redirected (client or redirect URI not trusted).
    Page(OAuthError),
    /// Sent to the client's redirect URI.
    Redirect(AuthorizationResponse),
}

impl ResponseTarget {
    pub fn error(&self, issuer: &str, error: &OAuthError) -> AuthorizationResponse {
        let mut params = vec![
            ("error".to_string(), error.code.to_string()),
            ("error_description".to_string(), error.description.clone()),
        ];
        if let Some(s) = &self.state {
            params.push(("state".into(), s.clone()));
        }
        params.push(("iss".into(), issuer.to_string()));
        AuthorizationResponse {
            target: self.clone(),
            params,
        }
    }
}

impl AuthorizationRequest {
    /// The scopes the user consents to: those requested, and those whose
    /// claims the `claims` parameter asks for (OIDC Core §5.5).
    pub fn consent_scopes(&self) -> Vec<String> {
        let mut out = self.scope.clone();
        for s in self.claims.iter().flat_map(ClaimsRequest::scopes) {
            if !out.iter().any(|o| o == s) {
                out.push(s.to_string());
            }
        }
        out
    }

    pub fn target(&self) -> ResponseTarget {
        ResponseTarget {
            redirect_uri: self.redirect_uri.clone(),
            state: self.state.clone(),
            response_mode: self.response_mode,
        }
    }

    pub fn has_prompt(&self, value: &str) -> bool {
        self.prompt.iter().any(|p| p == value)
    }
}

/// Entry point of `/authorize`: resolve a pushed request or validate the parameters.
pub fn parse(p: &Provider, params: &Params) -> Result<AuthorizationRequest, AuthorizeError> {
    let page = AuthorizeError::Page;
    // A repeated client_id or redirect_uri leaves nothing to trust: show it.
    let client_id = params
        .get("client_id")
        .map_err(page)?
        .ok_or_else(|| page(OAuthError::invalid_request("client_id is missing")))?;
    params.get("redirect_uri").map_err(page)?;
    let client = p
        .store
        .client(client_id)
        .map_err(|e| page(e.into()))?
        .ok_or_else(|| page(OAuthError::invalid_request("unknown client_id")))?;

    if let Some(request_uri) = params.get("request_uri").map_err(page)? {
        return take_pushed(p, &client, request_uri);
    }
    validate(p, params, &client, false)
}

/// RFC 9126 §4: a pushed request is bound to its client, single use and short-lived.
fn take_pushed(
    p: &Provider,
    client: &Client,
    request_uri: &str,
) -> Result<AuthorizationRequest, AuthorizeError> {
    let invalid = || {
        AuthorizeError::Page(OAuthError::invalid_request_uri(
            "the request_uri is unknown, expired, already used or for another client",
        ))
    };
    let id = request_uri
        .strip_prefix(REQUEST_URI_PREFIX)
        .ok_or_else(invalid)?;
    let hash = secrets::hash(id);
    let row = p
        .store
        .auth_request(&hash, p.now)
        .map_err(|e| AuthorizeError::Page(e.into()))?
        .ok_or_else(invalid)?;
    if !row.pushed || row.client_id != client.id {
        return Err(invalid());
    }
    if !p
        .store
        .use_auth_request(&hash, p.now)
        .map_err(|e| AuthorizeError::Page(e.into()))?
    {
        return Err(invalid());
    }
    serde_json::from_str(&row.params).map_err(|_| invalid())
}

/// Validate a request for `client` (shared by `/authorize` and `/par`).
pub fn validate(
    p: &Provider,
    params: &Params,
    client: &Client,
    pushed: bool,
) -> Result<AuthorizationRequest, AuthorizeError> {
    let page = AuthorizeError::Page;

    // 1. The redirect URI: registered, exactly (RFC 9700 §4.1.3).
    let redirect_uri = match params.get("redirect_uri").map_err(page)? {
        Some(uri) if redirect::matches(&client.redirect_uris, uri) => uri.to_string(),
        Some(_) => {
            return Err(page(OAuthError::invalid_request(
                "redirect_uri is not registered for this client",
            )));
        }
        None => return Err(page(OAuthError::invalid_request("redirect_uri is missing"))),
    };

    // From here on errors go to the client. response_mode and state first, so that
    // the error itself can be delivered as the client asked.
    let state = params.get("state").ok().flatten().map(str::to_string);
    let mode = match params.get("response_mode") {
        Ok(None) | Ok(Some("query")) => Ok(ResponseMode::Query),
        Ok(Some("form_post")) => Ok(ResponseMode::FormPost),
        Ok(Some(other)) => Err(OAuthError::invalid_request(format!(
            "response_mode `{other}` is not supported; use query or form_post"
        ))),
        Err(e) => Err(e),
    };
    let target = ResponseTarget {
        redirect_uri: redirect_uri.clone(),
        state: state.clone(),
        response_mode: *mode.as_ref().unwrap_or(&ResponseMode::Query),
    };
    let redirect_err = |e: OAuthError| AuthorizeError::Redirect(target.error(p.issuer, &e));
    let response_mode = mode.map_err(redirect_err)?;
    if let Some(name) = params.first_repeated() {
        return Err(redirect_err(OAuthError::invalid_request(format!(
            "parameter `{name}` is repeated"
        ))));
    }
    params.get("state").map_err(redirect_err)?;

    match params.get("response_type").map_err(redirect_err)? {
        Some("code") => {}
        Some(_) => {
            return Err(redirect_err(OAuthError::unsupported_response_type(
                "only response_type=code is supported",
            )));
        }
        None => {
            return Err(redirect_err(OAuthError::invalid_request(
                "response_type is missing",
            )));
        }
    }
    if params.get("request").map_err(redirect_err)?.is_some() {
        return Err(redirect_err(OAuthError::request_not_supported(
            "request objects are not supported; use PAR",
        )));
    }
    if params.get("registration").map_err(redirect_err)?.is_some() {
        return Err(redirect_err(OAuthError::registration_not_supported(
            "the registration parameter is not supported",
        )));
    }
    if pushed && params.get("request_uri").map_err(redirect_err)?.is_some() {
        return Err(redirect_err(OAuthError::invalid_request(
            "request_uri cannot be pushed",
        )));
    }
    if !pushed && (p.require_par || client.require_par) {
        return Err(redirect_err(OAuthError::invalid_request(
            "this client must use pushed authorization requests (RFC 9126)",
        )));
    }
    if !client.grant_types.iter().any(|g| g == "authorization_code") {
        return Err(redirect_err(OAuthError::unauthorized_client(
            "this client may not use the authorization code flow",
        )));
    }

    let scope = scope_list(
        params
            .get("scope")
            .map_err(redirect_err)?
            .unwrap_or_default(),
    );
    if let Some(s) = scope.iter().find(|s| !client.scopes.contains(s)) {
        return Err(redirect_err(OAuthError::invalid_scope(format!(
            "scope `{s}` is not allowed for this client"
        ))));
    }
    let code_challenge = pkce::check_request(
        pkce::policy(client.client_type, client.pkce),
        params.get("code_challenge").map_err(redirect_err)?,
        params.get("code_challenge_method").map_err(redirect_err)?,
        &scope,
        params.get("nonce").map_err(redirect_err)?,
    )
    .map_err(redirect_err)?;

    let prompt = scope_list(
        params
            .get("prompt")
            .map_err(redirect_err)?
            .unwrap_or_default(),
    );
    if let Some(bad) = prompt
        .iter()
        .find(|v| !["none", "login", "consent", "select_account"].contains(&v.as_str()))
    {
        return Err(redirect_err(OAuthError::invalid_request(format!(
            "prompt `{bad}` is not supported"
        ))));
    }
    if prompt.len() > 1 && prompt.iter().any(|v| v == "none") {
        // OIDC Core §3.1.2.1: none with any other value is an error.
        return Err(redirect_err(OAuthError::invalid_request(
            "prompt=none cannot be combined with other values",
        )));
    }
    let max_age = match params.get("max_age").map_err(redirect_err)? {
        Some(v) => Some(v.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
            redirect_err(OAuthError::invalid_request(
                "max_age must be a non-negative integer",
            ))
        })?),
        None => None,
    };
    let text = |name: &str| {
        params
            .get(name)
            .map(|v| v.map(str::to_string))
            .map_err(redirect_err)
    };
    // OIDC Core §5.5: malformed JSON is an invalid_request.
    let claims = params
        .get("claims")
        .map_err(redirect_err)?
        .map(ClaimsRequest::parse)
        .transpose()
        .map_err(redirect_err)?;
    Ok(AuthorizationRequest {
        client_id: client.id.clone(),
        redirect_uri,
        scope,
        state,
        nonce: text("nonce")?,
        code_challenge,
        response_mode,
        prompt,
        max_age,
        login_hint: text("login_hint")?,
        ui_locales: text("ui_locales")?,
        id_token_hint: text("id_token_hint")?,
        acr_values: scope_list(
            params
                .get("acr_values")
                .map_err(redirect_err)?
                .unwrap_or_default(),
        ),
        required_acr: required_acr(
            &scope_list(
                params
                    .get("acr_values")
                    .map_err(redirect_err)?
                    .unwrap_or_default(),
            ),
            claims.as_ref(),
        ),
        requested_claims: claims
            .as_ref()
            .map(ClaimsRequest::names)
            .unwrap_or_default(),
        claims: claims
            .map(|c| c.releasable(&client.scopes))
            .filter(|c| !c.is_empty()),
        confirmed_sid: None,
        tenant: match text("tenant")? {
            Some(t) => Some(
                crate::authz::rules::check_name(&t)
                    .map(|()| t)
                    .map_err(|e| {
                        redirect_err(OAuthError::invalid_request(format!("tenant: {e}")))
                    })?,
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
fn required_acr(acr_values: &[String], claims: Option<&ClaimsRequest>) -> Option<String> {
    let weakest = |values: Vec<String>| {
        crate::domain::acr::ACR_VALUES
            .iter()
            .find(|known| values.iter().any(|v| v == *known))
            .map(|v| v.to_string())
    };
    if let Some(acr) = claims.and_then(|c| c.id_token.get("acr"))
        && acr.essential
        && let Some(w) = weakest(acr.string_values())
    {
        return Some(w);
    }
    weakest(acr_values.to_vec())
}

/// The acr a request needs: its own requirement, the client's minimum and
/// the minimum of any scope it asks for (`scope_min_acr`), the strongest.
pub fn needed_acr(
    req: &AuthorizationRequest,
    client: &Client,
    scope_min_acr: &std::collections::BTreeMap<String, crate::domain::Acr>,
) -> Option<String> {
    use crate::domain::acr::stronger;
    let mut need = stronger(req.required_acr.as_deref(), client.min_acr.as_deref());
    for scope in &req.scope {
        need = stronger(need, scope_min_acr.get(scope).map(|a| a.as_str()));
    }
    need.map(str::to_string)
}

/// What the user must still do before a code can be issued.
#[derive(Debug, Clone, PartialEq)]
pub enum Next {
    Login,
    Consent,
    /// The user belongs to several organisations and the client wants roles:
    /// the user chooses one.
    ChooseTenant,
    /// A shared workstation: whoever is at the keyboard confirms they are the
    /// session's user ("continue as …") or switches user.
    ConfirmUser,
    Issue,
}

/// Decide the next step. `interaction_started`: when the user's interaction for
/// this request began; a login after it satisfies `prompt=login` and `max_age`.
pub fn next_step(
    p: &Provider,
    req: &AuthorizationRequest,
    client: &Client,
    session: Option<(&SessionRow, &User)>,
    consented: Option<(&[String], Millis)>,
    interaction_started: Option<Millis>,
) -> Result<Next, AuthorizeError> {
    let redirect_err = |e: OAuthError| AuthorizeError::Redirect(req.target().error(p.issuer, &e));
    let fresh_login = |s: &SessionRow| interaction_started.is_some_and(|t| s.auth_time >= t);
    let needs_login = match session {
        None => true,
        Some((s, user)) => {
            user.status != UserStatus::Active
                || ((req.has_prompt("login") || req.has_prompt("select_account"))
                    && !fresh_login(s))
                || req.max_age.is_some_and(|max| {
                    p.now - s.auth_time > max.saturating_mul(1000) && !fresh_login(s)
                })
                || hint_names_someone_else(p, req, &user.id.to_string())
                // Step-up: the session is weaker than the client needs.
                || needed_acr(req, client, p.scope_min_acr)
                    .is_some_and(|need| !crate::domain::acr::acr_satisfies(&s.acr, &need))
        }
    };
    if needs_login {
        return if req.has_prompt("none") {
            Err(redirect_err(OAuthError::login_required(
                "the user must sign in",
            )))
        } else {
            Ok(Next::Login)
        };
    }
    // A session on a shared workstation is not assumed to belong to whoever
    // is at the keyboard now: unless they signed in during this interaction,
    // they confirm or switch user. prompt=none asks for no page: it gets a
    // code, as it would anywhere (the short idle timeout protects it).
    if let Some((s, _)) = session
        && (client.shared_workstation || s.shared_workstation)
        && !fresh_login(s)
        && !req.has_prompt("none")
        && req.confirmed_sid.as_deref() != Some(tokens::sid(&s.id_hash).as_str())
    {
        return Ok(Next::ConfirmUser);
    }
    // OIDC Core §3.1.2.1: prompt=consent MUST ask, even when consent was given
    // before (and for first-party clients): only a consent given during this
    // interaction counts.
    let needs_consent = if req.has_prompt("consent") {
        consented.is_none_or(|(_, at)| interaction_started.is_none_or(|t| at < t))
    } else {
        !client.first_party
            && !consented.is_some_and(|(granted, _)| {
                req.consent_scopes().iter().all(|s| granted.contains(s))
            })
    };
    if needs_consent {
        return if req.has_prompt("none") {
            Err(redirect_err(OAuthError::consent_required(
                "the user must consent",
            )))
        } else {
            Ok(Next::Consent)
        };
    }
    if let Some((_, user)) = session
        && needs_tenant_choice(p, req, client, user.id.as_str())
    {
        return if req.has_prompt("none") {
            Err(redirect_err(OAuthError::interaction_required(
                "the user must choose an organisation (or send the tenant parameter)",
            )))
        } else {
            Ok(Next::ChooseTenant)
        };
    }
    Ok(Next::Issue)
}

/// The organisations a user may sign in to a client for (the reserved `ward`
/// domain only when asked for by name).
pub fn tenant_choices(p: &Provider, user_id: &str) -> Vec<String> {
    p.policy
        .tenants(user_id)
        .into_iter()
        .filter(|t| t != crate::authz::WARD_TENANT)
        .collect()
}

/// A choice is needed when the client wants roles (the `roles` scope, or
/// permission resources it may see), none was requested, and there are several.
fn needs_tenant_choice(
    p: &Provider,
    req: &AuthorizationRequest,
    client: &Client,
    user_id: &str,
) -> bool {
    let wants_roles = req.scope.iter().any(|s| s == "roles") || !client.authz_resources.is_empty();
    wants_roles && req.tenant.is_none() && tenant_choices(p, user_id).len() > 1
}

/// An `id_token_hint` for another user means the current session is not the one wanted.
fn hint_names_someone_else(p: &Provider, req: &AuthorizationRequest, user_id: &str) -> bool {
    // OIDC Core §5.5.1: a `sub` with a value may be answered only for that user.
    if req
        .claims
        .as_ref()
        .and_then(ClaimsRequest::required_sub)
        .is_some_and(|sub| sub != user_id)
    {
        return true;
    }
    let Some(hint) = &req.id_token_hint else {
        return false;
    };
    let Some(decoded) = jwt::decode(hint) else {
        return true;
    };
    let ours = decoded
        .kid()
        .and_then(|k| p.keys.verifier(k))
        .is_some_and(|v| decoded.verify(v));
    // Expired hints are fine (OIDC Core §3.1.2.1); forged or foreign ones are not trusted.
    !ours || decoded.claims.get("sub").and_then(|s| s.as_str()) != Some(user_id)
}

/// The tenant whose roles the tokens carry: the one requested (the user must
/// hold a role there), or the user's only organisation. A user of several
/// organisations gets none unless the client asks for one.
fn resolve_tenant(
    p: &Provider,
    req: &AuthorizationRequest,
    user_id: &str,
) -> Result<Option<String>, OAuthError> {
    let tenants = tenant_choices(p, user_id);
    match &req.tenant {
        Some(t) if p.policy.tenants(user_id).contains(t) => Ok(Some(t.clone())),
        Some(_) => Err(OAuthError::access_denied(
            "the user has no role in the requested tenant",
        )),
        None if tenants.len() == 1 => Ok(tenants.into_iter().next()),
        None => Ok(None),
    }
}

/// Issue the code and build the success response.
pub fn issue_code(
    p: &Provider,
    req: &AuthorizationRequest,
    session: &SessionRow,
    interaction: Option<&str>,
) -> Result<AuthorizationResponse, OAuthError> {
    let code = secrets::generate(32);
    let row = CodeRow {
        code_hash: secrets::hash(&code),
        client_id: req.client_id.clone(),
        redirect_uri: req.redirect_uri.clone(),
        scope: req.scope.clone(),
        nonce: req.nonce.clone(),
        code_challenge: req.code_challenge.clone(),
        facts: AuthFacts {
            user_id: session.user_id.clone(),
            auth_time: session.auth_time,
            acr: session.acr.clone(),
            amr: session.amr.clone(),
            session_hash: Some(session.id_hash.clone()),
            tenant: resolve_tenant(p, req, &session.user_id)?,
        },
        created_at: p.now,
        expires_at: p.now + i64::from(p.tokens.authorization_code_seconds) * 1000,
        consumed_at: None,
        grant_id: None,
        user_active: true,
        claims: req.claims.clone(),
    };
    let mut audit = AuditEvent::new(
        p.now,
        format!("user:{}", session.user_id),
        "authorization.code_issued",
        Outcome::Success,
    )
    .subject(&session.user_id)
    .client(&req.client_id)
    .detail("scope", req.scope.join(" "))
    .detail("sid", tokens::sid(&session.id_hash));
    if !req.acr_values.is_empty() {
        audit = audit.detail("acr_values_requested", req.acr_values.join(" "));
    }
    if let Some(c) = &req.claims {
        audit = audit.detail("claims_requested", c.names().join(" "));
    }
    if !p.store.create_code(&row, interaction, &audit)? {
        return Err(OAuthError::invalid_request(
            "this sign-in was already completed; return to the application and sign in again",
        ));
    }
    let mut params = vec![("code".to_string(), code)];
    if let Some(s) = &req.state {
        params.push(("state".into(), s.clone()));
    }
    // RFC 9207: the issuer in every authorization response.
    params.push(("iss".into(), p.issuer.to_string()));
    Ok(AuthorizationResponse {
        target: req.target(),
        params,
    })
}
