//! The `ward` command line (clap): parse, load the configuration, dispatch.

mod audit;
mod backup;
mod clients;
mod fhir;
mod input;
mod keys;
mod output;
mod policy;
mod privacy;
mod sessions;
mod users;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::app::backup::BackupError;
use crate::app::{AppContext, OpenOptions, StartupError};
use crate::config::Config;
use crate::manage::{self, ManageError};

#[derive(Parser)]
#[command(
    name = "ward",
    version,
    about = "Ward: an OpenID Connect identity and MFA server for healthcare"
)]
pub struct Cli {
    /// Configuration file (TOML). Default: ./ward.toml if it exists.
    #[arg(long, global = true, env = "WARD_CONFIG", value_name = "PATH")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server until SIGINT/SIGTERM.
    Serve,
    /// Apply pending database migrations.
    Migrate,
    /// Manage users.
    #[command(subcommand)]
    User(users::UserCommand),
    /// Manage OAuth clients.
    #[command(subcommand)]
    Client(clients::ClientCommand),
    /// Manage signing keys and the master key.
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// Read and verify the audit trail.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Manage the authorization policy: roles, permissions, assignments.
    #[command(subcommand)]
    Policy(policy::PolicyCommand),
    /// List and end users' browser sessions.
    #[command(subcommand)]
    Session(sessions::SessionCommand),
    /// Manage the FHIR servers SMART apps get tokens for (docs/smart.md).
    #[command(subcommand)]
    Fhir(fhir::FhirCommand),
    /// Copy the SQLite database, while Ward serves, into a new backup file
    /// (docs/backup.md). Holds no master key.
    Backup {
        /// The backup file to write (never overwritten).
        file: PathBuf,
    },
    /// Replace the SQLite database with a backup: Ward must be stopped; the
    /// backup and the master key are checked before anything changes.
    Restore {
        /// The backup file `ward backup` wrote.
        file: PathBuf,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Startup(#[from] StartupError),
    #[error(transparent)]
    Manage(#[from] ManageError),
    #[error(transparent)]
    Backup(#[from] BackupError),
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Failed(String),
}

/// Who a CLI action is attributed to in the audit trail.
fn actor() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown".into());
    format!("cli:{user}")
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    if !matches!(cli.command, Command::Serve) {
        restore_default_sigpipe();
    }
    let config = match Config::from_process(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("ward: {e}");
            return ExitCode::from(2);
        }
    };
    crate::logging::init(&config);
    for w in &config.warnings {
        tracing::warn!("{w}");
    }
    match run(cli.command, config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e @ CliError::Usage(_)) => {
            eprintln!("ward: error: {e}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("ward: error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Rust ignores SIGPIPE, so `println!` panics when stdout is a closed pipe
/// (`ward audit tail | head`). A command-line tool should simply stop, as
/// every Unix tool does. Not for `serve`, which writes to sockets.
fn restore_default_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called once at start-up before any thread exists; SIG_DFL is a valid handler.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn open(config: Config) -> Result<AppContext, CliError> {
    let migrate = config.migrate_on_start;
    Ok(AppContext::open(config, OpenOptions { migrate })?)
}

/// The noun a command is recorded under when the CLI refuses it.
fn noun(command: &Command) -> &'static str {
    match command {
        Command::User(_) => "user",
        Command::Client(_) => "client",
        Command::Keys(_) => "keys",
        Command::Audit(_) => "audit",
        Command::Policy(_) => "policy",
        Command::Session(_) => "session",
        Command::Fhir(_) => "fhir",
        Command::Backup { .. } => "backup",
        Command::Serve | Command::Migrate | Command::Restore { .. } => "server",
    }
}

fn run(command: Command, config: Config) -> Result<(), CliError> {
    // Every command but `restore` shows, while it runs, that Ward uses the
    // (SQLite) database; `restore` takes the same lock exclusively.
    let _in_use = match command {
        Command::Restore { .. } => None,
        _ => crate::app::backup::hold_shared(&config)?,
    };
    match command {
        Command::Serve => {
            let ctx = open(config)?;
            let served = actix_web::rt::System::new().block_on(crate::web::serve(ctx));
            // The last spans of a graceful stop reach the collector.
            crate::telemetry::shutdown();
            served.map_err(|e| CliError::Failed(e.to_string()))
        }
        Command::Migrate => {
            let applied = crate::app::migrate_only(&config, &actor())?;
            if applied.is_empty() {
                println!("database schema is up to date; nothing to apply");
            } else {
                for m in &applied {
                    println!("applied {m}");
                }
            }
            Ok(())
        }
        Command::Restore { file } => {
            let restored = crate::app::backup::restore(config, &file, &actor())?;
            backup::print_restored(&file, &restored);
            Ok(())
        }
        other => {
            let ctx = open(config)?;
            let noun = noun(&other);
            let result = match other {
                Command::User(c) => users::run(&ctx, c),
                Command::Client(c) => clients::run(&ctx, c),
                Command::Keys(c) => keys::run(&ctx, c),
                Command::Audit(c) => audit::run(&ctx, c),
                Command::Policy(c) => policy::run(&ctx, c),
                Command::Session(c) => sessions::run(&ctx, c),
                Command::Fhir(c) => fhir::run(&ctx, c),
                Command::Backup { file } => backup::create(&ctx, &file),
                Command::Serve | Command::Migrate | Command::Restore { .. } => Ok(()),
            };
            // Refusals that happen in the CLI itself (bad usage, unreadable input) are
            // audited too; operations' own refusals were recorded by `manage`.
            if let Err(e @ (CliError::Usage(_) | CliError::Failed(_) | CliError::Backup(_))) =
                &result
            {
                let event = crate::audit::AuditEvent::new(
                    ctx.clock.now_ms(),
                    actor(),
                    "cli.refused",
                    crate::audit::Outcome::Failure,
                )
                .reason("usage")
                .detail("command", noun)
                .detail("message", e.to_string());
                if let Err(err) = manage::audit_log::record(&ctx, &event) {
                    tracing::warn!(error = %err, "could not record a refused command");
                }
            }
            // No server may be running to chain what this command recorded; do it now.
            if let Err(e) = manage::audit_log::seal_all(&ctx) {
                tracing::warn!(error = %e, "could not chain the audit records of this command");
            }
            result
        }
    }
}
