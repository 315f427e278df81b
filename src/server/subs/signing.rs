//! The webhook signing key (Ed25519), its JWKS document and the
//! `Webhook-Signature` header (PROTOCOL.md sections 6.5 and 7.1).
//!
//! The dev server makes a new key each time it starts (a production server
//! would persist it).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signer as _, SigningKey};
use sha2::{Digest as _, Sha256};

pub struct Key {
    signing: SigningKey,
    kid: String,
}

impl Key {
    pub fn generate() -> Key {
        let seed: [u8; 32] = rand::random();
        Key::from_seed(seed)
    }

    pub fn from_seed(seed: [u8; 32]) -> Key {
        let signing = SigningKey::from_bytes(&seed);
        let x = URL_SAFE_NO_PAD.encode(signing.verifying_key().as_bytes());
        // RFC 7638 thumbprint: the required members, sorted, no spaces.
        let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
        let digest = Sha256::digest(canonical.as_bytes());
        let kid = format!("ds_{}", &URL_SAFE_NO_PAD.encode(digest)[..22]);
        Key { signing, kid }
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The JWK Set with this key's public half.
    pub fn jwks(&self) -> serde_json::Value {
        let x = URL_SAFE_NO_PAD.encode(self.signing.verifying_key().as_bytes());
        serde_json::json!({
            "keys": [{
                "kty": "OKP",
                "crv": "Ed25519",
                "kid": self.kid,
                "use": "sig",
                "alg": "EdDSA",
                "x": x,
            }]
        })
    }

    /// `t=<unix seconds>,kid=<kid>,ed25519=<base64url>` over `t.body`.
    pub fn signature_header(&self, unix_secs: u64, body: &[u8]) -> String {
        let mut signed = format!("{unix_secs}.").into_bytes();
        signed.extend_from_slice(body);
        let sig = self.signing.sign(&signed);
        format!(
            "t={unix_secs},kid={},ed25519={}",
            self.kid,
            URL_SAFE_NO_PAD.encode(sig.to_bytes())
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signature, Verifier as _, VerifyingKey};

    #[test]
    fn header_verifies_with_the_published_key() {
        let key = Key::from_seed([7; 32]);
        let header = key.signature_header(1_700_000_000, b"{\"a\":1}");
        let jwks = key.jwks();
        let jwk = &jwks["keys"][0];
        assert_eq!(jwk["kid"], key.kid());
        assert!(key.kid().starts_with("ds_"));
        let x = URL_SAFE_NO_PAD.decode(jwk["x"].as_str().unwrap()).unwrap();
        let public = VerifyingKey::from_bytes(&x.try_into().unwrap()).unwrap();
        let sig_b64 = header.rsplit_once("ed25519=").unwrap().1;
        let sig = URL_SAFE_NO_PAD.decode(sig_b64).unwrap();
        let sig = Signature::from_slice(&sig).unwrap();
        assert!(public.verify(b"1700000000.{\"a\":1}", &sig).is_ok());
        assert!(public.verify(b"1700000001.{\"a\":1}", &sig).is_err());
        assert!(
            header.starts_with(&format!("t=1700000000,kid={},", key.kid()))
        );
    }

    #[test]
    fn kid_is_stable_for_a_key() {
        assert_eq!(
            Key::from_seed([1; 32]).kid(),
            Key::from_seed([1; 32]).kid()
        );
        assert_ne!(
            Key::from_seed([1; 32]).kid(),
            Key::from_seed([2; 32]).kid()
        );
    }
}
