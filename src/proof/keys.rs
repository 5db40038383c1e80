//! Approvers' Ed25519 keys (with `ring`, already the TLS stack's crypto):
//! the private key file `runbook keygen` writes (created `0600`, its
//! content never printed), the public key file `KEY.pub` that names the
//! approver, signing and checking a signature.

use std::path::{Path, PathBuf};

use ring::rand::SystemRandom;
use ring::signature::{Ed25519KeyPair, KeyPair, UnparsedPublicKey, ED25519};
use serde::{Deserialize, Serialize};

/// What a private key file says it is.
pub const PRIVATE_KIND: &str = "runbook-approver-private-key";
/// What a public key file says it is.
pub const PUBLIC_KIND: &str = "runbook-approver-public-key";

/// A private key file: the approver's name and the PKCS#8 document of the
/// key pair (hex). Never printed, never logged.
#[derive(Serialize, Deserialize)]
struct PrivateKeyFile {
    kind: String,
    algorithm: String,
    name: String,
    pkcs8: String,
}

/// A public key file (`KEY.pub`): who the key belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicKeyFile {
    /// Always [`PUBLIC_KIND`].
    pub kind: String,
    /// Always `ed25519`.
    pub algorithm: String,
    /// The approver's name.
    pub name: String,
    /// The public key (hex, 32 bytes).
    pub public_key: String,
}

/// A key pair read from its file.
pub struct Signer {
    /// The name the key file gives.
    pub name: String,
    pair: Ed25519KeyPair,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The private half is never shown.
        formatter
            .debug_struct("Signer")
            .field("name", &self.name)
            .field("public_key", &self.public_key())
            .finish()
    }
}

/// Why a key could not be made, read or used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyError {
    /// What went wrong.
    pub message: String,
    /// Where, in a public key file (a private key's text is never quoted).
    pub located: Option<Located>,
}

/// The place in a public key file a [`KeyError`] points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// The file, as named.
    pub file: String,
    /// Its text.
    pub text: String,
    /// The bytes at fault.
    pub span: std::ops::Range<usize>,
    /// What the excerpt's label says of them.
    pub label: String,
}

impl KeyError {
    /// An error saying `message`, with no place in a file.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            located: None,
        }
    }
}

impl std::fmt::Display for KeyError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(&self.message)
    }
}

/// `KEY.pub` beside `KEY`.
pub fn public_path(private: &Path) -> PathBuf {
    let mut name = private.as_os_str().to_owned();
    name.push(".pub");
    PathBuf::from(name)
}

/// Makes a key pair for `name`: writes the private key to `private`
/// (a new file, mode `0600`) and the public key to `private.pub`; returns
/// the public key file's content.
pub fn generate(private: &Path, name: &str) -> Result<PublicKeyFile, KeyError> {
    let public = public_path(private);
    for path in [private, public.as_path()] {
        if path.exists() {
            return Err(KeyError::new(format!(
                "`{}` exists: a key is never overwritten",
                path.display()
            )));
        }
    }
    let document = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
        .map_err(|_| KeyError::new(String::from("the system's random source failed")))?;
    let pair = Ed25519KeyPair::from_pkcs8(document.as_ref())
        .map_err(|error| KeyError::new(format!("the new key is unusable: {error}")))?;
    let file = PrivateKeyFile {
        kind: PRIVATE_KIND.to_string(),
        algorithm: String::from("ed25519"),
        name: name.to_string(),
        pkcs8: hex::encode(document.as_ref()),
    };
    let text = serde_json::to_string_pretty(&file).unwrap_or_default() + "\n";
    write_private(private, text.as_bytes())?;
    let public_file = PublicKeyFile {
        kind: PUBLIC_KIND.to_string(),
        algorithm: String::from("ed25519"),
        name: name.to_string(),
        public_key: hex::encode(pair.public_key().as_ref()),
    };
    let text = serde_json::to_string_pretty(&public_file).unwrap_or_default() + "\n";
    std::fs::write(&public, text)
        .map_err(|error| KeyError::new(format!("cannot write `{}`: {error}", public.display())))?;
    Ok(public_file)
}

