//! Whether pooled connections are tested before they are handed out.
//!
//! A query per checkout would double the round trips of every request, so connections are tested
//! only for a while after one of them was found closed by its server (the server restarted). The
//! error conversion marks that moment and the pool's manager reads it; this module sits between
//! them so that neither has to know the other.

use std::sync::atomic::{AtomicU64, Ordering};

/// Until when (milliseconds since the Unix epoch) pooled connections are tested on checkout.
static SUSPECT_UNTIL: AtomicU64 = AtomicU64::new(0);

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// A connection was found closed by its server: test every connection handed out during the
/// next 30 s, so the dead ones are replaced before they fail a request.
pub(crate) fn connections_suspect() {
    SUSPECT_UNTIL.fetch_max(now_ms() + 30_000, Ordering::Relaxed);
}

/// Whether connections are to be tested on checkout now.
pub(crate) fn suspect() -> bool {
    SUSPECT_UNTIL.load(Ordering::Relaxed) > now_ms()
}
