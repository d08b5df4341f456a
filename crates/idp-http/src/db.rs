//! Database calls from request handlers: store work runs off the async workers (or in place,
//! where that is cheaper), within the configured time, with store errors mapped to API errors.

use actix_web::web;
use idp_store::{Store, StoreError, StoredProvider};

use crate::error::{ApiError, NO_PROVIDER};
use crate::state::AppState;

/// Runs store work on the blocking thread pool; a database that does not answer within the
/// configured time gets the request a 503 (the blocked thread finishes on its own later).
pub(crate) async fn store_call<T, F>(
    state: &AppState,
    work: F,
) -> Result<Result<T, StoreError>, ApiError>
where
    F: FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    T: Send + 'static,
{
    let store = state.store.clone();
    let call = web::block(move || work(&store));
    match actix_web::rt::time::timeout(state.settings.db_timeout, call).await {
        Ok(Ok(result)) => Ok(result),
        Ok(Err(error)) => Err(ApiError::internal(error)),
        Err(_) => {
            tracing::warn!("the database did not answer in time");
            Err(ApiError::Unavailable)
        }
    }
}

/// Runs a read: in place on an embedded SQLite database (a lookup takes microseconds, less than
/// handing it to another thread), else like [`blocking`].
pub(crate) async fn read<T, F>(state: &AppState, work: F) -> Result<T, ApiError>
where
    F: FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    T: Send + 'static,
{
    if state.store.reads_in_place() {
        return work(&state.store.reader()).map_err(ApiError::from);
    }
    blocking(state, work).await
}

/// [`store_call`] with every store error mapped to its API error.
pub(crate) async fn blocking<T, F>(state: &AppState, work: F) -> Result<T, ApiError>
where
    F: FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    T: Send + 'static,
{
    store_call(state, work).await?.map_err(ApiError::from)
}

/// The stored provider `name` with its secret, inactive ones included, for a write that stores
/// the whole row back.
pub(crate) async fn load_for_update(
    state: &AppState,
    name: &str,
) -> Result<StoredProvider, ApiError> {
    let name = name.to_owned();
    read(state, move |store| store.get_provider(&name, false))
        .await?
        .ok_or(ApiError::NotFound(NO_PROVIDER))
}
