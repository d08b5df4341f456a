//! How the API words a discovery failure: the reference's messages, word for word, chosen from what
//! `idp-oidc` reports ([`FetchErrorKind`]). Each operation words failures its own way (as the
//! reference does; `docs/decisions.md`, "Discovery fetches"); the HTTP layer wraps the message as
//! `{"discovery_url": ["<message>"]}`.
//!
//! The SSRF guard's refusals read as the guard's own message, which is the reference's.

use idp_oidc::{FetchError, FetchErrorKind};

/// Prefix of every transport failure in the actions' messages.
const FETCH_PREFIX: &str = "Unable to fetch discovery document: ";
/// What create and update say about every transport failure.
const CREATE_TRANSPORT: &str = "Unable to discover endpoints.";
/// What create and update say about every document they cannot use.
const CREATE_PARSE: &str = "Unable to parse JSON in discovery response.";

/// The message of creating and updating a provider, as the reference words it: the
/// guard's message, "Unable to discover endpoints." for any transport failure, and "Unable to
/// parse JSON in discovery response." for a document that is not a JSON object with the three
/// endpoints.
pub(crate) fn create_message(error: &FetchError) -> String {
    match error.kind() {
        FetchErrorKind::Guard(guard) => guard.to_string(),
        kind if kind.is_transport() => CREATE_TRANSPORT.to_owned(),
        _ => CREATE_PARSE.to_owned(),
    }
}

/// The message of `discover_metadata`, as the reference words it: guard messages as they are,
/// then one message per kind of transport failure, then the document's problems.
pub(crate) fn action_message(error: &FetchError) -> String {
    match error.kind() {
        FetchErrorKind::Guard(guard) => guard.to_string(),
        FetchErrorKind::Tls => "SSL certificate verification failed. Set verify_ssl to false if \
                                using a self-signed certificate."
            .to_owned(),
        FetchErrorKind::Connect => "Unable to connect to the discovery URL.".to_owned(),
        FetchErrorKind::Timeout => {
            "Request timed out while fetching discovery document.".to_owned()
        }
        FetchErrorKind::Status { code, reason, url } => format!(
            "{FETCH_PREFIX}{code} {}: {reason} for url: {url}",
            status_kind(*code)
        ),
        FetchErrorKind::TooLarge { limit } => {
            format!("{FETCH_PREFIX}the response is larger than {limit} bytes.")
        }
        FetchErrorKind::TooManyRedirects { limit } => {
            format!("{FETCH_PREFIX}Exceeded {limit} redirects.")
        }
        FetchErrorKind::InvalidRedirect => {
            format!("{FETCH_PREFIX}the server redirected to an invalid location.")
        }
        FetchErrorKind::ClientInit => {
            format!("{FETCH_PREFIX}the HTTP client could not be initialised.")
        }
        FetchErrorKind::Body => format!("{FETCH_PREFIX}the response body could not be read."),
        FetchErrorKind::Request => format!("{FETCH_PREFIX}the request failed."),
        FetchErrorKind::Interrupted => format!("{FETCH_PREFIX}the fetch was interrupted."),
        FetchErrorKind::InvalidJson => "Invalid JSON in discovery response.".to_owned(),
        FetchErrorKind::NotAnObject => "Discovery document must be a JSON object.".to_owned(),
        FetchErrorKind::NotAStringList { key } => {
            format!("Invalid discovery document: '{key}' must be a list of strings.")
        }
        FetchErrorKind::InvalidEndpoint(key) => {
            format!("Invalid endpoint in discovery document: '{key}' must be a string.")
        }
        FetchErrorKind::MissingEndpoint(key) => {
            format!("Missing required endpoint in discovery document: '{key}'")
        }
    }
}

/// The message of `generate-mapping`, as the reference words it: every transport failure,
/// TLS and time-outs included, reads "Unable to fetch discovery document: …". Document problems
/// and guard refusals read as in [`action_message`].
pub(crate) fn mapping_message(error: &FetchError) -> String {
    match error.kind() {
        FetchErrorKind::Tls => format!("{FETCH_PREFIX}SSL certificate verification failed."),
        FetchErrorKind::Connect => format!("{FETCH_PREFIX}unable to connect."),
        FetchErrorKind::Timeout => format!("{FETCH_PREFIX}the request timed out."),
        _ => action_message(error),
    }
}

/// Python `requests`' wording in `raise_for_status`.
fn status_kind(code: u16) -> &'static str {
    match code {
        400..=499 => "Client Error",
        500..=599 => "Server Error",
        _ => "Unexpected Status",
    }
}

#[cfg(test)]
mod tests {
    use idp_oidc::GuardError;

    use super::*;

    fn error(kind: FetchErrorKind) -> FetchError {
        FetchError::from(kind)
    }

