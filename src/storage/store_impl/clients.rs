//! [`ClientStore`] for the database: clients are cached (`client_cache`).

use crate::domain::ClientId;
use crate::storage::clients::Client;
use crate::storage::{Database, clients};
use crate::store::{ClientStore, StoreError};

impl ClientStore for Database {
    fn client(&self, id: &ClientId) -> Result<Option<Client>, StoreError> {
        if let Some(c) = self.clients.get(id) {
            return Ok(Some(c));
        }
        let found = clients::find(&mut *self.conn()?, id.as_str())?;
        if let Some(c) = &found {
            self.clients.put(c);
        }
        Ok(found)
    }
}
