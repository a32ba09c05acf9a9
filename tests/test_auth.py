"""Authentication and web-form protection (R-A5, R-N3): password login with throttling that cannot lock a real
user out, sessions that end (logout, password change, admin reset), safe redirects, hashed passwords, API tokens,
CSRF, and form errors that change nothing (issue 14 item 6)."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from flask import g
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict
from werkzeug.security import check_password_hash

from core.models import ApiToken, AuditEntry, Enterprise
from core.models.base import utcnow
from core.services import enterprises, logins, users
from core.services.actors import SYSTEM
from tests.factories import PASSWORD, uscc
from tests.forms import get_form, page_form, submit, tamper

OTHER_ADDRESS = {"REMOTE_ADDR": "10.9.8.7"}


@pytest.fixture(autouse=True)
def _fresh_login_cache():
    """Requests of the test clients run inside the test's app context, so Flask-Login's per-context cache
    (``g._login_user``) and Flask-WTF's (``g.csrf_token``, the signed token of the session it was made for) would
    outlive a request; forget them before each request so that every request loads its user and renders
    the CSRF token of its own session cookie, as in production (a page rendered after login carries the new
    session's token, not the one of the login page)."""
    from flask.testing import FlaskClient

    plain_open = FlaskClient.open

    def open_(self, *args, **kwargs):
        g.pop("_login_user", None)
        g.pop("csrf_token", None)
        return plain_open(self, *args, **kwargs)

    FlaskClient.open = open_
    try:
        yield
    finally:
        FlaskClient.open = plain_open


def post_login(client, username: str, password: str, remember: bool = False, next: str | None = None,
               **kwargs):
    """Fill in and send the login page's form as a browser does; ``next``: the page opened as
    ``/login?next=…`` (the form has no action, so it posts back to that URL, query string included)."""
    url = "/login" + (f"?{urlencode({'next': next})}" if next is not None else "")
    form = page_form(client.get(url, **kwargs))
    form.set("username", username).set("password", password)
    if remember:
        form.check("remember")
    return form.submit(client, **kwargs)


def post_logout(client, page: str = "/", **kwargs):
    """Press 退出 as a browser does: every page's layout carries the logout form; pick it by its action."""
    return page_form(client.get(page, **kwargs), action="/logout").submit(client, **kwargs)


def session_user(client) -> str | None:
    with client.session_transaction() as s:
        return s.get("_user_id")


def counts(session) -> tuple[int, int]:
    return (session.scalar(select(func.count(Enterprise.id))), session.scalar(select(func.count(AuditEntry.id))))


def last_audit(session, user_id: int) -> AuditEntry:
    return session.scalar(select(AuditEntry).where(AuditEntry.object_type == "user",
                                                   AuditEntry.object_id == str(user_id))
                          .order_by(AuditEntry.id.desc()).limit(1))


def login_entries(session, action: str, username: str | None = None) -> list[AuditEntry]:
    stmt = select(AuditEntry).where(AuditEntry.action == action)
    if username is not None:
        stmt = stmt.where(AuditEntry.object_type == "login", AuditEntry.object_id == username)
    return list(session.scalars(stmt.order_by(AuditEntry.id)))


def age_failures(session, seconds: float) -> None:
    """Move every recorded failure ``seconds`` into the past, as if that much time had gone by."""
    for entry in login_entries(session, logins.FAILED):
        entry.at = logins._as_utc(entry.at) - timedelta(seconds=seconds)
    session.commit()


def fresh_client(app, cookies: dict[str, str]):
    """A browser that holds only the given cookies (a copied cookie, another device)."""
    client = app.test_client()
    for name, value in cookies.items():
        client.set_cookie(name, value)
    return client


# --- login ---------------------------------------------------------------------------------------------------------


def test_login_page(client):
    resp = client.get("/login")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert '<html lang="zh-CN">' in html
    assert "登录名" in html and "密码" in html and 'name="csrf_token"' in html


def test_pages_require_login(client):
    resp = client.get("/enterprises/")
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/login?next=%2Fenterprises%2F"


def test_login_success_redirects_and_sets_session(client, session, world):
    resp = post_login(client, "xa_reg", PASSWORD)
    assert resp.status_code == 302 and resp.headers["Location"] == "/"
    user = world.user(session, "xa_reg")
    assert session_user(client) == f"{user.id}:{user.session_epoch}"
    assert user.last_login_at is not None
    assert user.version == 1  # a login does not make an admin's open edit form of this user stale
    entry = last_audit(session, user.id)
    assert entry.action == "login" and entry.ip == "127.0.0.1"
    assert client.get("/").status_code == 200
    # Logged in, the login page sends the user home.
    assert client.get("/login").headers["Location"] == "/"


def test_session_is_rotated_at_login(client, world):
    """A value planted in the session before login (session fixation) does not survive it; the cookie changes."""
    with client.session_transaction() as s:
        s["planted"] = "by-someone-else"
    before = client.get_cookie("session").value
    assert post_login(client, "xa_reg", PASSWORD).status_code == 302
    after = client.get_cookie("session").value
    assert after != before
    with client.session_transaction() as s:
        assert "planted" not in s and s["_user_id"].startswith(f"{world.users['xa_reg']}:")


def test_wrong_password_and_unknown_user_get_the_same_neutral_answer(client, session, world):
    wrong = post_login(client, "xa_reg", "wrong-pass-1")
    unknown = post_login(client, "nobody", "wrong-pass-1")
    for resp in (wrong, unknown):
        assert resp.status_code == 401
        html = resp.get_data(as_text=True)
        assert '<p class="flash flash-error" role="alert">用户名或密码错误</p>' in html
        assert "再失败" not in html and "锁定" not in html
    assert session_user(client) is None
    # Both are audited alike: the typed name and the address, no actor.
    (e1,) = login_entries(session, "login_failed", "xa_reg")
    (e2,) = login_entries(session, "login_failed", "nobody")
    for entry in (e1, e2):
        assert entry.ip == "127.0.0.1" and entry.actor_id is None and entry.summary == "登录失败：用户名或密码错误"
    # The username is kept in the form, the password is not.
    html = wrong.get_data(as_text=True)
    assert 'value="xa_reg"' in html and "wrong-pass-1" not in html


def test_throttle_after_five_failures_answers_429_without_locking_the_account(app, client, session, world):
    for _ in range(5):
        assert post_login(client, "xa_reg", "bad-password").status_code == 401
    # The sixth attempt from this address waits, even with the right password; the message is neutral.
    resp = post_login(client, "xa_reg", PASSWORD)
    assert resp.status_code == 429
    assert 1 <= int(resp.headers["Retry-After"]) <= 2
    html = resp.get_data(as_text=True)
    assert "登录尝试过于频繁，请" in html and "秒后再试" in html and "用户名或密码错误" not in html
    assert session_user(client) is None
    (throttled,) = login_entries(session, "login_throttled", "xa_reg")
    assert throttled.ip == "127.0.0.1"
    # The real user, from another address, is not affected.
    elsewhere = app.test_client()
    assert post_login(elsewhere, "xa_reg", PASSWORD, environ_base=OTHER_ADDRESS).status_code == 302
    # Neither is another account from the same address.
    assert post_login(app.test_client(), "ta_reg", PASSWORD).status_code == 302
    # Once the wait is over, the right password works from the first address too.
    age_failures(session, 3)
    assert post_login(client, "xa_reg", PASSWORD).status_code == 302


def test_unknown_user_is_throttled_like_a_real_one(client):
    """The throttle must not tell accounts apart either."""
    for name in ("xa_reg", "nobody"):
        for _ in range(5):
            post_login(client, name, "bad-password")
        resp = post_login(client, name, "bad-password")
        assert resp.status_code == 429 and "登录尝试过于频繁" in resp.get_data(as_text=True)


def test_back_off_doubles_up_to_fifteen_minutes(app, session, world):
    now = utcnow()
    user = world.user(session, "xa_reg")

    def fail(times: int, name: str = "xa_reg", address: str = "10.0.0.1") -> None:
        for _ in range(times):
            entry = AuditEntry(actor_name="anonymous", action="login_failed", object_type="login", object_id=name,
                               ip=address, at=now)
            session.add(entry)
        session.flush()

    waits = []
    for _ in range(12):
        fail(1)
        waits.append(logins.retry_after(session, "xa_reg", "10.0.0.1", user, now))
    assert waits == [0, 0, 0, 0, 2, 4, 8, 16, 32, 64, 128, 256]
    fail(10)
    assert logins.retry_after(session, "xa_reg", "10.0.0.1", user, now) == 15 * 60
    # The back-off counts from the latest failure.
    assert logins.retry_after(session, "xa_reg", "10.0.0.1", user, now + timedelta(minutes=10)) == 5 * 60
    # Failures older than the window no longer count.
    assert logins.retry_after(session, "xa_reg", "10.0.0.1", user, now + timedelta(minutes=61)) == 0
    # Another address is untouched.
    assert logins.retry_after(session, "xa_reg", "10.0.0.2", user, now) == 0


def test_per_address_throttle_after_twenty_failures(app, session, world):
    """Guessing many user names from one address slows that address, whatever name it tries next."""
    now = utcnow()
    for i in range(19):
        session.add(AuditEntry(actor_name="anonymous", action="login_failed", object_type="login",
                               object_id=f"guess{i}", ip="10.0.0.5", at=now))
    session.flush()
    assert logins.retry_after(session, "xa_reg", "10.0.0.5", None, now) == 0
    session.add(AuditEntry(actor_name="anonymous", action="login_failed", object_type="login", object_id="guess19",
                           ip="10.0.0.5", at=now))
    session.flush()
    assert logins.retry_after(session, "xa_reg", "10.0.0.5", None, now) == 2
    assert logins.retry_after(session, "xa_reg", "10.0.0.6", None, now) == 0


def test_success_starts_the_count_again(client, session, world):
    for _ in range(4):
        post_login(client, "xa_insp", "wrong-pass")
    assert post_login(client, "xa_insp", PASSWORD).status_code == 302
    assert post_logout(client).status_code == 302
    for _ in range(4):
        assert post_login(client, "xa_insp", "wrong-pass").status_code == 401  # not 429: the success reset it
    assert post_login(client, "xa_insp", PASSWORD).status_code == 302


def test_inactive_user_is_refused(client, session, world):
    user = world.user(session, "xa_insp")
    user.is_active = False
    session.commit()
    resp = post_login(client, "xa_insp", PASSWORD)
    assert resp.status_code == 401
    assert "该账户已停用，请联系管理员" in resp.get_data(as_text=True)
    assert session_user(client) is None
    # Only the right password learns that the account is disabled.
    assert "该账户已停用" not in post_login(client, "xa_insp", "wrong-pass").get_data(as_text=True)


def test_deactivated_user_loses_the_running_session(login, session, world):
    client = login("xa_insp")
    assert client.get("/").status_code == 200
    world.user(session, "xa_insp").is_active = False
    session.commit()
    resp = client.get("/")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/login")


@pytest.mark.parametrize(("target", "location"), [
    ("/enterprises/?q=1", "/enterprises/?q=1"),
    ("https://evil.example/x", "/"),
    ("//evil.example/x", "/"),
    ("http:/evil.example", "/"),
    ("/\t/evil.example", "/"),
    ("javascript:alert(1)", "/"),
    ("evil.example", "/"),
    ("/\\evil.example", "/%5Cevil.example"),  # stays a path on this site
])
def test_next_parameter_cannot_redirect_off_site(client, target, location):
    resp = post_login(client, "xa_reg", PASSWORD, next=target)
    assert resp.status_code == 302
    assert resp.headers["Location"] == location


# --- sessions end -------------------------------------------------------------------------------------------------


def test_logout_requires_post_and_is_audited(client, session, world):
    post_login(client, "xa_reg", PASSWORD)
    assert client.get("/logout").status_code == 405
    assert client.get("/").status_code == 200  # still logged in
    resp = post_logout(client, "/enterprises/")  # any page's 退出 button
    assert resp.status_code == 302 and resp.headers["Location"] == "/login"
    assert session_user(client) is None
    assert client.get("/").status_code == 302
    assert "您已退出登录" in client.get("/login").get_data(as_text=True)
    assert last_audit(session, world.users["xa_reg"]).action == "logout"


def test_a_session_cookie_saved_before_logout_is_refused_after_it(app, client, world):
    post_login(client, "xa_reg", PASSWORD)
    saved = client.get_cookie("session").value
    assert fresh_client(app, {"session": saved}).get("/").status_code == 200  # the copy works while logged in
    assert post_logout(client).status_code == 302
    resp = fresh_client(app, {"session": saved}).get("/")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/login")


def test_remember_cookie_is_short_lived_http_only_same_site_and_ends_at_logout(app, client, world):
    resp = post_login(client, "xa_reg", PASSWORD, remember=True)
    header = next(h for h in resp.headers.getlist("Set-Cookie") if h.startswith("remember_token="))
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Secure" not in header
    cookie = client.get_cookie("remember_token")
    assert timedelta(days=13) < cookie.expires - utcnow() <= timedelta(days=14)
    saved = cookie.value
    # The remember cookie alone logs in (a browser restarted) ...
    assert fresh_client(app, {"remember_token": saved}).get("/").status_code == 200
    logout = post_logout(client, "/account")
    assert any(h.startswith("remember_token=;") for h in logout.headers.getlist("Set-Cookie"))  # deleted
    # ... but not once the user has logged out, even where the browser kept it.
    resp = fresh_client(app, {"remember_token": saved}).get("/")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/login")


def test_logout_ends_the_sessions_on_other_devices(app, session, world):
    phone, desk = app.test_client(), app.test_client()
    post_login(phone, "xa_insp", PASSWORD)
    post_login(desk, "xa_insp", PASSWORD, environ_base=OTHER_ADDRESS)
    assert phone.get("/").status_code == desk.get("/").status_code == 200
    assert post_logout(desk, environ_base=OTHER_ADDRESS).status_code == 302
    assert phone.get("/").status_code == 302


def test_a_session_without_an_epoch_is_refused(app, session, world):
    """A cookie from before sessions carried epochs (a bare user id) no longer logs in."""
    client = app.test_client()
    with client.session_transaction() as s:
        s["_user_id"] = str(world.users["xa_reg"])
    assert client.get("/").status_code == 302


def test_admin_password_reset_ends_sessions_remember_cookies_and_api_tokens(app, api, login, session, world):
    user_client = app.test_client()
    post_login(user_client, "xa_insp", PASSWORD, remember=True)
    remember = user_client.get_cookie("remember_token").value
    token_client = api("xa_insp")
    assert user_client.get("/").status_code == 200 and token_client.get("/api/v1/me").status_code == 200

    admin = login("admin")
    url = f"/admin/users/{world.users['xa_insp']}/edit"
    resp = page_form(admin.get(url)).set("password", "Reset2026x").submit(admin)
    assert resp.status_code == 302

    assert user_client.get("/").status_code == 302
    assert fresh_client(app, {"remember_token": remember}).get("/").status_code == 302
    assert token_client.get("/api/v1/me").status_code == 401
    assert session.scalar(select(func.count(ApiToken.id)).where(ApiToken.user_id == world.users["xa_insp"],
                                                                ApiToken.revoked_at.is_(None))) == 0
    assert post_login(app.test_client(), "xa_insp", "Reset2026x").status_code == 302


# --- own password change ------------------------------------------------------------------------------------------


def test_password_change_is_linked_from_the_menu(login):
    html = login("xa_reg").get("/").get_data(as_text=True)
    assert 'href="/account/password"' in html


def test_password_change_flow(app, api, session, world):
    client, other = app.test_client(), app.test_client()
    post_login(client, "ent1_mgr", PASSWORD)
    post_login(other, "ent1_mgr", PASSWORD, environ_base=OTHER_ADDRESS)
    token_client = api("ent1_mgr")
    form = page_form(client.get("/account/password"))
    assert {"current_password", "new_password", "repeat_password"} <= form.names()
    resp = (form.set("current_password", PASSWORD).set("new_password", "Fresh2026pw")
            .set("repeat_password", "Fresh2026pw").submit(client))
    assert resp.status_code == 302 and resp.headers["Location"] == "/account"
    assert "密码已修改" in client.get("/account").get_data(as_text=True)
    # This browser stays logged in; the other device and the API tokens do not.
    assert client.get("/account").status_code == 200
    assert other.get("/").status_code == 302
    assert token_client.get("/api/v1/me").status_code == 401
    assert last_audit(session, world.users["ent1_mgr"]).action == "password_change"
    # The new password logs in, the old one does not.
    assert post_login(app.test_client(), "ent1_mgr", PASSWORD).status_code == 401
    assert post_login(app.test_client(), "ent1_mgr", "Fresh2026pw").status_code == 302


@pytest.mark.parametrize(("current", "new", "repeat", "field", "message"), [
    ("wrong-pass1", "Fresh2026pw", "Fresh2026pw", "current_password", "当前密码不正确"),
    (PASSWORD, "short1", "short1", "new_password", "密码至少 8 位，且须同时包含字母和数字"),
    (PASSWORD, "onlyletters", "onlyletters", "new_password", "密码至少 8 位，且须同时包含字母和数字"),
    (PASSWORD, "Fresh2026pw", "Fresh2026px", "repeat_password", "两次输入的新密码不一致"),
    (PASSWORD, PASSWORD, PASSWORD, "new_password", "新密码不能与当前密码相同"),
])
def test_password_change_errors_change_nothing(login, session, world, current, new, repeat, field, message):
    client = login("xa_reg")
    user = world.user(session, "xa_reg")
    stored, epoch = user.password_hash, user.session_epoch
    form = page_form(client.get("/account/password"))
    resp = form.set("current_password", current).set("new_password", new).set("repeat_password", repeat).submit(client)
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert f'<span class="field-error">{message}</span>' in html
    assert current not in html.split("<main>")[1]  # passwords are never echoed back
    session.expire_all()
    assert (user.password_hash, user.session_epoch) == (stored, epoch)
    assert client.get("/").status_code == 200


# --- passwords -----------------------------------------------------------------------------------------------------------


def test_passwords_are_stored_hashed(session, world):
    for username in ("admin", "xa_reg", "ent1_mgr"):
        stored = world.user(session, username).password_hash
        assert stored != PASSWORD and PASSWORD not in stored
        assert stored.startswith("pbkdf2:sha256:1000$")  # werkzeug format; tests use a cheap method
        assert check_password_hash(stored, PASSWORD)
        assert not check_password_hash(stored, PASSWORD + "x")
    hashes = {world.user(session, u).password_hash for u in ("admin", "xa_reg", "ent1_mgr")}
    assert len(hashes) == 3  # salted


def test_production_hash_method_is_scrypt(app, session, world):
    assert app.config["PASSWORD_HASH_METHOD"] == "pbkdf2:sha256:1000"
    old = app.config["PASSWORD_HASH_METHOD"]
    app.config["PASSWORD_HASH_METHOD"] = "scrypt"  # the default in core.config
    try:
        user = users.save_user(session, SYSTEM, {"username": "scrypt_user", "display_name": "x",
                                                 "password": "abc12345", "roles": ["admin"]})
    finally:
        app.config["PASSWORD_HASH_METHOD"] = old
    assert user.password_hash.startswith("scrypt:") and check_password_hash(user.password_hash, "abc12345")
    from core.config import DefaultConfig

    assert DefaultConfig.PASSWORD_HASH_METHOD == "scrypt"


def test_guessing_the_current_password_is_throttled(login, session, world):
    """A borrowed session cannot try passwords on the change page faster than on the login page."""
    client = login("xa_reg")
    for _ in range(5):
        form = page_form(client.get("/account/password"))
        resp = (form.set("current_password", "guess-pass1").set("new_password", "Fresh2026pw")
                .set("repeat_password", "Fresh2026pw").submit(client))
        assert resp.status_code == 422
    assert len(login_entries(session, "login_failed", "xa_reg")) == 5
    form = page_form(client.get("/account/password"))
    resp = (form.set("current_password", PASSWORD).set("new_password", "Fresh2026pw")
            .set("repeat_password", "Fresh2026pw").submit(client))
    assert resp.status_code == 429 and int(resp.headers["Retry-After"]) >= 1
    assert "登录尝试过于频繁" in resp.get_data(as_text=True)
    assert check_password_hash(world.user(session, "xa_reg").password_hash, PASSWORD)  # unchanged


# --- API tokens ----------------------------------------------------------------------------------------------------------


def test_api_token_is_shown_once_and_stored_as_sha256(app, login, session, world):
    client = login("xa_reg")
    page = client.get("/account")
    assert page.status_code == 200 and "暂无令牌" in page.get_data(as_text=True)

    resp = submit(client, "/account", {"name": "数据对接"}, button="创建令牌")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    match = re.search(r'<code class="token">(aj_[A-Za-z0-9_\-]+)</code>', html)
    assert match, "the new token is shown"
    raw = match.group(1)
    assert "请立即复制保存" in html

    (token,) = session.scalars(select(ApiToken).where(ApiToken.user_id == world.users["xa_reg"]))
    assert token.name == "数据对接"
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest() != raw
    assert token.prefix == raw[:10] and raw not in (token.token_hash, token.prefix)
    assert token.expires_at is not None and token.revoked_at is None

    again = client.get("/account").get_data(as_text=True)
    assert raw not in again and token.prefix in again and "数据对接" in again

    # The token authenticates the API (a client without a session cookie) until it is revoked.
    me = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"})
    assert me.status_code == 200 and me.get_json()["username"] == "xa_reg"

    revoke_url = f"/account/tokens/{token.id}/revoke"
    intruder = login("xa_insp")
    assert revoke_url not in intruder.get("/account").get_data(as_text=True)  # no page offers it to them ...
    other = tamper(intruder, revoke_url, why="another user's token: xa_insp's account page lists only "
                                             "their own tokens, so only a forged post can name this one")
    assert other.status_code == 404  # ... and the server refuses it: not theirs
    assert token.revoked_at is None

    client = login("xa_reg")
    resp = get_form(client, "/account", action=revoke_url).submit(client, "吊销")
    assert resp.status_code == 302 and resp.headers["Location"] == "/account"
    assert token.revoked_at is not None
    assert "已吊销" in client.get("/account").get_data(as_text=True)
    me = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"})
    assert me.status_code == 401
    assert session.scalar(select(AuditEntry.action).where(AuditEntry.object_type == "api_token")
                          .order_by(AuditEntry.id.desc()).limit(1)) == "revoke"


def test_api_token_needs_a_name(login, session, world):
    # Only spaces: the input's `required` lets them through, so a browser sends them.
    resp = submit(login("xa_reg"), "/account", {"name": "  "}, button="创建令牌")
    assert resp.status_code == 200
    assert "请填写用途说明（不超过 100 字）" in resp.get_data(as_text=True)
    assert session.scalar(select(func.count(ApiToken.id)).where(ApiToken.user_id == world.users["xa_reg"])) == 0


def test_account_page_shows_expired_certificate(login):
    html = login("xa_insp_expired").get("/account").get_data(as_text=True)
    assert "XA-002" in html and "已过期" in html
    assert "已过期" not in login("xa_insp").get("/account").get_data(as_text=True)


# --- CSRF ----------------------------------------------------------------------------------------------------------------


def new_enterprise_fields(world, seq: int = 901, **extra) -> dict:
    """What a regulator types into the 新增企业 page (``Form.fill`` values: a checkbox takes True/False)."""
    return {"name": f"表单企业{seq}有限公司", "uscc": uscc(seq), "jurisdiction_id": str(world.nodes["新店街道"]),
            "grid_id": str(world.nodes["新店1网格"]), "address": "新店街道表单路1号",
            "is_high_risk": False, "is_active": True, **extra}


def with_token(form, token: str | None) -> MultiDict:
    """What ``form`` sends with its CSRF token replaced by ``token`` (left out when None): the page's own
    post, forged in that one field only, so that a refusal can only be due to the token."""
    pairs = form.fields()
    assert any(n == "csrf_token" for n, _ in pairs), "the page's form carries a CSRF token"
    return MultiDict([(n, token if n == "csrf_token" else v) for n, v in pairs
                      if n != "csrf_token" or token is not None])


@pytest.fixture()
def csrf_on(app):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        yield
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_post_without_csrf_token_is_refused(csrf_on, login, session, world):
    client = login("xa_reg")
    form = get_form(client, "/enterprises/new").fill(new_enterprise_fields(world))
    before = counts(session)
    resp = tamper(client, "/enterprises/new", with_token(form, None),
                  why="no page sends its form without the CSRF token; a cross-site page posting it does")
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert "页面已过期或请求无效，请返回刷新后重试。" in html
    assert counts(session) == before
    resp = tamper(client, "/enterprises/new", with_token(form, "forged"),
                  why="a forged CSRF token: the page renders only the session's own")
    assert resp.status_code == 400
    assert counts(session) == before


def test_post_with_the_forms_csrf_token_works(csrf_on, login, session, world):
    client = login("xa_reg")
    before = counts(session)
    resp = submit(client, "/enterprises/new", new_enterprise_fields(world))  # the form carries its token
    assert resp.status_code == 302
    ent = session.scalar(select(Enterprise).where(Enterprise.uscc == uscc(901)))
    assert resp.headers["Location"] == f"/enterprises/{ent.id}"
    assert counts(session) == (before[0] + 1, before[1] + 1)


def test_login_and_logout_are_csrf_protected(csrf_on, client, login):
    login_form = get_form(client, "/login").fill(username="xa_reg", password=PASSWORD)
    resp = tamper(client, "/login", with_token(login_form, None),
                  why="login CSRF: another site posting the login form without this page's token")
    assert resp.status_code == 400
    assert session_user(client) is None
    resp = post_login(client, "xa_reg", PASSWORD)  # the login page's form carries its token
    assert resp.status_code == 302
    logout_form = get_form(client, "/", action="/logout")
    resp = tamper(client, "/logout", with_token(logout_form, None),
                  why="logout CSRF: another site posting the logout form without this page's token")
    assert resp.status_code == 400
    assert session_user(client) is not None
    assert logout_form.submit(client).status_code == 302  # the page's own 退出 button does log out
    assert session_user(client) is None


def test_api_is_exempt_from_csrf_but_needs_a_token(csrf_on, api, world):
    client = api("xa_reg")
    resp = client.post("/api/v1/enterprises", json={"name": "接口企业有限公司", "uscc": uscc(902),
                                                    "jurisdiction_id": world.nodes["新店街道"]})
    assert resp.status_code == 201


# --- web form errors -----------------------------------------------------------------------------------------------------


def test_bad_uscc_in_web_form_is_422_with_field_message(login, session, world):
    client = login("xa_reg")
    good = uscc(903)
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    before = counts(session)
    resp = submit(client, "/enterprises/new", new_enterprise_fields(world, 903, uscc=bad))
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "提交的数据有误，请检查标出的字段" in html
    assert '<span class="field-error">统一社会信用代码校验位错误，请核对</span>' in html
    assert 'value="表单企业903有限公司"' in html and f'value="{bad}"' in html  # what was typed is kept
    assert counts(session) == before


#: Bad input a browser cannot send from the page, and why; the server must refuse it all the same.
UNSENDABLE = {
    "employee_count": "an <input type=number> sends '' for text typed into it, never the text",
    "jurisdiction_id": "the select offers only the regulator's own areas",
}


@pytest.mark.parametrize(("change", "message"), [
    (lambda w, s: {"uscc": "123"}, "统一社会信用代码应为 18 位"),
    (lambda w, s: {"name": ""}, "不能为空"),
    (lambda w, s: {"employee_count": "很多"}, "应为整数"),
    (lambda w, s: {"jurisdiction_id": ""}, "不能为空"),
    (lambda w, s: {"grid_id": str(w.nodes["马巷1网格"])}, "所选网格不属于所属辖区"),
    (lambda w, s: {"jurisdiction_id": str(w.nodes["同安区"]), "grid_id": ""}, "所属辖区不在您的管辖范围内"),
    (lambda w, s: {"uscc": w.ent(s, "E2").uscc}, "该统一社会信用代码已登记"),
])
def test_web_form_errors_write_nothing(login, session, world, change, message):
    change = change(world, session)
    fields = new_enterprise_fields(world, 904, **change)
    before = counts(session)
    client = login("xa_reg")
    form = get_form(client, "/enterprises/new")
    forged = {name: UNSENDABLE[name] for name, value in change.items() if name in UNSENDABLE and value}
    if "jurisdiction_id" in forged:
        with pytest.raises(KeyError):
            # the select has no such option
            get_form(client, "/enterprises/new").set("jurisdiction_id", change["jurisdiction_id"])
    if forged:
        # Fill the rest as a user does, then put the value the page cannot send into what it sends.
        typed = form.fill({**fields, **{name: "" for name in forged}})
        body = MultiDict([(n, change[n] if n in forged else v) for n, v in typed.fields()])
        resp = tamper(client, "/enterprises/new", body, why="; ".join(forged.values()))
    else:
        resp = form.fill(fields).submit(client)
    assert resp.status_code == 422
    assert f'<span class="field-error">{message}</span>' in resp.get_data(as_text=True)
    assert counts(session) == before


def test_edit_with_stale_version_shows_conflict_and_changes_nothing(login, session, world):
    client = login("xa_reg")
    e2 = world.ent(session, "E2")
    edit_url = f"/enterprises/{e2.id}/edit"
    page = client.get(edit_url)  # the user opens the edit page at version 1 ...
    assert '<input type="hidden" name="version" value="1">' in page.get_data(as_text=True)
    form = page_form(page, page_url=edit_url)

    # ... someone else saves first ...
    enterprises.update_enterprise(session, SYSTEM, e2.id, {"version": 1, "address": "他人先保存的地址"})
    session.commit()
    audits = counts(session)

    # ... and the user saves the page they still have open.
    resp = form.fill(grid_id=str(world.nodes["新店2网格"]), address="我基于旧版本的修改").submit(client)
    assert resp.status_code == 409
    page = resp.get_data(as_text=True)
    assert "该企业信息已被他人修改（当前版本 2，您修改的是版本 1），请刷新后重试" in page
    assert "地址：最新为“他人先保存的地址”，您填写“我基于旧版本的修改”" in page  # the difference is shown
    assert 'value="我基于旧版本的修改"' in page  # what the user typed is kept
    assert '<input type="hidden" name="version" value="2">' in page  # saving again applies to the current version
    session.expire_all()
    assert (e2.address, e2.version) == ("他人先保存的地址", 2)
    assert counts(session) == audits

    # Saving the conflict page again, knowingly, now succeeds.
    assert page_form(resp, page_url=edit_url, status=409).submit(client).status_code == 302
    session.expire_all()
    assert (e2.address, e2.version, e2.grid_id) == ("我基于旧版本的修改", 3, world.nodes["新店2网格"])


def test_edit_with_current_version_saves(login, session, world):
    client = login("xa_reg")
    e3 = world.ent(session, "E3")
    resp = submit(client, f"/enterprises/{e3.id}/edit", {
        "jurisdiction_id": str(world.nodes["马巷街道"]), "grid_id": str(world.nodes["马巷1网格"]),
        "address": "马巷街道新址", "is_key_industry": True})
    assert resp.status_code == 302 and resp.headers["Location"] == f"/enterprises/{e3.id}"
    session.expire_all()
    assert (e3.address, e3.version, e3.is_key_industry) == ("马巷街道新址", 2, True)


def test_two_clients_in_one_test_act_as_their_own_users(login, world):
    """Guard for the test fixtures: each request loads the user of its own client."""
    reg, ent = login("xa_reg"), login("ent1_mgr")
    assert reg.get("/admin/users").status_code == 403
    assert ent.get("/enterprises/new").status_code == 403
    assert reg.get("/enterprises/new").status_code == 200
    assert ent.get(f"/enterprises/{world.enterprises['E2']}").status_code == 404
