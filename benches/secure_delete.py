#!/usr/bin/env python3
import sqlite3, time, os, sys, uuid, tempfile

# The cost of SQLite's `PRAGMA secure_delete = ON` (docs/privacy.md) on a transaction
# shaped like a code exchange (consume the code, insert grant, refresh token and
# audit record) and on a purge: python3 benches/secure_delete.py [FULL|OFF]
# (OFF isolates the CPU cost from the fsync that dominates with FULL).
SYNC = sys.argv[1] if len(sys.argv) > 1 else "OFF"
def run(sd, n=3000):
    d = tempfile.TemporaryDirectory()
    p = os.path.join(d.name, "t.db")
    c = sqlite3.connect(p, isolation_level=None)
    c.execute("PRAGMA journal_mode=WAL"); c.execute(f"PRAGMA synchronous={SYNC}")
    c.execute(f"PRAGMA secure_delete={'ON' if sd else 'OFF'}")
    c.execute("CREATE TABLE codes(h TEXT PRIMARY KEY, user TEXT, scope TEXT, consumed INTEGER)")
    c.execute("CREATE TABLE grants(id TEXT PRIMARY KEY, user TEXT, scope TEXT, created INTEGER)")
    c.execute("CREATE TABLE rt(h TEXT PRIMARY KEY, grant_id TEXT, created INTEGER)")
    c.execute("CREATE TABLE audit(id INTEGER PRIMARY KEY, details TEXT, seq INTEGER)")
    c.execute("BEGIN")
    for i in range(n):
        c.execute("INSERT INTO codes VALUES(?,?,?,NULL)", (uuid.uuid4().hex, "u", "openid profile"))
    c.execute("COMMIT")
    hs = [r[0] for r in c.execute("SELECT h FROM codes")]
    t = time.perf_counter()
    for h in hs:  # one code exchange: consume, grant, refresh token, audit record
        c.execute("BEGIN IMMEDIATE")
        c.execute("UPDATE codes SET consumed=1 WHERE h=?", (h,))
        g = uuid.uuid4().hex
        c.execute("INSERT INTO grants VALUES(?,?,?,1)", (g, "u", "openid profile"))
        c.execute("INSERT INTO rt VALUES(?,?,1)", (uuid.uuid4().hex, g))
        c.execute("INSERT INTO audit(details) VALUES(?)", ('{"client":"bench","scope":"openid profile"}',))
        c.execute("COMMIT")
    ex = (time.perf_counter() - t) / n * 1e6
    t = time.perf_counter()
    c.execute("DELETE FROM codes WHERE consumed = 1")  # the purge job
    pu = (time.perf_counter() - t) * 1e3
    c.close()
    d.cleanup()
    return ex, pu
for rep in range(3):
    for sd in (False, True):
        ex, pu = run(sd)
        print(f"secure_delete={'ON ' if sd else 'OFF'} exchange txn {ex:7.1f} us   purge of 3000 rows {pu:6.1f} ms")
