//! TLS when a CA file is given (`[tls] ca_file`, `--ca-cert`): the
//! operating system's trust store plus every certificate of the file, and
//! one thing the usual verification refuses: a self-signed certificate
//! marked as a CA (what `openssl req -x509` makes by default) presented by
//! the server itself. Such a certificate is accepted only when it is
//! byte for byte one of the file's certificates — the operator pinned it —
//! and still only for the names it was made for. Every other check (names,
//! dates, signatures) is the standard one.

use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{verify_server_name, WebPkiServerVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{CertificateError, DigitallySignedStruct, Error, RootCertStore, SignatureScheme};

use crate::connect::ConnectorError;

/// The certificates of a PEM file.
fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, ConnectorError> {
    let pem = std::fs::read(path).map_err(|error| ConnectorError::Config {
        message: format!("cannot read the CA file {}: {error}", path.display()),
    })?;
    let certificates = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| ConnectorError::Config {
            message: format!(
                "the CA file {} is not a PEM certificate: {error}",
                path.display()
            ),
        })?;
    if certificates.is_empty() {
        return Err(ConnectorError::Config {
            message: format!(
                "the CA file {} is not a PEM certificate: it holds no `BEGIN CERTIFICATE` block",
                path.display()
            ),
        });
    }
    Ok(certificates)
}

/// The client TLS configuration trusting the system store and `ca_file`.
pub(super) fn with_ca_file(ca_file: &Path) -> Result<rustls::ClientConfig, ConnectorError> {
    let pinned = certificates(ca_file)?;
    let mut roots = RootCertStore::empty();
    let system = rustls_native_certs::load_native_certs();
    roots.add_parsable_certificates(system.certs);
    for certificate in &pinned {
        roots
            .add(certificate.clone())
            .map_err(|error| ConnectorError::Config {
                message: format!(
                    "the CA file {} holds a certificate that cannot be trusted: {error}",
                    ca_file.display()
                ),
            })?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config_error = |error: Error| ConnectorError::Config {
        message: format!("cannot set up TLS: {error}"),
    };
    let inner = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|error| ConnectorError::Config {
            message: format!("cannot set up TLS: {error}"),
        })?;
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(config_error)?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(PinnedSelfSigned { inner, pinned }))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// The standard verification, plus a pinned self-signed CA certificate
/// presented as the server's own.
#[derive(Debug)]
struct PinnedSelfSigned {
    inner: Arc<WebPkiServerVerifier>,
    pinned: Vec<CertificateDer<'static>>,
}

impl ServerCertVerifier for PinnedSelfSigned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        match self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            // webpki refuses a CA certificate as the server's own
            // (`CaUsedAsEndEntity`, after the dates were checked): accepted
            // only when pinned exactly, and still only for the names it
            // was made for.
            Err(Error::InvalidCertificate(CertificateError::Other(_)))
                if self
                    .pinned
                    .iter()
                    .any(|pinned| pinned.as_ref() == end_entity.as_ref()) =>
            {
                let parsed = ParsedCertificate::try_from(end_entity)?;
                verify_server_name(&parsed, server_name)?;
                Ok(ServerCertVerified::assertion())
            }
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.inner
            .verify_tls12_signature(message, certificate, signature)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.inner
            .verify_tls13_signature(message, certificate, signature)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}
