//! Sessions at scale: listing and revoking a user's sessions with a million
//! sessions stored (docs/benchmarks.md, "Sessions at scale").
//!
//!   cargo bench --bench sessions
//!   WARD_BENCH_SESSIONS=20000 cargo bench --bench sessions        (a quick run)
//!   WARD_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test cargo bench --bench sessions
//!
//! In process, on a real database opened the way the product opens it
//! (`AppContext::open` with migrations): SQLite in a temporary data directory,
//! or, when WARD_BENCH_DATABASE_URL is set, a fresh PostgreSQL database created
//! next to the one named in the URL and dropped at the end (the database in the
//! URL itself is never written to).
//!
//! Seeds WARD_BENCH_SESSIONS sessions (default 1,000,000): ~100,000 users with
//! ~10 sessions each, one heavy user with 10,000, and 200 users with 10 live
//! sessions each (to end them all); created over the last 30 days, expiring 12 h
//! later, a fifth of them ended. A quarter of the sessions have a grant
//! (WARD_BENCH_GRANTS, default sessions / 4), because ending a session ends its
//! grants too. Then times the storage functions the admin API and the account
//! page use, WARD_BENCH_REPEAT times each (default 200), and prints the query
//! plans and a summary table.
//!
//! WARD_BENCH_EXTRA_SQL (`;`-separated statements run after seeding, e.g.
//! `CREATE INDEX ...`) tries a schema change before it is written as a migration.

use std::error::Error;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::Text;
use ward::app::{AppContext, OpenOptions};
use ward::authn::throttle::ACCOUNT_FREE;
use ward::clock::Millis;
use ward::domain::{SessionId, UserId};
use ward::session::{self, EndReason, EndedBy, Ending};
use ward::storage::{AnyConnection, purge, sessions};

type Result<T> = std::result::Result<T, Box<dyn Error>>;

const PAGE: i64 = 50;
const MINUTE: Millis = 60_000;
const HOUR: Millis = 60 * MINUTE;
const DAY: Millis = 24 * HOUR;
/// Sessions live 12 hours; they are spread over the last 30 days.
const LIFETIME: Millis = 12 * HOUR;
const SPREAD: Millis = 30 * DAY;
/// Rows per INSERT statement, and INSERT statements per transaction.
const ROWS_PER_INSERT: usize = 1_000;
const INSERTS_PER_TRANSACTION: usize = 50;
const HEAVY_SESSIONS: usize = 10_000;
/// Users whose ~10 sessions are all live, for `end_all_for_user`.
const REVOKE_USERS: usize = 200;
const REVOKE_SESSIONS_EACH: usize = 10;
/// The page whose last row is the cursor of the "deep page".
const DEEP_PAGE: usize = 100;

fn main() {
    if let Err(e) = run() {
        eprintln!("sessions benchmark failed: {e}");
        std::process::exit(1);
    }
}

fn env_usize(name: &str, default: usize) -> Result<usize> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => Ok(v
            .trim()
            .replace('_', "")
            .parse()
            .map_err(|_| format!("{name} must be a number"))?),
        _ => Ok(default),
    }
}

