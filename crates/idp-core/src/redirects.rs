//! `allowed_redirects`: origins a login may return to.

use crate::url_rules::{is_valid_django_url, split_url};

/// Checks each redirect origin in order and returns them normalised to
/// `lower(scheme)://lower(netloc)`, order and duplicates kept; the first bad entry stops the
/// check with its message.
pub fn normalise_redirects(urls: &[String]) -> Result<Vec<String>, String> {
    urls.iter().map(|url| normalise(url)).collect()
}

fn normalise(url: &str) -> Result<String, String> {
    if !is_valid_django_url(url) {
        return Err(format!("Invalid redirect URL {url}: Enter a valid URL."));
    }
    let parts =
        split_url(url).ok_or_else(|| format!("Invalid redirect URL {url}: Enter a valid URL."))?;
    let scheme = parts.scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return Err(format!(
            "Invalid URL scheme for {url}. Only http and https are allowed."
        ));
    }
    let netloc = parts.netloc.to_lowercase();
    let local = ["localhost", "127.0.0.1"]
        .iter()
        .any(|host| netloc == *host || netloc.starts_with(&format!("{host}:")));
    if scheme == "http" && !local {
        return Err(format!(
            "HTTPS required for {url}. HTTP is only allowed for localhost."
        ));
    }
    if !(parts.path.is_empty() || parts.path == "/") {
        return Err(format!(
            "Redirect URL must not contain a path: {url}. Only origin (scheme + domain + port) is allowed."
        ));
    }
    if !parts.query.is_empty() {
        return Err(format!(
            "Redirect URL must not contain query parameters: {url}"
        ));
    }
    if !parts.fragment.is_empty() {
        return Err(format!("Redirect URL must not contain fragments: {url}"));
    }
    let origin = format!("{scheme}://{netloc}");
    // Lower-casing can lengthen a URL (`İ` becomes two characters): what is stored must pass
    // the same check again, so normalising stays idempotent.
    if !is_valid_django_url(&origin) {
        return Err(format!("Invalid redirect URL {url}: Enter a valid URL."));
    }
    Ok(origin)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(url: &str) -> Result<String, String> {
        normalise_redirects(&[url.to_owned()]).map(|mut v| v.remove(0))
    }

    #[test]
    fn accepted_origins_are_normalised() {
        assert_eq!(
            check("HTTPS://Portal.Example.com/"),
            Ok("https://portal.example.com".into())
        );
        assert_eq!(
            check("https://portal.example.com:443"),
            Ok("https://portal.example.com:443".into())
        );
        assert_eq!(
            check("http://localhost:3000"),
            Ok("http://localhost:3000".into())
        );
        assert_eq!(check("http://127.0.0.1"), Ok("http://127.0.0.1".into()));
        assert_eq!(
            check("https://example.com/?"),
            Ok("https://example.com".into())
        );
        assert_eq!(
            check("https://example.com#"),
            Ok("https://example.com".into())
        );
    }

    #[test]
    fn each_rule_has_its_message() {
        let cases = [
            (
                "not a url",
                "Invalid redirect URL not a url: Enter a valid URL.",
            ),
            (
                "https://*.example.com",
                "Invalid redirect URL https://*.example.com: Enter a valid URL.",
            ),
            (
                "ftp://example.com",
                "Invalid URL scheme for ftp://example.com. Only http and https are allowed.",
            ),
            (
                "http://example.com",
                "HTTPS required for http://example.com. HTTP is only allowed for localhost.",
            ),
            (
                "http://localhost.evil.com",
                "HTTPS required for http://localhost.evil.com. HTTP is only allowed for localhost.",
            ),
            (
                "https://example.com/app",
                "Redirect URL must not contain a path: https://example.com/app. Only origin (scheme + domain + port) is allowed.",
            ),
            (
                "https://example.com?a=1",
                "Redirect URL must not contain query parameters: https://example.com?a=1",
            ),
            (
                "https://example.com#top",
                "Redirect URL must not contain fragments: https://example.com#top",
            ),
        ];
        for (url, message) in cases {
            assert_eq!(check(url), Err(message.to_owned()), "{url}");
        }
    }

    #[test]
    fn first_bad_entry_stops_the_check() {
        let urls = vec![
            "https://ok.example.com".into(),
            "http://bad.example.com".into(),
            "ftp://x.example.com".into(),
        ];
        assert_eq!(
            normalise_redirects(&urls),
            Err(
                "HTTPS required for http://bad.example.com. HTTP is only allowed for localhost."
                    .into()
            )
        );
        assert_eq!(normalise_redirects(&[]), Ok(vec![]));
    }
}
