//! Client lookup.

use super::StoreError;
use crate::domain::ClientId;
use crate::domain::records::Client;

pub trait ClientStore {
    fn client(&self, id: &ClientId) -> Result<Option<Client>, StoreError>;
}
