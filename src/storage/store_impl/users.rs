//! [`UserStore`] for the database.

use crate::domain::UserId;
use crate::storage::users::User;
use crate::storage::{Database, users};
use crate::store::{StoreError, UserStore};

impl UserStore for Database {
    fn user(&self, id: &str) -> Result<Option<User>, StoreError> {
        let Some(id) = UserId::parse(id) else {
            return Ok(None);
        };
        Ok(users::find_by_id(&mut *self.conn()?, &id)?)
    }

    fn user_with_password(
        &self,
        username: &str,
    ) -> Result<Option<(User, Option<String>)>, StoreError> {
        let mut c = self.conn()?;
        let Some(user) = users::find_by_username(&mut c, username)? else {
            return Ok(None);
        };
        let hash = users::password_hash(&mut c, &user.id)?;
        Ok(Some((user, hash)))
    }

    fn user_by_username(&self, username: &str) -> Result<Option<User>, StoreError> {
        Ok(users::find_by_username(&mut *self.conn()?, username)?)
    }
}
