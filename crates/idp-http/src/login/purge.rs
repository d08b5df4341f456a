//! The background purge of expired login transactions and exchange codes.

use std::time::Duration;

use crate::db::blocking;
use crate::error::Chain;
use crate::state::AppState;

/// Purges expired login transactions and exchange codes every `every`, for as long as the
/// server runs (the server spawns it; the purge itself is `Store::purge_login_state`), and
/// writes the token uses noted meanwhile (`Store::record_token_uses`).
pub async fn purge_login_state_periodically(state: AppState, every: Duration) {
    loop {
        actix_web::rt::time::sleep(every).await;
        let now = state.settings.login.now();
        match blocking(&state, move |store| store.purge_login_state(now)).await {
            Ok(purged) if purged.transactions + purged.exchange_codes > 0 => tracing::debug!(
                transactions = purged.transactions,
                exchange_codes = purged.exchange_codes,
                "purged expired login state"
            ),
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(error = %Chain(&error), "purging expired login state failed")
            }
        }
        // Token uses for `token list`, written once per round rather than per request.
        if let Err(error) = blocking(&state, |store| store.record_token_uses()).await {
            tracing::warn!(error = %Chain(&error), "recording token uses failed");
        }
    }
}
