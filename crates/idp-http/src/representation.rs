//! Answers prepared once and served many times: their ETag, `If-None-Match` (304) and gzip.
//!
//! A body is compressed at most once, the first time a client asks for gzip, and kept beside the
//! plain body for as long as the prepared answer lives (see docs/decisions.md, "Reads from
//! memory").

use std::io::Write as _;
use std::sync::OnceLock;

use actix_web::http::header::{self, HeaderValue};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder};
use flate2::Compression;
use flate2::write::GzEncoder;
use sha2::{Digest, Sha256};

/// Bodies up to this size are sent as they are: compressing them saves less than it costs.
pub(crate) const COMPRESS_ABOVE: usize = 1024;

/// What every prepared answer varies on.
const VARY: HeaderValue = HeaderValue::from_static("Accept-Encoding, Authorization");

/// A JSON body, its ETag and, once asked for, its gzip encoding.
#[derive(Debug)]
pub(crate) struct Prepared {
    /// The JSON body.
    pub(crate) body: Bytes,
    /// The strong ETag, quotes included.
    pub(crate) etag: HeaderValue,
    gzip: OnceLock<Option<Bytes>>,
}

impl Prepared {
    /// A prepared answer with the given ETag (quotes included).
    pub(crate) fn new(body: Bytes, etag: HeaderValue) -> Self {
        Self {
            body,
            etag,
            gzip: OnceLock::new(),
        }
    }

    /// A prepared answer whose ETag is a row version, as `If-Match` takes it.
    pub(crate) fn versioned(body: Bytes, version: i64) -> Self {
        let etag = HeaderValue::from_str(&format!("\"{version}\""))
            .unwrap_or(HeaderValue::from_static("\"0\""));
        Self::new(body, etag)
    }

    /// The gzip encoding of the body, made on first use; `None` for small bodies.
    fn gzip(&self) -> Option<&Bytes> {
        self.gzip
            .get_or_init(|| (self.body.len() > COMPRESS_ABOVE).then(|| gzip(&self.body)))
            .as_ref()
    }

    /// The answer to `req`: 304 when `If-None-Match` names this ETag, else 200 with the body,
    /// gzip-encoded when the client accepts it and the body is large enough. `headers` adds the
    /// headers both answers carry (`X-Result-Count`, `Link`).
    pub(crate) fn respond(
        &self,
        req: &HttpRequest,
        headers: impl FnOnce(&mut HttpResponseBuilder),
    ) -> HttpResponse {
        let not_modified = none_match(req, &self.etag);
        let mut response = if not_modified {
            HttpResponse::NotModified()
        } else {
            HttpResponse::Ok()
        };
        response
            .insert_header((header::ETAG, self.etag.clone()))
            .insert_header((header::VARY, VARY));
        headers(&mut response);
        if not_modified {
            return response.finish();
        }
        response.content_type("application/json");
        if accepts_gzip(req)
            && let Some(gzip) = self.gzip()
        {
            return response
                .insert_header((header::CONTENT_ENCODING, HeaderValue::from_static("gzip")))
                .body(gzip.clone());
        }
        response.body(self.body.clone())
    }
}

/// The strong ETag of a list answer: the first 128 bits of the SHA-256 of its total, a newline
/// and its body, in hex (see docs/decisions.md, "Reads from memory").
pub(crate) fn list_etag(total: i64, body: &[u8]) -> HeaderValue {
    let mut hasher = Sha256::new();
    hasher.update(total.to_string().as_bytes());
    hasher.update(b"\n");
    hasher.update(body);
    let digest = hasher.finalize();
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    HeaderValue::from_str(&format!("\"{hex}\"")).unwrap_or(HeaderValue::from_static("\"\""))
}

fn gzip(body: &[u8]) -> Bytes {
    let mut encoder = GzEncoder::new(Vec::with_capacity(body.len() / 4), Compression::default());
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(body);
    Bytes::from(encoder.finish().unwrap_or_default())
}

/// True when `If-None-Match` names `etag` (compared weakly, as RFC 9110 asks) or is `*`.
fn none_match(req: &HttpRequest, etag: &HeaderValue) -> bool {
    let etag = etag.as_bytes();
    req.headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag).as_bytes() == etag)
}

/// True when `Accept-Encoding` accepts gzip (by name or `*`) with a quality above zero.
fn accepts_gzip(req: &HttpRequest) -> bool {
    req.headers()
        .get_all(header::ACCEPT_ENCODING)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|coding| {
            let mut parts = coding.split(';');
            let name = parts.next().unwrap_or_default().trim();
            let wanted = ["gzip", "x-gzip", "*"]
                .iter()
                .any(|known| name.eq_ignore_ascii_case(known));
            wanted
                && parts.all(|param| {
                    let param = param.trim();
                    let Some(q) = param
                        .strip_prefix("q=")
                        .or_else(|| param.strip_prefix("Q="))
                    else {
                        return true;
                    };
                    q.trim().parse::<f32>().is_ok_and(|q| q > 0.0)
                })
        })
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    #[test]
    fn gzip_is_accepted_by_name_or_star_unless_its_quality_is_zero() {
        let with = |value: &str| {
            accepts_gzip(
                &TestRequest::default()
                    .insert_header((header::ACCEPT_ENCODING, value))
                    .to_http_request(),
            )
        };
        assert!(with("gzip"));
        assert!(with("br, GZIP;q=0.5"));
        assert!(with("*"));
        assert!(!with("gzip;q=0"));
        assert!(!with("br, deflate"));
        assert!(!with("identity"));
        assert!(!accepts_gzip(&TestRequest::default().to_http_request()));
    }

    #[test]
    fn if_none_match_compares_weakly_and_takes_lists_and_star() {
        let etag = HeaderValue::from_static("\"7\"");
        let with = |value: &str| {
            none_match(
                &TestRequest::default()
                    .insert_header((header::IF_NONE_MATCH, value))
                    .to_http_request(),
                &etag,
            )
        };
        assert!(with("\"7\""));
        assert!(with("W/\"7\""));
        assert!(with("\"1\", \"7\""));
        assert!(with("*"));
        assert!(!with("\"70\""));
        assert!(!with("7"));
    }

    #[test]
    fn small_bodies_are_never_compressed_and_large_ones_once() {
        let small = Prepared::versioned(Bytes::from_static(b"{}"), 1);
        assert!(small.gzip().is_none());
        let large = Prepared::versioned(Bytes::from(vec![b'a'; COMPRESS_ABOVE + 1]), 1);
        let first = large.gzip().unwrap().clone();
        assert!(first.len() < COMPRESS_ABOVE);
        assert_eq!(large.gzip().unwrap().as_ptr(), first.as_ptr());
    }
}
