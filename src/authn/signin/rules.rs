//! The rules of a sign-in, free of I/O: which factor comes next, when the
//! sign-in is done, and what a risk verdict changes. `signin::step` feeds
//! them what it has checked and loaded; the pages only render the answer.

use serde::{Deserialize, Serialize};

use crate::authn::factors::{self, Factor};
use crate::clock::Millis;
use crate::domain::UserId;
use crate::domain::acr::{self, Acr, Amr};
use crate::session::Authentication;

use super::super::login::normalise_username;

/// A sign-in in progress, kept server-side between pages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// The account name typed (normalised), empty for a passkey-first sign-in.
    pub username: String,
    /// None while unknown, and for accounts that do not exist.
    pub user_id: Option<UserId>,
    pub factors: Vec<Factor>,
    /// When each factor was proven (same order as `factors`).
    pub proven_at: Vec<Millis>,
}

impl Progress {
    pub fn new(username: &str) -> Self {
        Self {
            username: normalise_username(username),
            user_id: None,
            factors: Vec::new(),
            proven_at: Vec::new(),
        }
    }

    pub fn prove(&mut self, factor: Factor, at: Millis) {
        if !self.factors.contains(&factor) {
            self.factors.push(factor);
            self.proven_at.push(at);
        }
    }
}

/// What protects an account.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AccountFactors {
    pub password: bool,
    pub totp: bool,
    pub passkeys: i64,
    pub recovery_codes: i64,
    /// A verified address that can receive codes.
    pub email: Option<String>,
}

impl AccountFactors {
    /// A factor beyond the password that the account has enrolled.
    pub fn has_second_factor(&self) -> bool {
        self.totp || self.passkeys > 0
    }
}

/// What the sign-in needs next.
#[derive(Debug, Clone, PartialEq)]
pub enum Next {
    Done(Authentication),
    /// The password (after an email or recovery code on an account that has one).
    Password,
    /// One of the account's second factors.
    SecondFactor,
    /// An email or recovery code (a recovery sign-in that has proven nothing yet).
    Code,
    /// Step-up to `phr`/`phrh`: only a passkey will do.
    Passkey,
    /// The client needs an acr the account has no factor for
    /// (`unmet_authentication_requirements`).
    Unmet,
}

/// The rules. A passkey is enough on its own (it is multi-factor). An account
/// with a password needs it; with a second factor enrolled, a password needs a
/// second factor (TOTP, passkey, recovery code or an email code). Accounts
/// without a password (patients with passkeys) may recover with an email or
/// recovery code alone, at AAL1. Unknown accounts never finish.
pub fn next(progress: &Progress, account: Option<&AccountFactors>) -> Next {
    let proven = &progress.factors;
    let (Some(account), Some(user_id)) = (account, &progress.user_id) else {
        return if proven.contains(&Factor::Password) {
            Next::SecondFactor
        } else {
            Next::Code
        };
    };
    let done = |p: &Progress| {
        let a = factors::assess(&p.factors);
        Next::Done(Authentication {
            user_id: user_id.clone(),
            acr: a.acr,
            amr: a.amr,
            auth_time: p.proven_at.iter().copied().max().unwrap_or(0),
            factor_times: p
                .factors
                .iter()
                .zip(&p.proven_at)
                .map(|(f, at)| (f.amr(), *at))
                .collect(),
        })
    };
    if proven.iter().any(|f| matches!(f, Factor::Passkey { .. })) {
        return done(progress);
    }
    // A recovery sign-in starts with a code whatever the account, so that the
    // page shown before any proof says nothing about the account.
    if proven.is_empty() {
        return Next::Code;
    }
    if account.password && !proven.contains(&Factor::Password) {
        return Next::Password;
    }
    if account.password && proven.len() == 1 && account.has_second_factor() {
        return Next::SecondFactor;
    }
    done(progress)
}

/// [`next`] with a required acr (step-up, docs/mfa.md): when the usual rules
/// are met but the result is weaker than `required`, ask only for what is
/// missing, or say it cannot be met.
pub fn next_for(
    progress: &Progress,
    account: Option<&AccountFactors>,
    required: Option<Acr>,
) -> Next {
    let n = next(progress, account);
    let (Next::Done(auth), Some(need), Some(account)) = (&n, required, account) else {
        return n;
    };
    if auth.acr.satisfies(need) {
        return n;
    }
    let has_passkey = progress
        .factors
        .iter()
        .any(|f| matches!(f, Factor::Passkey { .. }));
    if need == Acr::Aal2 {
        // A password and one of these makes AAL2; a passkey makes more.
        let second = account.totp || account.recovery_codes > 0 || account.passkeys > 0;
        return if second && (account.password || account.passkeys > 0) {
            Next::SecondFactor
        } else {
            Next::Unmet
        };
    }
    // phr / phrh: a passkey, unless one was used and was not enough (phrh from a synced key).
    if account.passkeys > 0 && !has_passkey {
        Next::Passkey
    } else {
        Next::Unmet
    }
}

