//! A person's accounting of disclosures (docs/privacy.md; HIPAA 45 CFR
//! 164.528, GDPR Art. 15(1)(c)) for administrators (`ward user disclosures`,
//! `GET /admin/api/users/{id}/disclosures`) and for the person
//! (`/account/activity`): newest first, a page at a time, as records or as
//! RFC 4180 CSV for a records request. Every read is audited
//! (`disclosure.list`) with the read.

use crate::audit::{AuditEvent, Outcome};
use crate::clock::to_rfc3339;
use crate::context::AppContext;
use crate::domain::InvalidValue;
use crate::domain::disclosure::{Before, Disclosure};
use crate::domain::records::User;
use crate::store::DisclosureAdminStore;

use super::{ManageError, audited, users};

/// The most rows of one page; the default is 100.
pub const MAX_LIMIT: i64 = 1000;
pub const DEFAULT_LIMIT: i64 = 100;

/// One page, newest first; `next` is the `before` of the following page.
#[derive(Debug, Clone)]
pub struct Page {
    pub disclosures: Vec<Disclosure>,
    pub next: Option<String>,
}

/// What a caller asked for: where to start, and how many.
#[derive(Debug, Clone, Default)]
pub struct PageQuery {
    pub before: Option<String>,
    pub limit: Option<i64>,
}

impl PageQuery {
    fn parse(&self) -> Result<(Option<Before>, i64), InvalidValue> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(InvalidValue::new(
                "limit",
                format!("must be 1 to {MAX_LIMIT}"),
            ));
        }
        let before = self.before.as_deref().map(Before::parse).transpose()?;
        Ok((before, limit))
    }
}

/// A page of `ident`'s disclosures, read by an administrator. Unknown user:
/// NotFound; a bad `before` or `limit`: Invalid; both audited as refusals.
pub fn list(
    ctx: &AppContext,
    actor: &str,
    ident: &str,
    query: &PageQuery,
) -> Result<(User, Page), ManageError> {
    let refusal = || event(ctx, actor).detail("query", ident);
    audited(ctx, refusal, || {
        let (before, limit) = query.parse()?;
        let user = users::find(ctx, ident)?;
        let page = page_of(ctx, actor, &user, before.as_ref(), limit)?;
        Ok((user, page))
    })
}

/// A page of the person's own disclosures (`/account/activity`).
pub fn own(ctx: &AppContext, user: &User, query: &PageQuery) -> Result<Page, ManageError> {
    let (before, limit) = query.parse()?;
    page_of(
        ctx,
        &format!("user:{}", user.id),
        user,
        before.as_ref(),
        limit,
    )
}

fn event(ctx: &AppContext, actor: &str) -> AuditEvent {
    AuditEvent::new(
        ctx.clock.now_ms(),
        actor,
        "disclosure.list",
        Outcome::Success,
    )
}

fn page_of(
    ctx: &AppContext,
    actor: &str,
    user: &User,
    before: Option<&Before>,
    limit: i64,
) -> Result<Page, ManageError> {
    up_to_date(ctx)?;
    let record = event(ctx, actor).subject(user.id.as_str());
    // One more than asked tells whether there is a next page.
    let mut rows = ctx
        .db
        .user_disclosures(user.id.as_str(), before, limit + 1, Some(&record))?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next = more.then(|| rows.last().map(Before::after)).flatten();
    Ok(Page {
        disclosures: rows,
        next,
    })
}

/// Bring the accounting up to date before reading it: a token response's
/// row is written when the audit sealer chains the response's record
/// (within half a second on a running server), so the records still
/// pending are sealed now and no answer already given is missing.
pub(crate) fn up_to_date(ctx: &AppContext) -> Result<(), ManageError> {
    super::audit_log::seal_all(ctx).map(|_| ())
}

