//! Codes sent by email: one outstanding code per user and purpose.

use diesel::prelude::*;

use super::schema::email_codes;
use super::{AnyConnection, StorageError};
use crate::clock::Millis;

pub use crate::store::email_codes::MAX_ATTEMPTS;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = email_codes)]
pub struct EmailCodeRow {
    pub user_id: String,
    pub purpose: String,
    pub code_hash: String,
    pub email: String,
    pub attempts: i64,
    pub created_at: Millis,
    pub expires_at: Millis,
}

/// Store a new code, replacing any outstanding one for the same purpose.
pub fn replace(
    conn: &mut AnyConnection,
    user_id: &str,
    purpose: &str,
    code_hash: &str,
    email: &str,
    now: Millis,
    expires_at: Millis,
) -> Result<(), StorageError> {
    diesel::delete(
        email_codes::table
            .filter(email_codes::user_id.eq(user_id))
            .filter(email_codes::purpose.eq(purpose)),
    )
    .execute(conn)?;
    diesel::insert_into(email_codes::table)
        .values((
            email_codes::user_id.eq(user_id),
            email_codes::purpose.eq(purpose),
            email_codes::code_hash.eq(code_hash),
            email_codes::email.eq(email),
            email_codes::attempts.eq(0i64),
            email_codes::created_at.eq(now),
            email_codes::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// The result of presenting a code.
#[derive(Debug, PartialEq, Eq)]
pub enum CodeCheck {
    /// Right code: it is consumed. Carries the address it was sent to.
    Accepted {
        email: String,
    },
    Rejected,
}

/// Check `code` against the outstanding code; a match consumes it, a
/// miss counts an attempt and voids the code after [`MAX_ATTEMPTS`].
pub fn consume(
    conn: &mut AnyConnection,
    user_id: &str,
    purpose: &str,
    code: &str,
    now: Millis,
) -> Result<CodeCheck, StorageError> {
    let key = email_codes::table
        .filter(email_codes::user_id.eq(user_id))
        .filter(email_codes::purpose.eq(purpose));
    let row: Option<EmailCodeRow> = key
        .select(EmailCodeRow::as_select())
        .first(conn)
        .optional()?;
    let Some(row) = row else {
        return Ok(CodeCheck::Rejected);
    };
    let matches = crate::crypto::secrets::verify(code, &row.code_hash);
    if row.expires_at <= now || row.attempts >= MAX_ATTEMPTS {
        diesel::delete(key).execute(conn)?;
        return Ok(CodeCheck::Rejected);
    }
    if matches {
        let taken =
            diesel::delete(key.filter(email_codes::code_hash.eq(&row.code_hash))).execute(conn)?;
        return Ok(if taken == 1 {
            CodeCheck::Accepted { email: row.email }
        } else {
            CodeCheck::Rejected
        });
    }
    diesel::update(key)
        .set(email_codes::attempts.eq(email_codes::attempts + 1))
        .execute(conn)?;
    Ok(CodeCheck::Rejected)
}

pub fn purge(conn: &mut AnyConnection, now: Millis) -> Result<usize, StorageError> {
    Ok(diesel::delete(email_codes::table.filter(email_codes::expires_at.le(now))).execute(conn)?)
}