fn run() -> Result<()> {
    let total = env_usize("WARD_BENCH_SESSIONS", 1_000_000)?;
    let grants = env_usize("WARD_BENCH_GRANTS", total / 4)?;
    let repeat = env_usize("WARD_BENCH_REPEAT", 200)?.max(1);
    let heavy_sessions = HEAVY_SESSIONS.min(total / 10);
    let revoke_rows = REVOKE_USERS * REVOKE_SESSIONS_EACH;
    if total < revoke_rows + 3_000 {
        return Err(format!(
            "WARD_BENCH_SESSIONS must be at least {}",
            revoke_rows + 3_000
        )
        .into());
    }
    let ordinary_sessions = total - heavy_sessions - revoke_rows;
    let ordinary_users = (ordinary_sessions / 10).max(1);

    // The database, opened as the product opens it.
    let dir = tempfile::tempdir()?;
    let pg_url = std::env::var("WARD_BENCH_DATABASE_URL")
        .ok()
        .filter(|s| !s.trim().is_empty());
    // Declared before the context, so dropped after it: the scratch database
    // goes once the pool is closed.
    let scratch = match &pg_url {
        Some(url) => Some(PgScratch::create(url)?),
        None => None,
    };
    let mut env = vec![(
        "WARD_DATA_DIR".to_string(),
        dir.path().join("data").display().to_string(),
    )];
    if let Some(s) = &scratch {
        env.push(("WARD_DATABASE_URL".into(), s.url.clone()));
    }
    let empty = dir.path().join("ward.toml");
    std::fs::write(&empty, "")?;
    let config = ward::config::Config::load(Some(&empty), &env)?;
    let ctx = AppContext::open(config, OpenOptions { migrate: true })?;
    let backend = if ctx.db.is_postgres() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let now = ctx.clock.now_ms();
    println!(
        "Ward sessions benchmark: {backend}, {total} sessions (heavy user {heavy_sessions}, \
         {ordinary_users} ordinary users, {REVOKE_USERS} users with {REVOKE_SESSIONS_EACH} live \
         sessions), {grants} grants, {repeat} runs per operation"
    );

    // Seeding.
    let prefix = &uuid::Uuid::new_v4().simple().to_string()[..8];
    let user_id = |i: usize| format!("{prefix}-0000-4000-8000-{i:012x}");
    let mut rng = Rng(0x5EED_5E55_1035);
    let started = Instant::now();
    let all_users = ordinary_users + 1 + REVOKE_USERS;
    {
        let mut seeder = Seeder::new(&ctx)?;
        for i in 0..all_users {
            seeder.user(&user_id(i), prefix, i, now - SPREAD - DAY)?;
        }
        seeder.finish()?;
    }
    let users_took = started.elapsed();
    let heavy = user_id(ordinary_users);
    let revoke: Vec<String> = (0..REVOKE_USERS)
        .map(|i| user_id(ordinary_users + 1 + i))
        .collect();
    let mut counts = vec![0u32; ordinary_users];
    for _ in 0..ordinary_sessions {
        counts[rng.below(ordinary_users as u64) as usize] += 1;
    }
    let grant_ppm = ((grants as u128 * 1_000_000) / total as u128) as u64;
    let mut seeder = Seeder::new(&ctx)?;
    let mut live = Vec::new();
    for (i, &n) in counts.iter().enumerate() {
        let uid = user_id(i);
        for _ in 0..n {
            let created = now - rng.below(SPREAD as u64) as Millis;
            let s = seeder.session(&mut rng, &uid, created, now, grant_ppm, true)?;
            if let Some(hash) = s {
                live.push(SessionId::from_hash(hash));
            }
        }
    }
    for _ in 0..heavy_sessions {
        let created = now - rng.below(SPREAD as u64) as Millis;
        seeder.session(&mut rng, &heavy, created, now, grant_ppm, true)?;
    }
    for uid in &revoke {
        for _ in 0..REVOKE_SESSIONS_EACH {
            let created = now - rng.below(6 * HOUR as u64) as Millis;
            seeder.session(&mut rng, uid, created, now, grant_ppm, false)?;
        }
    }
    let (seeded_sessions, seeded_grants) = (seeder.sessions, seeder.grants);
    seeder.finish()?;
    let seed_took = started.elapsed();
    println!(
        "seeded {all_users} users in {:.1} s, then {seeded_sessions} sessions and {seeded_grants} \
         grants; {:.1} s in all ({:.0} session rows/s)",
        users_took.as_secs_f64(),
        seed_took.as_secs_f64(),
        seeded_sessions as f64 / (seed_took - users_took).as_secs_f64(),
    );
    let mut conn = ctx.db.conn()?;
    let c: &mut AnyConnection = &mut conn;
    let extra = std::env::var("WARD_BENCH_EXTRA_SQL").unwrap_or_default();
    if !extra.trim().is_empty() {
        let t = Instant::now();
        // One statement at a time: PostgreSQL runs VACUUM only outside a transaction.
        for statement in extra.split(';').filter(|s| !s.trim().is_empty()) {
            c.batch_execute(statement)?;
        }
        println!(
            "WARD_BENCH_EXTRA_SQL ({:.1} s): {extra}",
            t.elapsed().as_secs_f64()
        );
    }
    if c.is_postgres() {
        // What autovacuum's auto-analyze does shortly after a bulk load.
        let t = Instant::now();
        c.batch_execute("ANALYZE")?;
        println!("ANALYZE took {:.1} s", t.elapsed().as_secs_f64());
    }
    println!("database size: {}", database_size(c)?);

    // Picks.
    let ordinary: Vec<String> = (0..repeat)
        .map(|_| user_id(rng.below(ordinary_users as u64) as usize))
        .collect();
    rng.shuffle(&mut live);
    live.truncate(repeat);
    if live.len() < repeat {
        println!(
            "note: only {} live sessions of ordinary users to end",
            live.len()
        );
    }

    // The heavy user's pages, walked once: the cursor of the deep page.
    let deep_page = DEEP_PAGE.min(heavy_sessions / PAGE as usize - 1);
    let t = Instant::now();
    let mut cursor: Option<(Millis, SessionId)> = None;
    let mut pages = 0;
    let mut rows = 0;
    let mut deep = None;
    loop {
        let page = sessions::for_user(c, &heavy, cursor.as_ref().map(|(at, h)| (*at, h)), PAGE)?;
        if page.is_empty() {
            break;
        }
        pages += 1;
        rows += page.len();
        let last = page.last().expect("not empty");
        cursor = Some((last.created_at, last.id_hash.clone()));
        if pages == deep_page {
            deep = cursor.clone();
        }
        if page.len() < PAGE as usize {
            break;
        }
    }
    let walk = t.elapsed();
    assert_eq!(rows, heavy_sessions, "paging returned every row once");
    let (deep_at, deep_hash) = deep.ok_or("the heavy user has too few pages")?;
    println!(
        "heavy user: all {pages} pages of {PAGE} walked in {:.1} ms ({rows} rows)",
        ms(walk)
    );

    // Query plans, of the statements diesel generates (with literals for the
    // bound values). The steady-state purge deletes the oldest minute of rows.
    let steady_cutoff = now - SPREAD + LIFETIME + MINUTE;
    let columns = "id_hash, user_id, created_at, last_seen_at, expires_at, auth_time, acr, amr, \
                   ip, user_agent, ended_at, device_hash, factor_times, shared_workstation";
    let live_hash = live.first().map(|h| h.to_string()).unwrap_or_default();
    let plans = [
        (
            "for_user, first page",
            format!(
                "SELECT {columns} FROM sessions WHERE user_id = '{heavy}' \
                 ORDER BY created_at DESC, id_hash DESC LIMIT {PAGE}"
            ),
        ),
        (
            "for_user, after a cursor",
            format!(
                "SELECT {columns} FROM sessions WHERE user_id = '{heavy}' \
                 AND (created_at < {deep_at} OR (created_at = {deep_at} AND id_hash < '{deep_hash}')) \
                 ORDER BY created_at DESC, id_hash DESC LIMIT {PAGE}"
            ),
        ),
        (
            "hashes_for_user",
            format!("SELECT id_hash FROM sessions WHERE user_id = '{heavy}'"),
        ),
        (
            "end: the session",
            format!(
                "UPDATE sessions SET ended_at = {now} WHERE id_hash = '{live_hash}' AND ended_at IS NULL"
            ),
        ),
        (
            "end: its grants",
            format!(
                "UPDATE grants SET revoked_at = {now} WHERE session_hash = '{live_hash}' \
                 AND revoked_at IS NULL AND scope NOT LIKE '%offline_access%'"
            ),
        ),
        (
            "end_all_for_user: open sessions",
            format!(
                "SELECT id_hash FROM sessions WHERE user_id = '{}' AND ended_at IS NULL AND expires_at > {now}",
                revoke[0]
            ),
        ),
        (
            "purge, steady state: sessions",
            format!("DELETE FROM sessions WHERE expires_at < {steady_cutoff}"),
        ),
        (
            "purge, steady state: grants",
            format!("DELETE FROM grants WHERE expires_at < {steady_cutoff}"),
        ),
    ];
    println!("\nQuery plans ({backend}):");
    for (name, sql) in &plans {
        println!("\n{name}:\n  {sql}");
        for line in explain(c, sql)? {
            println!("    {line}");
        }
    }
    println!();

    // Measurements.
    let mut results = Vec::new();
    results.push(measure("for_user: first page, random user", repeat, |i| {
        Ok(sessions::for_user(c, &ordinary[i], None, PAGE)?.len())
    })?);
    results.push(measure("for_user: first page, heavy user", repeat, |_| {
        Ok(sessions::for_user(c, &heavy, None, PAGE)?.len())
    })?);
    results.push(measure(
        &format!("for_user: page {}, heavy user", deep_page + 1),
        repeat,
        |_| Ok(sessions::for_user(c, &heavy, Some((deep_at, &deep_hash)), PAGE)?.len()),
    )?);
    results.push(measure(
        "find by sid: hashes_for_user, random user",
        repeat,
        |i| {
            let hashes = sessions::hashes_for_user(c, &ordinary[i])?;
            let wanted = hashes.last().map(ward::oidc::tokens::sid);
            let found = hashes
                .iter()
                .any(|h| Some(ward::oidc::tokens::sid(h)) == wanted);
            assert!(found || hashes.is_empty());
            Ok(hashes.len())
        },
    )?);
    results.push(measure(
        "hashes_for_user, heavy user (query only)",
        repeat,
        |_| Ok(sessions::hashes_for_user(c, &heavy)?.len()),
    )?);
    results.push(measure(
        "find by sid: hashes_for_user, heavy user",
        repeat,
        |_| {
            let hashes = sessions::hashes_for_user(c, &heavy)?;
            // The admin API compares the sid of every hash with the one asked for.
            let wanted = ward::oidc::tokens::sid(&hashes[hashes.len() / 2]);
            let found = hashes
                .iter()
                .position(|h| ward::oidc::tokens::sid(h) == wanted);
            assert!(found.is_some());
            Ok(hashes.len())
        },
    )?);
    drop(conn);
    results.push(measure(
        "end: one session (one transaction)",
        live.len(),
        |i| {
            let ended = ctx.db.transaction(|c| sessions::end(c, &live[i], now))?;
            assert!(ended, "a live session ends");
            Ok(1)
        },
    )?);
    results.push(measure(
        "end every live session of a user: 10 x session::end (audit + outbox each)",
        revoke.len().min(repeat),
        |i| {
            let user = &revoke[i];
            let open = sessions::open_for_user(&mut *ctx.db.conn()?, user, now)?;
            let by = EndedBy::admin("bench");
            let user_id = UserId::parse(user).ok_or("a seeded user id is a UUID")?;
            let mut ended = 0;
            for hash in &open {
                let ending = Ending {
                    id_hash: hash,
                    user_id: &user_id,
                    acr: None,
                };
                ended += usize::from(session::end::end(
                    &ctx.db,
                    ending,
                    EndReason::Admin,
                    &by,
                    now,
                )?);
            }
            assert_eq!(ended, REVOKE_SESSIONS_EACH);
            Ok(ended)
        },
    )?);

    // The purge the server runs every minute, at steady state: each run finds
    // the rows of one minute that expired a day ago (starting from the oldest).
    let mut conn = ctx.db.conn()?;
    let c: &mut AnyConnection = &mut conn;
    let oldest = now - SPREAD;
    let minutes = repeat.min(60);
    results.push(measure(
        "purge::expired, steady state (a minute of rows)",
        minutes,
        |k| {
            Ok(purge::expired(
                &ctx.db,
                oldest + LIFETIME + DAY + (k as Millis + 1) * MINUTE,
                ACCOUNT_FREE,
                2190,
            )?)
        },
    )?);
    // And the backlog: everything that expired more than a day ago, at once.
    results.push(measure("purge::expired, 29 days of backlog", 1, |_| {
        Ok(purge::expired(&ctx.db, now, ACCOUNT_FREE, 2190)?)
    })?);
    let left = count(c, "SELECT COUNT(*) AS n FROM sessions")?;
    drop(conn);

    println!(
        "\n{backend}, {seeded_sessions} sessions, {seeded_grants} grants, seeded in {:.1} s \
         ({left} sessions left after the purge)\n",
        seed_took.as_secs_f64()
    );
    println!("| operation | runs | rows per run (median) | median ms | p99 ms | max ms |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    for r in &results {
        println!(
            "| {} | {} | {} | {:.3} | {:.3} | {:.3} |",
            r.name,
            r.runs,
            r.rows,
            ms(r.median),
            ms(r.p99),
            ms(r.max)
        );
    }
    drop(ctx);
    drop(scratch);
    Ok(())
}

