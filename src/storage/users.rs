//! Users and their password credentials.

use diesel::prelude::*;

use super::schema::{password_credentials, users};
use super::{AnyConnection, StorageError, conflict_as};
use crate::clock::Millis;
pub use crate::domain::records::{Profile, User};
use crate::domain::{UserId, UserStatus};

#[derive(Queryable, Selectable)]
#[diesel(table_name = users)]
struct UserRow {
    id: String,
    username: String,
    email: Option<String>,
    email_verified: bool,
    display_name: Option<String>,
    status: String,
    created_at: i64,
    updated_at: i64,
    account_type: String,
    given_name: Option<String>,
    family_name: Option<String>,
    middle_name: Option<String>,
    birthdate: Option<String>,
    locale: Option<String>,
    zoneinfo: Option<String>,
    phone_number: Option<String>,
    phone_number_verified: bool,
    address: Option<String>,
}

impl TryFrom<UserRow> for User {
    type Error = StorageError;
    fn try_from(r: UserRow) -> Result<Self, StorageError> {
        Ok(Self {
            id: UserId::parse(&r.id)
                .ok_or_else(|| StorageError::Corrupt("users.id is not a UUID".into()))?,
            status: r
                .status
                .parse()
                .map_err(|_| StorageError::Corrupt("users.status".into()))?,
            username: r.username,
            email: r.email,
            email_verified: r.email_verified,
            display_name: r.display_name,
            created_at: r.created_at,
            updated_at: r.updated_at,
            account_type: r.account_type,
            profile: Profile {
                given_name: r.given_name,
                family_name: r.family_name,
                middle_name: r.middle_name,
                birthdate: r.birthdate,
                locale: r.locale,
                zoneinfo: r.zoneinfo,
                phone_number: r.phone_number,
                phone_number_verified: r.phone_number_verified,
                address: r
                    .address
                    .map(|a| serde_json::from_str(&a))
                    .transpose()
                    .map_err(|_| StorageError::Corrupt("users.address".into()))?,
            },
        })
    }
}

#[derive(Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub id: &'a str,
    pub username: &'a str,
    pub email: Option<&'a str>,
    pub email_verified: bool,
    pub display_name: Option<&'a str>,
    pub status: &'a str,
    pub created_at: i64,
    pub updated_at: i64,
}

pub fn insert(conn: &mut AnyConnection, user: &NewUser<'_>) -> Result<(), StorageError> {
    diesel::insert_into(users::table)
        .values(user)
        .execute(conn)
        .map_err(conflict_as("a user with that username"))?;
    Ok(())
}

pub fn find_by_id(conn: &mut AnyConnection, id: &UserId) -> Result<Option<User>, StorageError> {
    users::table
        .find(id.as_str())
        .select(UserRow::as_select())
        .first(conn)
        .optional()?
        .map(User::try_from)
        .transpose()
}

pub fn find_by_username(
    conn: &mut AnyConnection,
    username: &str,
) -> Result<Option<User>, StorageError> {
    users::table
        .filter(users::username.eq(username))
        .select(UserRow::as_select())
        .first(conn)
        .optional()?
        .map(User::try_from)
        .transpose()
}

