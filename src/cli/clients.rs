use clap::{Args, Subcommand, ValueEnum};
use serde_json::json;

use super::output::{self, time};
use super::{CliError, actor};
use crate::app::AppContext;
use crate::domain::{ClientType, PkcePolicy, SubjectType};
use crate::manage::client_privacy;
use crate::manage::clients::{self, NewClientInput};

#[derive(Clone, Copy, ValueEnum)]
pub enum TypeArg {
    Confidential,
    Public,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum SubjectArg {
    Public,
    Pairwise,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum PkceArg {
    Required,
    Optional,
}

#[derive(Subcommand)]
// Parsed once per process; the size of the `Add` variant does not matter.
#[allow(clippy::large_enum_variant)]
pub enum ClientCommand {
    /// Register a client. A confidential client's secret is printed once.
    Add(AddArgs),
    List {
        #[arg(long)]
        json: bool,
    },
    Show {
        client_id: String,
        #[arg(long)]
        json: bool,
    },
    /// Change what a client registered about personal data: its purpose
    /// text and claims allow-list (docs/privacy.md).
    Update(UpdateArgs),
    /// Remove a client.
    Remove { client_id: String },
    /// Give a confidential client a new secret, printed once; the old one
    /// stops working (the same operation as the admin API's and the console's).
    RotateSecret {
        client_id: String,
        #[arg(long)]
        json: bool,
    },
}

// The options of `client update`.
#[derive(Args)]
pub struct UpdateArgs {
    client_id: String,
    /// What the client uses personal data for, shown on the consent page; a
    /// new text makes every user consent again.
    #[arg(long, conflicts_with = "clear_purpose")]
    purpose: Option<String>,
    /// Remove the purpose text.
    #[arg(long)]
    clear_purpose: bool,
    /// The only user claims the client may receive, comma-separated
    /// (`email,name`; an empty value: none).
    #[arg(long, value_delimiter = ',', num_args = 0..=1, conflicts_with = "all_claims")]
    claims: Option<Vec<String>>,
    /// Remove the allow-list: every claim of the client's scopes.
    #[arg(long)]
    all_claims: bool,
    #[arg(long)]
    json: bool,
}

impl UpdateArgs {
    fn change(&self) -> client_privacy::PrivacyChange {
        client_privacy::PrivacyChange {
            purpose: match (&self.purpose, self.clear_purpose) {
                (Some(p), _) => Some(Some(p.clone())),
                (None, true) => Some(None),
                (None, false) => None,
            },
            claims: match (&self.claims, self.all_claims) {
                (Some(c), _) => Some(Some(c.iter().filter(|c| !c.is_empty()).cloned().collect())),
                (None, true) => Some(None),
                (None, false) => None,
            },
        }
    }
}

// The options of `client add` (its help text is the variant's, above).
#[derive(Args)]
pub struct AddArgs {
    client_id: String,
    #[arg(long = "type", value_enum)]
    client_type: TypeArg,
    /// Registered redirect URI (repeat for several).
    #[arg(long = "redirect-uri")]
    redirect_uris: Vec<String>,
    /// Allowed grant type (repeat; default authorization_code and refresh_token).
    #[arg(long = "grant-type")]
    grant_types: Vec<String>,
    /// Allowed scope (repeat, or space-separated; default "openid profile email").
    #[arg(long = "scope")]
    scopes: Vec<String>,
    #[arg(long)]
    name: Option<String>,
    /// A first-party app: users are not asked for consent.
    #[arg(long)]
    first_party: bool,
    /// Require pushed authorization requests (RFC 9126) from this client.
    #[arg(long)]
    require_par: bool,
    /// File with the client's public JWKS: it authenticates with private_key_jwt (RFC 7523), no secret.
    #[arg(long, value_name = "PATH", conflicts_with = "jwks_uri")]
    jwks_file: Option<std::path::PathBuf>,
    /// Or the https URL where the client publishes its JWKS: fetched when it
    /// authenticates, cached, fetched again for a new `kid` (docs/smart.md).
    #[arg(long, value_name = "URL")]
    jwks_uri: Option<String>,
    /// The tenant whose roles of this client (`ward policy grant --client`)
    /// narrow its SMART `system/` scopes; required with them.
    #[arg(long)]
    tenant: Option<String>,
    /// ID token signing algorithm: RS256 (default) or ES256.
    #[arg(long)]
    id_token_alg: Option<String>,
    /// Access token lifetime for this client (default: tokens.access_token_seconds).
    #[arg(long)]
    access_token_seconds: Option<i64>,
    /// A permission resource (e.g. `ehr`) whose permissions this client's tokens carry; repeatable.
    #[arg(long = "authz-resource", value_name = "RESOURCE")]
    authz_resources: Vec<String>,
    /// The weakest acr this client accepts: aal1, aal2, phr or phrh (step-up below it).
    #[arg(long)]
    min_acr: Option<String>,
    /// Where the browser may go after logging out (RP-Initiated Logout); repeatable.
    #[arg(long = "post-logout-redirect-uri", value_name = "URI")]
    post_logout_redirect_uris: Vec<String>,
    /// Where Ward POSTs logout tokens when a session this client saw ends (Back-Channel Logout 1.0).
    #[arg(long)]
    backchannel_logout_uri: Option<String>,
    /// Used on shared workstations: a short idle timeout and "switch user" (docs/sessions.md).
    #[arg(long)]
    shared_workstation: bool,
    /// What the client uses personal data for, shown on the consent page
    /// (at most 500 characters).
    #[arg(long)]
    purpose: Option<String>,
    /// The only user claims the client may receive, comma-separated
    /// (`email,name`); default: every claim of its scopes.
    #[arg(long, value_delimiter = ',', num_args = 0..=1)]
    claims: Option<Vec<String>>,
    /// PKCE: required (default), or optional for a confidential OpenID Connect
    /// client that sends a nonce instead (RFC 9700 §2.1.1; docs/oidc.md).
    #[arg(long, value_enum, default_value = "required")]
    pkce: PkceArg,
    /// The `sub` the client sees: public (the user's id, the same for every
    /// client) or pairwise (a keyed hash per sector; OIDC Core §8, docs/privacy.md).
    #[arg(long, value_enum, default_value = "public")]
    subject_type: SubjectArg,
    /// A pairwise client's sector: an https URL serving a JSON array of its
    /// redirect URIs, fetched once now. Without it the sector is the one host
    /// of the redirect URIs.
    #[arg(long, value_name = "URL")]
    sector_identifier_uri: Option<String>,
    #[arg(long)]
    json: bool,
}

pub fn run(ctx: &AppContext, command: ClientCommand) -> Result<(), CliError> {
    let actor = actor();
    match command {
        ClientCommand::Add(args) => add(ctx, &actor, args),
        ClientCommand::List { json } => list(ctx, &actor, json),
        ClientCommand::Show { client_id, json } => show(ctx, &actor, &client_id, json),
        ClientCommand::Update(args) => {
            let c = client_privacy::update_privacy(ctx, &actor, &args.client_id, args.change())?;
            if args.json {
                return output::json(&c);
            }
            println!("updated client {}", c.id);
            Ok(())
        }
        ClientCommand::RotateSecret { client_id, json } => {
            let secret = crate::manage::client_secret::rotate_secret(ctx, &actor, &client_id)?;
            if json {
                output::json(
                    &serde_json::json!({ "client_id": client_id, "client_secret": secret }),
                )
            } else {
                println!("new secret for {client_id} (shown once): {secret}");
                Ok(())
            }
        }
        ClientCommand::Remove { client_id } => {
            clients::remove(ctx, &actor, &client_id)?;
            println!("removed client {client_id}");
            Ok(())
        }
    }
}

fn add(ctx: &AppContext, actor: &str, args: AddArgs) -> Result<(), CliError> {
    let json = args.json;
    let created = clients::add(ctx, actor, args.into_input()?)?;
    if json {
        let mut v =
            serde_json::to_value(&created.client).map_err(|e| CliError::Failed(e.to_string()))?;
        if let Some(s) = &created.secret {
            v["client_secret"] = json!(s);
        }
        return output::json(&v);
    }
    println!(
        "created {} client {}",
        created.client.client_type.as_str(),
        created.client.id
    );
    if let Some(secret) = created.secret {
        println!("client_secret: {secret}");
        println!("(shown once; Ward stores only its hash)");
    }
    Ok(())
}

impl AddArgs {
    /// The operation's input; reads the JWKS file if one is named.
    fn into_input(self) -> Result<NewClientInput, CliError> {
        let jwks = match &self.jwks_file {
            Some(p) => Some(
                std::fs::read_to_string(p)
                    .map_err(|e| CliError::Usage(format!("cannot read {}: {e}", p.display())))?,
            ),
            None => None,
        };
        Ok(NewClientInput {
            client_id: self.client_id,
            name: self.name,
            client_type: match self.client_type {
                TypeArg::Confidential => ClientType::Confidential,
                TypeArg::Public => ClientType::Public,
            },
            redirect_uris: self.redirect_uris,
            grant_types: self.grant_types,
            scopes: self.scopes,
            first_party: self.first_party,
            require_par: self.require_par,
            jwks,
            jwks_uri: self.jwks_uri,
            tenant: self.tenant,
            id_token_alg: self.id_token_alg,
            access_token_seconds: self.access_token_seconds,
            authz_resources: self.authz_resources,
            min_acr: self.min_acr,
            post_logout_redirect_uris: self.post_logout_redirect_uris,
            backchannel_logout_uri: self.backchannel_logout_uri,
            shared_workstation: self.shared_workstation,
            pkce: match self.pkce {
                PkceArg::Required => PkcePolicy::Required,
                PkceArg::Optional => PkcePolicy::Optional,
            },
            subject_type: match self.subject_type {
                SubjectArg::Public => SubjectType::Public,
                SubjectArg::Pairwise => SubjectType::Pairwise,
            },
            sector_identifier_uri: self.sector_identifier_uri,
            purpose: self.purpose,
            claims: self
                .claims
                .map(|c| c.into_iter().filter(|c| !c.is_empty()).collect()),
        })
    }
}

fn list(ctx: &AppContext, actor: &str, json: bool) -> Result<(), CliError> {
    let list = clients::list(ctx, actor)?;
    if json {
        return output::json(&list);
    }
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|c| {
            vec![
                c.id.to_string(),
                c.client_type.as_str().into(),
                c.redirect_uris.join(" "),
                clients::grant_names(&c.grant_types).join(","),
                c.pkce.as_str().into(),
                time(c.created_at),
            ]
        })
        .collect();
    output::table(
        &[
            "CLIENT_ID",
            "TYPE",
            "REDIRECT_URIS",
            "GRANTS",
            "PKCE",
            "CREATED",
        ],
        &rows,
    );
    Ok(())
}

fn show(ctx: &AppContext, actor: &str, client_id: &str, json: bool) -> Result<(), CliError> {
    let c = clients::show(ctx, actor, client_id)?;
    if json {
        return output::json(&c);
    }
    println!("client_id:     {}", c.id);
    println!("name:          {}", c.name);
    println!("type:          {}", c.client_type.as_str());
    println!("redirect_uris: {}", c.redirect_uris.join(" "));
    let grants = clients::grant_names(&c.grant_types);
    println!("grant_types:   {}", grants.join(" "));
    println!("scopes:        {}", c.scopes.join(" "));
    println!("pkce:          {}", c.pkce.as_str());
    println!("subject_type:  {}", c.subject.subject_type());
    if let Some(sector) = c.subject.sector() {
        println!("sector:        {sector}");
    }
    if let Some(uri) = c.subject.sector_identifier_uri() {
        println!("sector_uri:    {uri}");
    }
    if let Some(uri) = &c.jwks_uri {
        println!("jwks_uri:      {uri}");
    }
    if let Some(tenant) = &c.tenant {
        println!("tenant:        {tenant}");
    }
    if let Some(purpose) = &c.purpose {
        println!("purpose:       {purpose}");
    }
    match &c.allowed_claims {
        Some(list) => println!("claims:        {}", list.join(",")),
        None => println!("claims:        (every claim of its scopes)"),
    }
    println!("created:       {}", time(c.created_at));
    Ok(())
}
