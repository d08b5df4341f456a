//! Reads from memory against the database: after every step of a random sequence of writes
//! (creates through the API and straight through the store, PUT, PATCH of labels that reorder the
//! list, activation, deletion), every list page, `HEAD`, retrieve and 304 the snapshot answers is
//! the answer built from the database itself: the same body bytes, `X-Result-Count`, `Link` and
//! `ETag`. Also: token checks cached in memory stop working at once when revoked.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use reqwest::Method;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::helpers::*;
use idp_store::Backend;

const NAMES: [&str; 5] = ["alpha", "beta", "gamma", "delta", "eps"];
/// Labels with ties, case and non-ASCII, so that writes move providers around the list.
const LABELS: [&str; 5] = ["Same", "same", "A", "\u{e9}t\u{e9}", "Same"];

#[derive(Debug, Clone)]
enum Step {
    /// Through the API (a discovery fetch), or straight into the store.
    Create {
        name: usize,
        label: usize,
        api: bool,
    },
    /// PATCH the label.
    Relabel {
        name: usize,
        label: usize,
    },
    /// PATCH `is_active`.
    Activate {
        name: usize,
        active: bool,
    },
    /// PUT with a new label and client id.
    Replace {
        name: usize,
        label: usize,
    },
    Delete {
        name: usize,
    },
}

fn step() -> impl Strategy<Value = Step> {
    let name = 0..NAMES.len();
    let label = 0..LABELS.len();
    prop_oneof![
        (name.clone(), label.clone(), any::<bool>()).prop_map(|(name, label, api)| Step::Create {
            name,
            label,
            api
        }),
        (name.clone(), label.clone()).prop_map(|(name, label)| Step::Relabel { name, label }),
        (name.clone(), any::<bool>()).prop_map(|(name, active)| Step::Activate { name, active }),
        (name.clone(), label.clone()).prop_map(|(name, label)| Step::Replace { name, label }),
        name.prop_map(|name| Step::Delete { name }),
    ]
}

async fn apply(app: &TestApp, step: &Step) {
    let path = |name: usize| format!("/api/identity-providers/{}/", NAMES[name]);
    let staff = As::Token(&app.staff);
    match *step {
        Step::Create {
            name,
            label,
            api: true,
        } => {
            let body = app.new_provider_body(NAMES[name], LABELS[label]).await;
            app.create(&body).await;
        }
        Step::Create {
            name,
            label,
            api: false,
        } => {
            let _ = app
                .store
                .insert_provider(&provider(NAMES[name], LABELS[label]));
        }
        Step::Relabel { name, label } => {
            let body = json!({"label": LABELS[label]});
            app.request(Method::PATCH, &path(name), staff, Some(&body))
                .await;
        }
        Step::Activate { name, active } => {
            let body = json!({"is_active": active});
            app.request(Method::PATCH, &path(name), staff, Some(&body))
                .await;
        }
        Step::Replace { name, label } => {
            let mut body = app.new_provider_body(NAMES[name], LABELS[label]).await;
            body["client_id"] = json!(format!("replaced-{label}"));
            app.request(Method::PUT, &path(name), staff, Some(&body))
                .await;
        }
        Step::Delete { name } => {
            app.request(Method::DELETE, &path(name), staff, None).await;
        }
    }
}

/// The `Link` header of page `number` of `pages` for `page_size`, as the API builds it.
fn expected_link(base: &str, size: i64, number: i64, pages: i64) -> String {
    let url = |page: Option<i64>| match page {
        Some(page) => format!("{base}?page={page}&page_size={size}"),
        None => format!("{base}?page_size={size}"),
    };
    let mut links = vec![format!("<{}>; rel=\"first\"", url(None))];
    if number > 1 {
        let prev = if number == 2 { None } else { Some(number - 1) };
        links.push(format!("<{}>; rel=\"prev\"", url(prev)));
    }
    if number < pages {
        links.push(format!("<{}>; rel=\"next\"", url(Some(number + 1))));
    }
    links.push(format!(
        "<{}>; rel=\"last\"",
        url((pages > 1).then_some(pages))
    ));
    links.join(", ")
}

