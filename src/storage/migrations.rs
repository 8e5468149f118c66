//! Embedded schema migrations, one directory per SQL dialect.

use diesel::connection::SimpleConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use super::{AnyConnection, StorageError};

const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Serialises concurrent start-ups of several nodes on one PostgreSQL database.
const PG_MIGRATION_LOCK: i64 = 0x5741_5244_0001;

fn failed(e: impl std::fmt::Display) -> StorageError {
    StorageError::Migration(e.to_string())
}

/// Names of migrations not yet applied.
pub fn pending(conn: &mut AnyConnection) -> Result<Vec<String>, StorageError> {
    Ok(match conn {
        AnyConnection::Sqlite(c) => c
            .pending_migrations(SQLITE)
            .map_err(failed)?
            .iter()
            .map(|m| m.name().to_string())
            .collect(),
        AnyConnection::Postgres(c) => c
            .pending_migrations(POSTGRES)
            .map_err(failed)?
            .iter()
            .map(|m| m.name().to_string())
            .collect(),
    })
}

/// Apply every pending migration; returns the names applied (empty when up to date).
pub fn run_pending(conn: &mut AnyConnection) -> Result<Vec<String>, StorageError> {
    match conn {
        AnyConnection::Sqlite(c) => Ok(c
            .run_pending_migrations(SQLITE)
            .map_err(failed)?
            .iter()
            .map(ToString::to_string)
            .collect()),
        AnyConnection::Postgres(c) => {
            c.batch_execute(&format!("SELECT pg_advisory_lock({PG_MIGRATION_LOCK})"))
                .map_err(failed)?;
            let result = c
                .run_pending_migrations(POSTGRES)
                .map(|v| v.iter().map(ToString::to_string).collect::<Vec<_>>());
            let unlock =
                c.batch_execute(&format!("SELECT pg_advisory_unlock({PG_MIGRATION_LOCK})"));
            let applied = result.map_err(failed)?;
            unlock.map_err(failed)?;
            Ok(applied)
        }
    }
}

/// Migrations the database has applied that this build does not carry: a
/// database written by a newer Ward, which this one must not run on.
pub fn unknown_applied(conn: &mut AnyConnection) -> Result<Vec<String>, StorageError> {
    use diesel::migration::MigrationSource;
    fn names<DB: diesel::backend::Backend>(
        source: &EmbeddedMigrations,
        applied: Vec<diesel::migration::MigrationVersion<'static>>,
    ) -> Result<Vec<String>, StorageError>
    where
        EmbeddedMigrations: MigrationSource<DB>,
    {
        let known: Vec<String> = MigrationSource::<DB>::migrations(source)
            .map_err(failed)?
            .iter()
            .map(|m| m.name().version().to_string())
            .collect();
        Ok(applied
            .iter()
            .map(ToString::to_string)
            .filter(|v| !known.contains(v))
            .collect())
    }
    match conn {
        AnyConnection::Sqlite(c) => {
            let applied = c.applied_migrations().map_err(failed)?;
            names::<diesel::sqlite::Sqlite>(&SQLITE, applied)
        }
        AnyConnection::Postgres(c) => {
            let applied = c.applied_migrations().map_err(failed)?;
            names::<diesel::pg::Pg>(&POSTGRES, applied)
        }
    }
}
