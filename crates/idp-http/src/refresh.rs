//! Keeping stored configurations true over time: a refresh reads a provider's discovery
//! document and key set again through the SSRF-safe client, writes the endpoints only when they
//! changed (audited as `refresh`), and records the check; a failure is recorded and changes no
//! configuration. The background refresher runs a round over the active providers every
//! interval, one instance at a time (see docs/decisions.md, "Refresh").

use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDateTime;
use idp_oidc::FetchError;
use idp_store::{AuditContext, ProviderCheck, Store, StoreError};
use serde_json::{Value, json};

use crate::discovery_messages::action_message;
use crate::error::Chain;
use crate::metrics::Metrics;
use crate::state::AppState;

/// What a refresh of one provider found.
#[derive(Debug, Clone)]
pub enum RefreshOutcome {
    /// The document and key set were read; `changes` lists the endpoints written.
    Success {
        /// `[{"field", "before", "after"}]`, empty when nothing changed.
        changes: Value,
        /// The key ids differ from those of the previous successful check.
        keys_rotated: bool,
        /// The check as recorded.
        check: ProviderCheck,
    },
    /// Something failed; the configuration is as it was.
    Failure {
        /// What failed, in words safe to show staff (no secrets, no internal detail).
        error: String,
        /// The check as recorded.
        check: ProviderCheck,
    },
    /// The provider does not exist (any more).
    Missing,
    /// The provider's discovery URL changed while its document was being read; nothing was
    /// written.
    Changed,
}

/// Formats a stored time as the API shows times.
pub(crate) fn iso(at: NaiveDateTime) -> String {
    format!("{}Z", at.format("%Y-%m-%dT%H:%M:%S%.6f"))
}

/// A provider's last check as `GET .../status/` shows it.
pub(crate) fn check_json(name: &str, check: Option<&ProviderCheck>) -> Value {
    match check {
        None => json!({
            "provider": name,
            "checked_at": null,
            "outcome": null,
            "last_error": null,
            "last_success_at": null,
            "drift": [],
            "jwks_key_ids": [],
            "jwks_changed_at": null,
            "key_rotations": 0,
        }),
        Some(check) => json!({
            "provider": name,
            "checked_at": iso(check.checked_at),
            "outcome": check.outcome.as_str(),
            "last_error": check.last_error,
            "last_success_at": check.last_success_at.map(iso),
            "drift": check.drift,
            "jwks_key_ids": check.jwks_key_ids,
            "jwks_changed_at": check.jwks_changed_at.map(iso),
            "key_rotations": check.key_rotations,
        }),
    }
}

/// Runs blocking store work on tokio's blocking pool (the refresher runs outside actix's).
async fn store_work<T: Send + 'static>(
    store: &Store,
    work: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    let store = store.clone();
    match tokio::task::spawn_blocking(move || work(&store)).await {
        Ok(result) => result,
        Err(error) => std::panic::resume_unwind(error.into_panic()),
    }
}

/// Refreshes the provider `name` now, as `context`.
pub async fn refresh_provider(
    state: &AppState,
    metrics: Option<&Metrics>,
    name: &str,
    context: AuditContext,
) -> Result<RefreshOutcome, StoreError> {
    let owned = name.to_owned();
    let Some(stored) = store_work(&state.store, move |store| {
        store.find_provider(&owned, false, false)
    })
    .await?
    else {
        return Ok(RefreshOutcome::Missing);
    };
    let provider = stored.provider;
    let read = read_upstream(state, &provider.discovery_url, provider.verify_ssl).await;
    let outcome = match read {
        Ok((endpoints, key_ids, metadata)) => {
            let (owned, url) = (name.to_owned(), provider.discovery_url.clone());
            let applied = store_work(&state.store, move |store| {
                let applied = store.apply_refresh(&owned, &url, &endpoints, &key_ids, &context)?;
                store.save_login_metadata(&owned, &metadata)?;
                Ok(applied)
            })
            .await;
            match applied {
                Ok(applied) => RefreshOutcome::Success {
                    changes: applied.changes,
                    keys_rotated: applied.keys_rotated,
                    check: applied.check,
                },
                Err(StoreError::NotFound) => RefreshOutcome::Missing,
                Err(StoreError::Conflict) => RefreshOutcome::Changed,
                Err(other) => return Err(other),
            }
        }
        Err(error) => {
            let owned = name.to_owned();
            let message = error.clone();
            match store_work(&state.store, move |store| {
                store.record_check_failure(&owned, &message)
            })
            .await
            {
                Ok(check) => RefreshOutcome::Failure { error, check },
                Err(StoreError::NotFound) => RefreshOutcome::Missing,
                Err(other) => return Err(other),
            }
        }
    };
    if let Some(metrics) = metrics {
        metrics.observe_refresh(name, &outcome);
    }
    Ok(outcome)
}

/// Reads the document's endpoints, the key set's ids and what a login needs, or says what
/// failed.
async fn read_upstream(
    state: &AppState,
    url: &str,
    verify_ssl: bool,
) -> Result<
    (
        idp_core::ProviderEndpoints,
        Vec<String>,
        idp_store::StoredLoginMetadata,
    ),
    String,
