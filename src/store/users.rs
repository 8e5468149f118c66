//! User lookup, by id and by username (with or without the password hash).

use super::StoreError;
use crate::domain::records::User;

pub trait UserStore {
    fn user(&self, id: &str) -> Result<Option<User>, StoreError>;
    /// The user and their password hash, by (normalised) username.
    fn user_with_password(
        &self,
        username: &str,
    ) -> Result<Option<(User, Option<String>)>, StoreError>;
    /// The user by (normalised) username, without the password hash.
    fn user_by_username(&self, username: &str) -> Result<Option<User>, StoreError>;
}
