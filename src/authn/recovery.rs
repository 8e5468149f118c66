//! Recovery codes: ten single-use look-up secrets (NIST SP 800-63B §5.1.2),
//! shown once and stored as SHA-256 hashes. Each carries 50 random bits, so a
//! fast hash suffices; guessing is throttled like any other factor.

use crate::crypto::secrets;

pub const COUNT: usize = 10;
/// Crockford-style base32 without look-alikes (no I, L, O, U).
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const LENGTH: usize = 10;

/// A fresh set of codes, formatted for reading: `XXXXX-XXXXX`.
pub fn generate() -> Vec<String> {
    (0..COUNT)
        .map(|_| {
            let mut bytes = [0u8; LENGTH];
            rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut bytes);
            let chars: String = bytes
                .iter()
                .map(|b| ALPHABET[usize::from(b & 31)] as char)
                .collect();
            format!("{}-{}", &chars[..5], &chars[5..])
        })
        .collect()
}

/// What the user typed, in canonical form: case, spaces and dashes ignored,
/// look-alike letters read as the digits they resemble.
pub fn normalise(typed: &str) -> Option<String> {
    let canonical: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            other => other,
        })
        .collect();
    (canonical.len() == LENGTH && canonical.bytes().all(|b| ALPHABET.contains(&b)))
        .then_some(canonical)
}

/// The stored form of a code.
pub fn hash(code: &str) -> Option<String> {
    normalise(code).map(|c| secrets::hash(&c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_distinct_readable_codes() {
        let codes = generate();
        assert_eq!(codes.len(), 10);
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 10);
        for c in &codes {
            assert_eq!(c.len(), 11);
            assert!(normalise(c).is_some());
        }
    }

    #[test]
    fn typing_variations_hash_alike() {
        let code = "AB0CD-1EF23";
        assert_eq!(hash(code), hash("ab0cd 1ef23"));
        assert_eq!(hash(code), hash("abOcd-lef23"));
        assert_eq!(hash("short"), None);
        assert_eq!(hash("UUUUU-UUUUU"), None);
    }
}
