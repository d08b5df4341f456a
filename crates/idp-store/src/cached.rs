//! Writes whose SQL never changes, kept prepared.
//!
//! diesel keeps the prepared statements of queries whose SQL it can tell is fixed, and never
//! those of `UPDATE` and `INSERT` statements (a changeset with `Option` fields may leave columns
//! out, an insert may write `DEFAULT`). SQLite then parses and plans the statement again on every
//! write, with the triggers it fires: on a provider update that was a fifth of the request's
//! CPU. The statements wrapped here write every column every time, so each call site's SQL is
//! the same whatever the values; [`cached!`] gives each call site a type of its own, which
//! diesel's statement cache uses as the key.

use std::marker::PhantomData;

use diesel::backend::Backend;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::{QueryResult, RunQueryDsl};

/// `query`, kept prepared under the type `Site` (see [`cached!`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cached<Site, Q> {
    query: Q,
    site: PhantomData<Site>,
}

impl<Site, Q> Cached<Site, Q> {
    /// Wraps `query`. Its SQL must be the same for every value it is built with at this site.
    pub(crate) fn new(query: Q) -> Self {
        Self {
            query,
            site: PhantomData,
        }
    }
}

/// Wraps a statement built at this call site so that diesel keeps it prepared. Only for
/// statements whose SQL does not depend on their values: every column written, no optional
/// clause, no list of variable length.
///
/// Run an `UPDATE` with `get_result` or `load` (add a `RETURNING` column if need be), not with
/// `execute`: `execute` hands diesel a reference to the statement, whose check for caching looks
/// past this wrapper into the `UPDATE`, which always answers no.
macro_rules! cached {
    ($query:expr) => {{
        /// The call site, as the key of its prepared statement.
        struct Site;
        $crate::cached::Cached::<Site, _>::new($query)
    }};
}
pub(crate) use cached;

impl<Site: 'static, Q> QueryId for Cached<Site, Q> {
    type QueryId = Site;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<Site, Q, DB> QueryFragment<DB> for Cached<Site, Q>
where
    DB: Backend,
    Q: QueryFragment<DB>,
{
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.query.walk_ast(pass)
    }

    fn is_safe_to_cache_prepared(&self, _backend: &DB) -> QueryResult<bool> {
        Ok(true)
    }
}

impl<Site, Q: Query> Query for Cached<Site, Q> {
    type SqlType = Q::SqlType;
}

impl<Site, Q, Conn> RunQueryDsl<Conn> for Cached<Site, Q> {}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use diesel::connection::{InstrumentationEvent, SimpleConnection};
    use diesel::prelude::*;

    diesel::table! {
        counters (id) {
            id -> Integer,
            value -> Integer,
        }
    }

    /// A SQLite connection with one counter, and the SQL of each statement diesel put in its
    /// cache since.
    fn connection() -> (SqliteConnection, Arc<Mutex<Vec<String>>>) {
        let mut conn = SqliteConnection::establish(":memory:").unwrap();
        conn.batch_execute(
            "CREATE TABLE counters (id INTEGER PRIMARY KEY, value INTEGER NOT NULL);
             INSERT INTO counters VALUES (1, 0);",
        )
        .unwrap();
        let cached = Arc::new(Mutex::new(Vec::new()));
        let seen = cached.clone();
        conn.set_instrumentation(move |event: InstrumentationEvent<'_>| {
            if let InstrumentationEvent::CacheQuery { sql, .. } = event {
                seen.lock().unwrap().push(sql.to_owned());
            }
        });
        (conn, cached)
    }

    macro_rules! bump {
        () => {
            diesel::update(counters::table.filter(counters::id.eq(1)))
                .set(counters::value.eq(counters::value + 1))
                .returning(counters::value)
        };
    }

    #[test]
    fn a_cached_update_is_prepared_once_and_a_plain_one_every_time() {
        let (mut conn, cached) = connection();
        for expected in 1..=3 {
            let value: i32 = bump!().get_result(&mut conn).unwrap();
            assert_eq!(value, expected);
        }
        assert_eq!(
            cached.lock().unwrap().len(),
            0,
            "diesel never caches an UPDATE"
        );
        for expected in 4..=6 {
            let value: i32 = cached!(bump!()).get_result(&mut conn).unwrap();
            assert_eq!(value, expected);
        }
        let cached = cached.lock().unwrap();
        assert_eq!(cached.len(), 1, "prepared once: {cached:?}");
        assert!(cached[0].starts_with("UPDATE"), "{cached:?}");
    }

    #[test]
    fn execute_passes_by_reference_and_so_is_not_cached() {
        let (mut conn, cached) = connection();
        for _ in 0..2 {
            cached!(
                diesel::update(counters::table.filter(counters::id.eq(1)))
                    .set(counters::value.eq(counters::value + 1))
            )
            .execute(&mut conn)
            .unwrap();
        }
        assert_eq!(cached.lock().unwrap().len(), 0);
    }
}
