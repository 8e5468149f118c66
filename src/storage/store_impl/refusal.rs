//! A change that a rule refuses inside its transaction: the transaction rolls
//! back (nothing written, not even the audit record) and the caller learns
//! why. Not a database failure, so not a `StoreError`.

use crate::storage::StorageError;
use crate::store::StoreError;

pub(super) enum Abort<R> {
    Refused(R),
    Failed(StoreError),
}

impl<R> Abort<R> {
    pub(super) fn map<S>(self, f: impl FnOnce(R) -> S) -> Abort<S> {
        match self {
            Self::Refused(r) => Abort::Refused(f(r)),
            Self::Failed(e) => Abort::Failed(e),
        }
    }
}

impl<R> From<StorageError> for Abort<R> {
    fn from(e: StorageError) -> Self {
        Self::Failed(e.into())
    }
}

/// A transaction's result: done, refused (rolled back) or failed.
pub(super) fn settle<T, R>(result: Result<T, Abort<R>>) -> Result<Result<T, R>, StoreError> {
    match result {
        Ok(t) => Ok(Ok(t)),
        Err(Abort::Refused(r)) => Ok(Err(r)),
        Err(Abort::Failed(e)) => Err(e),
    }
}