/// The factors an existing session proved, read back from its amr, for a
/// step-up that asks only for what is missing.
pub fn factors_from_amr(amr: &[Amr]) -> Vec<Factor> {
    amr.iter()
        .filter_map(|a| match a {
            Amr::Pwd => Some(Factor::Password),
            Amr::Otp => Some(Factor::Totp),
            Amr::Rec => Some(Factor::RecoveryCode),
            Amr::Email => Some(Factor::EmailCode),
            Amr::Hwk => Some(Factor::Passkey { device_bound: true }),
            Amr::Swk => Some(Factor::Passkey {
                device_bound: false,
            }),
            Amr::User | Amr::Mfa => None,
        })
        .collect()
}

/// The risk engine's verdict on a sign-in whose account is known (docs/risk.md).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Risk {
    Allow,
    /// More proof: at least this acr.
    StepUp(Acr),
    Deny,
}

/// What a sign-in does after a factor was proven, all things considered.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Signed in.
    Done(Authentication),
    /// Another factor is needed: the verify page.
    More,
    /// The client (or the risk policy) needs more than this account can
    /// prove: `unmet_authentication_requirements`.
    Unmet,
    /// The risk policy refuses the sign-in.
    Refused,
    /// Answer exactly like a wrong password: a refusal right after a correct
    /// password must not confirm the password (the reasons are audited).
    AsWrongPassword,
}

