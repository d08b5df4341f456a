//! One provider as the snapshot keeps it: the answer everyone may see, prepared, and what staff
//! see besides, as insertions into it.
//!
//! Staff answers hold a few more keys than the public one (`client_secret`, `user_field`,
//! `user_claim`, `attribute_mapping`, `extra_fields`). Keeping only those keys' bytes, with where
//! they go, keeps the snapshot small at 100,000 providers; a staff answer is assembled when one is
//! asked for, and kept in a bounded cache. The client secret stays sealed in memory until then,
//! and is not kept at all where secrets are not exposed.

use std::sync::Arc;

use actix_web::web::Bytes;
use idp_core::{Provider, ProviderField, Visibility};
use idp_store::StoreError;

use crate::representation::Prepared;

/// Where a staff-only key goes into the public answer.
#[derive(Debug, Clone, Copy)]
struct Insert {
    /// Offset in the public body.
    at: u32,
    /// Range of the key-value text (with its comma) in [`Entry::extras`].
    start: u32,
    end: u32,
    /// The client secret's key, written with an empty value for the secret to be put in.
    secret: bool,
}

/// One provider in the snapshot.
#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) name: Box<str>,
    pub(crate) label: Box<str>,
    /// The row's id: list order breaks label ties by it.
    pub(crate) id: i64,
    /// The number of the write that left the row as it is.
    pub(crate) change_seq: i64,
    /// The row's version, the retrieve answer's ETag.
    pub(crate) version: i64,
    pub(crate) active: bool,
    /// The answer anonymous callers and non-staff users get.
    pub(crate) public: Arc<Prepared>,
    extras: Box<[u8]>,
    inserts: Box<[Insert]>,
    /// The client secret as stored (sealed); only where staff are shown it.
    sealed_secret: Option<Box<str>>,
}

impl Entry {
    /// Prepares `provider` (its client secret empty; `sealed_secret` holds it as stored).
    pub(crate) fn build(
        id: i64,
        change_seq: i64,
        version: i64,
        provider: &Provider,
        sealed_secret: String,
        expose_secret: bool,
    ) -> Result<Self, serde_json::Error> {
        let mut public = Vec::with_capacity(1024);
        public.push(b'{');
        let mut extras = Vec::new();
        let mut inserts = Vec::new();
        let mut pair = Vec::with_capacity(256);
        for field in ProviderField::api_order() {
            if !field.shown_to(true, expose_secret) {
                continue;
            }
            pair.clear();
            serde_json::to_writer(&mut pair, field.name)?;
            pair.push(b':');
            serde_json::to_writer(&mut pair, &provider.field_value(field))?;
            if field.shown_to(false, false) {
                if public.len() > 1 {
                    public.push(b',');
                }
                public.extend_from_slice(&pair);
                continue;
            }
            let start = extras.len();
            // Before the first public key, the pair is followed by a comma; after, preceded.
            let at = if public.len() == 1 {
                extras.extend_from_slice(&pair);
                extras.push(b',');
                1
            } else {
                extras.push(b',');
                extras.extend_from_slice(&pair);
                public.len()
            };
            inserts.push(Insert {
                at: offset(at),
                start: offset(start),
                end: offset(extras.len()),
                secret: field.visibility == Visibility::Secret,
            });
        }
        public.push(b'}');
        Ok(Self {
            name: provider.provider.as_str().into(),
            label: provider.label.as_str().into(),
            id,
            change_seq,
            version,
            active: provider.is_active,
            public: Arc::new(Prepared::versioned(Bytes::from(public), version)),
            extras: extras.into(),
            inserts: inserts.into(),
            sealed_secret: expose_secret.then(|| sealed_secret.into()),
        })
    }

    /// Where the entry sits in list order.
    pub(crate) fn order(&self) -> (&str, i64) {
        (&self.label, self.id)
    }

    /// The answer staff get, the client secret opened by `open` where it is shown.
    pub(crate) fn staff_body(
        &self,
        open: impl FnOnce(&str) -> Result<String, StoreError>,
    ) -> Result<Vec<u8>, StoreError> {
        let secret = match &self.sealed_secret {
            Some(sealed) if self.inserts.iter().any(|insert| insert.secret) => {
                let plain = open(sealed)?;
                let quoted = serde_json::to_string(&plain).unwrap_or_default();
                Some(quoted[1..quoted.len() - 1].to_owned())
            }
            _ => None,
        };
        let public = &self.public.body;
        let mut out = Vec::with_capacity(
            public.len() + self.extras.len() + secret.as_ref().map_or(0, String::len),
        );
        let mut from = 0;
        for insert in self.inserts.iter() {
            let at = insert.at as usize;
            out.extend_from_slice(&public[from..at]);
            let text = &self.extras[insert.start as usize..insert.end as usize];
            match (&secret, insert.secret) {
                (Some(secret), true) => {
                    // The pair ends `""` or `"",`: the secret goes before the closing quote.
                    let quote = text.len() - if text.ends_with(b",") { 2 } else { 1 };
                    out.extend_from_slice(&text[..quote]);
                    out.extend_from_slice(secret.as_bytes());
                    out.extend_from_slice(&text[quote..]);
                }
                _ => out.extend_from_slice(text),
            }
            from = at;
        }
        out.extend_from_slice(&public[from..]);
        Ok(out)
    }

    /// Bytes held, for the memory estimate of the snapshot.
    pub(crate) fn weight(&self) -> usize {
        self.public.body.len()
            + self.extras.len()
            + self.inserts.len() * std::mem::size_of::<Insert>()
            + self.sealed_secret.as_ref().map_or(0, |s| s.len())
            + self.name.len()
            + self.label.len()
            + std::mem::size_of::<Self>()
    }
}

fn offset(value: usize) -> u32 {
    // A provider's answer is a few kilobytes at most (its fields have length limits).
    u32::try_from(value).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use idp_core::{AttributeMapping, ProviderEndpoints};

    use super::*;

    fn provider() -> Provider {
        Provider {
            provider: "acme".into(),
            is_active: true,
            client_id: "client \"quoted\"".into(),
            client_secret: String::new(),
            verify_ssl: true,
            enable_post_logout_redirect: true,
            enable_pkce: false,
            discovery_url: "https://idp.example.org/.well-known/openid-configuration".into(),
            label: "Acme <&>".into(),
            management_url: String::new(),
            protected_fields: vec!["email".into()],
            extra_scope: None,
            user_field: "username".into(),
            user_claim: "sub".into(),
            attribute_mapping: AttributeMapping(vec![("email".into(), "email".into())]),
            extra_fields: Some("roles".into()),
            allowed_redirects: vec![],
            endpoints: ProviderEndpoints::default(),
        }
    }

    #[test]
    fn assembled_answers_equal_the_serialised_views() {
        for expose in [true, false] {
            let mut stored = provider();
            let entry = Entry::build(1, 2, 3, &stored, "sealed".into(), expose).unwrap();
            assert_eq!(
                entry.public.body.as_ref(),
                serde_json::to_vec(&stored.view(false, expose)).unwrap()
            );
            let secret = "s3cret \"with\" \\ and \u{e9}";
            let staff = entry
                .staff_body(|sealed| {
                    assert_eq!(sealed, "sealed");
                    Ok(secret.to_owned())
                })
                .unwrap();
            stored.client_secret = secret.into();
            assert_eq!(
                String::from_utf8(staff).unwrap(),
                serde_json::to_string(&stored.view(true, expose)).unwrap()
            );
            assert_eq!(entry.sealed_secret.is_some(), expose);
        }
    }
}
