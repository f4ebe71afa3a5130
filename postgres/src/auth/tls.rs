//! TLS for `sapa serve --tls-cert FILE --tls-key FILE` (rustls with the
//! `ring` provider pgwire already uses).
//!
//! Files that do not load stop the server: falling back to plaintext would
//! send passwords' proofs and every answer in the clear while the operator
//! believes otherwise.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::crypto::ring::default_provider;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// The PEM files of the server's certificate (chain) and private key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The certificate chain, leaf first (PEM).
    pub cert: PathBuf,
    /// The private key: PKCS#8, PKCS#1 (RSA) or SEC1 (EC), PEM.
    pub key: PathBuf,
}

/// The ALPN name of PostgreSQL, which direct-TLS clients (PostgreSQL 17's
/// `sslnegotiation=direct`) require the server to confirm.
const POSTGRESQL_ALPN: &[u8] = b"postgresql";

/// A certificate or key file that does not load.
#[derive(Debug, thiserror::Error)]
#[error("TLS file {}: {reason}", file.display())]
pub struct TlsError {
    /// The certificate or key file at fault.
    pub file: PathBuf,
    /// What is wrong with it.
    pub reason: String,
}

fn tls_error(file: &Path, reason: impl Into<String>) -> TlsError {
    TlsError {
        file: file.to_path_buf(),
        reason: reason.into(),
    }
}

/// Loads the certificate chain from `cert` and the private key from `key`
/// into a TLS acceptor, or says which file is wrong and why.
pub fn load_acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor, TlsError> {
    let cert_pem = std::fs::read(cert).map_err(|e| tls_error(cert, format!("cannot read: {e}")))?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| tls_error(cert, format!("not a PEM certificate file: {e}")))?;
    if chain.is_empty() {
        return Err(tls_error(
            cert,
            "no certificate in it (expected PEM \"BEGIN CERTIFICATE\" sections)",
        ));
    }
    let key_pem = std::fs::read(key).map_err(|e| tls_error(key, format!("cannot read: {e}")))?;
    let private_key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| {
        tls_error(
            key,
            format!("no PEM private key (PKCS#8, RSA or EC) in it: {e}"),
        )
    })?;
    let mut config = ServerConfig::builder_with_provider(Arc::new(default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_error(cert, format!("TLS setup failed: {e}")))?
        .with_no_client_auth()
        .with_single_cert(chain, private_key)
        .map_err(|e| {
            tls_error(
                key,
                format!(
                    "the key cannot be used with the certificate {}: {e}",
                    cert.display()
                ),
            )
        })?;
    config.alpn_protocols = vec![POSTGRESQL_ALPN.to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn reason(result: Result<TlsAcceptor, TlsError>) -> String {
        match result {
            Ok(_) => "loaded".to_string(),
            Err(err) => err.to_string(),
        }
    }

    #[test]
    fn missing_or_garbage_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let garbage = dir.path().join("garbage.pem");
        std::fs::write(&garbage, "not a certificate\n").unwrap();
        let missing = dir.path().join("missing.pem");
        let err = reason(load_acceptor(&missing, &garbage));
        assert!(
            err.contains("missing.pem") && err.contains("cannot read"),
            "{err}"
        );
        let err = reason(load_acceptor(&garbage, &garbage));
        assert!(
            err.contains("garbage.pem") && err.contains("no certificate"),
            "{err}"
        );
    }
}