    /// Every kind with its create, action and mapping message.
    fn table() -> Vec<(FetchErrorKind, &'static str, String, String)> {
        let fetch = |rest: &str| format!("{FETCH_PREFIX}{rest}");
        let same = |message: &str| (message.to_owned(), message.to_owned());
        let transport = |message: String| (message.clone(), message);
        let row = |kind, create, (action, mapping)| (kind, create, action, mapping);
        let disallowed = "URL host resolves to a disallowed address (169.254.169.254).";
        vec![
            row(
                FetchErrorKind::Guard(GuardError::Disallowed {
                    ip: "169.254.169.254".parse().unwrap(),
                }),
                disallowed,
                same(disallowed),
            ),
            row(
                FetchErrorKind::Guard(GuardError::MissingHost),
                "URL must include a host.",
                same("URL must include a host."),
            ),
            row(
                FetchErrorKind::Tls,
                CREATE_TRANSPORT,
                (
                    "SSL certificate verification failed. Set verify_ssl to false if using a \
                     self-signed certificate."
                        .to_owned(),
                    fetch("SSL certificate verification failed."),
                ),
            ),
            row(
                FetchErrorKind::Connect,
                CREATE_TRANSPORT,
                (
                    "Unable to connect to the discovery URL.".to_owned(),
                    fetch("unable to connect."),
                ),
            ),
            row(
                FetchErrorKind::Timeout,
                CREATE_TRANSPORT,
                (
                    "Request timed out while fetching discovery document.".to_owned(),
                    fetch("the request timed out."),
                ),
            ),
            row(
                FetchErrorKind::Status {
                    code: 404,
                    reason: "Not Found".into(),
                    url: "https://idp.example.com/x".into(),
                },
                CREATE_TRANSPORT,
                transport(fetch(
                    "404 Client Error: Not Found for url: https://idp.example.com/x",
                )),
            ),
            row(
                FetchErrorKind::Status {
                    code: 503,
                    reason: "Service Unavailable".into(),
                    url: "http://a/".into(),
                },
                CREATE_TRANSPORT,
                transport(fetch(
                    "503 Server Error: Service Unavailable for url: http://a/",
                )),
            ),
            row(
                FetchErrorKind::TooLarge { limit: 1048576 },
                CREATE_TRANSPORT,
                transport(fetch("the response is larger than 1048576 bytes.")),
            ),
            row(
                FetchErrorKind::TooManyRedirects { limit: 5 },
                CREATE_TRANSPORT,
                transport(fetch("Exceeded 5 redirects.")),
            ),
            row(
                FetchErrorKind::InvalidRedirect,
                CREATE_TRANSPORT,
                transport(fetch("the server redirected to an invalid location.")),
            ),
            row(
                FetchErrorKind::ClientInit,
                CREATE_TRANSPORT,
                transport(fetch("the HTTP client could not be initialised.")),
            ),
            row(
                FetchErrorKind::Body,
                CREATE_TRANSPORT,
                transport(fetch("the response body could not be read.")),
            ),
            row(
                FetchErrorKind::Request,
                CREATE_TRANSPORT,
                transport(fetch("the request failed.")),
            ),
            row(
                FetchErrorKind::Interrupted,
                CREATE_TRANSPORT,
                transport(fetch("the fetch was interrupted.")),
            ),
            row(
                FetchErrorKind::InvalidJson,
                CREATE_PARSE,
                same("Invalid JSON in discovery response."),
            ),
            row(
                FetchErrorKind::NotAnObject,
                CREATE_PARSE,
                same("Discovery document must be a JSON object."),
            ),
            row(
                FetchErrorKind::NotAStringList {
                    key: "claims_supported",
                },
                CREATE_PARSE,
                same("Invalid discovery document: 'claims_supported' must be a list of strings."),
            ),
            row(
                FetchErrorKind::InvalidEndpoint("token_endpoint"),
                CREATE_PARSE,
                same("Invalid endpoint in discovery document: 'token_endpoint' must be a string."),
            ),
            row(
                FetchErrorKind::MissingEndpoint("token_endpoint"),
                CREATE_PARSE,
                same("Missing required endpoint in discovery document: 'token_endpoint'"),
            ),
        ]
    }

    #[test]
    fn every_kind_reads_as_the_reference_words_it_for_each_operation() {
        for (kind, create, action, mapping) in table() {
            let failure = error(kind.clone());
            assert_eq!(create_message(&failure), create, "create: {kind:?}");
            assert_eq!(action_message(&failure), action, "action: {kind:?}");
            assert_eq!(mapping_message(&failure), mapping, "mapping: {kind:?}");
        }
    }

    #[test]
    fn statuses_without_a_reason_or_outside_4xx_and_5xx_still_read_like_python_requests() {
        let odd = error(FetchErrorKind::Status {
            code: 299,
            reason: String::new(),
            url: "https://idp/x".into(),
        });
        assert_eq!(
            action_message(&odd),
            "Unable to fetch discovery document: 299 Unexpected Status:  for url: https://idp/x"
        );
    }
}
