//! What `/account/activity` shows a person, in plain language (docs/privacy.md,
//! "Your activity page"; GDPR Art. 15, HIPAA 45 CFR 164.528): their sign-ins
//! (from their sessions: when, the device in plain words, the approximate
//! place when GeoIP is configured, the factors used) and which apps received
//! which details about them, when (from the accounting of disclosures).
//! Newest first, ten of each per page; each view is audited (`activity.view`).

use std::collections::BTreeSet;

use super::ManageError;
use crate::audit::{AuditEvent, Outcome};
use crate::clock::Millis;
use crate::context::AppContext;
use crate::domain::Amr;
use crate::domain::disclosure::{Before, DisclosureKind};
use crate::domain::records::User;
use crate::oidc::claims;
use crate::store::{ClientStore, DisclosureAdminStore, SessionAdminStore, SessionRow};

/// Rows per section and page.
pub const PER_PAGE: usize = 10;
/// The oldest page one may page back to (a person's own view, not an export).
pub const MAX_PAGE: usize = 100;

/// One sign-in, in plain words.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SignIn {
    pub at: Millis,
    pub device: String,
    /// "near 48.9° N, 2.3° E", only when GeoIP is configured and knows the address.
    pub place: Option<String>,
    pub factors: Vec<&'static str>,
}

/// One disclosure, in plain words.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Received {
    pub at: Millis,
    pub app: String,
    pub what: &'static str,
    pub details: Vec<&'static str>,
}

/// A page of each, and whether there are older rows.
#[derive(Debug, Clone, Default)]
pub struct Activity {
    pub sign_ins: Vec<SignIn>,
    pub more_sign_ins: bool,
    pub received: Vec<Received>,
    pub more_received: bool,
}

/// Page `sign_ins_page` of the sign-ins and `apps_page` of the disclosures
/// (0 is the newest), with the `activity.view` record written with the read.
pub fn own(
    ctx: &AppContext,
    user: &User,
    sign_ins_page: usize,
    apps_page: usize,
) -> Result<Activity, ManageError> {
    let (sp, ap) = (sign_ins_page.min(MAX_PAGE), apps_page.min(MAX_PAGE));
    let uid = user.id.as_str();
    let received = page_of_disclosures(ctx, user, ap)?;
    let record = |_: &[SessionRow]| {
        AuditEvent::new(
            ctx.clock.now_ms(),
            format!("user:{uid}"),
            "activity.view",
            Outcome::Success,
        )
        .subject(uid)
        .detail("sign_ins_page", sp)
        .detail("apps_page", ap)
    };
    let want = ((sp + 1) * PER_PAGE + 1) as i64;
    let sessions = ctx.db.user_sessions(uid, None, want, record)?;
    let more_sign_ins = sessions.len() > (sp + 1) * PER_PAGE;
    let sign_ins = sessions
        .iter()
        .skip(sp * PER_PAGE)
        .take(PER_PAGE)
        .map(|s| sign_in(ctx, s))
        .collect();
    Ok(Activity {
        sign_ins,
        more_sign_ins,
        more_received: received.1,
        received: received.0,
    })
}

fn page_of_disclosures(
    ctx: &AppContext,
    user: &User,
    page: usize,
) -> Result<(Vec<Received>, bool), ManageError> {
    super::disclosures::up_to_date(ctx)?;
    // Skip whole pages with the cursor rather than reading them all.
    let mut before: Option<Before> = None;
    let mut rows = Vec::new();
    for _ in 0..=page {
        rows = ctx.db.user_disclosures(
            user.id.as_str(),
            before.as_ref(),
            PER_PAGE as i64 + 1,
            None,
        )?;
        let Some(last) = rows.get(PER_PAGE.saturating_sub(1)) else {
            break;
        };
        before = Some(Before {
            at: last.disclosed_at,
            id: Some(last.id.clone()),
        });
    }
    let more = rows.len() > PER_PAGE;
    rows.truncate(PER_PAGE);
    let mut out = Vec::new();
    for d in rows {
        let app = ctx
            .db
            .client(&d.client_id)?
            .map_or_else(|| d.client_id.to_string(), |c| c.name);
        out.push(Received {
            at: d.disclosed_at,
            app,
            what: kind_words(d.kind),
            details: detail_words(&d.claims),
        });
    }
    Ok((out, more))
}

