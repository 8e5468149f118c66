use clap::{Args, Subcommand};

use super::output::{self, opt, time};
use super::{CliError, actor, input};
use crate::app::AppContext;
use crate::domain::UserStatus;
use crate::domain::consent::ConsentWithdrawn;
use crate::domain::profile::Address;
use crate::domain::records::User;
use crate::manage::users::{self, InitialRole, NewUserInput, ProfileChange};
use crate::manage::{ManageError, consents, erasure};

#[derive(Subcommand)]
pub enum UserCommand {
    /// Erase a user by crypto-shredding (docs/privacy.md): their data key,
    /// account, factors, sessions, consents and tokens go in one transaction;
    /// the clients that saw them get a back-channel logout. Refused under a
    /// legal hold and for the last `ward-admin`.
    Erase {
        user: String,
        /// Why (kept in the erasure record and the audit trail; do not name the person).
        #[arg(long)]
        reason: String,
        #[arg(long)]
        json: bool,
    },
    /// Place a legal hold: the user cannot be erased until it is released.
    Hold {
        user: String,
        #[arg(long)]
        reason: String,
    },
    /// Release a legal hold.
    ReleaseHold { user: String },
    /// Create a user; the password is read from standard input or a prompt.
    Add(AddArgs),
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
    /// Set a user's name and profile claims (OIDC Core §5.1); an empty value
    /// clears a field, a field not given stays as it is.
    Set(SetArgs),
    /// List a user's consents: the latest version per client (live or
    /// withdrawn); `--history` lists every version.
    Consents {
        user: String,
        #[arg(long)]
        history: bool,
        #[arg(long)]
        json: bool,
    },
    /// Withdraw a user's consent for a client: its refresh tokens and grants
    /// are revoked, a back-channel logout is sent, the next sign-in asks again.
    #[command(alias = "revoke-consent")]
    WithdrawConsent { user: String, client_id: String },
    /// Remove a user's passkeys, authenticator app and recovery codes (a lost
    /// device): they sign in with the password or an emailed code and enrol again.
    ResetMfa { user: String },
    /// A user's accounting of disclosures (docs/privacy.md): which client
    /// received which claims, when; newest first.
    Disclosures {
        user: String,
        /// Older than this: the `next` cursor of a page, or Unix ms.
        #[arg(long)]
        before: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: i64,
        #[arg(long, conflicts_with = "csv")]
        json: bool,
        /// RFC 4180 CSV with a header row, for a records request.
        #[arg(long)]
        csv: bool,
    },
    /// Everything Ward holds about a user as one JSON document on standard
    /// output (GDPR Art. 15/20, HIPAA 164.524); no secrets. Audited.
    Export { user: String },
}

// The options of `user add` (its help text is the variant's, above).
#[derive(Args)]
pub struct AddArgs {
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
}

// The options of `user set` (its help text is the variant's, above).
#[derive(Args)]
pub struct SetArgs {
    user: String,
    /// The `name` claim.
    #[arg(long)]
    display_name: Option<String>,
    #[arg(long)]
    given_name: Option<String>,
    #[arg(long)]
    family_name: Option<String>,
    #[arg(long)]
    middle_name: Option<String>,
    /// YYYY-MM-DD, or YYYY (0000-MM-DD withholds the year).
    #[arg(long)]
    birthdate: Option<String>,
    /// A BCP 47 language tag, e.g. en-US.
    #[arg(long)]
    locale: Option<String>,
    /// An IANA time zone, e.g. Europe/Paris.
    #[arg(long)]
    zoneinfo: Option<String>,
    /// E.164 recommended, e.g. "+1 604 555 1234"; unverified unless
    /// --phone-number-verified true.
    #[arg(long)]
    phone_number: Option<String>,
    #[arg(long)]
    phone_number_verified: Option<bool>,
    /// The address as a JSON object of formatted, street_address,
    /// locality, region, postal_code, country (OIDC Core §5.1.1).
    #[arg(long)]
    address_json: Option<String>,
    /// The user's FHIR resource for SMART apps (the `fhirUser` claim, the
    /// patient of a standalone launch): a relative reference such as
    /// Patient/123 or Practitioner/9 (docs/smart.md); empty clears it.
    #[arg(long)]
    fhir_user: Option<String>,
    #[arg(long)]
    json: bool,
}

