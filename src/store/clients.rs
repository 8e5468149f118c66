//! Client lookup.

use super::StoreError;
use crate::storage::clients::Client;

pub trait ClientStore {
    fn client(&self, id: &str) -> Result<Option<Client>, StoreError>;
}
