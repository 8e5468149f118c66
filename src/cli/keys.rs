use clap::Subcommand;

use super::output::{self, time};
use super::{CliError, actor, input};
use crate::app::AppContext;
use crate::app::master_key::pending_rotation_path;
use crate::config::MasterKeySource;
use crate::crypto::keyring::{Keyring, MasterKey};
use crate::manage::keys;

#[derive(Subcommand)]
pub enum KeysCommand {
    /// List signing keys: kid, algorithm, state, created.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Create a new active signing key; the previous one stays published until its tokens expire.
    Rotate {
        /// ES256 or RS256.
        #[arg(long)]
        alg: String,
    },
    /// Re-seal every stored secret under a new master key.
    ///
    /// With a key file, a new key is generated and replaces the file after the
    /// database commit. With WARD_MASTER_KEY, give the new key (base64 of 32
    /// bytes) on standard input with --new-key-stdin, then update the variable.
    RotateMaster {
        #[arg(long)]
        new_key_stdin: bool,
    },
}

pub fn run(ctx: &AppContext, command: KeysCommand) -> Result<(), CliError> {
    let actor = actor();
    match command {
        KeysCommand::List { json } => {
            let list = keys::list(ctx, &actor)?;
            if json {
                return output::json(&list);
            }
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|k| {
                    vec![
                        k.kid.clone(),
                        k.alg.clone(),
                        k.state.clone(),
                        time(k.created_at),
                        k.publish_until.map(time).unwrap_or_else(|| "-".into()),
                    ]
                })
                .collect();
            output::table(
                &["KID", "ALG", "STATE", "CREATED", "PUBLISHED_UNTIL"],
                &rows,
            );
            Ok(())
        }
        KeysCommand::Rotate { alg } => {
            let (new, retired) = keys::rotate(ctx, &actor, &alg)?;
            println!("new active {} key {}", new.alg, new.kid);
            if let Some(r) = retired {
                println!(
                    "retired {} (published until {})",
                    r.kid,
                    r.publish_until.map(time).unwrap_or_default()
                );
            }
            Ok(())
        }
        KeysCommand::RotateMaster { new_key_stdin } => rotate_master(ctx, &actor, new_key_stdin),
    }
}

fn rotate_master(ctx: &AppContext, actor: &str, new_key_stdin: bool) -> Result<(), CliError> {
    let next = if new_key_stdin {
        let text = input::read_secret("New master key (base64): ", false)?;
        MasterKey::from_base64(&text).map_err(|e| CliError::Usage(e.to_string()))?
    } else {
        MasterKey::generate()
    };
    if next.id() == ctx.keyring.key_id() {
        return Err(CliError::Usage(
            "the new master key is the current one".into(),
        ));
    }
    let next_ring = Keyring::new(next.clone());
    match &ctx.config.master_key {
        MasterKeySource::File(path) => {
            // Write the new key first: if the process dies after the commit, start-up
            // finds it and finishes the rename (see app::master_key).
            let staged = pending_rotation_path(path);
            next.write_new_file(&staged).map_err(|e| {
                CliError::Failed(format!(
                    "cannot write {}: {e} (remove a stale file left by an earlier attempt)",
                    staged.display()
                ))
            })?;
            match keys::rotate_master(ctx, actor, &next_ring) {
                Ok(n) => {
                    std::fs::rename(&staged, path).and_then(|()| crate::crypto::keyring::sync_parent_dir(path)).map_err(|e| {
                        CliError::Failed(format!("secrets were re-sealed, but moving {} to {} failed: {e}; move it by hand", staged.display(), path.display()))
                    })?;
                    println!(
                        "re-sealed {n} secrets under master key {}; key file {} replaced",
                        next.id(),
                        path.display()
                    );
                    Ok(())
                }
                Err(e) => {
                    let _ = std::fs::remove_file(&staged);
                    Err(e.into())
                }
            }
        }
        MasterKeySource::Inline(_) => {
            if !new_key_stdin {
                return Err(CliError::Usage(
                    "the master key comes from WARD_MASTER_KEY: pass the new key on standard input with --new-key-stdin".into(),
                ));
            }
            let n = keys::rotate_master(ctx, actor, &next_ring)?;
            println!(
                "re-sealed {n} secrets under master key {}; set WARD_MASTER_KEY to the new key before the next start",
                next.id()
            );
            Ok(())
        }
    }
}
