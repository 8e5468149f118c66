//! Erasure by crypto-shredding (docs/privacy.md): people's data keys, the
//! erasure markers, legal holds, and the one transaction that erases a person.

use std::collections::{BTreeSet, HashMap};

use diesel::prelude::*;

use super::schema::{
    approvals, authorization_codes, break_glass, consent_records, consents, disclosures,
    email_codes, erasures, grants, known_devices, known_networks, last_locations, legal_holds,
    login_progress, passkeys, password_credentials, policy_rules, recovery_codes, refresh_tokens,
    session_clients, sessions, smart_launches, totp_credentials, user_data_keys, users,
    webauthn_ceremonies,
};
use super::{AnyConnection, StorageError};
use crate::audit::{AuditRecord, sealed};
use crate::clock::Millis;
use crate::store::audit_log::{Person, RecordSealer};
use crate::store::erasure::{Erased, LegalHold};

/// Who each of the `pending` records is about, by user id: its subject or
/// acting user (`sealed::person_of`), or the account of the name typed in it
/// (`sealed::named_in`).
pub fn persons(
    c: &mut AnyConnection,
    pending: &[AuditRecord],
) -> Result<Vec<Option<String>>, StorageError> {
    let names: Vec<String> = pending
        .iter()
        .filter(|r| sealed::person_of(r).is_none())
        .filter_map(sealed::named_in)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let accounts: HashMap<String, String> = if names.is_empty() {
        HashMap::new()
    } else {
        users::table
            .filter(users::username.eq_any(&names))
            .select((users::username, users::id))
            .load::<(String, String)>(c)?
            .into_iter()
            .collect()
    };
    Ok(pending
        .iter()
        .map(|r| match sealed::person_of(r) {
            Some(id) => Some(id.to_string()),
            None => sealed::named_in(r).and_then(|n| accounts.get(&n).cloned()),
        })
        .collect())
}

/// What the sealer knows of each of `ids`. A person with an account and no
/// key yet gets one now (created lazily, in the sealer's transaction),
/// unless `sealer` cannot make keys.
pub fn people(
    c: &mut AnyConnection,
    ids: &[String],
    now: Millis,
    sealer: &dyn RecordSealer,
) -> Result<HashMap<String, Person>, StorageError> {
    let mut out = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    for (id, key) in data_keys(c, ids)? {
        out.insert(id, Person::Key(key));
    }
    let erased: Vec<String> = erasures::table
        .filter(erasures::user_id.eq_any(ids))
        .select(erasures::user_id)
        .load(c)?;
    for id in erased {
        out.insert(id, Person::Erased);
    }
    let accounts: Vec<String> = users::table
        .filter(users::id.eq_any(ids))
        .select(users::id)
        .load(c)?;
    for id in accounts {
        if out.contains_key(&id) {
            continue;
        }
        let state = match sealer.new_key(&id) {
            Some(key) => {
                diesel::insert_into(user_data_keys::table)
                    .values((
                        user_data_keys::user_id.eq(&id),
                        user_data_keys::key_sealed.eq(&key),
                        user_data_keys::created_at.eq(now),
                    ))
                    .execute(c)?;
                Person::Key(key)
            }
            None => Person::Unkeyed,
        };
        out.insert(id, state);
    }
    Ok(out)
}

/// The sealed data keys of those of `ids` that have one.
pub fn data_keys(
    c: &mut AnyConnection,
    ids: &[String],
) -> Result<Vec<(String, String)>, StorageError> {
    Ok(user_data_keys::table
        .filter(user_data_keys::user_id.eq_any(ids))
        .select((user_data_keys::user_id, user_data_keys::key_sealed))
        .load(c)?)
}

/// Every data key (master-key rotation reseals them).
pub fn all_data_keys(c: &mut AnyConnection) -> Result<Vec<(String, String)>, StorageError> {
    Ok(user_data_keys::table
        .select((user_data_keys::user_id, user_data_keys::key_sealed))
        .load(c)?)
}

pub fn set_data_key(
    c: &mut AnyConnection,
    user_id: &str,
    sealed: &str,
) -> Result<(), StorageError> {
    diesel::update(user_data_keys::table.find(user_id))
        .set(user_data_keys::key_sealed.eq(sealed))
        .execute(c)?;
    Ok(())
}

