//! `ward user disclosures` and `ward user export` (docs/privacy.md): a
//! person's accounting of disclosures, and their data as one JSON document.

use std::io::Write;

use super::CliError;
use super::output::{self, time};
use crate::app::AppContext;
use crate::manage::disclosures::{self, PageQuery};

/// `ward user disclosures USER`: a table, `--json` (the page and its `next`
/// cursor) or `--csv` (RFC 4180, for a records request).
pub fn list(
    ctx: &AppContext,
    actor: &str,
    user: &str,
    query: &PageQuery,
    json: bool,
    csv: bool,
) -> Result<(), CliError> {
    let (user, page) = disclosures::list(ctx, actor, user, query)?;
    if csv {
        print!("{}", disclosures::csv(&page.disclosures));
        return Ok(());
    }
    if json {
        return output::json(&serde_json::json!({
            "user_id": user.id,
            "disclosures": page.disclosures,
            "next": page.next,
        }));
    }
    let rows: Vec<Vec<String>> = page
        .disclosures
        .iter()
        .map(|d| {
            vec![
                time(d.disclosed_at),
                d.kind.as_str().to_string(),
                d.client_id.to_string(),
                d.claims.join(","),
                d.scopes.join(" "),
            ]
        })
        .collect();
    output::table(&["WHEN", "KIND", "CLIENT_ID", "CLAIMS", "SCOPES"], &rows);
    if let Some(next) = page.next {
        println!("older: --before {next}");
    }
    Ok(())
}

/// `ward user export USER`: the JSON document on standard output.
pub fn export(ctx: &AppContext, actor: &str, user: &str) -> Result<(), CliError> {
    let doc = crate::manage::export::export(ctx, actor, user)?;
    let text = serde_json::to_string_pretty(&doc).map_err(|e| CliError::Failed(e.to_string()))?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}").map_err(|e| CliError::Failed(e.to_string()))
}
