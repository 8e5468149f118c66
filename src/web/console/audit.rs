//! The console's audit page: records filtered by user, client, event type,
//! outcome and time, paged oldest first (`manage::search::audit`, recorded
//! as `audit.read`), and the chain's verification: the last check (the
//! latest `audit.verify` record, from the CLI or the console) and a "verify
//! now" that runs as a background job ([`super::jobs`]).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use minijinja::{Value, context};

use super::{Admin, gate, perm, posted, query, refusal, run, show, when};
use crate::audit::AuditRecord;
use crate::manage::search::{AuditFilter, AuditPage};
use crate::manage::{self, ManageError};
use crate::web::WebState;
use crate::web::pages::see_other;

/// Records per page.
const PAGE: usize = 50;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/audit", web::get().to(page))
        .route("/admin/audit/verify", web::post().to(verify_now));
}

/// A `datetime-local` value (`YYYY-MM-DDTHH:MM`, read as UTC) as Unix ms.
pub fn parse_time(field: &'static str, text: &str) -> Result<Option<i64>, ManageError> {
    if text.is_empty() {
        return Ok(None);
    }
    let bad =
        || crate::domain::InvalidValue::new(field, "is a date and time: 2026-12-03T14:00 (UTC)");
    let (date, clock) = text.split_once('T').ok_or_else(bad)?;
    let num = |s: Option<&str>| s.and_then(|s| s.parse::<i64>().ok()).ok_or_else(bad);
    let mut d = date.splitn(3, '-');
    let (y, m, day) = (num(d.next())?, num(d.next())?, num(d.next())?);
    let mut c = clock.splitn(3, ':');
    let (h, min) = (num(c.next())?, num(c.next())?);
    let month = u8::try_from(m)
        .ok()
        .and_then(|m| time::Month::try_from(m).ok());
    let date = month.and_then(|mo| {
        time::Date::from_calendar_date(i32::try_from(y).ok()?, mo, u8::try_from(day).ok()?).ok()
    });
    let at = time::Time::from_hms(
        u8::try_from(h).unwrap_or(99),
        u8::try_from(min).unwrap_or(99),
        0,
    );
    match (date, at) {
        (Some(d), Ok(t)) => Ok(Some(
            time::PrimitiveDateTime::new(d, t)
                .assume_utc()
                .unix_timestamp()
                * 1000,
        )),
        _ => Err(bad().into()),
    }
}

/// The page's filters from its query string; a user may be named by username.
fn filter_of(req: &HttpRequest) -> Result<AuditFilter, ManageError> {
    let opt = |n: &str| Some(query(req, n)).filter(|v| !v.is_empty());
    let after_id = match query(req, "after").as_str() {
        "" => 0,
        a => a
            .parse()
            .map_err(|_| crate::domain::InvalidValue::new("after", "is a record id"))?,
    };
    Ok(AuditFilter {
        event_type: opt("event_type"),
        subject: opt("user"),
        client_id: opt("client"),
        outcome: opt("outcome"),
        from: parse_time("from", &query(req, "from"))?,
        to: parse_time("to", &query(req, "to"))?,
        after_id,
        limit: PAGE,
    })
}

fn record_row(r: &AuditRecord) -> Value {
    context! {
        id => r.id,
        at => when(r.recorded_at),
        actor => r.actor,
        event_type => r.event_type,
        outcome => r.outcome,
        reason => r.reason,
        subject => r.subject_user,
        client => r.client_id,
        ip => r.ip,
        details => r.details,
        sealed => r.seq.is_some(),
    }
}

/// `GET /admin/audit` (`audit:read`).
pub async fn page(state: web::Data<WebState>, req: HttpRequest) -> HttpResponse {
    let admin = match gate(&state, &req, perm::AUDIT_READ).await {
        Ok(a) => a,
        Err(res) => return res,
    };
    let actor = admin.actor();
    let found = match filter_of(&req) {
        Ok(mut f) => {
            run(&state, move |ctx| {
                // A username is looked up; the records name users by id.
                if let Some(u) = f.subject.take() {
                    f.subject = Some(
                        manage::users::find(ctx, &u)
                            .map(|u| u.id.to_string())
                            .unwrap_or(u),
                    );
                }
                manage::search::audit(ctx, &actor, &f)
            })
            .await
        }
        Err(e) => Err(e),
    };
    render_page(&state, &req, &admin, found)
}

fn render_page(
    state: &WebState,
    req: &HttpRequest,
    admin: &Admin,
    found: Result<AuditPage, ManageError>,
) -> HttpResponse {
    let keep = ["event_type", "user", "client", "outcome", "from", "to"];
    let filters: Vec<(String, String)> = keep
        .iter()
        .map(|k| (k.to_string(), query(req, k)))
        .collect();
    let (status, view) = match found {
        Ok(p) => {
            let next = p.next_after.map(|after| {
                let mut q: Vec<(String, String)> = filters.clone();
                q.push(("after".into(), after.to_string()));
                format!("/admin/audit?{}", serde_urlencoded_pairs(&q))
            });
            let last = p.last_verify.as_ref().map(record_row);
            let records: Vec<Value> = p.records.iter().map(record_row).collect();
            (StatusCode::OK, context! { records, next, last })
        }
        Err(e) => {
            let (f, status, message) = refusal(&e);
            (
                status,
                context! { error => context! { field => f, message } },
            )
        }
    };
    let job = state_job(state);
    let filters: std::collections::BTreeMap<String, String> = filters.into_iter().collect();
    let view = context! { filters, job, ..view };
    show(state, req, admin, status, "admin/audit.html", view)
}

fn serde_urlencoded_pairs(pairs: &[(String, String)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs.iter().filter(|(_, v)| !v.is_empty()))
        .finish()
}

/// The verification job as the page shows it.
fn state_job(state: &WebState) -> Option<Value> {
    let job = state.console_jobs.verify()?;
    let now = state.ctx.clock.now_ms();
    let (ok, report, failed) = match &job.outcome {
        Some(Ok(r)) => (Some(r.ok), Some(Value::from_serialize(r)), None),
        Some(Err(why)) => (None, None, Some(why.clone())),
        None => (None, None, None),
    };
    Some(context! {
        running => job.running(),
        started_at => when(job.started_at),
        started_by => job.started_by,
        seconds => (job.finished_at.unwrap_or(now) - job.started_at) / 1000,
        finished_at => job.finished_at.map(when),
        ok, report, failed,
    })
}

/// `POST /admin/audit/verify` (`audit:read`): start the verification in the
/// background and come back to the page, which shows its progress.
pub async fn verify_now(
    state: web::Data<WebState>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let admin = match posted(&state, &req, &body, perm::AUDIT_READ).await {
        Ok((a, _)) => a,
        Err(res) => return res,
    };
    // Already running: the page shows that run.
    let _started = state
        .console_jobs
        .start_verify(state.ctx.clone(), admin.actor());
    see_other("/admin/audit#verification")
}