/// Users ordered by username, after `after` (keyset paging).
pub fn list(
    conn: &mut AnyConnection,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<User>, StorageError> {
    let mut q = users::table
        .select(UserRow::as_select())
        .order(users::username.asc())
        .limit(limit)
        .into_boxed();
    if let Some(after) = after {
        q = q.filter(users::username.gt(after.to_lowercase()));
    }
    q.load(conn)?.into_iter().map(User::try_from).collect()
}

pub fn set_status(
    conn: &mut AnyConnection,
    id: &UserId,
    status: UserStatus,
    now: Millis,
) -> Result<(), StorageError> {
    let n = diesel::update(users::table.find(id.as_str()))
        .set((users::status.eq(status.as_str()), users::updated_at.eq(now)))
        .execute(conn)?;
    if n == 0 {
        Err(StorageError::NotFound)
    } else {
        Ok(())
    }
}

pub fn password_hash(
    conn: &mut AnyConnection,
    id: &UserId,
) -> Result<Option<String>, StorageError> {
    Ok(password_credentials::table
        .find(id.as_str())
        .select(password_credentials::hash)
        .first(conn)
        .optional()?)
}

pub fn set_password_hash(
    conn: &mut AnyConnection,
    id: &UserId,
    hash: &str,
    now: Millis,
) -> Result<(), StorageError> {
    let n = diesel::update(password_credentials::table.find(id.as_str()))
        .set((
            password_credentials::hash.eq(hash),
            password_credentials::updated_at.eq(now),
        ))
        .execute(conn)?;
    if n == 0 {
        // Two first passwords at once: the later one wins, as with an update.
        super::on_backend!(conn, c => diesel::insert_into(password_credentials::table)
            .values((
                password_credentials::user_id.eq(id.as_str()),
                password_credentials::hash.eq(hash),
                password_credentials::created_at.eq(now),
                password_credentials::updated_at.eq(now),
            ))
            .on_conflict(password_credentials::user_id)
            .do_update()
            .set((
                password_credentials::hash.eq(hash),
                password_credentials::updated_at.eq(now),
            ))
            .execute(c))?;
    }
    Ok(())
}

/// A patient who signed up with a passkey: no password, email unverified.
pub fn insert_patient(
    conn: &mut AnyConnection,
    id: &str,
    username: &str,
    display_name: Option<&str>,
    email: Option<&str>,
    now: Millis,
) -> Result<(), StorageError> {
    diesel::insert_into(users::table)
        .values((
            users::id.eq(id),
            users::username.eq(username),
            users::email.eq(email),
            users::email_verified.eq(false),
            users::display_name.eq(display_name),
            users::status.eq("active"),
            users::created_at.eq(now),
            users::updated_at.eq(now),
            users::account_type.eq("patient"),
        ))
        .execute(conn)
        .map_err(conflict_as("a user with that username"))?;
    Ok(())
}

/// Mark the user's address verified, if it is still `email`.
pub fn mark_email_verified(
    conn: &mut AnyConnection,
    id: &str,
    email: &str,
    now: Millis,
) -> Result<bool, StorageError> {
    let n = diesel::update(users::table.find(id).filter(users::email.eq(email)))
        .set((users::email_verified.eq(true), users::updated_at.eq(now)))
        .execute(conn)?;
    Ok(n == 1)
}

/// Change the user's address; it is unverified until a code proves it.
pub fn set_email(
    conn: &mut AnyConnection,
    id: &str,
    email: &str,
    now: Millis,
) -> Result<(), StorageError> {
    diesel::update(users::table.find(id))
        .set((
            users::email.eq(email),
            users::email_verified.eq(false),
            users::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Replace the user's display name and profile claims (all of them: read,
/// change, write back), and touch `updated_at` (the `updated_at` claim).
pub fn set_profile(
    conn: &mut AnyConnection,
    id: &UserId,
    display_name: Option<&str>,
    p: &Profile,
    now: Millis,
) -> Result<(), StorageError> {
    let address = p
        .address
        .as_ref()
        .map(serde_json::to_string)
        .transpose()
        .map_err(|e| StorageError::Corrupt(format!("address: {e}")))?;
    let n = diesel::update(users::table.find(id.as_str()))
        .set((
            users::display_name.eq(display_name),
            users::given_name.eq(p.given_name.as_deref()),
            users::family_name.eq(p.family_name.as_deref()),
            users::middle_name.eq(p.middle_name.as_deref()),
            users::birthdate.eq(p.birthdate.as_deref()),
            users::locale.eq(p.locale.as_deref()),
            users::zoneinfo.eq(p.zoneinfo.as_deref()),
            users::phone_number.eq(p.phone_number.as_deref()),
            users::phone_number_verified.eq(p.phone_number_verified),
            users::address.eq(address),
            users::updated_at.eq(now),
        ))
        .execute(conn)?;
    if n == 0 {
        Err(StorageError::NotFound)
    } else {
        Ok(())
    }
}