struct Stat {
    name: String,
    runs: usize,
    rows: usize,
    median: Duration,
    p99: Duration,
    max: Duration,
}

/// Time `f(i)` for i in 0..runs; `f` returns the rows it handled.
fn measure(name: &str, runs: usize, mut f: impl FnMut(usize) -> Result<usize>) -> Result<Stat> {
    let mut times = Vec::with_capacity(runs);
    let mut rows = Vec::with_capacity(runs);
    for i in 0..runs {
        let t = Instant::now();
        rows.push(f(i)?);
        times.push(t.elapsed());
    }
    if runs == 0 {
        return Err(format!("{name}: nothing to measure (too few sessions seeded)").into());
    }
    times.sort();
    rows.sort();
    let at = |q: f64| times[((q * runs as f64).ceil() as usize).clamp(1, runs) - 1];
    let stat = Stat {
        name: name.to_string(),
        runs,
        rows: rows.get(runs / 2).copied().unwrap_or(0),
        median: at(0.5),
        p99: at(0.99),
        max: times.last().copied().unwrap_or_default(),
    };
    println!(
        "{name}: {runs} runs, median {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        ms(stat.median),
        ms(stat.p99),
        ms(stat.max)
    );
    Ok(stat)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1_000.0
}

/// splitmix64: reproducible data without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// 64 hex digits, like a SHA-256 hash.
    fn hex64(&mut self) -> String {
        let (a, b, c, d) = (self.next(), self.next(), self.next(), self.next());
        format!("{a:016x}{b:016x}{c:016x}{d:016x}")
    }

    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            v.swap(i, self.below(i as u64 + 1) as usize);
        }
    }
}

