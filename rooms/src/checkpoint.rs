//! Checkpoints of the audit log in the C2SP formats, so that tools nobody here wrote can check
//! them: a `tlog-checkpoint` body (origin line, tree size, base64 root hash, optional extension
//! lines) wrapped in a `signed-note` with Ed25519 signature lines (`— <name> <base64(key hash
//! ‖ signature)>`), and verifier keys as `<name>+<hex key hash>+<base64(0x01 ‖ public key)>`.
//! The key hash is the first 4 bytes of `SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key)`.

use crate::merkle::Hash;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signer, SigningKey, Verifier as _, VerifyingKey};
use sha2::{Digest, Sha256};

/// The signature algorithm byte of Ed25519 in `signed-note`.
const ED25519: u8 = 0x01;

/// Why a key, a note or a checkpoint is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    #[error("a key name is 1 or more characters, none of them a space or '+'")]
    BadName,
    #[error("not a verifier key: {0}")]
    BadKey(&'static str),
    #[error("not a signed note: {0}")]
    Malformed(&'static str),
    #[error("no signature by {0} on the note")]
    Unsigned(String),
    #[error("the signature by {0} does not verify")]
    BadSignature(String),
    #[error("not a checkpoint: {0}")]
    BadCheckpoint(&'static str),
}

fn check_name(name: &str) -> Result<(), NoteError> {
    if name.is_empty()
        || name
            .chars()
            .any(|c| c == '+' || c.is_whitespace() || c.is_control())
    {
        return Err(NoteError::BadName);
    }
    Ok(())
}

/// The first 4 bytes of `SHA-256(name ‖ "\n" ‖ 0x01 ‖ key)`.
pub fn key_hash(name: &str, key: &VerifyingKey) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update([ED25519]);
    h.update(key.as_bytes());
    let digest = h.finalize();
    [digest[0], digest[1], digest[2], digest[3]]
}

fn hex4(hash: &[u8; 4]) -> String {
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

/// A key that signs notes under a name.
pub struct NoteSigner {
    name: String,
    key: SigningKey,
    hash: [u8; 4],
}

impl NoteSigner {
    /// A signer from a 32-byte Ed25519 seed.
    pub fn new(name: &str, seed: &[u8; 32]) -> Result<NoteSigner, NoteError> {
        check_name(name)?;
        let key = SigningKey::from_bytes(seed);
        let hash = key_hash(name, &key.verifying_key());
        Ok(NoteSigner {
            name: name.to_owned(),
            key,
            hash,
        })
    }

    /// Reads a signer key as Go's `note` package writes one:
    /// `PRIVATE+KEY+<name>+<hex key hash>+<base64(0x01 ‖ seed)>`.
    pub fn parse(skey: &str) -> Result<NoteSigner, NoteError> {
        let rest = skey
            .trim()
            .strip_prefix("PRIVATE+KEY+")
            .ok_or(NoteError::BadKey("a signer key starts with PRIVATE+KEY+"))?;
        // The name and the hex hash hold no '+'; the base64 key may.
        let mut parts = rest.splitn(3, '+');
        let (Some(name), Some(hash), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(NoteError::BadKey("expected PRIVATE+KEY+name+hash+key"));
        };
        let key = B64
            .decode(key)
            .map_err(|_| NoteError::BadKey("the key is not base64"))?;
        let [ED25519, seed @ ..] = key.as_slice() else {
            return Err(NoteError::BadKey("not an Ed25519 key"));
        };
        let seed: [u8; 32] = seed
            .try_into()
            .map_err(|_| NoteError::BadKey("an Ed25519 seed is 32 bytes"))?;
        let signer = NoteSigner::new(name, &seed)?;
        if hash != hex4(&signer.hash) {
            return Err(NoteError::BadKey(
                "the key hash does not match the name and key",
            ));
        }
        Ok(signer)
    }

    /// Its signer key, in the form [`NoteSigner::parse`] reads.
    pub fn private_key(&self) -> String {
        let mut key = vec![ED25519];
        key.extend_from_slice(self.key.as_bytes());
        format!(
            "PRIVATE+KEY+{}+{}+{}",
            self.name,
            hex4(&self.hash),
            B64.encode(key)
        )
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The raw Ed25519 public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.key.verifying_key().to_bytes()
    }

    /// Its verifier key, as `signed-note` writes it.
    pub fn vkey(&self) -> String {
        let mut key = vec![ED25519];
        key.extend_from_slice(self.key.verifying_key().as_bytes());
        format!("{}+{}+{}", self.name, hex4(&self.hash), B64.encode(key))
    }

    /// `text` (which ends with a newline) signed: the text, a blank line, its signature line.
    pub fn sign(&self, text: &str) -> Result<String, NoteError> {
        check_text(text)?;
        let signature = self.key.sign(text.as_bytes());
        let mut sig = self.hash.to_vec();
        sig.extend_from_slice(&signature.to_bytes());
        Ok(format!(
            "{text}\n\u{2014} {} {}\n",
            self.name,
            B64.encode(sig)
        ))
    }
}

fn check_text(text: &str) -> Result<(), NoteError> {
    if !text.ends_with('\n') {
        return Err(NoteError::Malformed("the text must end with a newline"));
    }
    if text.contains("\n\n") || text.starts_with('\n') {
        return Err(NoteError::Malformed("the text must not hold a blank line"));
    }
    if text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(NoteError::Malformed("the text holds a control character"));
    }
    Ok(())
}

/// A verifier key: checks the signatures of one name and key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteVerifier {
    pub name: String,
    hash: [u8; 4],
    key: VerifyingKey,
}

