//! User lookup, by id and by username (with the password hash).

use super::StoreError;
use crate::domain::records::User;

pub trait UserStore {
    fn user(&self, id: &str) -> Result<Option<User>, StoreError>;
    /// The user and their password hash, by (normalised) username.
    fn user_with_password(
        &self,
        username: &str,
    ) -> Result<Option<(User, Option<String>)>, StoreError>;
}