fn list_etag(total: i64, body: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(format!("{total}\n").as_bytes());
    hasher.update(body);
    let digest = hasher.finalize();
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .map(|value| value.to_str().unwrap().to_owned())
}

/// Every read the snapshot serves, compared with the database; the differences, if any.
async fn compare(app: &TestApp) -> Vec<String> {
    let mut problems = Vec::new();
    let base = format!("{}/api/identity-providers/", app.base);
    let all = app.store.all_providers().unwrap();
    for (who, staff) in [
        (As::Anonymous, false),
        (As::Token(&app.user), false),
        (As::Token(&app.staff), true),
    ] {
        let visible: Vec<_> = all
            .iter()
            .filter(|stored| staff || stored.provider.is_active)
            .collect();
        let total = visible.len() as i64;
        for size in [1_i64, 2, 10] {
            let pages = ((total + size - 1) / size).max(1);
            for number in 1..=pages + 1 {
                let path = format!("/api/identity-providers/?page={number}&page_size={size}");
                let response = app.request(Method::GET, &path, who, None).await;
                let status = response.status().as_u16();
                if number > pages {
                    if status != 404 {
                        problems.push(format!("{who:?} {path}: {status}, expected 404"));
                    }
                    continue;
                }
                let rows: Vec<_> = visible
                    .iter()
                    .skip(((number - 1) * size) as usize)
                    .take(size as usize)
                    .map(|stored| stored.provider.view(staff, true))
                    .collect();
                let body = serde_json::to_vec(&rows).unwrap();
                let count = header(&response, "x-result-count");
                let link = header(&response, "link");
                let etag = header(&response, "etag");
                let got = response.bytes().await.unwrap();
                let expected_etag = list_etag(total, &body);
                if status != 200
                    || got.as_ref() != body.as_slice()
                    || count != Some(total.to_string())
                    || link != Some(expected_link(&base, size, number, pages))
                    || etag.as_deref() != Some(expected_etag.as_str())
                {
                    problems.push(format!(
                        "{who:?} {path}: {status} count {count:?} etag {etag:?} link {link:?}\n  got      {}\n  expected {}",
                        String::from_utf8_lossy(&got),
                        String::from_utf8_lossy(&body)
                    ));
                    continue;
                }
                let again = app
                    .http()
                    .get(format!("{}{path}", app.base))
                    .headers(auth_headers(who))
                    .header("If-None-Match", expected_etag)
                    .send()
                    .await
                    .unwrap();
                if again.status() != 304 {
                    problems.push(format!("{who:?} {path} If-None-Match: {}", again.status()));
                }
            }
        }
        let head = app
            .request(
                Method::HEAD,
                "/api/identity-providers/?page_size=2",
                who,
                None,
            )
            .await;
        if header(&head, "x-result-count") != Some(total.to_string()) {
            problems.push(format!(
                "{who:?} HEAD: count {:?}",
                header(&head, "x-result-count")
            ));
        }
        for name in NAMES {
            let path = format!("/api/identity-providers/{name}/");
            let response = app.request(Method::GET, &path, who, None).await;
            let status = response.status().as_u16();
            let etag = header(&response, "etag");
            let got = response.bytes().await.unwrap();
            match all.iter().find(|stored| stored.provider.provider == name) {
                Some(stored) if staff || stored.provider.is_active => {
                    let body = serde_json::to_vec(&stored.provider.view(staff, true)).unwrap();
                    let version = format!("\"{}\"", stored.version);
                    if status != 200
                        || got.as_ref() != body.as_slice()
                        || etag.as_ref() != Some(&version)
                    {
                        problems.push(format!(
                            "{who:?} {path}: {status} etag {etag:?}, expected {version}\n  got      {}\n  expected {}",
                            String::from_utf8_lossy(&got),
                            String::from_utf8_lossy(&body)
                        ));
                    }
                }
                _ if status != 404 => {
                    problems.push(format!("{who:?} {path}: {status}, expected 404"))
                }
                _ => {}
            }
        }
    }
    problems
}