/// Every disclosure of the person, newest first, unaudited (the caller's
/// own operation is: the export).
pub(crate) fn all_of(ctx: &AppContext, user: &User) -> Result<Vec<Disclosure>, ManageError> {
    up_to_date(ctx)?;
    let mut out = Vec::new();
    let mut before = None;
    loop {
        let rows = ctx
            .db
            .user_disclosures(user.id.as_str(), before.as_ref(), MAX_LIMIT, None)?;
        let done = (rows.len() as i64) < MAX_LIMIT;
        before = rows.last().map(|d| Before {
            at: d.disclosed_at,
            id: Some(d.id.clone()),
        });
        out.extend(rows);
        if done {
            return Ok(out);
        }
    }
}

/// The CSV columns, in order.
pub const CSV_HEADER: [&str; 10] = [
    "disclosed_at",
    "kind",
    "client_id",
    "sub",
    "claims",
    "scopes",
    "consent_id",
    "tenant",
    "id",
    "disclosed_at_ms",
];

/// `rows` as RFC 4180 CSV: a header row, CRLF line ends, fields quoted when
/// they hold a comma, a quote or a line break (quotes doubled). Lists are
/// space-separated inside their field; times are RFC 3339 and Unix ms.
pub fn csv(rows: &[Disclosure]) -> String {
    let mut out = String::new();
    push_row(&mut out, CSV_HEADER.iter().map(|h| h.to_string()));
    for d in rows {
        push_row(
            &mut out,
            [
                to_rfc3339(d.disclosed_at),
                d.kind.as_str().to_string(),
                d.client_id.to_string(),
                d.sub.clone(),
                d.claims.join(" "),
                d.scopes.join(" "),
                d.consent_id.clone().unwrap_or_default(),
                d.tenant.clone().unwrap_or_default(),
                d.id.clone(),
                d.disclosed_at.to_string(),
            ]
            .into_iter(),
        );
    }
    out
}

fn push_row(out: &mut String, fields: impl Iterator<Item = String>) {
    for (i, f) in fields.enumerate() {
        if i > 0 {
            out.push(',');
        }
        if f.contains([',', '"', '\r', '\n']) {
            out.push('"');
            out.push_str(&f.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(&f);
        }
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::disclosure::DisclosureKind;

    #[test]
    fn csv_quotes_as_rfc_4180_says() {
        let d = Disclosure {
            id: "ab".into(),
            disclosed_at: 0,
            user_id: crate::domain::UserId::parse("6f1c2b9e-1d2a-4c1e-9f3a-2b4c6d8e0f12").unwrap(),
            client_id: crate::domain::ClientId::exact("rp").unwrap(),
            sub: "a,\"b\"".into(),
            kind: DisclosureKind::Userinfo,
            claims: vec!["email".into(), "sub".into()],
            scopes: vec!["openid".into()],
            consent_id: None,
            tenant: Some("t\r\nx".into()),
            consent_client: None,
        };
        let text = csv(&[d]);
        let lines: Vec<&str> = text.split("\r\n").collect();
        assert_eq!(lines[0], CSV_HEADER.join(","));
        assert!(lines[1].starts_with("1970-01-01T00:00:00"), "{}", lines[1]);
        assert!(
            text.contains(",userinfo,rp,\"a,\"\"b\"\"\",email sub,openid,,\"t\r\nx\",ab,0\r\n"),
            "{text}"
        );
        assert!(text.ends_with("\r\n"));
    }

    #[test]
    fn page_queries_are_checked() {
        let q = |before: Option<&str>, limit| PageQuery {
            before: before.map(str::to_string),
            limit,
        };
        assert_eq!(q(None, None).parse().unwrap().1, DEFAULT_LIMIT);
        assert!(q(None, Some(0)).parse().is_err());
        assert!(q(None, Some(MAX_LIMIT + 1)).parse().is_err());
        assert!(q(Some("x"), None).parse().is_err());
        assert_eq!(q(Some("5.ab"), Some(3)).parse().unwrap().0.unwrap().at, 5);
    }
}
