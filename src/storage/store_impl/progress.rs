//! [`ProgressStore`] for the database: sign-ins in progress.

use crate::clock::Millis;
use crate::storage::{Database, login_progress};
use crate::store::{ProgressRow, ProgressStore, StoreError};

impl ProgressStore for Database {
    fn progress(&self, id_hash: &str, now: Millis) -> Result<Option<ProgressRow>, StoreError> {
        Ok(login_progress::find(&mut *self.conn()?, id_hash, now)?)
    }

    fn save_progress(&self, row: &ProgressRow, replaces: Option<&str>) -> Result<(), StoreError> {
        Ok(self.transaction(|c| {
            if let Some(old) = replaces {
                login_progress::finish(c, old)?;
            }
            login_progress::insert(c, row)
        })?)
    }

    fn finish_progress(&self, id_hash: &str) -> Result<bool, StoreError> {
        Ok(login_progress::finish(&mut *self.conn()?, id_hash)?)
    }
}