fn print_user(u: &User) {
    println!("id:             {}", u.id);
    println!("username:       {}", u.username);
    println!("email:          {}", opt(&u.email));
    println!("email_verified: {}", u.email_verified);
    println!("display_name:   {}", opt(&u.display_name));
    let p = &u.profile;
    for (label, value) in [
        ("given_name:     ", &p.given_name),
        ("middle_name:    ", &p.middle_name),
        ("family_name:    ", &p.family_name),
        ("birthdate:      ", &p.birthdate),
        ("locale:         ", &p.locale),
        ("zoneinfo:       ", &p.zoneinfo),
        ("phone_number:   ", &p.phone_number),
    ] {
        if value.is_some() {
            println!("{label}{}", opt(value));
        }
    }
    if p.phone_number.is_some() {
        println!("phone_verified: {}", p.phone_number_verified);
    }
    if let Some(a) = &p.address {
        println!(
            "address:        {}",
            serde_json::to_string(a).unwrap_or_default()
        );
    }
    println!("status:         {}", u.status.as_str());
    println!("account_type:   {}", u.account_type);
    println!("created:        {}", time(u.created_at));
    println!("updated:        {}", time(u.updated_at));
}

pub fn run(ctx: &AppContext, command: UserCommand) -> Result<(), CliError> {
    let actor = actor();
    match command {
        UserCommand::Add(args) => add(ctx, &actor, args),
        UserCommand::Erase { user, reason, json } => erase(ctx, &actor, &user, &reason, json),
        UserCommand::Hold { user, reason } => legal_hold(ctx, &actor, &user, Some(&reason)),
        UserCommand::ReleaseHold { user } => legal_hold(ctx, &actor, &user, None),
        UserCommand::List { after, limit, json } => {
            list(ctx, &actor, after.as_deref(), limit, json)
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
        UserCommand::Consents {
            user,
            history,
            json,
        } => list_consents(ctx, &actor, &user, history, json),
        UserCommand::WithdrawConsent { user, client_id } => {
            let w = consents::withdraw(ctx, &actor, &user, &client_id, ConsentWithdrawn::Cli)?;
            println!(
                "consent of {user} for {client_id} withdrawn: {} grant(s) revoked, {} back-channel logout(s) queued",
                w.grants_revoked, w.logouts_queued
            );
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
        UserCommand::Disclosures {
            user,
            before,
            limit,
            json,
            csv,
        } => {
            let query = crate::manage::disclosures::PageQuery {
                before,
                limit: Some(limit),
            };
            super::privacy::list(ctx, &actor, &user, &query, json, csv)
        }
        UserCommand::Export { user } => super::privacy::export(ctx, &actor, &user),
        UserCommand::Set(args) => set(ctx, &actor, args),
        UserCommand::SetPassword { user } => {
            let password = input::read_secret("New password: ", true)?;
            let u = users::set_password(ctx, &actor, &user, &password)?;
            println!("password set for {}", u.username);
            Ok(())
        }
    }
}

/// `ward user hold` (with a reason) and `ward user release-hold` (without).
fn legal_hold(
    ctx: &AppContext,
    actor: &str,
    user: &str,
    reason: Option<&str>,
) -> Result<(), CliError> {
    match reason {
        Some(reason) => {
            let h = erasure::hold(ctx, actor, user, reason)?;
            println!("legal hold placed on user {}", h.user_id);
        }
        None => {
            let id = erasure::release(ctx, actor, user)?;
            println!("legal hold on user {id} released");
        }
    }
    Ok(())
}

fn erase(
    ctx: &AppContext,
    actor: &str,
    user: &str,
    reason: &str,
    json: bool,
) -> Result<(), CliError> {
    let done = erasure::erase(ctx, actor, user, reason)?;
    if json {
        return output::json(&done);
    }
    println!(
        "erased user {}: {} session(s), {} grant(s) removed, {} back-channel logout(s) queued",
        done.user_id, done.erased.sessions, done.erased.grants, done.erased.notifications
    );
    Ok(())
}

fn add(ctx: &AppContext, actor: &str, args: AddArgs) -> Result<(), CliError> {
    let password = if args.no_password {
        None
    } else {
        Some(input::read_secret("Password: ", true)?)
    };
    let initial = args
        .role
        .zip(args.tenant)
        .map(|(role, tenant)| InitialRole { role, tenant });
    let granted = initial
        .as_ref()
        .map(|r| format!("{} in {}", r.role, r.tenant));
    let user = users::add_with_role(
        ctx,
        actor,
        NewUserInput {
            username: args.username,
            email: args.email,
            display_name: args.display_name,
            password,
        },
        initial,
    )?;
    if args.json {
        return output::json(&user);
    }
    println!("created user {} (id {})", user.username, user.id);
    if let Some(granted) = granted {
        println!("granted {granted}");
    }
    Ok(())
}

fn list(
    ctx: &AppContext,
    actor: &str,
    after: Option<&str>,
    limit: i64,
    json: bool,
) -> Result<(), CliError> {
    let list = users::list(ctx, actor, after, limit)?;
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

fn list_consents(
    ctx: &AppContext,
    actor: &str,
    user: &str,
    history: bool,
    json: bool,
) -> Result<(), CliError> {
    let (_, list) = consents::list(ctx, actor, user, history)?;
    if json {
        return output::json(&list);
    }
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|c| {
            vec![
                c.client_id.to_string(),
                c.version.to_string(),
                c.scopes.join(" "),
                c.claims
                    .as_ref()
                    .map(|l| l.join(","))
                    .unwrap_or_else(|| "(of its scopes)".into()),
                format!("{} ({})", time(c.given_at), c.given_by.as_str()),
                c.withdrawn_at
                    .map(|at| {
                        let how = c.withdrawn_by.map(|w| w.as_str()).unwrap_or("-");
                        format!("{} ({how})", time(at))
                    })
                    .unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    output::table(
        &[
            "CLIENT_ID",
            "VERSION",
            "SCOPES",
            "CLAIMS",
            "GIVEN",
            "WITHDRAWN",
        ],
        &rows,
    );
    Ok(())
}

fn set(ctx: &AppContext, actor: &str, mut args: SetArgs) -> Result<(), CliError> {
    let (user, json) = (args.user.clone(), args.json);
    if let Some(f) = args.fhir_user.take() {
        let f = Some(f.trim()).filter(|f| !f.is_empty());
        crate::manage::fhir::set_fhir_user(ctx, actor, &user, f)?;
        if !args.changes_profile() {
            let u = users::find(ctx, &user)?;
            return if json {
                output::json(&serde_json::json!({ "id": u.id.to_string(), "fhir_user": f }))
            } else {
                println!(
                    "FHIR user of {} set to {}",
                    u.username,
                    f.unwrap_or("(none)")
                );
                Ok(())
            };
        }
    }
    let u = users::set_profile(ctx, actor, &user, args.change()?)?;
    if json {
        output::json(&u)
    } else {
        println!("profile updated for {}", u.username);
        Ok(())
    }
}

impl SetArgs {
    /// Whether any profile field is given (not only `--fhir-user`).
    fn changes_profile(&self) -> bool {
        [
            &self.display_name,
            &self.given_name,
            &self.family_name,
            &self.middle_name,
            &self.birthdate,
            &self.locale,
            &self.zoneinfo,
            &self.phone_number,
            &self.address_json,
        ]
        .iter()
        .any(|f| f.is_some())
            || self.phone_number_verified.is_some()
    }

    /// The change `user set` asks for: an empty value clears the field.
    fn change(self) -> Result<ProfileChange, ManageError> {
        let clear = |v: Option<String>| v.map(|v| Some(v).filter(|v| !v.trim().is_empty()));
        let address = match clear(self.address_json) {
            Some(Some(text)) => Some(Some(Address::parse_json(&text)?)),
            Some(None) => Some(None),
            None => None,
        };
        Ok(ProfileChange {
            display_name: clear(self.display_name),
            given_name: clear(self.given_name),
            family_name: clear(self.family_name),
            middle_name: clear(self.middle_name),
            birthdate: clear(self.birthdate),
            locale: clear(self.locale),
            zoneinfo: clear(self.zoneinfo),
            phone_number: clear(self.phone_number),
            phone_number_verified: self.phone_number_verified,
            address,
        })
    }
}
