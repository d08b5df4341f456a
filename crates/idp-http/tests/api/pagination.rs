//! Page-number pagination of the list: a bare-array body, `X-Result-Count` and `Link` headers
//! (the reference's; `docs/decisions.md`, "Wire compatibility").

use idp_core::Provider;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{As, COLLECTION, TestApp, detail, provider, spawn_app};
use crate::on_both_backends;
use idp_store::Backend;

on_both_backends!(
    pages_hold_10_rows_by_default_with_count_and_link_headers,
    page_size_is_respected_and_kept_in_links_sorted_by_name,
    large_page_sizes_are_accepted_and_a_single_page_has_no_page_in_its_links,
    invalid_page_sizes_fall_back_to_10,
    invalid_or_out_of_range_pages_are_404_invalid_page,
    page_last_is_the_last_page,
    an_empty_list_has_one_empty_page_and_page_2_is_404,
    head_answers_the_same_headers_as_get_without_a_body,
    unknown_query_parameters_are_ignored_but_kept_in_links,
    non_staff_pages_count_only_active_providers,
);

/// The provider names of the 12 rows, in list order (by label).
fn names(range: std::ops::RangeInclusive<usize>) -> Vec<String> {
    range.map(|i| format!("p{i:02}")).collect()
}

/// An app with providers `p01`..`p{count}`, labelled so that the list is in name order, inserted
/// straight into the store (in reverse, so that the order comes from the labels).
async fn app_with(backend: Backend, count: usize) -> TestApp {
    let app = spawn_app(backend).await;
    for i in (1..=count).rev() {
        app.insert(&provider(&format!("p{i:02}"), &format!("Provider {i:02}")));
    }
    app
}

/// What one list request answered.
#[derive(Debug)]
struct Listed {
    status: u16,
    names: Vec<String>,
    body: Value,
    count: Option<String>,
    link: Option<String>,
}

async fn list(app: &TestApp, who: As<'_>, query: &str) -> Listed {
    let response = app
        .request(Method::GET, &format!("{COLLECTION}{query}"), who, None)
        .await;
    let status = response.status().as_u16();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let (count, link) = (header("x-result-count"), header("link"));
    let body: Value = response.json().await.unwrap_or(Value::Null);
    let names = body
        .as_array()
        .map(|rows| {
            rows.iter()
                .map(|row| row["provider"].as_str().unwrap_or("?").to_owned())
                .collect()
        })
        .unwrap_or_default();
    Listed {
        status,
        names,
        body,
        count,
        link,
    }
}

