//! `ward fhir`: the FHIR servers Ward issues SMART tokens for (docs/smart.md).

use clap::Subcommand;
use serde_json::json;

use super::output::{self, time};
use super::{CliError, actor};
use crate::app::AppContext;
use crate::manage::fhir;
use crate::manage::records::FhirServer;

#[derive(Subcommand)]
pub enum FhirCommand {
    /// Register a FHIR server. A SMART app's `aud` must equal BASE_URL
    /// exactly (absolute https, http only for a loopback host, no query,
    /// fragment or trailing slash); its users sign in to TENANT.
    Add {
        base_url: String,
        /// The organisation (Casbin tenant) whose users sign in for this server.
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        json: bool,
    },
    /// List the registered FHIR servers.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Remove a FHIR server by base URL (or id). Tokens already issued for it
    /// stay valid until they expire.
    Remove { base_url: String },
}

fn to_json(s: &FhirServer) -> serde_json::Value {
    json!({ "id": s.id, "base_url": s.base_url, "tenant": s.tenant, "created_at": s.created_at })
}

pub fn run(ctx: &AppContext, command: FhirCommand) -> Result<(), CliError> {
    let actor = actor();
    match command {
        FhirCommand::Add {
            base_url,
            tenant,
            json,
        } => {
            let s = fhir::add(ctx, &actor, &base_url, &tenant)?;
            if json {
                output::json(&to_json(&s))
            } else {
                println!(
                    "registered FHIR server {} for tenant {}",
                    s.base_url, s.tenant
                );
                Ok(())
            }
        }
        FhirCommand::List { json } => {
            let list = fhir::list(ctx, &actor)?;
            if json {
                return output::json(&list.iter().map(to_json).collect::<Vec<_>>());
            }
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|s| {
                    vec![
                        s.base_url.clone(),
                        s.tenant.clone(),
                        s.id.clone(),
                        time(s.created_at),
                    ]
                })
                .collect();
            output::table(&["BASE URL", "TENANT", "ID", "CREATED"], &rows);
            Ok(())
        }
        FhirCommand::Remove { base_url } => {
            let s = fhir::remove(ctx, &actor, &base_url)?;
            println!("removed FHIR server {}", s.base_url);
            Ok(())
        }
    }
}
