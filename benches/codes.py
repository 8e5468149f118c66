#!/usr/bin/env python3
"""The benchmarks' HTTP client for Ward's pages, and the authorization codes the
token benchmarks exchange.

As a script: one password sign-in of the user `bench`, then single sign-on,
`N` codes for the client `bench` with PKCE S256, four connections at a time,
one code a line:

    benches/codes.py BASE REDIRECT_URI CODE_CHALLENGE N OUT_FILE

As a module (`sys.path.insert(0, "benches")`): `request` and `sign_in`, shared
by login.sh and instructions.sh.
"""
import http.client, re, sys, threading, urllib.parse

PASSWORD = "bench-password-for-load"


def authorize_query(redirect, challenge, scope="openid profile offline_access"):
    """The query of `GET /authorize` for the client `bench`, with PKCE S256."""
    return urllib.parse.urlencode(dict(response_type="code", client_id="bench", redirect_uri=redirect, scope=scope,
                                       code_challenge=challenge, code_challenge_method="S256"))


def request(conn, method, path, cookies, body=None, headers=None):
    """One request with `cookies` (updated from Set-Cookie) and a form `body`:
    (status, Location, body text)."""
    h = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()), **(headers or {})}
    if body is not None:
        h["Content-Type"] = "application/x-www-form-urlencoded"; body = urllib.parse.urlencode(body)
    conn.request(method, path, body, h); r = conn.getresponse(); data = r.read().decode()
    for k, v in r.getheaders():
        if k.lower() == "set-cookie":
            name, val = v.split(";")[0].split("=", 1); cookies[name] = val
    return r.status, r.getheader("Location"), data


def login_form(conn, query, cookies):
    """The sign-in form's fields for a new interaction (`GET /authorize`, then its login page)."""
    _, loc, _ = request(conn, "GET", "/authorize?" + query, cookies)
    _, _, page = request(conn, "GET", loc, cookies)
    field = lambda name: re.search(f'name="{name}" value="([^"]+)"', page).group(1)
    return dict(interaction=field("interaction"), csrf=field("csrf"), username="bench", password=PASSWORD)


def sign_in(conn, query, cookies):
    """Sign `bench` in with its password; `cookies` then hold the session."""
    return request(conn, "POST", "/login", cookies, login_form(conn, query, cookies))


def code(conn, query, cookies):
    """One authorization code by single sign-on."""
    _, loc, _ = request(conn, "GET", "/authorize?" + query, dict(cookies))
    return urllib.parse.parse_qs(urllib.parse.urlparse(loc).query)["code"][0]


def main(base, redirect, challenge, n, out):
    u = urllib.parse.urlparse(base)
    q = authorize_query(redirect, challenge)
    cookies = {}
    sign_in(http.client.HTTPConnection(u.hostname, u.port), q, cookies)
    codes, lock = [], threading.Lock()

    def work(count):
        c = http.client.HTTPConnection(u.hostname, u.port)
        for _ in range(count):
            one = code(c, q, cookies)
            with lock: codes.append(one)
    ts = [threading.Thread(target=work, args=(n // 4,)) for _ in range(4)]
    [t.start() for t in ts]; [t.join() for t in ts]
    open(out, "w").write("\n".join(codes) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
