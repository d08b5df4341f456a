//! A person at a browser, reduced to HTTP: follows redirects by hand with a cookie jar, fills
//! in the provider's login and consent forms, and stops at the redirect to the relying party.

use std::collections::BTreeMap;

use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::{Method, StatusCode};
use url::Url;

/// How many pages and redirects a login may take before the browser gives up.
const MAX_STEPS: usize = 20;

/// Walks from `authorization_url` through the provider's login form (as `login`, with any
/// password) and consent form, and returns the URL the provider redirects to under
/// `redirect_uri`, unvisited: the callback with `code`, `state` and `iss`.
///
/// The forms are the `oidc-provider` development interactions: a form with a hidden
/// `prompt=login` and `login`/`password` fields, then one with `prompt=consent`. An error page
/// ends the walk with its status and text.
pub async fn browser_login(
    authorization_url: &Url,
    login: &str,
    redirect_uri: &str,
) -> Result<Url, String> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .map_err(|error| format!("browser: {error}"))?;
    let mut jar: BTreeMap<String, String> = BTreeMap::new();
    let mut next = (Method::GET, authorization_url.clone(), Vec::new());
    for _ in 0..MAX_STEPS {
        let (verb, url, form) = next;
        let mut request = client.request(verb.clone(), url.clone());
        if !jar.is_empty() {
            let cookies: Vec<String> = jar.iter().map(|(k, v)| format!("{k}={v}")).collect();
            request = request.header(COOKIE, cookies.join("; "));
        }
        if verb == Method::POST {
            request = request.form(&form);
        }
        let response = request
            .send()
            .await
            .map_err(|error| format!("browser: {verb} {url}: {error}"))?;
        remember_cookies(&mut jar, response.headers());
        let status = response.status();
        if status.is_redirection() {
            let location = response
                .headers()
                .get(LOCATION)
                .and_then(|value| value.to_str().ok())
                .ok_or_else(|| format!("browser: {status} without Location from {url}"))?;
            let target = url
                .join(location)
                .map_err(|error| format!("browser: bad Location {location:?}: {error}"))?;
            if target.as_str().starts_with(redirect_uri) {
                return Ok(target);
            }
            next = (Method::GET, target, Vec::new());
            continue;
        }
        let page = response.text().await.unwrap_or_default();
        if status != StatusCode::OK {
            return Err(format!(
                "browser: {verb} {url} answered {status}: {}",
                text_of(&page)
            ));
        }
        let action = form_action(&page)
            .ok_or_else(|| format!("browser: no form at {url}: {}", text_of(&page)))?;
        let action = url
            .join(&action)
            .map_err(|error| format!("browser: bad form action {action:?}: {error}"))?;
        let fields = if page.contains(r#"name="prompt" value="login""#) {
            vec![
                ("prompt".to_owned(), "login".to_owned()),
                ("login".to_owned(), login.to_owned()),
                ("password".to_owned(), "any password".to_owned()),
            ]
        } else if page.contains(r#"name="prompt" value="consent""#) {
            vec![("prompt".to_owned(), "consent".to_owned())]
        } else {
            return Err(format!("browser: unknown form at {url}"));
        };
        next = (Method::POST, action, fields);
    }
    Err(format!(
        "browser: no redirect to {redirect_uri} after {MAX_STEPS} steps"
    ))
}

/// Keeps every cookie by name (the provider's paths are not told apart: a test browser visits
/// one provider); an expired or emptied cookie is dropped.
fn remember_cookies(jar: &mut BTreeMap<String, String>, headers: &reqwest::header::HeaderMap) {
    for value in headers.get_all(SET_COOKIE) {
        let Ok(value) = value.to_str() else { continue };
        let mut attributes = value.split(';').map(str::trim);
        let Some((name, content)) = attributes.next().and_then(|pair| pair.split_once('=')) else {
            continue;
        };
        let expired = attributes.any(|attribute| {
            let attribute = attribute.to_ascii_lowercase();
            attribute == "max-age=0" || attribute.starts_with("expires=thu, 01 jan 1970")
        });
        if expired || content.is_empty() {
            jar.remove(name);
        } else {
            jar.insert(name.to_owned(), content.to_owned());
        }
    }
}

/// The `action` of the page's first form, with HTML entities `&amp;` undone.
fn form_action(page: &str) -> Option<String> {
    let form = &page[page.find("<form")?..];
    let start = form.find("action=\"")? + "action=\"".len();
    let end = form[start..].find('"')? + start;
    Some(form[start..end].replace("&amp;", "&"))
}

/// A page's text, tags and styles removed and shortened, for error messages.
fn text_of(page: &str) -> String {
    let page = match (page.find("<style"), page.find("</style>")) {
        (Some(start), Some(end)) if start < end => {
            format!("{}{}", &page[..start], &page[end + "</style>".len()..])
        }
        _ => page.to_owned(),
    };
    let mut text = String::new();
    let mut in_tag = false;
    for c in page.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push(' ');
            }
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    words.join(" ").chars().take(400).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_form_action_is_found_and_unescaped() {
        let page = r#"<p>x</p><form autocomplete="off" action="/interaction/abc?x=1&amp;y=2" method="post">"#;
        assert_eq!(
            form_action(page).as_deref(),
            Some("/interaction/abc?x=1&y=2")
        );
        assert_eq!(form_action("<p>no form</p>"), None);
    }

    #[test]
    fn cookies_are_kept_and_dropped() {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.append(
            SET_COOKIE,
            "_interaction=abc; path=/interaction/x; httponly"
                .parse()
                .unwrap(),
        );
        headers.append(SET_COOKIE, "_session=s1; path=/".parse().unwrap());
        let mut jar = BTreeMap::new();
        remember_cookies(&mut jar, &headers);
        assert_eq!(jar.len(), 2);
        let mut gone = reqwest::header::HeaderMap::new();
        gone.append(
            SET_COOKIE,
            "_interaction=; path=/; expires=Thu, 01 Jan 1970 00:00:00 GMT"
                .parse()
                .unwrap(),
        );
        remember_cookies(&mut jar, &gone);
        assert_eq!(jar.keys().collect::<Vec<_>>(), ["_session"]);
    }
}
