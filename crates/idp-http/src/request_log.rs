//! One log line per request, and a request id in `X-Request-Id`.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web;

use crate::metrics::Metrics;

/// The request's id, as handlers read it from the request's extensions.
#[derive(Debug, Clone)]
pub(crate) struct RequestId(pub(crate) String);

static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Logs method, route, status, latency and request id; a client's own `X-Request-Id` (if it
/// is short and plain) is kept, else one is made.
pub async fn log_request(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let request_id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
        .map_or_else(new_request_id, str::to_owned);
    let method = method_label(req.method());
    // Handlers read it back for the audit history (`crate::audit::context`).
    actix_web::HttpMessage::extensions_mut(&req).insert(RequestId(request_id.clone()));
    let mut response = next.call(req).await?;
    let route = response
        .request()
        .match_pattern()
        .map_or_else(|| "<unmatched>".to_owned(), |pattern| route_label(&pattern));
    let status = response.status().as_u16();
    let seconds = started.elapsed().as_secs_f64();
    if let Some(metrics) = response.request().app_data::<web::Data<Metrics>>() {
        metrics.observe_request(&route, method, status, seconds);
    }
    // A number (in JSON logs too), to the hundredth of a millisecond.
    let latency_ms = (seconds * 100_000.0).round() / 100.0;
    tracing::info!(
        target: "idp_http::request",
        %method, %route, status, latency_ms, request_id = %request_id,
        "request"
    );
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID.clone(), value);
    }
    // Every answer: a browser must not read a JSON error or a document as something else.
    response.headers_mut().insert(
        actix_web::http::header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok(response)
}

/// A route pattern as a label: each `{name:regex}` segment written `{name}`, so labels read as
/// the API's paths (`/api/identity-providers/{provider}/`).
pub(crate) fn route_label(pattern: &str) -> String {
    let mut label = String::with_capacity(pattern.len());
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        label.push(c);
        if c != '{' {
            continue;
        }
        // The name, then skip the regex up to the brace that closes this one.
        let mut depth = 1;
        let mut in_name = true;
        for c in chars.by_ref() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ':' if depth == 1 => in_name = false,
                _ => {}
            }
            if depth == 0 {
                label.push('}');
                break;
            }
            if in_name {
                label.push(c);
            }
        }
    }
    label
}

/// The method as a label: the standard ones by name, anything else as `OTHER`, so that clients
/// sending made-up methods cannot grow the metrics without bound.
fn method_label(method: &actix_web::http::Method) -> &'static str {
    use actix_web::http::Method;
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        Method::TRACE => "TRACE",
        Method::CONNECT => "CONNECT",
        _ => "OTHER",
    }
}

fn new_request_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{:x}-{n:x}", nanos & 0xffff_ffff_ffff)
}

#[cfg(test)]
mod tests {
    use super::route_label;

    #[test]
    fn route_labels_name_their_parameters_without_regexes() {
        assert_eq!(
            route_label("/api/identity-providers/{provider:[^/.]+}/"),
            "/api/identity-providers/{provider}/"
        );
        assert_eq!(route_label("/api/docs/{file:.*}"), "/api/docs/{file}");
        assert_eq!(
            route_label("/api-auth/{provider}/init/"),
            "/api-auth/{provider}/init/"
        );
        assert_eq!(route_label("/x/{n:[0-9]{2,3}}/y"), "/x/{n}/y");
        assert_eq!(route_label("/health/ready"), "/health/ready");
    }
}
