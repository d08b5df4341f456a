//! The audit history of provider configurations: one event per create, update, delete,
//! refresh and re-sealing of secrets, written in the transaction of the change it describes
//! (see docs/decisions.md, "Audit history").
//!
//! An event names each changed field with its value before and after; the client secret is
//! only ever named as changed, with neither its plaintext nor its sealed value.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use idp_core::Provider;
use serde_json::{Value, json};

use crate::cached::cached;
use crate::conn::{DbConnection, per_backend};
use crate::error::StoreError;
use crate::provider_rows::now;
use crate::schema::audit_events as ae;
use crate::schema::registry_state;
use crate::store::Store;
use crate::users::hash_key;

/// The actor of work nobody asked for through the API: the command line, the refresher.
pub const SYSTEM_ACTOR: &str = "system";

/// What an event records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditAction {
    /// A provider was created (through the API or an import).
    Create,
    /// A provider's configuration was changed (through the API or an import).
    Update,
    /// A provider was deleted.
    Delete,
    /// A refresh wrote endpoints read again from the discovery document.
    Refresh,
    /// The client secret was sealed again under the key ring's primary key.
    Reseal,
    /// A test login was begun (by the staff user who asked for it) or completed (by `system`,
    /// with its outcome). It changes no configuration.
    TestLogin,
}

impl AuditAction {
    /// Every action, in the order the documentation lists them.
    pub const ALL: [AuditAction; 6] = [
        AuditAction::Create,
        AuditAction::Update,
        AuditAction::Delete,
        AuditAction::Refresh,
        AuditAction::Reseal,
        AuditAction::TestLogin,
    ];

    /// The action's name as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::Create => "create",
            AuditAction::Update => "update",
            AuditAction::Delete => "delete",
            AuditAction::Refresh => "refresh",
            AuditAction::Reseal => "reseal",
            AuditAction::TestLogin => "test_login",
        }
    }

    /// The action named `name`, if there is one.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|action| action.as_str() == name)
    }
}

/// Who made a change and on which request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditContext {
    /// A username, or [`SYSTEM_ACTOR`].
    pub actor: String,
    /// The caller's token, as its fingerprint ([`token_fingerprint`]), never its key.
    pub actor_token: Option<String>,
    /// The request's `X-Request-Id`.
    pub request_id: Option<String>,
}

impl AuditContext {
    /// Work done by the system itself (command line, background refresh).
    pub fn system() -> Self {
        Self {
            actor: SYSTEM_ACTOR.to_owned(),
            actor_token: None,
            request_id: None,
        }
    }

    /// A user's request: the token's key is kept only as its fingerprint.
    pub fn user(username: &str, token_key: Option<&str>, request_id: Option<String>) -> Self {
        Self {
            actor: username.to_owned(),
            actor_token: token_key.map(token_fingerprint),
            request_id,
        }
    }
}

/// The first 12 hexadecimal digits of the SHA-256 of a token's key: enough to find the token's
/// row (`api_tokens.key_hash` starts with it), useless for authenticating.
pub fn token_fingerprint(key: &str) -> String {
    hash_key(key)[..12].to_owned()
}

/// One recorded event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    /// Increasing with time of writing.
    pub id: i64,
    /// When the change was committed (UTC).
    pub occurred_at: NaiveDateTime,
    /// What happened.
    pub action: AuditAction,
    /// The provider's name.
    pub provider: String,
    /// A username, or [`SYSTEM_ACTOR`].
    pub actor: String,
    /// The caller's token fingerprint, if a token was used.
    pub actor_token: Option<String>,
    /// The request id, if the change came through the API.
    pub request_id: Option<String>,
    /// `[{"field", "before", "after"}]`, or `{"field": "client_secret", "changed": true}`.
    pub changes: Value,
}

