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
    /// Give a user (username or id) a role in a tenant: `grant USER ROLE
    /// --tenant T`; or a registered client: `grant --client CLIENT_ID ROLE
    /// --tenant T` (`g, client:<client_id>, ROLE, T`; docs/smart.md).
    Grant {
        /// USER ROLE, or ROLE alone with --client.
        #[arg(value_name = "USER ROLE", num_args = 1..=2, required = true)]
        names: Vec<String>,
        /// The role goes to this client (a backend service, an EHR), not a user.
        #[arg(long, value_name = "CLIENT_ID")]
        client: Option<String>,
        #[arg(long)]
        tenant: String,
    },
    /// Take a role in a tenant away from a user (username or id): `revoke
    /// USER ROLE --tenant T`; or from a client: `revoke --client CLIENT_ID ROLE --tenant T`.
    Revoke {
        /// USER ROLE, or ROLE alone with --client.
        #[arg(value_name = "USER ROLE", num_args = 1..=2, required = true)]
        names: Vec<String>,
        /// The role is taken from this client, not a user.
        #[arg(long, value_name = "CLIENT_ID")]
        client: Option<String>,
        #[arg(long)]
        tenant: String,
    },
    /// Show a user's roles and permissions in each tenant; or a registered
    /// client's own (`show --client CLIENT_ID`).
    Show {
        /// The user (username or id); omitted with --client.
        #[arg(required_unless_present = "client", conflicts_with = "client")]
        user: Option<String>,
        /// Show this client's roles (`g, client:<client_id>, …`), not a user's.
        #[arg(long)]
        client: Option<String>,
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
        PolicyCommand::Grant {
            names,
            client,
            tenant,
        } => change(ctx, &actor, Change::Grant, &names, client, &tenant),
        PolicyCommand::Revoke {
            names,
            client,
            tenant,
        } => change(ctx, &actor, Change::Revoke, &names, client, &tenant),
        PolicyCommand::Show {
            client: Some(client),
            json,
            ..
        } => show_client(ctx, &actor, &client, json),
        PolicyCommand::Show { user, json, .. } => {
            let user = user.unwrap_or_default();
            let access = policy::show(ctx, &actor, &user)?;
            if json {
                return output::json(&access);
            }
            println!(
                "user:           {} (id {})",
                access.username, access.user_id
            );
            print_tenants(access.policy_version, &access.tenants);
            Ok(())
        }
    }
}

/// `ward policy show --client CLIENT_ID`.
fn show_client(ctx: &AppContext, actor: &str, client: &str, json: bool) -> Result<(), CliError> {
    let access = policy::show_client(ctx, actor, client)?;
    if json {
        return output::json(&access);
    }
    println!("client:         {} ({})", access.client_id, access.subject);
    print_tenants(access.policy_version, &access.tenants);
    Ok(())
}

/// The policy version, then a table of roles and permissions per tenant.
fn print_tenants(version: i64, tenants: &[policy::TenantAccess]) {
    println!("policy version: {version}");
    if tenants.is_empty() {
        println!("no roles in any tenant");
        return;
    }
    let rows: Vec<Vec<String>> = tenants
        .iter()
        .map(|t| vec![t.tenant.clone(), t.roles.join(" "), t.permissions.join(" ")])
        .collect();
    output::table(&["TENANT", "ROLES", "PERMISSIONS"], &rows);
}

#[derive(Clone, Copy)]
enum Change {
    Grant,
    Revoke,
}

/// `grant` or `revoke`, of a user's role or (with `--client`) a client's.
fn change(
    ctx: &AppContext,
    actor: &str,
    change: Change,
    names: &[String],
    client: Option<String>,
    tenant: &str,
) -> Result<(), CliError> {
    let (done, (role, who, tenant, version)) = match (change, client) {
        (Change::Grant, Some(c)) => {
            let a = policy::grant_client(ctx, actor, &c, role_only(names)?, tenant)?;
            (
                "granted",
                (
                    a.role,
                    format!("client {}", a.client_id),
                    a.tenant,
                    a.version,
                ),
            )
        }
        (Change::Revoke, Some(c)) => {
            let a = policy::revoke_client(ctx, actor, &c, role_only(names)?, tenant)?;
            (
                "revoked",
                (
                    a.role,
                    format!("client {}", a.client_id),
                    a.tenant,
                    a.version,
                ),
            )
        }
        (Change::Grant, None) => {
            let (user, role) = user_and_role(names)?;
            let a = policy::grant(ctx, actor, user, role, tenant)?;
            let who = a.username.unwrap_or(a.user_id);
            ("granted", (a.role, who, a.tenant, a.version))
        }
        (Change::Revoke, None) => {
            let (user, role) = user_and_role(names)?;
            let a = policy::revoke(ctx, actor, user, role, tenant)?;
            let who = a.username.unwrap_or(a.user_id);
            ("revoked", (a.role, who, a.tenant, a.version))
        }
    };
    let to = if done == "granted" { "to" } else { "from" };
    println!("{done} {role} {to} {who} in {tenant} (policy version {version})");
    Ok(())
}

/// `USER ROLE` of a grant or revoke without `--client`.
fn user_and_role(names: &[String]) -> Result<(&str, &str), CliError> {
    match names {
        [user, role] => Ok((user, role)),
        _ => Err(CliError::Usage(
            "name a user and a role (USER ROLE), or a client with --client CLIENT_ID ROLE".into(),
        )),
    }
}

/// The `ROLE` of a grant or revoke with `--client`.
fn role_only(names: &[String]) -> Result<&str, CliError> {
    match names {
        [role] => Ok(role),
        _ => Err(CliError::Usage(
            "with --client, name only the role: --client CLIENT_ID ROLE".into(),
        )),
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
