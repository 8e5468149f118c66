//! The sign-in state machine, free of HTTP. A page or script turns what the
//! browser sent into an [`Input`], calls [`step`] once, and renders the
//! [`Outcome`]. Everything a sign-in decides lives here or below: which
//! factor comes next ([`rules`]), what the risk engine's verdict changes
//! ([`risk`]), when a session starts and what accompanies it ([`start`]),
//! and how a step-up starts from what an existing session already proved.
//!
//! A sign-in in progress is a server-side row named by a cookie
//! ([`progress`]); it lives ten minutes and gets a new id at every step.

pub mod progress;
pub mod risk;
pub mod rules;
pub mod start;
#[cfg(test)]
mod tests;

pub use rules::{AccountFactors, Decision, Next, Progress, Risk};

use crate::audit::{AuditEvent, Outcome as AuditOutcome};
use crate::authn::deps::Deps;
use crate::authn::factors::Factor;
use crate::authn::login::{self, LoginFailure, Requester};
use crate::crypto::secrets;
use crate::domain::Acr;
use crate::domain::records::User;

/// The pseudo-interaction of a sign-in to Ward's own account pages.
pub const ACCOUNT: &str = "account";

/// What the sign-in knows of the browser.
#[derive(Debug, Clone, Default)]
pub struct Browser {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// The browser's id (its signed device cookie): binds interactions to it.
    pub token: String,
    /// The session cookie's value, if any.
    pub session: Option<String>,
    /// The sign-in-in-progress cookie's value, if any.
    pub progress: Option<String>,
}

impl Browser {
    /// The hash of the device id, as stored (`known_devices`, `sessions`).
    pub fn device_hash(&self) -> String {
        secrets::hash(&self.token)
    }

    pub fn requester(&self) -> Requester {
        Requester {
            ip: self.ip.clone(),
            user_agent: self.user_agent.clone(),
        }
    }
}

/// One sign-in request: what it runs on, the browser and the interaction it serves.
pub struct SignIn<'a> {
    pub deps: Deps,
    pub browser: &'a Browser,
    /// The interaction id, or [`ACCOUNT`] for Ward's own pages.
    pub interaction: &'a str,
    /// The acr the interaction's client requires (the request's and the client's, the stronger).
    pub required_acr: Option<Acr>,
}

/// What the browser sent.
#[derive(Debug)]
pub enum Input {
    /// The login page is opened: a step-up when the browser's session is
    /// weaker than the client needs, else the form.
    Open,
    Password {
        username: String,
        password: String,
    },
    /// A code on the verify page; `method` is `totp`, `recovery` or `email`.
    Code {
        method: String,
        code: String,
    },
    /// "Email me a code" on the verify page.
    SendEmailCode,
    /// Start a recovery sign-in for the name typed (with an emailed code when asked).
    Recover {
        username: String,
        send_email: bool,
    },
    /// A passkey assertion that `passkey_flow::finish_sign_in` verified.
    Passkey {
        user: User,
        factor: Factor,
    },
    /// A patient account created with its first passkey.
    SignedUp {
        user: User,
        factor: Factor,
    },
}

/// What the page does next.
#[derive(Debug)]
pub enum Outcome {
    /// Show the login form with the name typed and the failure, if any.
    LoginForm {
        username: String,
        failure: Option<LoginFailure>,
    },
    /// Go to the next factor's page, with a new progress cookie (None: the
    /// browser's stays); `sent`: an emailed code was asked for (the page says
    /// one is on its way).
    Verify {
        progress_cookie: Option<String>,
        sent: bool,
    },
    /// The verify page again, with the failure.
    VerifyAgain {
        progress: Progress,
        account: AccountFactors,
        failure: LoginFailure,
    },
    /// No sign-in in progress in this browser: start at the login form.
    Restart,
    /// Signed in: the new session's cookie value.
    Done { session_cookie: String },
    /// `unmet_authentication_requirements` (audited).
    Unmet,
    /// Refused by the risk policy (audited by the risk engine).
    Refused,
    /// The database or a dependency is down.
    Unavailable,
}

