use clap::Subcommand;

use super::output::{self, opt, time};
use super::{CliError, actor};
use crate::app::AppContext;
use crate::manage::sessions;

#[derive(Subcommand)]
pub enum SessionCommand {
    /// A user's sessions, newest first (live and recently ended).
    List {
        user: String,
        /// Continue after this cursor (printed at the end of the previous page).
        #[arg(long)]
        after: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: i64,
        #[arg(long)]
        json: bool,
    },
    /// End one of a user's sessions (by its sid), or all of them with --all.
    Revoke {
        user: String,
        /// A sid is base64url and may begin with `-`: it is never an option.
        #[arg(allow_hyphen_values = true)]
        sid: Option<String>,
        #[arg(long)]
        all: bool,
    },
}

pub fn run(ctx: &AppContext, command: SessionCommand) -> Result<(), CliError> {
    let actor = actor();
    match command {
        SessionCommand::List {
            user,
            after,
            limit,
            json,
        } => {
            let page = sessions::list(ctx, &actor, &user, after.as_deref(), limit)?;
            if json {
                return output::json(&page);
            }
            let rows: Vec<Vec<String>> = page
                .sessions
                .iter()
                .map(|s| {
                    vec![
                        s.sid.clone(),
                        if s.live {
                            "live".into()
                        } else {
                            "ended".into()
                        },
                        time(s.created_at),
                        time(s.last_seen_at),
                        s.acr.to_string(),
                        opt(&s.ip).to_string(),
                        opt(&s.user_agent).to_string(),
                    ]
                })
                .collect();
            output::table(
                &[
                    "SID",
                    "STATE",
                    "CREATED",
                    "LAST SEEN",
                    "ACR",
                    "IP",
                    "USER AGENT",
                ],
                &rows,
            );
            if let Some(next) = page.next {
                println!("next page: --after {next}");
            }
            Ok(())
        }
        SessionCommand::Revoke { user, sid, all } => match (sid, all) {
            (Some(sid), false) => {
                sessions::end(ctx, &actor, &user, &sid)?;
                println!("session {sid} of {user} ended");
                Ok(())
            }
            (None, true) => {
                let ended = sessions::end_all(ctx, &actor, &user)?;
                println!("{} session(s) of {user} ended", ended.len());
                Ok(())
            }
            _ => Err(CliError::Usage(
                "name one session (its sid) or pass --all".into(),
            )),
        },
    }
}
