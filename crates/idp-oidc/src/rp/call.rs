//! One call to a provider endpoint: guarded, pinned, time-limited, size-capped, never redirected.

use reqwest::header::ACCEPT;
use reqwest::{Client, RequestBuilder, StatusCode};
use serde_json::{Map, Value};
use url::Url;

use crate::guard;
use crate::policy::FetchPolicy;
use crate::rp::error::{CallError, SendFailure};
use crate::transport::{self, BodyError};

/// A provider's answer, read whole.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) body: Vec<u8>,
}

/// Sends the request `build` makes with a client pinned to the addresses the SSRF guard checked
/// for `url`, and reads the answer.
///
/// The same rules as discovery fetches apply (`docs/decisions.md`, "Discovery fetches" and
/// "Logging people in"): the guard and
/// `allow_networks`, no proxy, the policy's time limit over the whole call (guard, connection,
/// body) and its body cap. Redirects are not followed: a 3xx is an answer like any other.
pub(crate) async fn send(
    policy: &FetchPolicy,
    verify_ssl: bool,
    url: &Url,
    build: impl FnOnce(&Client) -> RequestBuilder,
) -> Result<Answer, CallError> {
    let call = async {
        let target = guard::check_url(url, &policy.allow_networks)
            .await
            .map_err(CallError::Refused)?;
        let client = transport::pinned_client(&target, verify_ssl).map_err(send_error)?;
        tracing::debug!(url = %redacted(url), addrs = ?target.addrs, "calling the provider");
        let response = build(&client)
            .header(ACCEPT, "application/json")
            .send()
            .await
            .map_err(send_error)?;
        let status = response.status();
        let body = transport::read_capped(response, policy.max_body_bytes)
            .await
            .map_err(|error| match error {
                BodyError::TooLarge => CallError::TooLarge {
                    limit: policy.max_body_bytes,
                },
                BodyError::Read(error) => send_error(error),
            })?;
        Ok(Answer { status, body })
    };
    tokio::time::timeout(policy.timeout, call)
        .await
        .unwrap_or(Err(CallError::Send {
            kind: SendFailure::Timeout,
            source: None,
        }))
}

impl Answer {
    /// Only exactly 200 is success, as in the reference's `check_response`. Otherwise the body's
    /// `error` and `error_description` are read when it is a JSON object with a string `error`.
    pub(crate) fn require_ok(&self) -> Result<(), CallError> {
        if self.status == StatusCode::OK {
            return Ok(());
        }
        let status = self.status.as_u16();
        let reason = self
            .status
            .canonical_reason()
            .unwrap_or_default()
            .to_owned();
        let object = parse(&self.body).ok().and_then(|value| match value {
            Value::Object(object) => Some(object),
            _ => None,
        });
        let error = object
            .as_ref()
            .and_then(|object| object.get("error"))
            .and_then(Value::as_str);
        match error {
            Some(error) => Err(CallError::ErrorResponse {
                status,
                reason,
                error: error.to_owned(),
                description: object
                    .as_ref()
                    .and_then(|object| object.get("error_description"))
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            }),
            None => Err(CallError::Status { status, reason }),
        }
    }

    /// The body as JSON, whatever its `Content-Type` (the reference does not look at it).
    pub(crate) fn json(&self) -> Result<Value, CallError> {
        parse(&self.body).map_err(CallError::NotJson)
    }

    /// The body as a JSON object.
    pub(crate) fn json_object(&self) -> Result<Map<String, Value>, CallError> {
        match self.json()? {
            Value::Object(object) => Ok(object),
            _ => Err(CallError::NotAnObject),
        }
    }
}

/// Parses JSON, skipping a UTF-8 byte-order mark as Python `requests` does.
fn parse(body: &[u8]) -> Result<Value, serde_json::Error> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    serde_json::from_slice(body)
}

fn send_error(error: reqwest::Error) -> CallError {
    let kind = if error.is_timeout() {
        SendFailure::Timeout
    } else if error.is_connect() {
        SendFailure::Connect
    } else {
        SendFailure::Other
    };
    // The URL could carry credentials; the kind and the cause are enough.
    CallError::Send {
        kind,
        source: Some(error.without_url()),
    }
}

/// The URL without credentials, query or fragment, for logs.
pub(crate) fn redacted(url: &Url) -> String {
    let mut url = url.clone();
    url.set_query(None);
    url.set_fragment(None);
    // Both only fail for URLs that cannot have credentials, which is fine to ignore.
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str) -> Answer {
        Answer {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::IM_A_TEAPOT),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn only_200_is_success_and_errors_are_read_as_the_reference_does() {
        assert!(answer(200, "").require_ok().is_ok());
        assert!(matches!(
            answer(201, "{}").require_ok(),
            Err(CallError::Status { status: 201, ref reason }) if reason == "Created"
        ));
        assert!(matches!(
            answer(400, r#"{"error":"invalid_grant","error_description":"expired"}"#).require_ok(),
            Err(CallError::ErrorResponse { status: 400, ref error, description: Some(ref d), .. })
                if error == "invalid_grant" && d == "expired"
        ));
        assert!(matches!(
            answer(401, r#"{"error":"invalid_client","error_description":7}"#).require_ok(),
            Err(CallError::ErrorResponse {
                description: None,
                ..
            })
        ));
        for body in [r#"{"error":7}"#, "[1]", "<html>", r#"{"detail":"x"}"#] {
            assert!(
                matches!(answer(502, body).require_ok(), Err(CallError::Status { status: 502, ref reason }) if reason == "Bad Gateway"),
                "{body}"
            );
        }
    }

    #[test]
    fn bodies_must_be_json_objects() {
        assert!(answer(200, "\u{feff}{\"a\":1}").json_object().is_ok());
        assert!(matches!(
            answer(200, "nope").json_object(),
            Err(CallError::NotJson(_))
        ));
        assert!(matches!(
            answer(200, "[]").json_object(),
            Err(CallError::NotAnObject)
        ));
    }

    #[test]
    fn logged_urls_lose_credentials_and_query() {
        let url = Url::parse("https://u:p@idp.example.com/token?x=1#y").unwrap();
        assert_eq!(redacted(&url), "https://idp.example.com/token");
    }
}