impl AuditEvent {
    /// The event as the API shows it and exports carry it.
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "occurred_at": format!("{}Z", self.occurred_at.format("%Y-%m-%dT%H:%M:%S%.6f")),
            "action": self.action.as_str(),
            "provider": self.provider,
            "actor": self.actor,
            "actor_token": self.actor_token,
            "request_id": self.request_id,
            "changes": self.changes,
        })
    }

    /// Reads an event written by [`AuditEvent::to_json`] (an exported one); `None` when it
    /// is not one.
    pub fn from_json(value: &Value) -> Option<Self> {
        let text = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_owned);
        let occurred_at = text("occurred_at")?;
        let occurred_at = chrono::DateTime::parse_from_rfc3339(&occurred_at)
            .ok()?
            .naive_utc();
        let changes = value.get("changes")?.clone();
        if !changes.is_array() {
            return None;
        }
        Some(Self {
            id: value.get("id").and_then(Value::as_i64).unwrap_or(0),
            occurred_at,
            action: AuditAction::parse(&text("action")?)?,
            provider: text("provider")?,
            actor: text("actor")?,
            actor_token: text("actor_token"),
            request_id: text("request_id"),
            changes,
        })
    }
}

/// Which events to list; every filter given must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Events of this provider only.
    pub provider: Option<String>,
    /// Events of this actor only.
    pub actor: Option<String>,
    /// Events of this action only.
    pub action: Option<AuditAction>,
    /// Events at or after this time only.
    pub since: Option<NaiveDateTime>,
}

/// One page of events, newest first, and how many match in all.
#[derive(Debug, Clone)]
pub struct AuditPage {
    /// The events of the page.
    pub items: Vec<AuditEvent>,
    /// How many events match the filter.
    pub total: i64,
}

type EventRow = (
    i64,
    NaiveDateTime,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
);

fn event_from_row(row: EventRow) -> Result<AuditEvent, StoreError> {
    let (id, occurred_at, action, provider, actor, actor_token, request_id, changes) = row;
    let corrupt = |cause| StoreError::Corrupt {
        what: format!("audit event {id}"),
        cause,
    };
    Ok(AuditEvent {
        id,
        occurred_at,
        action: AuditAction::parse(&action).ok_or_else(|| corrupt(None))?,
        provider,
        actor,
        actor_token,
        request_id,
        changes: serde_json::from_str(&changes).map_err(|e| corrupt(Some(e)))?,
    })
}

const COLUMNS: (
    ae::id,
    ae::occurred_at,
    ae::action,
    ae::provider,
    ae::actor,
    ae::actor_token,
    ae::request_id,
    ae::changes,
) = (
    ae::id,
    ae::occurred_at,
    ae::action,
    ae::provider,
    ae::actor,
    ae::actor_token,
    ae::request_id,
    ae::changes,
);