> {
    let fetched: Result<_, FetchError> = async {
        let document = state.discovery.fetch(url, verify_ssl).await?;
        let endpoints = document.provider_endpoints()?;
        Ok((document, endpoints))
    }
    .await;
    let (document, endpoints) = fetched.map_err(|error| {
        tracing::info!(error = %Chain(&error), "refresh: discovery failed");
        action_message(&error)
    })?;
    let metadata = crate::login::stored_metadata(&document, state.settings.login.now());
    let key_ids = match document.get("jwks_uri") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(jwks_uri)) => {
            let jwks_uri = url::Url::parse(jwks_uri)
                .map_err(|_| "The document's jwks_uri is not a URL.".to_owned())?;
            let snapshot = state
                .settings
                .login
                .jwks
                .refresh(&jwks_uri, verify_ssl, state.discovery.policy())
                .await
                .map_err(|error| {
                    tracing::info!(error = %Chain(&error), "refresh: key set failed");
                    format!("The key set could not be fetched: {error}.")
                })?;
            snapshot.key_ids
        }
        Some(_) => return Err("The document's jwks_uri is not a string.".to_owned()),
    };
    Ok((endpoints, key_ids, metadata))
}

/// What one round of the background refresher did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoundReport {
    /// False when another instance held the refresh lock, so this one did nothing.
    pub ran: bool,
    /// Providers refreshed successfully.
    pub succeeded: usize,
    /// Providers whose refresh failed.
    pub failed: usize,
    /// Audit events pruned by the retention setting.
    pub pruned: usize,
}

/// The background refresher: [`Refresher::run_round`] is one round, which the loop of
/// [`Refresher::spawn`] runs every interval, and tests call directly.
#[derive(Clone, Debug)]
pub struct Refresher {
    state: AppState,
    metrics: Option<Metrics>,
}

impl Refresher {
    /// A refresher over the app's providers, counting in `metrics` when given.
    pub fn new(state: AppState, metrics: Option<Metrics>) -> Self {
        Self { state, metrics }
    }

    /// One round now: if this instance gets the refresh lock, refreshes every active provider
    /// (as `system`), then prunes audit events older than the retention. Errors of the database
    /// are logged, and end the round.
    pub async fn run_round(&self) -> RoundReport {
        let mut report = RoundReport::default();
        let lock = match store_work(&self.state.store, Store::try_refresh_lock).await {
            Ok(Some(lock)) => lock,
            Ok(None) => return report,
            Err(error) => {
                tracing::warn!(error = %Chain(&error), "refresh round: no lock");
                return report;
            }
        };
        report.ran = true;
        let names = store_work(&self.state.store, |store| {
            Ok(store
                .all_providers()?
                .into_iter()
                .filter(|p| p.provider.is_active)
                .map(|p| p.provider.provider)
                .collect::<Vec<_>>())
        })
        .await;
        let names = match names {
            Ok(names) => names,
            Err(error) => {
                tracing::warn!(error = %Chain(&error), "refresh round: providers not read");
                return report;
            }
        };
        for name in names {
            let outcome = refresh_provider(
                &self.state,
                self.metrics.as_ref(),
                &name,
                AuditContext::system(),
            )
            .await;
            match outcome {
                Ok(RefreshOutcome::Success { .. }) => report.succeeded += 1,
                Ok(RefreshOutcome::Failure { error, .. }) => {
                    tracing::info!(provider = %name, %error, "refresh failed");
                    report.failed += 1;
                }
                Ok(RefreshOutcome::Missing | RefreshOutcome::Changed) => {}
                Err(error) => {
                    tracing::warn!(provider = %name, error = %Chain(&error), "refresh not recorded");
                    report.failed += 1;
                }
            }
        }
        if let Some(retention) = self.state.settings.refresh.audit_retention {
            let cutoff = self.state.settings.login.now()
                - chrono::Duration::from_std(retention).unwrap_or(chrono::Duration::MAX);
            match store_work(&self.state.store, move |store| {
                store.prune_audit_events(cutoff)
            })
            .await
            {
                Ok(pruned) => report.pruned = pruned,
                Err(error) => tracing::warn!(error = %Chain(&error), "audit events not pruned"),
            }
        }
        drop(lock);
        report
    }

    /// Runs a round every `interval`, each wait lengthened by a random part of up to a tenth of
    /// it, so that instances started together spread out. The first round comes after the
    /// first wait.
    pub fn spawn(self, interval: Duration) -> tokio::task::JoinHandle<()> {
        let this = Arc::new(self);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(with_jitter(interval)).await;
                let report = this.run_round().await;
                tracing::info!(
                    ran = report.ran,
                    succeeded = report.succeeded,
                    failed = report.failed,
                    pruned = report.pruned,
                    "refresh round"
                );
            }
        })
    }
}

/// `interval` plus a random part of up to a tenth of it.
fn with_jitter(interval: Duration) -> Duration {
    let tenth = u64::try_from((interval / 10).as_millis()).unwrap_or(u64::MAX);
    let extra = if tenth == 0 {
        0
    } else {
        rand::random::<u64>() % tenth
    };
    interval + Duration::from_millis(extra)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::with_jitter;

    #[test]
    fn jitter_adds_at_most_a_tenth() {
        for _ in 0..200 {
            let waited = with_jitter(Duration::from_secs(6 * 3600));
            assert!(waited >= Duration::from_secs(6 * 3600));
            assert!(waited < Duration::from_secs(6 * 3600 + 2160));
        }
        assert_eq!(
            with_jitter(Duration::from_millis(5)),
            Duration::from_millis(5)
        );
    }
}
