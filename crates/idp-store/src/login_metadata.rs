//! What a login needs from a provider's discovery document that its stored row does not hold:
//! the issuer, the key set, the signing algorithms, the client authentication methods and the
//! RFC 9207 `iss` promise. Written when create and update fetch the document, and by a login
//! that finds none.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::error::StoreError;
use crate::schema::provider_login_metadata as plm;
use crate::store::Store;

/// A provider's discovered login metadata.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredLoginMetadata {
    /// `issuer`.
    pub issuer: Option<String>,
    /// `jwks_uri`.
    pub jwks_uri: Option<String>,
    /// `id_token_signing_alg_values_supported`.
    pub id_token_signing_algs: Vec<String>,
    /// `token_endpoint_auth_methods_supported`, when the document lists them.
    pub token_endpoint_auth_methods: Option<Vec<String>>,
    /// `authorization_response_iss_parameter_supported`.
    pub iss_parameter_supported: bool,
    /// When the document was fetched.
    pub fetched_at: NaiveDateTime,
}

fn to_json(list: &[String]) -> String {
    serde_json::Value::from(list.to_vec()).to_string()
}

impl Store {
    /// Stores `provider`'s login metadata, replacing what was stored. Nothing is stored (and
    /// nothing fails) when the provider does not exist (any more).
    pub fn save_login_metadata(
        &self,
        provider: &str,
        metadata: &StoredLoginMetadata,
    ) -> Result<(), StoreError> {
        let mut conn = self.conn()?;
        conn.transaction::<_, StoreError, _>(|conn| {
            diesel::delete(plm::table.find(provider)).execute(conn)?;
            let exists = crate::schema::identity_providers::table
                .select(crate::schema::identity_providers::id)
                .filter(crate::schema::identity_providers::provider.eq(provider))
                .first::<i64>(conn)
                .optional()?
                .is_some();
            if !exists {
                return Ok(());
            }
            diesel::insert_into(plm::table)
                .values((
                    plm::provider.eq(provider),
                    plm::issuer.eq(&metadata.issuer),
                    plm::jwks_uri.eq(&metadata.jwks_uri),
                    plm::id_token_signing_algs.eq(to_json(&metadata.id_token_signing_algs)),
                    plm::token_endpoint_auth_methods
                        .eq(metadata.token_endpoint_auth_methods.as_deref().map(to_json)),
                    plm::iss_parameter_supported.eq(metadata.iss_parameter_supported),
                    plm::fetched_at.eq(metadata.fetched_at),
                ))
                .execute(conn)?;
            Ok(())
        })
    }

    /// `provider`'s stored login metadata, if any.
    pub fn login_metadata(
        &self,
        provider: &str,
    ) -> Result<Option<StoredLoginMetadata>, StoreError> {
        let mut conn = self.conn()?;
        type Row = (
            Option<String>,
            Option<String>,
            String,
            Option<String>,
            bool,
            NaiveDateTime,
        );
        let row: Option<Row> = plm::table
            .select((
                plm::issuer,
                plm::jwks_uri,
                plm::id_token_signing_algs,
                plm::token_endpoint_auth_methods,
                plm::iss_parameter_supported,
                plm::fetched_at,
            ))
            .find(provider)
            .first(&mut conn)
            .optional()?;
        let corrupt = |cause| StoreError::Corrupt {
            what: format!("login metadata of {provider}"),
            cause: Some(cause),
        };
        row.map(|(issuer, jwks_uri, algs, methods, iss, fetched_at)| {
            Ok(StoredLoginMetadata {
                issuer,
                jwks_uri,
                id_token_signing_algs: serde_json::from_str(&algs).map_err(corrupt)?,
                token_endpoint_auth_methods: methods
                    .map(|methods| serde_json::from_str(&methods))
                    .transpose()
                    .map_err(corrupt)?,
                iss_parameter_supported: iss,
                fetched_at,
            })
        })
        .transpose()
    }
}