impl NoteVerifier {
    /// Reads `<name>+<hex key hash>+<base64(0x01 ‖ public key)>`.
    pub fn parse(vkey: &str) -> Result<NoteVerifier, NoteError> {
        let mut parts = vkey.trim().splitn(3, '+');
        let (Some(name), Some(hash), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(NoteError::BadKey("expected name+hash+key"));
        };
        check_name(name)?;
        let key = B64
            .decode(key)
            .map_err(|_| NoteError::BadKey("the key is not base64"))?;
        let Some((&ED25519, raw)) = key.split_first() else {
            return Err(NoteError::BadKey("not an Ed25519 key (algorithm 0x01)"));
        };
        let raw: [u8; 32] = raw
            .try_into()
            .map_err(|_| NoteError::BadKey("an Ed25519 key is 32 bytes"))?;
        let key =
            VerifyingKey::from_bytes(&raw).map_err(|_| NoteError::BadKey("not an Ed25519 key"))?;
        let expected = key_hash(name, &key);
        let given: Vec<u8> = (0..hash.len())
            .step_by(2)
            .filter_map(|i| hash.get(i..i + 2))
            .filter_map(|pair| u8::from_str_radix(pair, 16).ok())
            .collect();
        if hash.len() != 8 || given != expected {
            return Err(NoteError::BadKey(
                "the key hash does not match the name and key",
            ));
        }
        Ok(NoteVerifier {
            name: name.to_owned(),
            hash: expected,
            key,
        })
    }

