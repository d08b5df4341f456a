//! Why a discovery document could not be fetched or read, and the messages the API shows for it.

use crate::guard::GuardError;

/// Prefix of every transport failure in the actions' messages.
const FETCH_PREFIX: &str = "Unable to fetch discovery document: ";
/// What create and update say about every transport failure (waldur-behaviour.md §3.1 step 4).
const CREATE_TRANSPORT: &str = "Unable to discover endpoints.";
/// What create and update say about every document they cannot use.
const CREATE_PARSE: &str = "Unable to parse JSON in discovery response.";
const TLS: &str = "SSL certificate verification failed. Set verify_ssl to false if using a self-signed certificate.";
const CONNECT: &str = "Unable to connect to the discovery URL.";
const TIMEOUT: &str = "Request timed out while fetching discovery document.";
const INVALID_JSON: &str = "Invalid JSON in discovery response.";

/// Why a discovery document could not be fetched or used.
///
/// `Display` is the message of the `discover_metadata` and `generate-mapping` actions
/// ([`FetchError::action_message`]). The HTTP layer wraps a message as
/// `{"discovery_url": ["<message>"]}`. No variant carries a secret: URLs are shown without their
/// user name and password, and transport failures are reduced to a short reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// The SSRF guard refused the URL or a redirect target.
    #[error(transparent)]
    Guard(#[from] GuardError),
    /// The TLS handshake failed, usually because the certificate could not be verified.
    #[error("{}", TLS)]
    Tls,
    /// No connection could be made, or it broke before a response arrived.
    #[error("{}", CONNECT)]
    Connect,
    /// The whole fetch took longer than [`FetchPolicy::timeout`](crate::FetchPolicy::timeout).
    #[error("{}", TIMEOUT)]
    Timeout,
    /// The server answered with an error status.
    #[error("Unable to fetch discovery document: {code} {kind}: {reason} for url: {url}", kind = status_kind(*code))]
    Status {
        /// The HTTP status code.
        code: u16,
        /// The status's canonical reason phrase, e.g. `Not Found` (empty when it has none).
        reason: String,
        /// The URL that answered, without user name and password.
        url: String,
    },
    /// The body is longer than [`FetchPolicy::max_body_bytes`](crate::FetchPolicy::max_body_bytes).
    #[error("Unable to fetch discovery document: the response is larger than {limit} bytes.")]
    TooLarge {
        /// The limit that was exceeded.
        limit: usize,
    },
    /// More redirects than [`FetchPolicy::max_redirects`](crate::FetchPolicy::max_redirects).
    #[error("Unable to fetch discovery document: Exceeded {limit} redirects.")]
    TooManyRedirects {
        /// The limit that was exceeded.
        limit: usize,
    },
    /// Any other failure of the request, with a short reason.
    #[error("Unable to fetch discovery document: {reason}")]
    Request {
        /// A short description, with no URL, header or body in it.
        reason: String,
    },
    /// The body is not JSON.
    #[error("{}", INVALID_JSON)]
    InvalidJson,
    /// The body is JSON but not an object.
    #[error("Discovery document must be a JSON object.")]
    NotAnObject,
    /// `claims_supported` or `scopes_supported` is present but not a list of strings
    /// (`null` included).
    #[error("Invalid discovery document: '{key}' must be a list of strings.")]
    NotAStringList {
        /// The offending key.
        key: &'static str,
    },
    /// An endpoint is present but not a string.
    #[error("Invalid endpoint in discovery document: '{0}' must be a string.")]
    InvalidEndpoint(&'static str),
    /// A required endpoint is absent, `null` or empty.
    #[error("Missing required endpoint in discovery document: '{0}'")]
    MissingEndpoint(&'static str),
}

impl FetchError {
    /// The message of the `discover_metadata` action (waldur-behaviour.md §5.2), also used by
    /// `generate-mapping`: guard messages as they are, then one message per kind of transport
    /// failure, then the document's problems.
    pub fn action_message(&self) -> String {
        self.to_string()
    }

    /// The message of `generate-mapping` as the reference words it (waldur-behaviour.md §6), where
    /// every transport failure, TLS and time-outs included, reads "Unable to fetch discovery
    /// document: …". Document problems and guard refusals read as in
    /// [`FetchError::action_message`].
    pub fn mapping_message(&self) -> String {
        match self {
            Self::Tls => format!("{FETCH_PREFIX}SSL certificate verification failed."),
            Self::Connect => format!("{FETCH_PREFIX}unable to connect."),
            Self::Timeout => format!("{FETCH_PREFIX}the request timed out."),
            _ => self.to_string(),
        }
    }

    /// The message used when creating or updating a provider fetches its document
    /// (waldur-behaviour.md §3.1 step 4): the guard's message, "Unable to discover endpoints." for
    /// any transport failure, and "Unable to parse JSON in discovery response." for a document that
    /// is not a JSON object with the three endpoints.
    pub fn create_message(&self) -> String {
        match self {
            Self::Guard(guard) => guard.to_string(),
            Self::Tls
            | Self::Connect
            | Self::Timeout
            | Self::Status { .. }
            | Self::TooLarge { .. }
            | Self::TooManyRedirects { .. }
            | Self::Request { .. } => CREATE_TRANSPORT.to_owned(),
            Self::InvalidJson
            | Self::NotAnObject
            | Self::NotAStringList { .. }
            | Self::InvalidEndpoint(_)
            | Self::MissingEndpoint(_) => CREATE_PARSE.to_owned(),
        }
    }

    /// Whether the SSRF guard refused the URL (the reference reports these during request
    /// validation, before any fetch).
    pub fn is_guard(&self) -> bool {
        matches!(self, Self::Guard(_))
    }

    /// Whether the failure is in the network exchange rather than in the document.
    pub fn is_transport(&self) -> bool {
        matches!(
            self,
            Self::Tls
                | Self::Connect
                | Self::Timeout
                | Self::Status { .. }
                | Self::TooLarge { .. }
                | Self::TooManyRedirects { .. }
                | Self::Request { .. }
        )
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
    use super::*;

    #[test]
    fn status_errors_read_like_python_requests() {
        let not_found = FetchError::Status {
            code: 404,
            reason: "Not Found".into(),
            url: "https://idp.example.com/x".into(),
        };
        assert_eq!(
            not_found.action_message(),
            "Unable to fetch discovery document: 404 Client Error: Not Found for url: https://idp.example.com/x"
        );
        assert_eq!(not_found.create_message(), "Unable to discover endpoints.");
        let server = FetchError::Status {
            code: 503,
            reason: "Service Unavailable".into(),
            url: "http://a/".into(),
        };
        assert_eq!(
            server.action_message(),
            "Unable to fetch discovery document: 503 Server Error: Service Unavailable for url: http://a/"
        );
    }

    #[test]
    fn create_messages_group_transport_and_document_failures() {
        assert_eq!(FetchError::Tls.create_message(), CREATE_TRANSPORT);
        assert_eq!(FetchError::Timeout.create_message(), CREATE_TRANSPORT);
        assert_eq!(FetchError::InvalidJson.create_message(), CREATE_PARSE);
        assert_eq!(
            FetchError::MissingEndpoint("token_endpoint").create_message(),
            CREATE_PARSE
        );
        let guard = FetchError::from(GuardError::MissingHost);
        assert_eq!(guard.create_message(), "URL must include a host.");
        assert_eq!(guard.action_message(), "URL must include a host.");
        assert!(guard.is_guard());
    }

    #[test]
    fn missing_endpoint_names_the_key_in_quotes() {
        assert_eq!(
            FetchError::MissingEndpoint("token_endpoint").action_message(),
            "Missing required endpoint in discovery document: 'token_endpoint'"
        );
    }
}
