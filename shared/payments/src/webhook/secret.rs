//! Which webhook signing secrets are worth verifying with.

/// Characters after `whsec_` that make a signing secret worth verifying with. Stripe's have 32
/// (the Stripe CLI's 64 hex digits); [`check_signing_secret`] asks for at least this many.
pub const MIN_SECRET_CHARS: usize = 24;

/// Why a webhook signing secret must not be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UnusableSecret {
    #[error("there is no webhook signing secret")]
    Missing,
    #[error("the webhook signing secret does not start with whsec_")]
    NotASigningSecret,
    /// Too short, a placeholder (`whsec_...`, `whsec_replace_me`), or characters a generated secret
    /// does not have.
    #[error("the webhook signing secret is a placeholder")]
    Placeholder,
    /// Long enough, but with too few different characters, or mostly a run (`whsec_aaaa…`,
    /// `whsec_abcdef…`): guessable.
    #[error("the webhook signing secret has too little entropy")]
    LowEntropy,
}

/// Whether `secret` is a signing secret worth verifying events with. A placeholder that some
/// document shows (or any guessable value) would let anyone sign `payment_intent.succeeded` and
/// have an order marked paid: the webhook answers 503 `not_configured` instead, and Stripe
/// redelivers for three days while the real secret is put in place.
///
/// `scripts/connect-stripe.py` ports these rules (`signing_secret_problem`), so that the deploy
/// never stores or keeps a secret the webhook refuses; an e2e test gives both the same table.
///
/// # Errors
/// [`UnusableSecret`], saying why without showing the secret.
pub fn check_signing_secret(secret: &str) -> Result<(), UnusableSecret> {
    let secret = secret.trim();
    if secret.is_empty() {
        return Err(UnusableSecret::Missing);
    }
    let rest = secret.strip_prefix("whsec_").ok_or(UnusableSecret::NotASigningSecret)?;
    let lower = rest.to_ascii_lowercase();
    if rest.len() < MIN_SECRET_CHARS
        || !rest.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'_' | b'-'))
        || ["replace", "example", "placeholder", "changeme", "secret"].iter().any(|p| lower.contains(p))
    {
        return Err(UnusableSecret::Placeholder);
    }
    // Each test is one a generated secret fails with negligible probability (a random hex string
    // of 24 characters has at least 8 distinct ones but for odds of about 1e-12; ascending steps
    // are 1 in 16 of its neighbours, not half; a repeating block, never), while what people type
    // as a stand-in fails at least one: "aaaa…", "abab…", "abcdef…", "0123…", "qwerty" repeated.
    let bytes = rest.as_bytes();
    let distinct = bytes.iter().collect::<std::collections::BTreeSet<_>>().len();
    let ascending = bytes.windows(2).filter(|w| w[1] == w[0].wrapping_add(1)).count();
    let repeats = (1..=bytes.len() / 2).any(|p| bytes.iter().zip(&bytes[p..]).all(|(a, b)| a == b));
    if distinct < 8 || ascending * 2 > bytes.len() || repeats {
        return Err(UnusableSecret::LowEntropy);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_signing_secrets_are_usable_however_the_dice_fall() {
        // As Stripe makes them (32 alphanumerics), as the Stripe CLI does (64 hex digits), and as
        // `nanoshop serve` does (48 hex digits): a refusal here would take a shop offline. Not
        // the shortest accepted length in hex (24): nothing issues those, and 1 in 200,000 of them
        // has fewer than 8 distinct digits, which failed this test in about 1 run in 40.
        const ALPHANUMERIC: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        const HEX: &[u8] = b"0123456789abcdef";
        for _ in 0..5_000 {
            for (alphabet, len) in [(ALPHANUMERIC, 32), (HEX, 64), (HEX, 48)] {
                let rest: String =
                    (0..len).map(|_| char::from(alphabet[rand::random_range(0..alphabet.len())])).collect();
                let secret = format!("whsec_{rest}");
                assert_eq!(check_signing_secret(&secret), Ok(()), "{secret}");
            }
        }
    }

    #[test]
    fn only_generated_looking_signing_secrets_are_usable() {
        use UnusableSecret::*;
        let check = |secret: &str, expected: Result<(), UnusableSecret>| {
            assert_eq!(check_signing_secret(secret), expected, "{secret}");
        };
        check("whsec_4eC39HqLyjWDarjtT1zdp7dcGqvR8Jx2", Ok(()));
        check("whsec_0b4f1e4c8f2a9d3e7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a29180f7e6d5c4b3a29", Ok(()));
        check("", Err(Missing));
        check("   ", Err(Missing));
        check("4eC39HqLyjWDarjtT1zdp7dcGqvR8Jx2", Err(NotASigningSecret));
        check("sk_test_4eC39HqLyjWDarjtT1zdp7dcGqvR8Jx2", Err(NotASigningSecret));
        check("whsec_...", Err(Placeholder));
        check("whsec_…", Err(Placeholder));
        check("whsec_replace_after_step_4", Err(Placeholder));
        check("whsec_REPLACE_ME_WITH_THE_REAL_ONE_123", Err(Placeholder));
        check("whsec_test", Err(Placeholder));
        check("whsec_4eC39HqLyjWDarjtT1zdp7", Err(Placeholder));
        check("whsec_4eC39HqLyjWDarjtT1zd p7dcGqvR8Jx2", Err(Placeholder));
        check("whsec_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", Err(LowEntropy));
        check("whsec_abababababababababababababababab", Err(LowEntropy));
        check("whsec_abcdefghijklmnopqrstuvwxyz012345", Err(LowEntropy));
        check("whsec_0123456789abcdef0123456789abcdef", Err(LowEntropy));
        check("whsec_qwertyuiqwertyuiqwertyuiqwertyui", Err(LowEntropy));
        check("whsec_abc123abc123abc123abc123abc123ab", Err(LowEntropy));
    }
}