    /// The text of `note` once a signature line of this key verifies over it (other
    /// signers' lines are passed over).
    pub fn open<'a>(&self, note: &'a str) -> Result<&'a str, NoteError> {
        let Some(split) = note.rfind("\n\n") else {
            return Err(NoteError::Malformed("no blank line before the signatures"));
        };
        let (text, signatures) = (&note[..split + 1], &note[split + 2..]);
        check_text(text)?;
        if !signatures.ends_with('\n') {
            return Err(NoteError::Malformed(
                "the signatures must end with a newline",
            ));
        }
        let mut found = false;
        for line in signatures.lines() {
            let Some(rest) = line.strip_prefix("\u{2014} ") else {
                return Err(NoteError::Malformed("a signature line starts with '— '"));
            };
            let Some((name, sig)) = rest.split_once(' ') else {
                return Err(NoteError::Malformed(
                    "a signature line is '— name signature'",
                ));
            };
            let Ok(sig) = B64.decode(sig) else {
                return Err(NoteError::Malformed("a signature is base64"));
            };
            if name != self.name || sig.len() < 4 || sig[..4] != self.hash {
                continue;
            }
            found = true;
            let signature = ed25519_dalek::Signature::from_slice(&sig[4..])
                .map_err(|_| NoteError::BadSignature(self.name.clone()))?;
            if self.key.verify(text.as_bytes(), &signature).is_ok() {
                return Ok(text);
            }
        }
        Err(if found {
            NoteError::BadSignature(self.name.clone())
        } else {
            NoteError::Unsigned(self.name.clone())
        })
    }
}

/// A `tlog-checkpoint`: which log, how many entries, the root of their tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
    /// Extension lines, kept as they are.
    pub extensions: Vec<String>,
}