/// One rule for every way in (password page, code page, passkey): the
/// account's rules ([`next_for`]) with the stronger of what the client
/// requires and what the risk engine asks for.
pub fn decide(
    progress: &Progress,
    account: Option<&AccountFactors>,
    required: Option<Acr>,
    risk: &Risk,
) -> Decision {
    let password_only = progress.factors == [Factor::Password];
    let risk_need = match risk {
        Risk::Allow => None,
        Risk::StepUp(acr) => Some(*acr),
        Risk::Deny if password_only => return Decision::AsWrongPassword,
        Risk::Deny => return Decision::Refused,
    };
    let need = acr::stronger(required, risk_need);
    match next_for(progress, account, need) {
        Next::Unmet if password_only && risk_need.is_some() => Decision::AsWrongPassword,
        Next::Unmet => Decision::Unmet,
        Next::Done(auth) => Decision::Done(auth),
        Next::Password | Next::SecondFactor | Next::Code | Next::Passkey => Decision::More,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn progress(factors: &[Factor]) -> Progress {
        let mut p = Progress::new("alice");
        p.user_id = Some(UserId::generate());
        for (i, f) in factors.iter().enumerate() {
            p.prove(*f, i as i64);
        }
        p
    }

    fn account(password: bool, totp: bool, passkeys: i64) -> AccountFactors {
        AccountFactors {
            password,
            totp,
            passkeys,
            ..Default::default()
        }
    }

    #[test]
    fn password_only_account_is_done_after_its_password() {
        let n = next(
            &progress(&[Factor::Password]),
            Some(&account(true, false, 0)),
        );
        assert!(matches!(n, Next::Done(a) if a.acr == Acr::Aal1));
    }

    #[test]
    fn an_enrolled_second_factor_is_required() {
        let acct = account(true, true, 0);
        assert_eq!(
            next(&progress(&[Factor::Password]), Some(&acct)),
            Next::SecondFactor
        );
        let n = next(&progress(&[Factor::Password, Factor::Totp]), Some(&acct));
        assert!(matches!(n, Next::Done(a) if a.acr == Acr::Aal2 && a.auth_time == 1));
    }

    #[test]
    fn a_passkey_is_enough() {
        let n = next(
            &progress(&[Factor::Passkey {
                device_bound: false,
            }]),
            Some(&account(true, true, 1)),
        );
        assert!(matches!(n, Next::Done(a) if a.acr == Acr::Phr));
    }

    #[test]
    fn codes_first_then_the_password_if_there_is_one() {
        let acct = account(true, true, 0);
        assert_eq!(next(&progress(&[]), Some(&acct)), Next::Code);
        assert_eq!(
            next(&progress(&[Factor::EmailCode]), Some(&acct)),
            Next::Password
        );
        let n = next(
            &progress(&[Factor::EmailCode, Factor::Password]),
            Some(&acct),
        );
        assert!(matches!(n, Next::Done(a) if a.acr == Acr::Aal1));
        let patient = account(false, false, 1);
        assert_eq!(next(&progress(&[]), Some(&patient)), Next::Code);
        let n = next(&progress(&[Factor::RecoveryCode]), Some(&patient));
        assert!(matches!(n, Next::Done(a) if a.acr == Acr::Aal1));
    }

    #[test]
    fn step_up_asks_only_for_what_is_missing() {
        let staff = account(true, true, 0);
        let pwd = progress(&[Factor::Password]);
        // A password-only account cannot reach aal2; with TOTP it is asked for.
        assert_eq!(
            next_for(&pwd, Some(&account(true, false, 0)), Some(Acr::Aal2)),
            Next::Unmet
        );
        let mut totp_account = staff.clone();
        totp_account.totp = true;
        assert_eq!(
            next_for(&pwd, Some(&totp_account), Some(Acr::Aal1)),
            next(&pwd, Some(&totp_account))
        );
        // phr needs a passkey; without one it cannot be met.
        let done = progress(&[Factor::Password, Factor::Totp]);
        assert_eq!(next_for(&done, Some(&staff), Some(Acr::Phr)), Next::Unmet);
        assert_eq!(
            next_for(&done, Some(&account(true, true, 1)), Some(Acr::Phr)),
            Next::Passkey
        );
        assert!(matches!(
            next_for(&done, Some(&staff), Some(Acr::Aal2)),
            Next::Done(_)
        ));
        // A synced passkey does not make phrh.
        let synced = progress(&[Factor::Passkey {
            device_bound: false,
        }]);
        assert_eq!(
            next_for(&synced, Some(&account(false, false, 1)), Some(Acr::Phrh)),
            Next::Unmet
        );
        assert_eq!(
            factors_from_amr(&[Amr::Pwd, Amr::Otp, Amr::Mfa]),
            vec![Factor::Password, Factor::Totp]
        );
    }

    #[test]
    fn a_risk_refusal_after_a_password_looks_like_a_wrong_password() {
        let acct = account(true, true, 1);
        let pwd = progress(&[Factor::Password]);
        assert_eq!(
            decide(&pwd, Some(&acct), None, &Risk::Deny),
            Decision::AsWrongPassword
        );
        // A step-up the account cannot meet, right after the password: the same.
        let weak = account(true, false, 0);
        assert_eq!(
            decide(&pwd, Some(&weak), None, &Risk::StepUp(Acr::Aal2)),
            Decision::AsWrongPassword
        );
        // One it can meet asks for the next factor.
        assert_eq!(
            decide(&pwd, Some(&acct), None, &Risk::StepUp(Acr::Aal2)),
            Decision::More
        );
    }

    #[test]
    fn a_passkey_is_refused_or_unmet_but_never_hidden() {
        let passkey = progress(&[Factor::Passkey {
            device_bound: false,
        }]);
        let none = AccountFactors::default();
        assert_eq!(
            decide(&passkey, Some(&none), None, &Risk::Deny),
            Decision::Refused
        );
        assert_eq!(
            decide(&passkey, Some(&none), None, &Risk::StepUp(Acr::Phrh)),
            Decision::Unmet
        );
        assert!(matches!(
            decide(&passkey, Some(&none), None, &Risk::StepUp(Acr::Aal2)),
            Decision::Done(a) if a.acr == Acr::Phr
        ));
    }

    #[test]
    fn the_client_and_the_risk_engine_ask_for_the_stronger_level() {
        let acct = account(true, true, 1);
        let done = progress(&[Factor::Password, Factor::Totp]);
        assert!(matches!(
            decide(&done, Some(&acct), Some(Acr::Aal2), &Risk::Allow),
            Decision::Done(_)
        ));
        assert_eq!(
            decide(&done, Some(&acct), Some(Acr::Aal2), &Risk::StepUp(Acr::Phr)),
            Decision::More
        );
        assert_eq!(
            decide(
                &done,
                Some(&account(true, true, 0)),
                Some(Acr::Phr),
                &Risk::Allow
            ),
            Decision::Unmet
        );
    }

    #[test]
    fn unknown_accounts_never_finish() {
        let mut p = progress(&[Factor::Password]);
        p.user_id = None;
        assert_eq!(next(&p, None), Next::SecondFactor);
        p.factors.clear();
        assert_eq!(next(&p, None), Next::Code);
    }
}