/// The expected `Link` header: `(rel, query)` pairs, the query without `?` (empty for none).
fn link(app: &TestApp, parts: &[(&str, &str)]) -> String {
    parts
        .iter()
        .map(|(rel, query)| {
            let query = if query.is_empty() {
                String::new()
            } else {
                format!("?{query}")
            };
            format!("<{}{COLLECTION}{query}>; rel=\"{rel}\"", app.base)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// One row: a query, the names it must list, the total and the `Link` parts.
struct Row<'a> {
    query: &'a str,
    names: Vec<String>,
    count: &'a str,
    links: Vec<(&'a str, &'a str)>,
}

/// Runs every row as `who` and lists every failing one.
async fn check_rows(app: &TestApp, who: As<'_>, rows: &[Row<'_>]) {
    let mut failures = Vec::new();
    for row in rows {
        let got = list(app, who, row.query).await;
        let expected_link = link(app, &row.links);
        let ok = got.status == 200
            && got.names == row.names
            && got.count.as_deref() == Some(row.count)
            && got.link.as_deref() == Some(expected_link.as_str());
        if !ok {
            failures.push(format!(
                "GET {COLLECTION}{}:\n    got      {} {:?} count {:?}\n             link {:?}\n    expected 200 {:?} count {:?}\n             link {:?}",
                row.query,
                got.status,
                got.names,
                got.count,
                got.link,
                row.names,
                row.count,
                expected_link
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} rows failed:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
}

async fn pages_hold_10_rows_by_default_with_count_and_link_headers(backend: Backend) {
    let app = app_with(backend, 12).await;
    let rows = [
        Row {
            query: "",
            names: names(1..=10),
            count: "12",
            links: vec![("first", ""), ("next", "page=2"), ("last", "page=2")],
        },
        Row {
            query: "?page=1",
            names: names(1..=10),
            count: "12",
            links: vec![("first", ""), ("next", "page=2"), ("last", "page=2")],
        },
        Row {
            query: "?page=2",
            names: names(11..=12),
            count: "12",
            // `prev` of page 2 is page 1, written without `page`.
            links: vec![("first", ""), ("prev", ""), ("last", "page=2")],
        },
    ];
    check_rows(&app, As::Anonymous, &rows).await;
    check_rows(&app, As::Token(&app.staff), &rows).await;
}

async fn page_size_is_respected_and_kept_in_links_sorted_by_name(backend: Backend) {
    let app = app_with(backend, 12).await;
    let rows = [
        Row {
            query: "?page_size=5",
            names: names(1..=5),
            count: "12",
            links: vec![
                ("first", "page_size=5"),
                ("next", "page=2&page_size=5"),
                ("last", "page=3&page_size=5"),
            ],
        },
        Row {
            query: "?page_size=5&page=2",
            names: names(6..=10),
            count: "12",
            links: vec![
                ("first", "page_size=5"),
                ("prev", "page_size=5"),
                ("next", "page=3&page_size=5"),
                ("last", "page=3&page_size=5"),
            ],
        },
        Row {
            query: "?page=3&page_size=5",
            names: names(11..=12),
            count: "12",
            links: vec![
                ("first", "page_size=5"),
                ("prev", "page=2&page_size=5"),
                ("last", "page=3&page_size=5"),
            ],
        },
        Row {
            query: "?page_size=1&page=7",
            names: names(7..=7),
            count: "12",
            links: vec![
                ("first", "page_size=1"),
                ("prev", "page=6&page_size=1"),
                ("next", "page=8&page_size=1"),
                ("last", "page=12&page_size=1"),
            ],
        },
        Row {
            query: "?page_size=12",
            names: names(1..=12),
            count: "12",
            links: vec![("first", "page_size=12"), ("last", "page_size=12")],
        },
        Row {
            query: "?page_size=11&page=2",
            names: names(12..=12),
            count: "12",
            links: vec![
                ("first", "page_size=11"),
                ("prev", "page_size=11"),
                ("last", "page=2&page_size=11"),
            ],
        },
    ];
    check_rows(&app, As::Anonymous, &rows).await;
}

async fn large_page_sizes_are_accepted_and_a_single_page_has_no_page_in_its_links(
    backend: Backend,
) {
    let app = app_with(backend, 12).await;
    let queries: Vec<(String, String)> = ["300", "301", "1000", "1000000000000"]
        .iter()
        .map(|size| (format!("?page_size={size}"), format!("page_size={size}")))
        .collect();
    let rows: Vec<Row> = queries
        .iter()
        .map(|(query, kept)| Row {
            query,
            names: names(1..=12),
            count: "12",
            links: vec![("first", kept), ("last", kept)],
        })
        .collect();
    check_rows(&app, As::Token(&app.staff), &rows).await;
}

async fn invalid_page_sizes_fall_back_to_10(backend: Backend) {
    let app = app_with(backend, 12).await;
    let queries: Vec<(String, String, String)> = ["0", "-1", "abc", "1.5", ""]
        .iter()
        .map(|size| {
            (
                format!("?page_size={size}"),
                format!("page_size={size}"),
                format!("page=2&page_size={size}"),
            )
        })
        .collect();
    let rows: Vec<Row> = queries
        .iter()
        .map(|(query, kept, next)| Row {
            query,
            names: names(1..=10),
            count: "12",
            links: vec![("first", kept), ("next", next), ("last", next)],
        })
        .collect();
    check_rows(&app, As::Anonymous, &rows).await;
}

async fn invalid_or_out_of_range_pages_are_404_invalid_page(backend: Backend) {
    let app = app_with(backend, 12).await;
    let mut failures = Vec::new();
    for query in [
        "?page=0",
        "?page=-1",
        "?page=abc",
        "?page=",
        "?page=1.0",
        "?page=3",
        "?page=99",
        "?page=2&page_size=12",
        "?page=99999999999999999999",
    ] {
        for who in [As::Anonymous, As::Token(&app.staff)] {
            let got = list(&app, who, query).await;
            if (got.status, &got.body) != (404, &detail("Invalid page.")) {
                failures.push(format!("{query}: {} {}", got.status, got.body));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

async fn page_last_is_the_last_page(backend: Backend) {
    let app = app_with(backend, 12).await;
    let rows = [
        Row {
            query: "?page=last",
            names: names(11..=12),
            count: "12",
            links: vec![("first", ""), ("prev", ""), ("last", "page=2")],
        },
        Row {
            query: "?page=last&page_size=5",
            names: names(11..=12),
            count: "12",
            links: vec![
                ("first", "page_size=5"),
                ("prev", "page=2&page_size=5"),
                ("last", "page=3&page_size=5"),
            ],
        },
        Row {
            query: "?page=last&page_size=20",
            names: names(1..=12),
            count: "12",
            links: vec![("first", "page_size=20"), ("last", "page_size=20")],
        },
    ];
    check_rows(&app, As::Anonymous, &rows).await;
}

async fn an_empty_list_has_one_empty_page_and_page_2_is_404(backend: Backend) {
    let app = spawn_app(backend).await;
    let rows = [
        Row {
            query: "",
            names: vec![],
            count: "0",
            links: vec![("first", ""), ("last", "")],
        },
        Row {
            query: "?page=1",
            names: vec![],
            count: "0",
            links: vec![("first", ""), ("last", "")],
        },
        Row {
            query: "?page=last",
            names: vec![],
            count: "0",
            links: vec![("first", ""), ("last", "")],
        },
    ];
    check_rows(&app, As::Anonymous, &rows).await;
    let first = list(&app, As::Anonymous, "").await;
    assert_eq!(first.body, json!([]), "a bare empty array");
    for query in ["?page=2", "?page=0"] {
        let got = list(&app, As::Token(&app.staff), query).await;
        assert_eq!(
            (got.status, got.body),
            (404, detail("Invalid page.")),
            "{query}"
        );
    }
}

async fn head_answers_the_same_headers_as_get_without_a_body(backend: Backend) {
    let app = app_with(backend, 12).await;
    for (query, status) in [
        ("", 200),
        ("?page=2", 200),
        ("?page_size=5&page=2", 200),
        ("?page=last&is_active=false", 200),
        ("?page=99", 404),
    ] {
        for who in [As::Anonymous, As::Token(&app.user), As::Token(&app.staff)] {
            let path = format!("{COLLECTION}{query}");
            let get = app.request(Method::GET, &path, who, None).await;
            let head = app.request(Method::HEAD, &path, who, None).await;
            assert_eq!(get.status(), status, "GET {path}");
            assert_eq!(head.status(), status, "HEAD {path}");
            for name in ["x-result-count", "link", "content-type"] {
                assert_eq!(
                    head.headers().get(name),
                    get.headers().get(name),
                    "HEAD {path}: {name}"
                );
            }
            assert_eq!(head.text().await.unwrap(), "", "HEAD {path} has no body");
        }
    }
}

async fn unknown_query_parameters_are_ignored_but_kept_in_links(backend: Backend) {
    let app = app_with(backend, 12).await;
    // An inactive provider, to show that `is_active=false` does not filter anything.
    app.insert(&Provider {
        is_active: false,
        ..provider("p13", "Provider 13")
    });
    let rows = [
        Row {
            query: "?is_active=false",
            names: names(1..=10),
            count: "12",
            links: vec![
                ("first", "is_active=false"),
                ("next", "is_active=false&page=2"),
                ("last", "is_active=false&page=2"),
            ],
        },
        Row {
            query: "?page=2&is_active=false",
            names: names(11..=12),
            count: "12",
            links: vec![
                ("first", "is_active=false"),
                ("prev", "is_active=false"),
                ("last", "is_active=false&page=2"),
            ],
        },
        Row {
            query: "?zeta=1&ordering=-label&page_size=4&page=2",
            names: names(5..=8),
            count: "12",
            links: vec![
                ("first", "ordering=-label&page_size=4&zeta=1"),
                ("prev", "ordering=-label&page_size=4&zeta=1"),
                ("next", "ordering=-label&page=3&page_size=4&zeta=1"),
                ("last", "ordering=-label&page=3&page_size=4&zeta=1"),
            ],
        },
    ];
    check_rows(&app, As::Anonymous, &rows).await;
}

async fn non_staff_pages_count_only_active_providers(backend: Backend) {
    let app = app_with(backend, 12).await;
    for i in 13..=15 {
        app.insert(&Provider {
            is_active: false,
            ..provider(&format!("p{i:02}"), &format!("Provider {i:02}"))
        });
    }
    let anonymous = [Row {
        query: "?page=2",
        names: names(11..=12),
        count: "12",
        links: vec![("first", ""), ("prev", ""), ("last", "page=2")],
    }];
    check_rows(&app, As::Anonymous, &anonymous).await;
    check_rows(&app, As::Token(&app.user), &anonymous).await;
    let staff = [
        Row {
            query: "?page=2",
            names: names(11..=15),
            count: "15",
            links: vec![("first", ""), ("prev", ""), ("last", "page=2")],
        },
        Row {
            query: "?page_size=5&page=last",
            names: names(11..=15),
            count: "15",
            links: vec![
                ("first", "page_size=5"),
                ("prev", "page=2&page_size=5"),
                ("last", "page=3&page_size=5"),
            ],
        },
    ];
    check_rows(&app, As::Token(&app.staff), &staff).await;
}