/// Multi-row INSERTs with literal values (all generated here: hex, numbers and
/// fixed strings), so no bound-parameter limit applies; a transaction per
/// `INSERTS_PER_TRANSACTION` statements.
struct Seeder {
    conn: diesel::r2d2::PooledConnection<ward::storage::connection::Manager>,
    postgres: bool,
    users_sql: Rows,
    sessions_sql: Rows,
    grants_sql: Rows,
    in_transaction: usize,
    sessions: usize,
    grants: usize,
}

struct Rows {
    head: &'static str,
    sql: String,
    n: usize,
}

impl Rows {
    fn new(head: &'static str) -> Self {
        Self {
            head,
            sql: String::new(),
            n: 0,
        }
    }

    /// Start a row; the caller writes its values in parentheses.
    fn row(&mut self) -> &mut String {
        if self.n == 0 {
            self.sql.clear();
            self.sql.push_str(self.head);
        } else {
            self.sql.push(',');
        }
        self.n += 1;
        &mut self.sql
    }
}

impl Seeder {
    fn new(ctx: &AppContext) -> Result<Self> {
        Ok(Self {
            conn: ctx.db.conn()?,
            postgres: ctx.db.is_postgres(),
            users_sql: Rows::new(
                "INSERT INTO users (id, username, email, email_verified, display_name, status, \
                 created_at, updated_at, account_type) VALUES ",
            ),
            sessions_sql: Rows::new(
                "INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at, expires_at, \
                 auth_time, acr, amr, ip, user_agent, ended_at, device_hash, factor_times, \
                 shared_workstation) VALUES ",
            ),
            grants_sql: Rows::new(
                "INSERT INTO grants (id, client_id, user_id, scope, session_hash, auth_time, acr, \
                 amr, nonce, created_at, expires_at, revoked_at) VALUES ",
            ),
            in_transaction: 0,
            sessions: 0,
            grants: 0,
        })
    }

