use std::io::Write;
use std::path::PathBuf;

use clap::Subcommand;

use super::output;
use super::{CliError, actor};
use crate::app::AppContext;
use crate::manage::policy;

#[derive(Subcommand)]
pub enum PolicyCommand {
    /// Replace the whole policy with a CSV file (`p` and `g` lines); an invalid
    /// file changes nothing.
    Import { file: PathBuf },
    /// Write the policy as CSV, in a stable order.
    Export {
        /// File to write (default: standard output).
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Give a user (username or id) a role in a tenant.
    Grant {
        user: String,
        role: String,
        #[arg(long)]
        tenant: String,
    },
    /// Take a role in a tenant away from a user (username or id).
    Revoke {
        user: String,
        role: String,
        #[arg(long)]
        tenant: String,
    },
    /// Show a user's roles and permissions in each tenant.
    Show {
        user: String,
        #[arg(long)]
        json: bool,
    },
}

pub fn run(ctx: &AppContext, command: PolicyCommand) -> Result<(), CliError> {
    let actor = actor();
    match command {
        PolicyCommand::Import { file } => {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| CliError::Failed(format!("cannot read {}: {e}", file.display())))?;
            let done = policy::import(ctx, &actor, &text)?;
            println!(
                "imported {} permission(s) and {} assignment(s); policy version {}",
                done.permissions, done.assignments, done.version
            );
            Ok(())
        }
        PolicyCommand::Export { output } => {
            let text = policy::export(ctx, &actor)?;
            write_export(&text, output)
        }
        PolicyCommand::Grant { user, role, tenant } => {
            let a = policy::grant(ctx, &actor, &user, &role, &tenant)?;
            println!(
                "granted {} to {} in {} (policy version {})",
                a.role,
                a.username.as_deref().unwrap_or(&a.user_id),
                a.tenant,
                a.version
            );
            Ok(())
        }
        PolicyCommand::Revoke { user, role, tenant } => {
            let a = policy::revoke(ctx, &actor, &user, &role, &tenant)?;
            println!(
                "revoked {} from {} in {} (policy version {})",
                a.role,
                a.username.as_deref().unwrap_or(&a.user_id),
                a.tenant,
                a.version
            );
            Ok(())
        }
        PolicyCommand::Show { user, json } => {
            let access = policy::show(ctx, &actor, &user)?;
            if json {
                return output::json(&access);
            }
            println!(
                "user:           {} (id {})",
                access.username, access.user_id
            );
            println!("policy version: {}", access.policy_version);
            if access.tenants.is_empty() {
                println!("no roles in any tenant");
                return Ok(());
            }
            let rows: Vec<Vec<String>> = access
                .tenants
                .iter()
                .map(|t| vec![t.tenant.clone(), t.roles.join(" "), t.permissions.join(" ")])
                .collect();
            output::table(&["TENANT", "ROLES", "PERMISSIONS"], &rows);
            Ok(())
        }
    }
}

/// The exported policy to `output`, or to standard output.
fn write_export(text: &str, output: Option<PathBuf>) -> Result<(), CliError> {
    match output {
        // Written beside the target and renamed into place: a failed
        // export never leaves a truncated policy that could be imported.
        Some(target) => {
            let mut name = target.file_name().unwrap_or_default().to_os_string();
            name.push(".partial");
            let partial = target.with_file_name(name);
            std::fs::write(&partial, text)
                .and_then(|()| std::fs::rename(&partial, &target))
                .map_err(|e| CliError::Failed(format!("cannot write {}: {e}", target.display())))?;
            eprintln!("exported the policy to {}", target.display());
        }
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())
                .and_then(|()| out.flush())
                .map_err(|e| CliError::Failed(e.to_string()))?;
        }
    }
    Ok(())
}
