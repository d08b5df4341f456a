//! The `discover_metadata` report and its plain-text rendering.

use std::fmt::Write as _;

use idp_core::{FieldSuggestion, GeneratedMapping};
use serde::Serialize;

use crate::document::{DiscoveryDocument, REQUIRED_ENDPOINTS};
use crate::error::FetchError;

/// What `discover_metadata` answers, as the reference does. It serializes to exactly the
/// reference's keys, in the reference's order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MetadataReport {
    /// The document's `claims_supported`, verbatim (duplicates kept); empty when absent.
    pub claims_supported: Vec<String>,
    /// The document's `scopes_supported`, verbatim; empty when absent.
    pub scopes_supported: Vec<String>,
    /// The five endpoints of interest.
    pub endpoints: ReportEndpoints,
    /// One entry per writable user field, in canonical order.
    pub waldur_fields: Vec<FieldSuggestion>,
    /// The scopes to request, sorted.
    pub suggested_scopes: Vec<String>,
    /// The mapping `generate-mapping` would suggest; not part of the wire format.
    #[serde(skip)]
    mapping: GeneratedMapping,
}

/// The `endpoints` object of a [`MetadataReport`]: always these five keys, in this order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportEndpoints {
    /// `authorization_endpoint` (required).
    pub authorization_endpoint: String,
    /// `token_endpoint` (required).
    pub token_endpoint: String,
    /// `userinfo_endpoint` (required).
    pub userinfo_endpoint: String,
    /// `end_session_endpoint`, `null` when the document has none.
    pub end_session_endpoint: Option<String>,
    /// `jwks_uri`, `null` when the document has none.
    pub jwks_uri: Option<String>,
}

impl DiscoveryDocument {
    /// The `discover_metadata` report, as the reference makes it. The three required endpoints
    /// must be present; the claim and scope lists must be lists of strings when present.
    pub fn metadata_report(&self) -> Result<MetadataReport, FetchError> {
        MetadataReport::from_document(self)
    }
}

impl MetadataReport {
    /// Builds the report; see [`DiscoveryDocument::metadata_report`].
    fn from_document(document: &DiscoveryDocument) -> Result<Self, FetchError> {
        let [auth, token, userinfo] = REQUIRED_ENDPOINTS;
        let endpoints = ReportEndpoints {
            authorization_endpoint: document.required_endpoint(auth)?.to_owned(),
            token_endpoint: document.required_endpoint(token)?.to_owned(),
            userinfo_endpoint: document.required_endpoint(userinfo)?.to_owned(),
            end_session_endpoint: optional(document, "end_session_endpoint"),
            jwks_uri: optional(document, "jwks_uri"),
        };
        let claims = document.claims_supported()?;
        let scopes = document.scopes_supported()?;
        Ok(Self {
            waldur_fields: idp_core::field_suggestions(&claims),
            suggested_scopes: idp_core::suggested_scopes(&claims, &scopes),
            mapping: idp_core::generate_mapping(&claims, &scopes),
            claims_supported: claims.into_iter().map(str::to_owned).collect(),
            scopes_supported: scopes.into_iter().map(str::to_owned).collect(),
            endpoints,
        })
    }

    /// The mapping `generate-mapping` suggests for the same document.
    pub fn suggested_mapping(&self) -> &GeneratedMapping {
        &self.mapping
    }