impl Checkpoint {
    /// Its body: the note text a signer signs.
    pub fn body(&self) -> String {
        let mut text = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            B64.encode(self.root)
        );
        for line in &self.extensions {
            text.push_str(line);
            text.push('\n');
        }
        text
    }

    /// Reads a body (the text of an opened note).
    pub fn parse(text: &str) -> Result<Checkpoint, NoteError> {
        let Some(text) = text.strip_suffix('\n') else {
            return Err(NoteError::BadCheckpoint("it ends with a newline"));
        };
        let mut lines = text.split('\n');
        let origin = lines.next().filter(|o| !o.is_empty());
        let (Some(origin), Some(size), Some(root)) = (origin, lines.next(), lines.next()) else {
            return Err(NoteError::BadCheckpoint("origin, size and root lines"));
        };
        let size_ok = !size.is_empty()
            && size.bytes().all(|b| b.is_ascii_digit())
            && (size == "0" || !size.starts_with('0'));
        let size: u64 = size
            .parse()
            .ok()
            .filter(|_| size_ok)
            .ok_or(NoteError::BadCheckpoint("the size is a decimal number"))?;
        let root: Hash = B64
            .decode(root)
            .ok()
            .and_then(|r| r.try_into().ok())
            .ok_or(NoteError::BadCheckpoint("the root is 32 bytes of base64"))?;
        let extensions: Vec<String> = lines.map(str::to_owned).collect();
        if extensions.iter().any(|l| l.is_empty()) {
            return Err(NoteError::BadCheckpoint("no empty extension line"));
        }
        Ok(Checkpoint {
            origin: origin.to_owned(),
            size,
            root,
            extensions,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// golang.org/x/mod/sumdb/note's example: a note signed by PeterNeumann's key.
    const VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    const TEXT: &str = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
    const SIGNATURE: &str = "\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

    /// The signer key of the same example.
    const SKEY: &str =
        "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";

    #[test]
    fn the_example_signer_key_reads_back_and_signs_as_go_does() {
        let signer = NoteSigner::parse(SKEY).unwrap();
        assert_eq!(signer.name(), "PeterNeumann");
        assert_eq!(signer.vkey(), VKEY);
        assert_eq!(signer.private_key(), SKEY);
        assert_eq!(signer.sign(TEXT).unwrap(), format!("{TEXT}\n{SIGNATURE}"));
        // A hash that does not match the name, a key of another algorithm, no prefix.
        let bad_hash = SKEY.replace("c74f20a3", "c74f20a4");
        assert!(matches!(
            NoteSigner::parse(&bad_hash),
            Err(NoteError::BadKey(_))
        ));
        let renamed = SKEY.replace("PeterNeumann", "Someone");
        assert!(matches!(
            NoteSigner::parse(&renamed),
            Err(NoteError::BadKey(_))
        ));
        assert!(NoteSigner::parse(&SKEY["PRIVATE+".len()..]).is_err());
        assert!(NoteSigner::parse("PRIVATE+KEY+n+00000000+AAAA").is_err());
    }

    #[test]
    fn a_note_signed_elsewhere_opens_and_a_changed_one_does_not() {
        let verifier = NoteVerifier::parse(VKEY).unwrap();
        let note = format!("{TEXT}\n{SIGNATURE}");
        assert_eq!(verifier.open(&note), Ok(TEXT));
        // Another signer's line first is passed over.
        let other = NoteSigner::new("someone-else", &[7; 32]).unwrap();
        let both = format!(
            "{TEXT}\n{}{SIGNATURE}",
            other.sign(TEXT).unwrap().split_once("\n\n").unwrap().1
        );
        assert_eq!(verifier.open(&both), Ok(TEXT));
        let changed = note.replacen("cryptography", "cryptographY", 1);
        assert_eq!(
            verifier.open(&changed),
            Err(NoteError::BadSignature("PeterNeumann".into()))
        );
        assert_eq!(
            verifier.open(&format!("{TEXT}\n")),
            Err(NoteError::Malformed(
                "the signatures must end with a newline"
            ))
        );
        assert_eq!(
            NoteVerifier::parse(
                "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
            ),
            Err(NoteError::BadKey(
                "the key hash does not match the name and key"
            ))
        );
        assert!(NoteVerifier::parse("PeterNeumann+c74f20a3").is_err());
    }

    #[test]
    fn a_checkpoint_signs_opens_and_reads_back() {
        let signer = NoteSigner::new("hub.example/audit", &[42; 32]).unwrap();
        let verifier = NoteVerifier::parse(&signer.vkey()).unwrap();
        assert_eq!(verifier.name, "hub.example/audit");
        let checkpoint = Checkpoint {
            origin: "hub.example/audit".into(),
            size: 1_000_000,
            root: crate::merkle::leaf_hash(b"x"),
            extensions: vec!["time 1733400000".into()],
        };
        let body = checkpoint.body();
        assert!(body.starts_with("hub.example/audit\n1000000\n"));
        let note = signer.sign(&body).unwrap();
        let opened = verifier.open(&note).unwrap();
        assert_eq!(Checkpoint::parse(opened), Ok(checkpoint.clone()));
        // A size or root changed after signing: the signature no longer holds.
        let forged = note.replacen("1000000", "1000001", 1);
        assert!(verifier.open(&forged).is_err());
        // Another key under the same name is not this one.
        let impostor = NoteSigner::new("hub.example/audit", &[43; 32]).unwrap();
        assert_eq!(
            verifier.open(&impostor.sign(&body).unwrap()),
            Err(NoteError::Unsigned("hub.example/audit".into()))
        );
    }

    #[test]
    fn malformed_checkpoints_and_names_are_refused() {
        let root = B64.encode([0u8; 32]);
        for (text, why) in [
            ("log\n10\n".to_owned(), "origin, size and root lines"),
            (format!("\n10\n{root}\n"), "origin, size and root lines"),
            (
                format!("log\n010\n{root}\n"),
                "the size is a decimal number",
            ),
            (format!("log\n-1\n{root}\n"), "the size is a decimal number"),
            (
                "log\n10\nAAAA\n".to_owned(),
                "the root is 32 bytes of base64",
            ),
            (format!("log\n10\n{root}"), "it ends with a newline"),
        ] {
            assert_eq!(
                Checkpoint::parse(&text),
                Err(NoteError::BadCheckpoint(why)),
                "{text:?}"
            );
        }
        assert!(Checkpoint::parse(&format!("log\n0\n{root}\n")).is_ok());
        for name in ["", "a+b", "a b"] {
            assert!(NoteSigner::new(name, &[1; 32]).is_err(), "{name:?}");
        }
        let signer = NoteSigner::new("log", &[1; 32]).unwrap();
        assert!(signer.sign("no newline").is_err());
        assert!(signer.sign("a\n\nb\n").is_err());
    }
}
