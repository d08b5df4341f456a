//! Signing keys made at run time, and compact JWS tokens signed (or forged) with them.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::core::{
    CoreEdDsaPrivateSigningKey, CoreHmacKey, CoreJsonWebKey, CoreJwsSigningAlgorithm,
    CoreRsaPrivateSigningKey,
};
use openidconnect::{JsonWebKeyId, PrivateSigningKey};
use serde_json::{Map, Value, json};

/// The RSA modulus size providers use. (The workspace optimises the bignum crates in test builds,
/// so making a key takes a fraction of a second.)
const RSA_BITS: usize = 2048;

/// A private signing key with its `kid`, and the public JWK a provider publishes for it.
pub struct KeyPair {
    kid: String,
    alg: CoreJwsSigningAlgorithm,
    signer: Signer,
    /// The public key as PEM (SPKI) text, the "secret" of the HS/RS confusion attack.
    public_pem: String,
}

enum Signer {
    Rsa(CoreRsaPrivateSigningKey),
    EdDsa(CoreEdDsaPrivateSigningKey),
}

impl std::fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyPair")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

impl KeyPair {
    /// A new RSA key pair (RS256) named `kid`.
    pub fn rsa(kid: &str) -> Self {
        use rsa::pkcs1::EncodeRsaPrivateKey;
        use rsa::pkcs8::{EncodePublicKey, LineEnding};

        let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, RSA_BITS)
            .unwrap_or_else(|error| panic!("RSA key generation: {error}"));
        let pem = key
            .to_pkcs1_pem(LineEnding::LF)
            .unwrap_or_else(|error| panic!("RSA key to PEM: {error}"));
        let public_pem = key
            .to_public_key()
            .to_public_key_pem(LineEnding::LF)
            .unwrap_or_else(|error| panic!("RSA public key to PEM: {error}"));
        let signer = CoreRsaPrivateSigningKey::from_pem(&pem, Some(JsonWebKeyId::new(kid.into())))
            .unwrap_or_else(|error| panic!("RSA signing key: {error}"));
        Self {
            kid: kid.to_owned(),
            alg: CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
            signer: Signer::Rsa(signer),
            public_pem,
        }
    }

    /// A new Ed25519 key pair (EdDSA) named `kid`.
    pub fn ed25519(kid: &str) -> Self {
        use ed25519_dalek::pkcs8::EncodePrivateKey;
        use ed25519_dalek::pkcs8::EncodePublicKey;
        use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;

        let key = ed25519_dalek::SigningKey::from_bytes(&rand::random::<[u8; 32]>());
        let pem = key
            .to_pkcs8_pem(LineEnding::LF)
            .unwrap_or_else(|error| panic!("Ed25519 key to PEM: {error}"));
        let public_pem = key
            .verifying_key()
            .to_public_key_pem(LineEnding::LF)
            .unwrap_or_else(|error| panic!("Ed25519 public key to PEM: {error}"));
        let signer =
            CoreEdDsaPrivateSigningKey::from_ed25519_pem(&pem, Some(JsonWebKeyId::new(kid.into())))
                .unwrap_or_else(|error| panic!("Ed25519 signing key: {error}"));
        Self {
            kid: kid.to_owned(),
            alg: CoreJwsSigningAlgorithm::EdDsa,
            signer: Signer::EdDsa(signer),
            public_pem,
        }
    }

    /// The key's `kid`.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The `alg` it signs with (`RS256` or `EdDSA`).
    pub fn alg(&self) -> &'static str {
        match self.alg {
            CoreJwsSigningAlgorithm::EdDsa => "EdDSA",
            _ => "RS256",
        }
    }

    /// The public key as a JWK, as a provider publishes it in its key set.
    pub fn public_jwk(&self) -> Value {
        let jwk: CoreJsonWebKey = match &self.signer {
            Signer::Rsa(signer) => signer.as_verification_key(),
            Signer::EdDsa(signer) => signer.as_verification_key(),
        };
        let mut value = serde_json::to_value(jwk).unwrap_or(Value::Null);
        if let Some(object) = value.as_object_mut() {
            object.insert("alg".into(), json!(self.alg()));
            object.insert("use".into(), json!("sig"));
        }
        value
    }

    /// The public key as PEM text.
    pub fn public_pem(&self) -> &str {
        &self.public_pem
    }

    /// A token over `claims` signed with this key, its header naming `kid` and `alg`.
    pub fn sign(&self, claims: &Map<String, Value>) -> String {
        let header = json!({"alg": self.alg(), "typ": "JWT", "kid": self.kid});
        self.sign_with_header(&header, claims)
    }

    /// A token over `claims` signed with this key under an arbitrary header (which may lie about
    /// `kid` or `alg`).
    pub fn sign_with_header(&self, header: &Value, claims: &Map<String, Value>) -> String {
        let input = signing_input(header, claims);
        let signature = match &self.signer {
            Signer::Rsa(signer) => signer.sign(&self.alg, input.as_bytes()),
            Signer::EdDsa(signer) => signer.sign(&self.alg, input.as_bytes()),
        }
        .unwrap_or_else(|error| panic!("signing: {error}"));
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }
}

/// A token over `claims` MACed with `secret` (HS256), its header naming `kid` when given.
pub fn sign_hs256(secret: &[u8], kid: Option<&str>, claims: &Map<String, Value>) -> String {
    let mut header = json!({"alg": "HS256", "typ": "JWT"});
    if let (Some(kid), Some(object)) = (kid, header.as_object_mut()) {
        object.insert("kid".into(), json!(kid));
    }
    let input = signing_input(&header, claims);
    let signature = CoreHmacKey::new(secret)
        .sign(&CoreJwsSigningAlgorithm::HmacSha256, input.as_bytes())
        .unwrap_or_else(|error| panic!("HMAC: {error}"));
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

/// An unsigned token (`alg: none`, empty signature).
pub fn unsigned(claims: &Map<String, Value>) -> String {
    format!(
        "{}.",
        signing_input(&json!({"alg": "none", "typ": "JWT"}), claims)
    )
}

fn signing_input(header: &Value, claims: &Map<String, Value>) -> String {
    let encode = |value: &Value| URL_SAFE_NO_PAD.encode(value.to_string());
    format!(
        "{}.{}",
        encode(header),
        encode(&Value::Object(claims.clone()))
    )
}
