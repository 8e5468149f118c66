//! Client lookup.

use super::StoreError;
use crate::domain::records::Client;

pub trait ClientStore {
    fn client(&self, id: &str) -> Result<Option<Client>, StoreError>;
}
