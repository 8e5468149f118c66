//! TOTP (RFC 6238) with the parameters every authenticator app understands:
//! SHA-1, 6 digits, 30-second steps. Codes are accepted one step either side of
//! now, and each step at most once per account (the caller stores the last
//! accepted step), so an observed code cannot be replayed.

use totp_rs::{Algorithm, Builder, Secret, Totp};

use crate::clock::Millis;

const DIGITS: u8 = 6;
const STEP_SECONDS: u64 = 30;
/// RFC 6238 §5.2: accept one step of clock drift either way.
const SKEW: u16 = 1;
/// RFC 4226 §4 requires at least 128 bits; 160 is the SHA-1 block-friendly norm.
pub const SECRET_BYTES: usize = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TotpRejection {
    /// Not a code for this step, the one before or the one after.
    Invalid,
    /// Right code, but its step (or a later one) was already used.
    Replayed,
}

fn totp(secret: &[u8]) -> Option<Totp> {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(DIGITS)
        .with_skew(SKEW)
        .with_step_duration(STEP_SECONDS)
        .with_secret(Secret::new(secret.to_vec().into_boxed_slice()))
        .build()
        .ok()
}

/// A new random secret.
pub fn generate_secret() -> Vec<u8> {
    let mut bytes = vec![0u8; SECRET_BYTES];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut bytes);
    bytes
}

/// The secret as authenticator apps want it typed: RFC 4648 base32, no padding.
pub fn secret_text(secret: &[u8]) -> String {
    Secret::new(secret.to_vec().into_boxed_slice()).to_base32()
}

/// The `otpauth://` URI that authenticator apps read from the QR code
/// (Google Authenticator's Key Uri Format).
pub fn otpauth_uri(secret: &[u8], issuer: &str, account: &str) -> String {
    let mut url = url::Url::parse("otpauth://totp/").expect("static URL");
    url.set_path(&format!("{issuer}:{account}"));
    url.query_pairs_mut()
        .append_pair("secret", &secret_text(secret))
        .append_pair("issuer", issuer)
        .append_pair("algorithm", "SHA1")
        .append_pair("digits", &DIGITS.to_string())
        .append_pair("period", &STEP_SECONDS.to_string());
    url.to_string()
}

/// The QR code of `data` as an SVG document, rendered here (no external service).
pub fn qr_svg(data: &str) -> Option<String> {
    let code = qrcode::QrCode::new(data.as_bytes()).ok()?;
    Some(
        code.render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(200, 200)
            .quiet_zone(true)
            .build(),
    )
}

/// Check `code` at `now` against `secret`, refusing steps at or before
/// `last_step`. Returns the step to store as the new `last_step`.
pub fn verify(
    secret: &[u8],
    code: &str,
    now: Millis,
    last_step: i64,
) -> Result<i64, TotpRejection> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(TotpRejection::Invalid);
    }
    let totp = totp(secret).ok_or(TotpRejection::Invalid)?;
    let seconds = u64::try_from(now / 1000).map_err(|_| TotpRejection::Invalid)?;
    let step = totp.check(&code, seconds).ok_or(TotpRejection::Invalid)?;
    let step = i64::try_from(step).map_err(|_| TotpRejection::Invalid)?;
    if step <= last_step {
        return Err(TotpRejection::Replayed);
    }
    Ok(step)
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 6238 Appendix B test secret (SHA-1) and its 8-digit vector at T=59
    // is 94287082; the 6-digit code is its last six digits.
    const SECRET: &[u8] = b"12345678901234567890";

    #[test]
    fn rfc_6238_vector() {
        assert_eq!(verify(SECRET, "287082", 59_000, 0), Ok(1));
    }

    #[test]
    fn one_step_either_side_and_no_more() {
        let t = 1_111_111_109_000; // RFC 6238 vector: 07081804 at this time
        assert_eq!(verify(SECRET, "081804", t, 0), Ok(37_037_036));
        assert!(
            verify(SECRET, "081804", t + 30_000, 0).is_ok(),
            "one step late"
        );
        assert!(
            verify(SECRET, "081804", t - 30_000, 0).is_ok(),
            "one step early"
        );
        assert_eq!(
            verify(SECRET, "081804", t + 60_000, 0),
            Err(TotpRejection::Invalid)
        );
        assert_eq!(
            verify(SECRET, "081804", t - 60_000, 0),
            Err(TotpRejection::Invalid)
        );
    }

    #[test]
    fn a_step_is_used_once() {
        let t = 1_111_111_109_000;
        let step = verify(SECRET, "081804", t, 0).unwrap();
        assert_eq!(
            verify(SECRET, "081804", t, step),
            Err(TotpRejection::Replayed)
        );
    }

    #[test]
    fn garbage_is_invalid() {
        for code in ["", "12345", "1234567", "abcdef", "12 34 5x"] {
            assert_eq!(verify(SECRET, code, 59_000, 0), Err(TotpRejection::Invalid));
        }
    }

    #[test]
    fn uri_and_qr() {
        let uri = otpauth_uri(SECRET, "Ward", "alice");
        assert!(
            uri.starts_with("otpauth://totp/Ward:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")
        );
        let svg = qr_svg(&uri).unwrap();
        assert!(svg.contains("<svg"));
    }
}
