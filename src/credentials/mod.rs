//! The credential primitives the context holds: password hashing and its rules
//! (`password`) and the WebAuthn relying party (`passkeys`). They only compute
//! and verify; which factor a sign-in needs, and where credentials are kept,
//! is `authn`'s business, which is why they sit below it (and below
//! `context`, which holds one of each for every request).

pub mod passkeys;
pub mod password;