pub fn hold(c: &mut AnyConnection, user_id: &str) -> Result<Option<LegalHold>, StorageError> {
    Ok(legal_holds::table
        .find(user_id)
        .select((
            legal_holds::user_id,
            legal_holds::reason,
            legal_holds::placed_by,
            legal_holds::placed_at,
        ))
        .first::<(String, String, String, Millis)>(c)
        .optional()?
        .map(|(user_id, reason, placed_by, placed_at)| LegalHold {
            user_id,
            reason,
            placed_by,
            placed_at,
        }))
}

/// Place a hold; false (nothing written) if one is in place already.
pub fn place_hold(c: &mut AnyConnection, h: &LegalHold) -> Result<bool, StorageError> {
    let n = super::on_backend!(c, c => diesel::insert_into(legal_holds::table)
        .values((
            legal_holds::user_id.eq(&h.user_id),
            legal_holds::reason.eq(&h.reason),
            legal_holds::placed_by.eq(&h.placed_by),
            legal_holds::placed_at.eq(h.placed_at),
        ))
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(n == 1)
}

/// Release a hold; false if there was none.
pub fn release_hold(c: &mut AnyConnection, user_id: &str) -> Result<bool, StorageError> {
    Ok(diesel::delete(legal_holds::table.find(user_id)).execute(c)? == 1)
}

/// Does `user_id` hold `role` in `tenant`, with no other user holding it?
pub fn last_holder(
    c: &mut AnyConnection,
    user_id: &str,
    role: &str,
    tenant: &str,
) -> Result<bool, StorageError> {
    let holders: Vec<String> = policy_rules::table
        .filter(policy_rules::ptype.eq("g"))
        .filter(policy_rules::v1.eq(role))
        .filter(policy_rules::v2.eq(tenant))
        .select(policy_rules::v0)
        .load(c)?;
    let is_holder = holders.iter().any(|h| h == user_id);
    let others = holders
        .iter()
        .filter(|h| *h != user_id && !h.starts_with(crate::domain::client::CLIENT_SUBJECT_PREFIX))
        .count();
    Ok(is_holder && others == 0)
}

/// The erasure marker and the controller's record of it.
pub struct ErasureRow<'a> {
    pub user_id: &'a str,
    pub username: &'a str,
    pub erased_at: Millis,
    pub erased_by: &'a str,
    pub approved_by: Option<&'a str>,
    pub reason: &'a str,
}

/// Erase a person in the caller's transaction: destroy their data key,
/// delete the account and everything holding their id or name, queue a
/// back-channel logout to every client that saw them, and leave the
/// erasure marker. The caller checked the hold and the last administrator.
pub fn erase(c: &mut AnyConnection, e: &ErasureRow<'_>) -> Result<Erased, StorageError> {
    // PostgreSQL: never between the sealer's reading of a person and its use.
    super::audit::wait_for_sealer(c)?;
    let notifications = notify_clients(c, e.user_id, e.erased_at)?;
    let uid = e.user_id;
    let grant_ids = grants::table
        .filter(grants::user_id.eq(uid))
        .select(grants::id);
    diesel::delete(refresh_tokens::table.filter(refresh_tokens::grant_id.eq_any(grant_ids)))
        .execute(c)?;
    let grants = diesel::delete(grants::table.filter(grants::user_id.eq(uid))).execute(c)?;
    diesel::delete(authorization_codes::table.filter(authorization_codes::user_id.eq(uid)))
        .execute(c)?;
    let of_user = sessions::table
        .filter(sessions::user_id.eq(uid))
        .select(sessions::id_hash);
    diesel::delete(session_clients::table.filter(session_clients::session_hash.eq_any(of_user)))
        .execute(c)?;
    let sessions = diesel::delete(sessions::table.filter(sessions::user_id.eq(uid))).execute(c)?;
    diesel::delete(consents::table.filter(consents::user_id.eq(uid))).execute(c)?;
    diesel::delete(consent_records::table.filter(consent_records::user_id.eq(uid))).execute(c)?;
    // The accounting of disclosures is about the person too: it goes with them.
    diesel::delete(disclosures::table.filter(disclosures::user_id.eq(uid))).execute(c)?;
    remove_factors_and_history(c, e)?;
    super::policy::remove_assignments_of(c, uid, e.erased_at)?;
    // Open requests about the person (another erasure, a role grant) can no
    // longer be carried out: close them.
    diesel::update(
        approvals::table
            .filter(approvals::subject.eq(uid))
            .filter(approvals::decided_at.is_null()),
    )
    .set((
        approvals::decided_by.eq("system"),
        approvals::decided_at.eq(e.erased_at),
        approvals::decision.eq("rejected"),
    ))
    .execute(c)?;
    diesel::delete(user_data_keys::table.find(uid)).execute(c)?;
    diesel::delete(users::table.find(uid)).execute(c)?;
    diesel::insert_into(erasures::table)
        .values((
            erasures::user_id.eq(uid),
            erasures::erased_at.eq(e.erased_at),
            erasures::erased_by.eq(e.erased_by),
            erasures::approved_by.eq(e.approved_by),
            erasures::reason.eq(e.reason),
        ))
        .execute(c)?;
    Ok(Erased {
        sessions,
        grants,
        notifications,
    })
}