fn auth_headers(who: As<'_>) -> reqwest::header::HeaderMap {
    let mut headers = reqwest::header::HeaderMap::new();
    if let As::Token(key) = who {
        headers.insert("Authorization", format!("Token {key}").parse().unwrap());
    }
    headers
}

async fn answers_from_memory_equal_the_database_after_random_writes(backend: Backend) {
    let app = spawn_app(backend).await;
    let handle = tokio::runtime::Handle::current();
    let cases = match backend {
        Backend::Sqlite => 12,
        Backend::Postgres => 10,
    };
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let outcome = tokio::task::block_in_place(|| {
        runner.run(&proptest::collection::vec(step(), 1..8), |steps| {
            handle.block_on(async {
                for step in &steps {
                    apply(&app, step).await;
                    let problems = compare(&app).await;
                    prop_assert!(
                        problems.is_empty(),
                        "after {step:?} (of {steps:?}):\n{}",
                        problems.join("\n")
                    );
                }
                Ok(())
            })
        })
    });
    if let Err(error) = outcome {
        panic!("{error}");
    }
}

async fn a_cached_token_stops_working_at_once_when_revoked_or_its_user_deactivated(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let list = "/api/identity-providers/";
    // Once loaded, the snapshot has seen the auth version: nothing drops the cache below but
    // the changes made here.
    let ready = app
        .request(Method::GET, "/health/ready", As::Anonymous, None)
        .await;
    assert_eq!(ready.status(), 200);
    let user = app.store.ensure_user("carol", true).unwrap();
    let revoked = app.store.create_token(&user, None).unwrap().key;
    let kept = app.store.create_token(&user, None).unwrap().key;
    for key in [&revoked, &kept] {
        let response = app.request(Method::GET, list, As::Token(key), None).await;
        assert_eq!(response.status(), 200);
    }
    assert!(
        app.store.cached_token_checks() >= 2,
        "token checks are cached"
    );
    assert!(app.store.revoke_token(&revoked).unwrap());
    let response = app
        .request(Method::GET, list, As::Token(&revoked), None)
        .await;
    assert_eq!(
        status_and_json(response).await,
        (401, json!({"detail": "Invalid token."}))
    );
    let response = app.request(Method::GET, list, As::Token(&kept), None).await;
    assert_eq!(response.status(), 200);
    assert!(app.store.set_user_active("carol", false).unwrap());
    let response = app.request(Method::GET, list, As::Token(&kept), None).await;
    assert_eq!(
        status_and_json(response).await,
        (401, json!({"detail": "User inactive or deleted."}))
    );
}

async fn large_answers_are_gzipped_when_asked_and_the_same_once_inflated(backend: Backend) {
    let app = spawn_app(backend).await;
    for i in 0..4 {
        app.insert(&provider(&format!("p{i}"), &format!("P{i}")));
    }
    let url = format!("{}/api/identity-providers/?page_size=4", app.base);
    let plain = app.http().get(&url).send().await.unwrap();
    assert!(plain.headers().get("content-encoding").is_none());
    let plain = plain.bytes().await.unwrap();
    assert!(plain.len() > 1024);
    let zipped = app
        .http()
        .get(&url)
        .header("Accept-Encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&zipped, "content-encoding").as_deref(), Some("gzip"));
    assert_eq!(
        header(&zipped, "vary").as_deref(),
        Some("Accept-Encoding, Authorization")
    );
    let compressed = zipped.bytes().await.unwrap();
    assert!(compressed.len() < plain.len() / 2);
    let mut inflated = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(compressed.as_ref()),
        &mut inflated,
    )
    .unwrap();
    assert_eq!(inflated, plain.as_ref());
    // A small answer is sent as it is, asked or not.
    let one = app
        .http()
        .get(format!("{}/api/identity-providers/p1/", app.base))
        .header("Accept-Encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert!(one.headers().get("content-encoding").is_none());
}

crate::on_both_backends!(
    answers_from_memory_equal_the_database_after_random_writes,
    a_cached_token_stops_working_at_once_when_revoked_or_its_user_deactivated,
    large_answers_are_gzipped_when_asked_and_the_same_once_inflated,
);
