//! What the risk engine remembers of each user: the browsers (device
//! cookies, in `known_devices`) and networks (IP prefixes) they signed in
//! from, and where and when their last sign-in happened (GeoIP).

use diesel::prelude::*;

use super::schema::{known_devices, known_networks, last_locations, login_throttle};
use super::{AnyConnection, StorageError};
use crate::clock::Millis;
use crate::risk::{Familiarity, GeoPoint};

/// Is `value` among the user's known values? `NoHistory` when the user has
/// none at all (a first sign-in is not "new" in any useful sense).
fn familiarity(known: bool, any: bool) -> Familiarity {
    match (known, any) {
        (true, _) => Familiarity::Known,
        (false, true) => Familiarity::New,
        (false, false) => Familiarity::NoHistory,
    }
}

pub fn device(
    conn: &mut AnyConnection,
    user_id: &str,
    device_hash: &str,
) -> Result<Familiarity, StorageError> {
    let known: i64 = known_devices::table
        .filter(known_devices::user_id.eq(user_id))
        .filter(known_devices::device_hash.eq(device_hash))
        .count()
        .get_result(conn)?;
    let any: i64 = if known > 0 {
        1
    } else {
        known_devices::table
            .filter(known_devices::user_id.eq(user_id))
            .count()
            .get_result(conn)?
    };
    Ok(familiarity(known > 0, any > 0))
}

pub fn network(
    conn: &mut AnyConnection,
    user_id: &str,
    prefix: &str,
) -> Result<Familiarity, StorageError> {
    let known: i64 = known_networks::table
        .filter(known_networks::user_id.eq(user_id))
        .filter(known_networks::prefix.eq(prefix))
        .count()
        .get_result(conn)?;
    let any: i64 = if known > 0 {
        1
    } else {
        known_networks::table
            .filter(known_networks::user_id.eq(user_id))
            .count()
            .get_result(conn)?
    };
    Ok(familiarity(known > 0, any > 0))
}

/// Where and when the user last signed in, if GeoIP knew the address.
pub fn last_location(
    conn: &mut AnyConnection,
    user_id: &str,
) -> Result<Option<(GeoPoint, Millis)>, StorageError> {
    let row: Option<(f64, f64, i64)> = last_locations::table
        .find(user_id)
        .select((
            last_locations::latitude,
            last_locations::longitude,
            last_locations::seen_at,
        ))
        .first(conn)
        .optional()?;
    Ok(row.map(|(latitude, longitude, at)| {
        (
            GeoPoint {
                latitude,
                longitude,
            },
            at,
        )
    }))
}

/// Failed attempts counted under a throttle key since `since` (older
/// failures, or a key reset by a successful sign-in, count as none).
pub fn failures(conn: &mut AnyConnection, key: &str, since: Millis) -> Result<u32, StorageError> {
    let row: Option<(i64, i64)> = login_throttle::table
        .find(key)
        .select((login_throttle::failures, login_throttle::last_failure_at))
        .first(conn)
        .optional()?;
    Ok(match row {
        Some((n, last)) if last >= since => u32::try_from(n).unwrap_or(u32::MAX),
        _ => 0,
    })
}

/// Remember a successful sign-in's network and location. A concurrent sign-in
/// may insert the same row first; the statements allow for it.
pub fn remember(
    conn: &mut AnyConnection,
    user_id: &str,
    prefix: Option<&str>,
    location: Option<GeoPoint>,
    now: Millis,
) -> Result<(), StorageError> {
    if let Some(prefix) = prefix {
        let seen = diesel::update(
            known_networks::table
                .filter(known_networks::user_id.eq(user_id))
                .filter(known_networks::prefix.eq(prefix)),
        )
        .set(known_networks::last_seen.eq(now))
        .execute(conn)?;
        if seen == 0 {
            super::on_backend!(conn, c => diesel::insert_into(known_networks::table)
                .values((
                    known_networks::user_id.eq(user_id),
                    known_networks::prefix.eq(prefix),
                    known_networks::first_seen.eq(now),
                    known_networks::last_seen.eq(now),
                ))
                .on_conflict_do_nothing()
                .execute(c))?;
        }
    }
    if let Some(at) = location {
        let seen = diesel::update(last_locations::table.find(user_id))
            .set((
                last_locations::latitude.eq(at.latitude),
                last_locations::longitude.eq(at.longitude),
                last_locations::seen_at.eq(now),
            ))
            .execute(conn)?;
        if seen == 0 {
            super::on_backend!(conn, c => diesel::insert_into(last_locations::table)
                .values((
                    last_locations::user_id.eq(user_id),
                    last_locations::latitude.eq(at.latitude),
                    last_locations::longitude.eq(at.longitude),
                    last_locations::seen_at.eq(now),
                ))
                .on_conflict(last_locations::user_id)
                .do_update()
                .set((
                    last_locations::latitude.eq(at.latitude),
                    last_locations::longitude.eq(at.longitude),
                    last_locations::seen_at.eq(now),
                ))
                .execute(c))?;
        }
    }
    Ok(())
}