/// The changed fields between two configurations, in the API's key order: `before` is `None`
/// for a create and `after` is `None` for a delete. The client secret appears only as
/// `{"field": "client_secret", "changed": true}`.
pub fn provider_changes(before: Option<&Provider>, after: Option<&Provider>) -> Value {
    let view = |provider: Option<&Provider>| match provider.map(|p| p.to_json(true, false)) {
        Some(Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    };
    let (old, new) = (view(before), view(after));
    let keys = if after.is_some() { &new } else { &old };
    let mut changes = Vec::new();
    for key in keys.keys() {
        let (was, now) = (
            old.get(key).cloned().unwrap_or(Value::Null),
            new.get(key).cloned().unwrap_or(Value::Null),
        );
        if was != now || before.is_none() || after.is_none() {
            changes.push(json!({"field": key, "before": was, "after": now}));
        }
    }
    let secret_changed = match (before, after) {
        (Some(before), Some(after)) => before.client_secret != after.client_secret,
        _ => true,
    };
    if secret_changed {
        changes.push(json!({"field": "client_secret", "changed": true}));
    }
    Value::Array(changes)
}

/// Takes the provider write lock for the rest of the transaction, before anything is read, so
/// that the values an event calls "before" are those the write replaces. Every provider write
/// bumps `registry_state` (the `snapshot` migration's triggers), so taking that row first adds
/// no waiting; on SQLite, a transaction that writes first waits for the write lock (busy
/// timeout) instead of failing on a stale read snapshot.
pub(crate) fn lock_provider_writes(conn: &mut DbConnection) -> Result<(), StoreError> {
    // `get_result` rather than `execute`, which would hand diesel the statement by reference
    // and so past `cached!` (see there).
    per_backend!(conn, |c| cached!(
        diesel::update(registry_state::table.filter(registry_state::id.eq(1)))
            .set(registry_state::providers_version.eq(registry_state::providers_version))
            .returning(registry_state::providers_version)
    )
    .get_result::<i64>(c)?);
    Ok(())
}

/// Writes one event in the caller's transaction; nothing when `changes` is empty.
pub(crate) fn record(
    conn: &mut DbConnection,
    context: &AuditContext,
    action: AuditAction,
    provider: &str,
    changes: &Value,
) -> Result<(), StoreError> {
    if changes.as_array().is_some_and(Vec::is_empty) {
        return Ok(());
    }
    let (occurred_at, changes) = (now(), changes.to_string());
    per_backend!(conn, |c| cached!(diesel::insert_into(ae::table).values((
        ae::occurred_at.eq(occurred_at),
        ae::action.eq(action.as_str()),
        ae::provider.eq(provider),
        ae::actor.eq(&context.actor),
        ae::actor_token.eq(&context.actor_token),
        ae::request_id.eq(&context.request_id),
        ae::changes.eq(&changes),
    )))
    .execute(c)?);
    Ok(())
}

/// Writes events read from an export, keeping their time, actor and changes (their ids are new).
pub(crate) fn restore(conn: &mut DbConnection, events: &[AuditEvent]) -> Result<(), StoreError> {
    for event in events {
        diesel::insert_into(ae::table)
            .values((
                ae::occurred_at.eq(event.occurred_at),
                ae::action.eq(event.action.as_str()),
                ae::provider.eq(&event.provider),
                ae::actor.eq(&event.actor),
                ae::actor_token.eq(&event.actor_token),
                ae::request_id.eq(&event.request_id),
                ae::changes.eq(event.changes.to_string()),
            ))
            .execute(conn)?;
    }
    Ok(())
}

impl Store {
    /// One page of the events matching `filter`, newest first, and how many match in all.
    pub fn audit_events(
        &self,
        filter: &AuditFilter,
        offset: i64,
        limit: i64,
    ) -> Result<AuditPage, StoreError> {
        // PostgreSQL text cannot hold NUL, and no stored name has one: such a filter matches
        // nothing, on either backend.
        let has_nul = |text: &Option<String>| text.as_deref().is_some_and(|t| t.contains('\0'));
        if has_nul(&filter.provider) || has_nul(&filter.actor) {
            return Ok(AuditPage {
                items: Vec::new(),
                total: 0,
            });
        }
        let mut conn = self.conn()?;
        let filtered = || {
            let mut query = ae::table.into_boxed();
            if let Some(provider) = &filter.provider {
                query = query.filter(ae::provider.eq(provider));
            }
            if let Some(actor) = &filter.actor {
                query = query.filter(ae::actor.eq(actor));
            }
            if let Some(action) = filter.action {
                query = query.filter(ae::action.eq(action.as_str()));
            }
            if let Some(since) = filter.since {
                query = query.filter(ae::occurred_at.ge(since));
            }
            query
        };
        let total: i64 = filtered().count().get_result(&mut conn)?;
        let rows: Vec<EventRow> = filtered()
            .select(COLUMNS)
            .order(ae::id.desc())
            .offset(offset)
            .limit(limit)
            .load(&mut conn)?;
        let items = rows
            .into_iter()
            .map(event_from_row)
            .collect::<Result<_, _>>()?;
        Ok(AuditPage { items, total })
    }

    /// Every event, oldest first (of `provider` only, when given): for exports and tests.
    pub fn all_audit_events(&self, provider: Option<&str>) -> Result<Vec<AuditEvent>, StoreError> {
        let filter = AuditFilter {
            provider: provider.map(str::to_owned),
            ..AuditFilter::default()
        };
        let mut items = self.audit_events(&filter, 0, i64::MAX)?.items;
        items.reverse();
        Ok(items)
    }

    /// Deletes the events that occurred before `cutoff`; returns how many.
    pub fn prune_audit_events(&self, cutoff: NaiveDateTime) -> Result<usize, StoreError> {
        let mut conn = self.conn()?;
        Ok(diesel::delete(ae::table.filter(ae::occurred_at.lt(cutoff))).execute(&mut conn)?)
    }
}