    fn user(&mut self, id: &str, prefix: &str, i: usize, at: Millis) -> Result<()> {
        let sql = self.users_sql.row();
        write!(
            sql,
            "('{id}','bench_{prefix}_{i}','user{i}@{prefix}.example',TRUE,'Bench User {i}',\
             'active',{at},{at},'staff')"
        )?;
        if self.users_sql.n == ROWS_PER_INSERT {
            self.flush_users()?;
        }
        Ok(())
    }

    /// One session (and perhaps its grant); returns its hash if it is live.
    /// With `may_end`, a fifth end before they expire.
    fn session(
        &mut self,
        rng: &mut Rng,
        user_id: &str,
        created: Millis,
        now: Millis,
        grant_ppm: u64,
        may_end: bool,
    ) -> Result<Option<String>> {
        let hash = rng.hex64();
        let expires = created + LIFETIME;
        let seen = created + rng.below((LIFETIME.min(now - created) + 1) as u64) as Millis;
        let ended = (may_end && rng.below(5) == 0)
            .then(|| (created + rng.below(LIFETIME as u64) as Millis).min(now));
        let mfa = rng.below(3) != 0;
        let (acr, amr, factors) = if mfa {
            (
                "aal2",
                r#"["pwd","otp"]"#,
                format!(r#"{{"pwd":{created},"otp":{}}}"#, created + 9_000),
            )
        } else {
            ("aal1", r#"["pwd"]"#, format!(r#"{{"pwd":{created}}}"#))
        };
        let ip = format!(
            "10.{}.{}.{}",
            rng.below(256),
            rng.below(256),
            rng.below(254) + 1
        );
        let shared = if rng.below(10) == 0 { "TRUE" } else { "FALSE" };
        let device = rng.hex64();
        let ended_sql = ended.map_or("NULL".to_string(), |e| e.to_string());
        let sql = self.sessions_sql.row();
        write!(
            sql,
            "('{hash}','{user_id}',{created},{seen},{expires},{created},'{acr}','{amr}','{ip}',\
             'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) \
             Chrome/131.0.0.0 Safari/537.36',{ended_sql},'{device}','{factors}',{shared})"
        )?;
        self.sessions += 1;
        if rng.below(1_000_000) < grant_ppm {
            let id = rng.hex64();
            let scope = if rng.below(5) == 0 {
                "openid profile offline_access"
            } else {
                "openid profile"
            };
            let sql = self.grants_sql.row();
            write!(
                sql,
                "('{id}','bench-rp','{user_id}','{scope}','{hash}',{created},'{acr}','{amr}',NULL,\
                 {created},{expires},{ended_sql})"
            )?;
            self.grants += 1;
            if self.grants_sql.n == ROWS_PER_INSERT {
                self.flush_grants()?;
            }
        }
        if self.sessions_sql.n == ROWS_PER_INSERT {
            self.flush_sessions()?;
        }
        Ok((ended.is_none() && expires > now).then_some(hash))
    }

    fn execute(&mut self, which: fn(&mut Self) -> &mut Rows) -> Result<()> {
        if which(self).n == 0 {
            return Ok(());
        }
        if self.in_transaction == 0 {
            let begin = if self.postgres {
                "BEGIN"
            } else {
                "BEGIN IMMEDIATE"
            };
            self.conn.batch_execute(begin)?;
        }
        let rows = which(self);
        rows.n = 0;
        let sql = std::mem::take(&mut rows.sql);
        self.conn.batch_execute(&sql)?;
        which(self).sql = sql;
        self.in_transaction += 1;
        if self.in_transaction == INSERTS_PER_TRANSACTION {
            self.commit()?;
        }
        Ok(())
    }

    fn flush_users(&mut self) -> Result<()> {
        self.execute(|s| &mut s.users_sql)
    }

    fn flush_sessions(&mut self) -> Result<()> {
        self.execute(|s| &mut s.sessions_sql)
    }

    fn flush_grants(&mut self) -> Result<()> {
        self.execute(|s| &mut s.grants_sql)
    }

    fn commit(&mut self) -> Result<()> {
        if self.in_transaction > 0 {
            self.conn.batch_execute("COMMIT")?;
            self.in_transaction = 0;
        }
        Ok(())
    }

    fn finish(mut self) -> Result<()> {
        self.flush_users()?;
        self.flush_sessions()?;
        self.flush_grants()?;
        self.commit()
    }
}

#[derive(QueryableByName)]
struct SqlitePlan {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    id: i32,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    parent: i32,
    #[diesel(sql_type = Text)]
    detail: String,
}

#[derive(QueryableByName)]
struct PgPlan {
    #[diesel(sql_type = Text, column_name = "QUERY PLAN")]
    plan: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// The plan of `sql`: SQLite's EXPLAIN QUERY PLAN, or PostgreSQL's EXPLAIN
/// (with ANALYZE for reads, which shows the rows each step touched).
fn explain(c: &mut AnyConnection, sql: &str) -> Result<Vec<String>> {
    Ok(match c {
        AnyConnection::Sqlite(c) => {
            let rows =
                diesel::sql_query(format!("EXPLAIN QUERY PLAN {sql}")).load::<SqlitePlan>(c)?;
            let mut depth: Vec<(i32, usize)> = Vec::new();
            rows.into_iter()
                .map(|r| {
                    let level = depth
                        .iter()
                        .find(|(id, _)| *id == r.parent)
                        .map_or(0, |(_, l)| l + 1);
                    depth.push((r.id, level));
                    format!("{}{}", "  ".repeat(level), r.detail)
                })
                .collect()
        }
        AnyConnection::Postgres(c) => {
            let how = if sql.starts_with("SELECT") {
                "EXPLAIN (ANALYZE, BUFFERS, TIMING OFF)"
            } else {
                "EXPLAIN"
            };
            diesel::sql_query(format!("{how} {sql}"))
                .load::<PgPlan>(c)?
                .into_iter()
                .map(|r| r.plan)
                .collect()
        }
    })
}

fn count(c: &mut AnyConnection, sql: &str) -> Result<i64> {
    Ok(match c {
        AnyConnection::Sqlite(c) => diesel::sql_query(sql).get_result::<Count>(c)?.n,
        AnyConnection::Postgres(c) => diesel::sql_query(sql).get_result::<Count>(c)?.n,
    })
}

fn database_size(c: &mut AnyConnection) -> Result<String> {
    let mib = |n: i64| format!("{:.0} MiB", n as f64 / 1_048_576.0);
    Ok(if c.is_postgres() {
        format!(
            "sessions {} (table + indexes), grants {}",
            mib(count(c, "SELECT pg_total_relation_size('sessions') AS n")?),
            mib(count(c, "SELECT pg_total_relation_size('grants') AS n")?)
        )
    } else {
        let pages = count(c, "SELECT page_count AS n FROM pragma_page_count()")?;
        let size = count(c, "SELECT page_size AS n FROM pragma_page_size()")?;
        format!("{} (SQLite file, all tables)", mib(pages * size))
    })
}

/// A PostgreSQL database of the benchmark's own, on the server of the given
/// URL, dropped when this goes (the test suite's database is left alone).
struct PgScratch {
    admin: String,
    name: String,
    url: String,
}

impl PgScratch {
    fn create(admin: &str) -> Result<Self> {
        let name = format!("ward_bench_{}", uuid::Uuid::new_v4().simple());
        let mut c = PgConnection::establish(admin)?;
        c.batch_execute(&format!("CREATE DATABASE {name}"))?;
        let mut url = url::Url::parse(admin)?;
        url.set_path(&format!("/{name}"));
        Ok(Self {
            admin: admin.to_string(),
            name,
            url: url.to_string(),
        })
    }
}

impl Drop for PgScratch {
    fn drop(&mut self) {
        let dropped = PgConnection::establish(&self.admin).and_then(|mut c| {
            c.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .map_err(diesel::ConnectionError::CouldntSetupConfiguration)
        });
        if let Err(e) = dropped {
            eprintln!("could not drop the scratch database {}: {e}", self.name);
        }
    }
}
