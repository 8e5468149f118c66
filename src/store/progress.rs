//! Sign-ins in progress between their pages (`authn::signin::progress`).

use super::StoreError;
use crate::clock::Millis;

#[derive(Debug, Clone, PartialEq)]
pub struct ProgressRow {
    pub id_hash: String,
    /// None for an account that does not exist: the sign-in carries on
    /// indistinguishably and never succeeds.
    pub user_id: Option<String>,
    /// JSON `authn::signin::Progress`: the username typed and the factors proven so far.
    pub state: String,
    pub created_at: Millis,
    pub expires_at: Millis,
}

pub trait ProgressStore {
    /// A live (unexpired, unfinished) sign-in in progress.
    fn progress(&self, id_hash: &str, now: Millis) -> Result<Option<ProgressRow>, StoreError>;
    /// Store `row`, finishing `replaces` in the same transaction.
    fn save_progress(&self, row: &ProgressRow, replaces: Option<&str>) -> Result<(), StoreError>;
    /// End a sign-in in progress; true if this call ended it.
    fn finish_progress(&self, id_hash: &str) -> Result<bool, StoreError>;
}