/// Creates `path` (never an existing file) readable and writable by its
/// owner only, with `bytes`.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), KeyError> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .map_err(|error| KeyError::new(format!("cannot create `{}`: {error}", path.display())))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|error| KeyError::new(format!("cannot write `{}`: {error}", path.display())))
}

impl Signer {
    /// Reads a private key file.
    pub fn load(path: &Path) -> Result<Self, KeyError> {
        let text = std::fs::read_to_string(path)
            .map_err(|error| KeyError::new(format!("cannot read `{}`: {error}", path.display())))?;
        // The file's text is never quoted back: it holds the secret.
        let file: PrivateKeyFile = serde_json::from_str(&text)
            .ok()
            .filter(|file: &PrivateKeyFile| file.kind == PRIVATE_KIND)
            .ok_or_else(|| {
                KeyError::new(format!(
                    "`{}` is not a private key made by `runbook keygen`",
                    path.display()
                ))
            })?;
        let pair = hex::decode(&file.pkcs8)
            .ok()
            .and_then(|bytes| Ed25519KeyPair::from_pkcs8(&bytes).ok())
            .ok_or_else(|| {
                KeyError::new(format!("`{}` holds no usable Ed25519 key", path.display()))
            })?;
        Ok(Self {
            name: file.name,
            pair,
        })
    }

    /// The public key (hex).
    pub fn public_key(&self) -> String {
        hex::encode(self.pair.public_key().as_ref())
    }

    /// The signature of `message` (hex).
    pub fn sign(&self, message: &[u8]) -> String {
        hex::encode(self.pair.sign(message).as_ref())
    }
}

/// Whether `signature` (hex) is `public_key`'s (hex) signature of `message`.
pub fn verify(public_key: &str, message: &[u8], signature: &str) -> bool {
    let (Ok(key), Ok(signature)) = (hex::decode(public_key), hex::decode(signature)) else {
        return false;
    };
    UnparsedPublicKey::new(&ED25519, key)
        .verify(message, &signature)
        .is_ok()
}

/// Reads the trusted public keys: a `.pub` file, or every `*.pub` file of
/// a folder.
pub fn trusted(path: &Path) -> Result<Vec<PublicKeyFile>, KeyError> {
    let files: Vec<PathBuf> = if path.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|error| KeyError::new(format!("cannot read `{}`: {error}", path.display())))?
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|file| file.extension().is_some_and(|extension| extension == "pub"))
            .collect();
        files.sort();
        files
    } else {
        vec![path.to_path_buf()]
    };
    files.iter().map(|file| public_key(file)).collect()
}

/// Reads one public key file; when it is not one, the excerpt at fault.
fn public_key(file: &Path) -> Result<PublicKeyFile, KeyError> {
    let text = std::fs::read_to_string(file)
        .map_err(|error| KeyError::new(format!("cannot read `{}`: {error}", file.display())))?;
    let not_a_key = |reason: String, span: std::ops::Range<usize>, label: &str| KeyError {
        message: format!(
            "`{}` is not a public key made by `runbook keygen`: {reason}",
            file.display()
        ),
        located: Some(Located {
            file: file.display().to_string(),
            text: text.clone(),
            span,
            label: label.to_string(),
        }),
    };
    let key: PublicKeyFile = serde_json::from_str(&text).map_err(|error| {
        let label = match error.classify() {
            serde_json::error::Category::Data => "not what a public key file holds here",
            serde_json::error::Category::Eof => "the file ends before the key does",
            _ => "not JSON here",
        };
        not_a_key(
            error.to_string(),
            if error.classify() == serde_json::error::Category::Data {
                super::locate::value_error_span(&text, error.line(), error.column())
            } else {
                super::locate::error_span(&text, error.line(), error.column())
            },
            label,
        )
    })?;
    if key.kind != PUBLIC_KIND {
        let span =
            super::locate::value_span(&text, &[super::locate::Step::Key("kind")]).unwrap_or(0..0);
        return Err(not_a_key(
            format!("its kind is `{}`", key.kind),
            span,
            &format!("`{PUBLIC_KIND}` expected"),
        ));
    }
    Ok(key)
}