/// Advance the sign-in by one input.
pub async fn step(s: &SignIn<'_>, input: Input) -> Outcome {
    let result = match input {
        Input::Open => open(s).await,
        Input::Password { username, password } => with_password(s, username, password).await,
        Input::Code { method, code } => with_code(s, &method, &code).await,
        Input::SendEmailCode => send_email_code(s).await,
        Input::Recover {
            username,
            send_email,
        } => recover(s, &username, send_email).await,
        Input::Passkey { user, factor } => passkey(s, user, factor, true).await,
        Input::SignedUp { user, factor } => passkey(s, user, factor, false).await,
    };
    result.unwrap_or(Outcome::Unavailable)
}

/// The sign-in in progress in this browser with its account, for the verify page.
pub async fn current(
    s: &SignIn<'_>,
) -> Result<Option<(Progress, Option<User>, AccountFactors)>, LoginFailure> {
    progress::load(&s.deps, s.browser.progress.as_deref()).await
}

type Step = Result<Outcome, LoginFailure>;

/// `Open`: a step-up starts from what the session proved and asks only for the rest.
async fn open(s: &SignIn<'_>) -> Step {
    let Some(need) = s.required_acr else {
        return Ok(form(""));
    };
    let Some((session, user)) = start::signed_in(&s.deps, s.browser).await? else {
        return Ok(form(""));
    };
    if session.acr.satisfies(need) {
        return Ok(form(""));
    }
    let mut progress = Progress::new(&user.username);
    progress.user_id = Some(user.id.clone());
    for f in rules::factors_from_amr(&session.amr) {
        let at = session.factor_times.get(&f.amr()).copied();
        progress.prove(f, at.unwrap_or(session.auth_time));
    }
    let account = progress::account_of(&s.deps, &user).await?;
    if rules::next_for(&progress, Some(&account), Some(need)) == Next::Unmet {
        return unmet(s, &progress).await;
    }
    verify(s, &progress, false).await
}

fn form(username: &str) -> Outcome {
    Outcome::LoginForm {
        username: username.to_string(),
        failure: None,
    }
}

/// `Password`: continues a recovery sign-in that already proved an emailed
/// or recovery code for the same account.
async fn with_password(s: &SignIn<'_>, username: String, password: String) -> Step {
    let who = s.browser.requester();
    let user = match login::verify_password(&s.deps, &username, password, &who).await {
        Ok(user) => user,
        Err(LoginFailure::Unavailable) => return Err(LoginFailure::Unavailable),
        Err(failure) => {
            return Ok(Outcome::LoginForm {
                username,
                failure: Some(failure),
            });
        }
    };
    let mut progress = earlier_for(s, &user).await?;
    progress.prove(Factor::Password, s.deps.now());
    let account = progress::account_of(&s.deps, &user).await?;
    proceed(s, progress, &account, s.required_acr).await
}

/// The progress so far if it is this user's, else a fresh one for them.
async fn earlier_for(s: &SignIn<'_>, user: &User) -> Result<Progress, LoginFailure> {
    let earlier = match current(s).await? {
        Some((p, _, _)) if p.user_id.as_ref() == Some(&user.id) => Some(p),
        _ => None,
    };
    let mut progress = earlier.unwrap_or_else(|| Progress::new(&user.username));
    progress.username = user.username.clone();
    progress.user_id = Some(user.id.clone());
    Ok(progress)
}

/// `Code`: a TOTP, recovery or emailed code. An unknown account, or a method
/// the page did not offer, fails like a wrong code.
async fn with_code(s: &SignIn<'_>, method: &str, code: &str) -> Step {
    let Some((mut progress, user, account)) = current(s).await? else {
        return Ok(Outcome::Restart);
    };
    let (deps, who) = (&s.deps, s.browser.requester());
    let checked = match (method, &user) {
        ("totp", Some(u)) => login::verify_totp(deps, u, code, &who)
            .await
            .map(|()| Factor::Totp),
        ("recovery", Some(u)) => login::verify_recovery_code(deps, u, code, &who)
            .await
            .map(|()| Factor::RecoveryCode),
        ("email", u) => {
            let name = progress.username.clone();
            login::verify_email_code(deps, &name, u.as_ref(), "sign_in", code, &who)
                .await
                .map(|_| Factor::EmailCode)
        }
        _ => Err(LoginFailure::Invalid),
    };
    match checked {
        Ok(factor) => {
            progress.prove(factor, deps.now());
            proceed(s, progress, &account, s.required_acr).await
        }
        Err(LoginFailure::Unavailable) => Err(LoginFailure::Unavailable),
        Err(failure) => Ok(Outcome::VerifyAgain {
            progress,
            account,
            failure,
        }),
    }
}