fn sign_in(ctx: &AppContext, s: &SessionRow) -> SignIn {
    let place = ctx.geo.as_ref().and_then(|geo| {
        let ip = s.ip.as_deref()?.parse().ok()?;
        let p = geo.lookup(ip)?;
        Some(format!(
            "near {:.1}° {}, {:.1}° {}",
            p.latitude.abs(),
            if p.latitude >= 0.0 { "N" } else { "S" },
            p.longitude.abs(),
            if p.longitude >= 0.0 { "E" } else { "W" },
        ))
    });
    SignIn {
        at: s.created_at,
        device: device(s.user_agent.as_deref()),
        place,
        factors: s.amr.iter().filter_map(|a| factor_words(*a)).collect(),
    }
}

/// A browser's user agent in plain words: "Firefox on Linux".
pub fn device(user_agent: Option<&str>) -> String {
    let Some(ua) = user_agent.filter(|u| !u.trim().is_empty()) else {
        return "An unknown device".into();
    };
    // Order matters: Edge and Opera say Chrome too, Chrome says Safari.
    let browser = [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
    ]
    .iter()
    .find(|(token, _)| ua.contains(token))
    .map(|(_, name)| *name);
    let system = [
        ("iPhone", "an iPhone"),
        ("iPad", "an iPad"),
        ("Android", "Android"),
        ("Windows", "Windows"),
        ("Mac OS X", "a Mac"),
        ("CrOS", "ChromeOS"),
        ("Linux", "Linux"),
    ]
    .iter()
    .find(|(token, _)| ua.contains(token))
    .map(|(_, name)| *name);
    match (browser, system) {
        (Some(b), Some(s)) => format!("{b} on {s}"),
        (Some(b), None) => format!("{b} on an unknown system"),
        (None, Some(s)) => format!("An app or browser on {s}"),
        (None, None) => "An unknown device".into(),
    }
}

fn factor_words(amr: Amr) -> Option<&'static str> {
    Some(match amr {
        Amr::Pwd => "password",
        Amr::Otp => "authenticator app code",
        Amr::Hwk | Amr::Swk => "passkey",
        Amr::Rec => "recovery code",
        Amr::Email => "code sent by email",
        _ => return None,
    })
}

fn kind_words(kind: DisclosureKind) -> &'static str {
    match kind {
        DisclosureKind::IdToken => "You signed in to it",
        DisclosureKind::AccessToken => "It got access on your behalf",
        DisclosureKind::Userinfo => "It asked Ward for your details",
        DisclosureKind::Introspection => "It checked an access token about you",
    }
}

/// Claim names in plain words, once each.
pub fn detail_words(names: &[String]) -> Vec<&'static str> {
    let words: BTreeSet<&'static str> = names
        .iter()
        .map(|n| match n.as_str() {
            "sub" => "An identifier for you",
            "acr" | "amr" | "auth_time" | "sid" => "How and when you signed in",
            "roles" | "permissions" | "tenant" => "Your roles",
            "patient" | "encounter" | "fhirContext" | "fhirUser" => {
                "Which health record you opened"
            }
            other => claims::describe(other),
        })
        .collect();
    words.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_and_details_read_plainly() {
        let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0";
        assert_eq!(device(Some(firefox)), "Firefox on Linux");
        let edge = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36 Edg/120.0";
        assert_eq!(device(Some(edge)), "Edge on Windows");
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
        assert_eq!(device(Some(iphone)), "Safari on an iPhone");
        assert_eq!(device(None), "An unknown device");
        assert_eq!(device(Some("curl/8.0")), "An unknown device");
        let names = ["sub", "email", "amr", "acr"].map(String::from);
        assert_eq!(
            detail_words(&names),
            [
                "An identifier for you",
                "How and when you signed in",
                "Your email address"
            ]
        );
    }
}
