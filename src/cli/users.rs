use clap::Subcommand;

use super::output::{self, opt, time};
use super::{CliError, actor, input};
use crate::app::AppContext;
use crate::domain::UserStatus;
use crate::manage::users::{self, InitialRole, NewUserInput};
use crate::storage::users::User;

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create a user; the password is read from standard input or a prompt.
    Add {
        username: String,
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        display_name: Option<String>,
        /// Create the account without a password (it will sign in with a passkey).
        #[arg(long)]
        no_password: bool,
        /// Also grant this role (needs --tenant); e.g. the first administrator:
        /// `--role ward-admin --tenant ward`.
        #[arg(long, requires = "tenant")]
        role: Option<String>,
        /// The tenant of --role.
        #[arg(long, requires = "role")]
        tenant: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// List users, ordered by username.
    List {
        /// Show users after this username (paging).
        #[arg(long)]
        after: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: i64,
        #[arg(long)]
        json: bool,
    },
    /// Show one user, by username or id.
    Show {
        user: String,
        #[arg(long)]
        json: bool,
    },
    /// Disable a user: they can no longer sign in.
    Disable { user: String },
    /// Enable a disabled user.
    Enable { user: String },
    /// Set a user's password, read from standard input or a prompt.
    SetPassword { user: String },
    /// List the clients a user has consented to.
    Consents {
        user: String,
        #[arg(long)]
        json: bool,
    },
    /// Withdraw a user's consent for a client (the next sign-in asks again).
    RevokeConsent { user: String, client_id: String },
    /// Remove a user's passkeys, authenticator app and recovery codes (a lost
    /// device): they sign in with the password or an emailed code and enrol again.
    ResetMfa { user: String },
}

fn print_user(u: &User) {
    println!("id:             {}", u.id);
    println!("username:       {}", u.username);
    println!("email:          {}", opt(&u.email));
    println!("email_verified: {}", u.email_verified);
    println!("display_name:   {}", opt(&u.display_name));
    println!("status:         {}", u.status.as_str());
    println!("account_type:   {}", u.account_type);
    println!("created:        {}", time(u.created_at));
    println!("updated:        {}", time(u.updated_at));
}

pub fn run(ctx: &AppContext, command: UserCommand) -> Result<(), CliError> {
    let actor = actor();
    match command {
        UserCommand::Add {
            username,
            email,
            display_name,
            no_password,
            role,
            tenant,
            json,
        } => {
            let password = if no_password {
                None
            } else {
                Some(input::read_secret("Password: ", true)?)
            };
            let initial = role
                .zip(tenant)
                .map(|(role, tenant)| InitialRole { role, tenant });
            let granted = initial
                .as_ref()
                .map(|r| format!("{} in {}", r.role, r.tenant));
            let user = users::add_with_role(
                ctx,
                &actor,
                NewUserInput {
                    username,
                    email,
                    display_name,
                    password,
                },
                initial,
            )?;
            if json {
                output::json(&user)
            } else {
                println!("created user {} (id {})", user.username, user.id);
                if let Some(granted) = granted {
                    println!("granted {granted}");
                }
                Ok(())
            }
        }
        UserCommand::List { after, limit, json } => {
            let list = users::list(ctx, &actor, after.as_deref(), limit)?;
            if json {
                return output::json(&list);
            }
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|u| {
                    vec![
                        u.username.clone(),
                        u.id.to_string(),
                        opt(&u.email).to_string(),
                        u.status.as_str().to_string(),
                        time(u.created_at),
                    ]
                })
                .collect();
            output::table(&["USERNAME", "ID", "EMAIL", "STATUS", "CREATED"], &rows);
            Ok(())
        }
        UserCommand::Show { user, json } => {
            let u = users::show(ctx, &actor, &user)?;
            if json {
                output::json(&u)
            } else {
                print_user(&u);
                Ok(())
            }
        }
        UserCommand::Disable { user } => {
            let u = users::set_status(ctx, &actor, &user, UserStatus::Disabled)?;
            println!("disabled user {}", u.username);
            Ok(())
        }
        UserCommand::Enable { user } => {
            let u = users::set_status(ctx, &actor, &user, UserStatus::Active)?;
            println!("enabled user {}", u.username);
            Ok(())
        }
        UserCommand::Consents { user, json } => {
            let list = users::consents(ctx, &actor, &user)?;
            if json {
                return output::json(&list);
            }
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|c| vec![c.client_id.clone(), c.scopes.join(" "), time(c.granted_at)])
                .collect();
            output::table(&["CLIENT_ID", "SCOPES", "GRANTED"], &rows);
            Ok(())
        }
        UserCommand::RevokeConsent { user, client_id } => {
            users::revoke_consent(ctx, &actor, &user, &client_id)?;
            println!("consent of {user} for {client_id} revoked");
            Ok(())
        }
        UserCommand::ResetMfa { user } => {
            let (u, removed) = users::reset_mfa(ctx, &actor, &user)?;
            println!(
                "removed from {}: {} passkey(s), authenticator app: {}, {} recovery code(s)",
                u.username, removed.passkeys, removed.totp, removed.recovery_codes
            );
            Ok(())
        }
        UserCommand::SetPassword { user } => {
            let password = input::read_secret("New password: ", true)?;
            let u = users::set_password(ctx, &actor, &user, &password)?;
            println!("password set for {}", u.username);
            Ok(())
        }
    }
}