/// `SendEmailCode`: the answer is the same whether or not a code went out.
async fn send_email_code(s: &SignIn<'_>) -> Step {
    let Some((_, user, account)) = current(s).await? else {
        return Ok(Outcome::Restart);
    };
    if let (Some(u), Some(email)) = (&user, &account.email) {
        let (now, who) = (s.deps.now(), s.browser.requester());
        // Rate-limited or not, the answer is the same.
        let _sent = login::issue_email_code(&s.deps, u, email, "sign_in", now, &who).await?;
    }
    Ok(Outcome::Verify {
        progress_cookie: None,
        sent: true,
    })
}

/// `Recover`: a recovery sign-in for the name typed; the same answer for every name.
async fn recover(s: &SignIn<'_>, username: &str, send_email: bool) -> Step {
    let who = s.browser.requester();
    let user = if send_email {
        login::send_sign_in_code(&s.deps, username, &who).await?
    } else {
        progress::user_by_name(&s.deps, username).await?
    };
    let mut progress = Progress::new(username);
    progress.user_id = user
        .filter(|u| u.status == crate::domain::UserStatus::Active)
        .map(|u| u.id);
    verify(s, &progress, send_email).await
}

/// `Passkey` / `SignedUp`: a passkey signs in on its own, or completes a
/// password sign-in of the same account as its second factor. The client's
/// own requirement is checked when the flow resumes, as for a session.
async fn passkey(s: &SignIn<'_>, user: User, factor: Factor, continues: bool) -> Step {
    let mut progress = if continues {
        earlier_for(s, &user).await?
    } else {
        let mut p = Progress::new(&user.username);
        p.user_id = Some(user.id.clone());
        p
    };
    progress.prove(factor, s.deps.now());
    proceed(s, progress, &AccountFactors::default(), None).await
}

/// After a factor was proven: ask the risk engine, apply the rules, and act
/// on the decision.
async fn proceed(
    s: &SignIn<'_>,
    progress: Progress,
    account: &AccountFactors,
    required: Option<Acr>,
) -> Step {
    let verdict = risk::judge(s, &progress).await?;
    match rules::decide(&progress, Some(account), required, &verdict) {
        Decision::Done(auth) => {
            let session_cookie = start::session(s, &auth, &progress.username).await?;
            Ok(Outcome::Done { session_cookie })
        }
        Decision::More => verify(s, &progress, false).await,
        Decision::Unmet => unmet(s, &progress).await,
        Decision::Refused => Ok(Outcome::Refused),
        Decision::AsWrongPassword => as_wrong_password(s, &progress.username).await,
    }
}

/// Store the progress under a new id and go on to the verify page.
async fn verify(s: &SignIn<'_>, progress: &Progress, sent: bool) -> Step {
    let progress_cookie = progress::save(&s.deps, s.browser.progress.as_deref(), progress).await?;
    Ok(Outcome::Verify {
        progress_cookie: Some(progress_cookie),
        sent,
    })
}

/// Answer a risk refusal after a password exactly like a wrong password: the
/// same page, status and wording, and a failure counted and audited (reason
/// `risk_refused`), so that the refusal does not confirm the password.
async fn as_wrong_password(s: &SignIn<'_>, username: &str) -> Step {
    let who = s.browser.requester();
    let check = login::Check {
        deps: &s.deps,
        who: &who,
        username: username.to_string(),
        kind: "password",
        now: s.deps.now(),
    };
    match check.failed("risk_refused").await {
        LoginFailure::Unavailable => Err(LoginFailure::Unavailable),
        failure => Ok(Outcome::LoginForm {
            username: username.to_string(),
            failure: Some(failure),
        }),
    }
}

/// The client needs more than this account can prove (OpenID Connect Core
/// Unmet Authentication Requirements 1.0): audited; the page tells the client.
async fn unmet(s: &SignIn<'_>, progress: &Progress) -> Step {
    let mut event = AuditEvent::new(
        s.deps.now(),
        "anonymous",
        "login.step_up",
        AuditOutcome::Failure,
    )
    .reason("unmet_authentication_requirements")
    .detail("username", progress.username.as_str());
    event.ip = s.browser.ip.clone();
    s.deps
        .run(move |st| st.audit(event).map_err(LoginFailure::from))
        .await?;
    Ok(Outcome::Unmet)
}
