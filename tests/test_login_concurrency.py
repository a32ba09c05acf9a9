"""Login throttling under real concurrency (issue 14 item 6, R-A5, R-N3): 40 parallel wrong logins against gunicorn
with 2 workers on SQLite answer 401 or 429, never a server error, and the real user still logs in from another
address. (Before: 20 of 40 parallel wrong logins were server errors, and the account was locked for everyone.)"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections import Counter
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa

from tests.factories import PASSWORD
from tests.live_gunicorn import in_parallel, serve_gunicorn

pytestmark = pytest.mark.slow


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # a 302 after a login is the answer itself
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def post_login(base: str, username: str, password: str, address: str) -> tuple[int, dict[str, str]]:
    """POST the login form as a browser behind a proxy that reports ``address`` → (status, headers)."""
    req = urllib.request.Request(base + "/login", data=urlencode({"username": username, "password": password}).encode(),
                                 headers={"X-Forwarded-For": address,
                                          "Content-Type": "application/x-www-form-urlencoded"})
    try:
        with _opener.open(req, timeout=60) as resp:
            return resp.status, dict(resp.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers)


def test_forty_parallel_wrong_logins_on_gunicorn(tmp_path, monkeypatch):
    monkeypatch.setenv("ANJIAN_PROXY_COUNT", "1")  # one trusted proxy: X-Forwarded-For is the client address
    attacker, user_address = "198.51.100.7", "198.51.100.8"
    with serve_gunicorn(tmp_path, workers=2) as (base, _, url):
        started = time.monotonic()
        results = in_parallel([lambda i=i: post_login(base, "xa_reg", f"wrong-{i}", attacker) for i in range(40)])
        elapsed = time.monotonic() - started
        failures = [r for r in results if isinstance(r, Exception)]
        assert not failures, failures[:3]
        statuses = Counter(status for status, _ in results)
        print(f"\n40 parallel wrong logins, gunicorn -w 2, SQLite: {dict(statuses)} in {elapsed:.2f} s")
        assert not [s for s in statuses if s >= 500], statuses
        assert set(statuses) <= {401, 429}, statuses
        assert statuses[401] >= 5 and statuses[429] >= 1, statuses
        assert all(int(h["Retry-After"]) >= 1 for s, h in results if s == 429)

        # The right password from the attacker's address waits too; from the user's own address it works at once.
        assert post_login(base, "xa_reg", PASSWORD, attacker)[0] == 429
        status, headers = post_login(base, "xa_reg", PASSWORD, user_address)
        assert status == 302 and headers["Location"] == "/"

        # Guessing 40 different user names at once (each costs a dummy scrypt hash): the per-address back-off.
        guesser = "198.51.100.9"
        started = time.monotonic()
        guesses = in_parallel([lambda i=i: post_login(base, f"guess{i}", "wrong", guesser) for i in range(40)])
        elapsed = time.monotonic() - started
        spread = Counter(r if isinstance(r, Exception) else r[0] for r in guesses)
        print(f"40 parallel wrong logins with 40 user names: {dict(spread)} in {elapsed:.2f} s")
        assert set(spread) <= {401, 429} and spread[429] >= 1, spread
        assert post_login(base, "ta_reg", PASSWORD, user_address)[0] == 302

        engine = sa.create_engine(url)
        try:
            with engine.connect() as conn:
                rows = dict(conn.execute(sa.text(
                    "SELECT action, count(*) FROM audit_log WHERE action LIKE 'login%' GROUP BY action")).all())
                addresses = {r[0] for r in conn.execute(sa.text(
                    "SELECT DISTINCT ip FROM audit_log WHERE action LIKE 'login%'"))}
        finally:
            engine.dispose()
        print(f"audit log: {rows}")
        # Every attempt is in the audit log once, as a failure or as a throttled attempt, under its real address.
        assert rows["login_failed"] == statuses[401] + spread[401]
        assert rows["login_throttled"] == statuses[429] + 1 + spread[429]
        assert rows["login"] == 2
        assert addresses == {attacker, user_address, guesser}