    /// A plain-text rendering for people: endpoints, claims, scopes, each user field with its
    /// suggested and available claims, and the suggested mapping and `extra_scope`.
    ///
    /// Control characters from the document are shown escaped, so a hostile document cannot
    /// drive the terminal.
    pub fn render_table(&self) -> String {
        let mut out = String::new();
        let endpoints = [
            (
                "authorization_endpoint",
                Some(&self.endpoints.authorization_endpoint),
            ),
            ("token_endpoint", Some(&self.endpoints.token_endpoint)),
            ("userinfo_endpoint", Some(&self.endpoints.userinfo_endpoint)),
            (
                "end_session_endpoint",
                self.endpoints.end_session_endpoint.as_ref(),
            ),
            ("jwks_uri", self.endpoints.jwks_uri.as_ref()),
        ];
        out.push_str("ENDPOINTS\n");
        for (name, url) in endpoints {
            let url = url.map_or_else(|| "(none)".to_owned(), |url| clean(url));
            let _ = writeln!(out, "  {name:<24} {url}");
        }
        section(&mut out, "CLAIMS SUPPORTED", &self.claims_supported);
        section(&mut out, "SCOPES SUPPORTED", &self.scopes_supported);

        out.push_str("\nUSER FIELDS\n");
        let rows: Vec<[String; 3]> = self
            .waldur_fields
            .iter()
            .map(|field| {
                let available = if field.available_claims.is_empty() {
                    "-".to_owned()
                } else {
                    join(&field.available_claims, ", ")
                };
                [
                    field.field.to_owned(),
                    available,
                    field.suggested_claims.join(", "),
                ]
            })
            .collect();
        let header = ["field", "available", "suggested"].map(str::to_owned);
        let field_width = column_width(&header, &rows, 0);
        let available_width = column_width(&header, &rows, 1);
        for [field, available, suggested] in std::iter::once(&header).chain(&rows) {
            let line =
                format!("  {field:<field_width$}  {available:<available_width$}  {suggested}");
            let _ = writeln!(out, "{}", line.trim_end());
        }

        out.push_str("\nSUGGESTED MAPPING\n");
        if self.mapping.attribute_mapping.is_empty() {
            out.push_str("  (no field matches an advertised claim)\n");
        }
        let key_width = self
            .mapping
            .attribute_mapping
            .keys()
            .map(String::len)
            .max()
            .unwrap_or(0);
        for (field, claims) in &self.mapping.attribute_mapping {
            let claims = claims.as_str().map(clean).unwrap_or_default();
            let _ = writeln!(out, "  {field:<key_width$}  {claims}");
        }
        let _ = writeln!(
            out,
            "\nextra_scope: \"{}\"\nsuggested_scopes: {}",
            clean(&self.mapping.extra_scope),
            join(&self.suggested_scopes, " ")
        );
        out
    }
}

fn optional(document: &DiscoveryDocument, key: &'static str) -> Option<String> {
    // A non-string value here is not worth failing the report for; it is shown as absent.
    document.endpoint(key).ok().flatten().map(str::to_owned)
}

fn section(out: &mut String, title: &str, items: &[String]) {
    let _ = writeln!(out, "\n{title} ({})", items.len());
    if items.is_empty() {
        out.push_str("  (none)\n");
        return;
    }
    let mut line = String::from(" ");
    for item in items {
        let item = clean(item);
        if line.len() > 1 && line.len() + item.len() + 1 > 98 {
            let _ = writeln!(out, "{line}");
            line = String::from(" ");
        }
        line.push(' ');
        line.push_str(&item);
    }
    let _ = writeln!(out, "{line}");
}

fn column_width(header: &[String; 3], rows: &[[String; 3]], column: usize) -> usize {
    rows.iter()
        .chain(std::iter::once(header))
        .map(|row| row[column].chars().count())
        .max()
        .unwrap_or(0)
}

fn join(items: &[String], separator: &str) -> String {
    items
        .iter()
        .map(|item| clean(item))
        .collect::<Vec<_>>()
        .join(separator)
}

/// The text with control characters escaped (`\u{1b}` and so on).
fn clean(text: &str) -> String {
    if text.chars().any(char::is_control) {
        text.chars()
            .map(|c| {
                if c.is_control() {
                    c.escape_default().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect()
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(clean("a\u{1b}[31mb"), "a\\u{1b}[31mb");
        assert_eq!(clean("plain"), "plain");
    }
}