/// The factors, sign-in state and risk history of the person.
fn remove_factors_and_history(
    c: &mut AnyConnection,
    e: &ErasureRow<'_>,
) -> Result<(), StorageError> {
    let uid = e.user_id;
    diesel::delete(password_credentials::table.filter(password_credentials::user_id.eq(uid)))
        .execute(c)?;
    diesel::delete(totp_credentials::table.filter(totp_credentials::user_id.eq(uid))).execute(c)?;
    diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(uid))).execute(c)?;
    diesel::delete(email_codes::table.filter(email_codes::user_id.eq(uid))).execute(c)?;
    diesel::delete(passkeys::table.filter(passkeys::user_id.eq(uid))).execute(c)?;
    diesel::delete(webauthn_ceremonies::table.filter(webauthn_ceremonies::user_id.eq(uid)))
        .execute(c)?;
    diesel::delete(login_progress::table.filter(login_progress::user_id.eq(uid))).execute(c)?;
    diesel::delete(known_devices::table.filter(known_devices::user_id.eq(uid))).execute(c)?;
    diesel::delete(known_networks::table.filter(known_networks::user_id.eq(uid))).execute(c)?;
    diesel::delete(last_locations::table.filter(last_locations::user_id.eq(uid))).execute(c)?;
    diesel::delete(break_glass::table.filter(break_glass::user_id.eq(uid))).execute(c)?;
    diesel::delete(smart_launches::table.filter(smart_launches::user_id.eq(uid))).execute(c)?;
    // The brute-force counter of the account is keyed by its username.
    super::throttle::reset(c, &super::throttle::account_key(e.username))?;
    Ok(())
}

/// Queue a logout notice to every client that saw the person: per open
/// session for the clients it reached (with `sid`), and once (with `sub`
/// only) for every other client holding a grant, code or consent of theirs
/// (OpenID Connect Back-Channel Logout 1.0 §2.4: `sub` or `sid`).
fn notify_clients(c: &mut AnyConnection, uid: &str, now: Millis) -> Result<usize, StorageError> {
    let open: Vec<String> = sessions::table
        .filter(sessions::user_id.eq(uid))
        .filter(sessions::ended_at.is_null())
        .select(sessions::id_hash)
        .load(c)?;
    let mut reached: BTreeSet<String> = BTreeSet::new();
    let mut n = 0;
    for s in &open {
        let clients: Vec<String> = session_clients::table
            .filter(session_clients::session_hash.eq(s))
            .select(session_clients::client_id)
            .load(c)?;
        reached.extend(clients);
        n += super::logout_outbox::enqueue_for_session(c, s, now)?;
    }
    let mut others: BTreeSet<String> = BTreeSet::new();
    others.extend(
        grants::table
            .filter(grants::user_id.eq(uid))
            .select(grants::client_id)
            .load::<String>(c)?,
    );
    others.extend(
        authorization_codes::table
            .filter(authorization_codes::user_id.eq(uid))
            .select(authorization_codes::client_id)
            .load::<String>(c)?,
    );
    others.extend(
        consent_records::table
            .filter(consent_records::user_id.eq(uid))
            .select(consent_records::client_id)
            .load::<String>(c)?,
    );
    for client_id in others.difference(&reached) {
        if super::logout_outbox::enqueue_sub_only(c, client_id, uid, now)? {
            n += 1;
        }
    }
    Ok(n)
}
