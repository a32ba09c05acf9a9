"""Authentication and web-form protection (R-A5, R-N3): password login with lockout, safe redirects, logout,
hashed passwords, API tokens, CSRF, and form errors that change nothing."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from flask import g
from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from core.models import ApiToken, AuditEntry, Enterprise
from core.models.base import utcnow
from core.services import enterprises, users
from core.services.actors import SYSTEM
from tests.conftest import csrf_token_from
from tests.factories import PASSWORD, uscc


@pytest.fixture(autouse=True)
def _fresh_login_cache():
    """Requests of the test clients run inside the test's app context, so Flask-Login's per-context cache
    (``g._login_user``) would outlive a request; forget it before each request so that every request loads its
    user from its own session cookie, as in production."""
    from flask.testing import FlaskClient

    plain_open = FlaskClient.open

    def open_(self, *args, **kwargs):
        g.pop("_login_user", None)
        return plain_open(self, *args, **kwargs)

    FlaskClient.open = open_
    try:
        yield
    finally:
        FlaskClient.open = plain_open


def post_login(client, username: str, password: str, **kwargs):
    return client.post("/login", data={"username": username, "password": password}, **kwargs)


def session_user(client) -> str | None:
    with client.session_transaction() as s:
        return s.get("_user_id")


def counts(session) -> tuple[int, int]:
    return (session.scalar(select(func.count(Enterprise.id))), session.scalar(select(func.count(AuditEntry.id))))


def last_audit(session, user_id: int) -> AuditEntry:
    return session.scalar(select(AuditEntry).where(AuditEntry.object_type == "user",
                                                   AuditEntry.object_id == str(user_id))
                          .order_by(AuditEntry.id.desc()).limit(1))


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
    assert session_user(client) == str(world.users["xa_reg"])
    user = world.user(session, "xa_reg")
    assert user.failed_logins == 0 and user.last_login_at is not None
    assert last_audit(session, user.id).action == "login"
    assert client.get("/").status_code == 200
    # Logged in, the login page sends the user home.
    assert client.get("/login").headers["Location"] == "/"


def test_wrong_password_shows_remaining_attempts(client, session, world):
    resp = post_login(client, "xa_reg", "wrong-pass-1")
    assert resp.status_code == 401
    assert "用户名或密码错误（再失败 4 次将锁定账户）" in resp.get_data(as_text=True)
    assert session_user(client) is None
    user = world.user(session, "xa_reg")
    assert user.failed_logins == 1
    entry = last_audit(session, user.id)
    assert entry.action == "login_failed" and entry.ip == "127.0.0.1"
    resp = post_login(client, "xa_reg", "wrong-pass-2")
    assert "再失败 3 次将锁定账户" in resp.get_data(as_text=True)
    # The username is kept in the form, the password is not.
    assert 'value="xa_reg"' in resp.get_data(as_text=True) and "wrong-pass-2" not in resp.get_data(as_text=True)


def test_unknown_user_gets_the_same_message_without_a_count(client):
    resp = post_login(client, "nobody", "whatever-1")
    assert resp.status_code == 401
    html = resp.get_data(as_text=True)
    assert "用户名或密码错误" in html and "再失败" not in html


def test_success_resets_the_failure_count(client, session, world):
    post_login(client, "xa_insp", "wrong-pass")
    post_login(client, "xa_insp", "wrong-pass")
    assert world.user(session, "xa_insp").failed_logins == 2
    assert post_login(client, "xa_insp", PASSWORD).status_code == 302
    assert world.user(session, "xa_insp").failed_logins == 0


def test_lockout_after_five_failures_and_unlock_after_fifteen_minutes(client, session, world):
    for left in (4, 3, 2, 1):
        resp = post_login(client, "xa_reg", "bad-password")
        assert resp.status_code == 401
        assert f"再失败 {left} 次将锁定账户" in resp.get_data(as_text=True)
    resp = post_login(client, "xa_reg", "bad-password")
    assert resp.status_code == 401
    assert "登录失败次数过多，账户已锁定 15 分钟" in resp.get_data(as_text=True)
    user = world.user(session, "xa_reg")
    locked_until = users._as_utc(user.locked_until)
    assert timedelta(minutes=14) < locked_until - utcnow() <= timedelta(minutes=15)

    # Locked: even the right password is refused, and nothing is logged in.
    resp = post_login(client, "xa_reg", PASSWORD)
    assert resp.status_code == 401
    assert "登录失败次数过多，账户已锁定，请 15 分钟后再试" in resp.get_data(as_text=True)
    assert session_user(client) is None
    assert last_audit(session, user.id).action == "login_refused_locked"

    # Some minutes later the message counts down.
    user.locked_until = utcnow() + timedelta(minutes=3)
    session.commit()
    assert "请 3 分钟后再试" in post_login(client, "xa_reg", PASSWORD).get_data(as_text=True)

    # After the lock has run out the right password works again.
    user.locked_until = utcnow() - timedelta(seconds=1)
    session.commit()
    resp = post_login(client, "xa_reg", PASSWORD)
    assert resp.status_code == 302
    assert session_user(client) == str(user.id)
    assert user.locked_until is None and user.failed_logins == 0


def test_other_accounts_are_not_locked(client, session, world):
    for _ in range(5):
        post_login(client, "xa_reg", "bad-password")
    assert post_login(client, "ta_reg", PASSWORD).status_code == 302


def test_inactive_user_is_refused(client, session, world):
    user = world.user(session, "xa_insp")
    user.is_active = False
    session.commit()
    resp = post_login(client, "xa_insp", PASSWORD)
    assert resp.status_code == 401
    assert "该账户已停用，请联系管理员" in resp.get_data(as_text=True)
    assert session_user(client) is None


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
    resp = post_login(client, "xa_reg", PASSWORD, query_string={"next": target})
    assert resp.status_code == 302
    assert resp.headers["Location"] == location


def test_logout_requires_post(login):
    client = login("xa_reg")
    assert client.get("/logout").status_code == 405
    assert client.get("/").status_code == 200  # still logged in
    resp = client.post("/logout")
    assert resp.status_code == 302 and resp.headers["Location"] == "/login"
    assert session_user(client) is None
    assert client.get("/").status_code == 302
    assert "您已退出登录" in client.get("/login").get_data(as_text=True)


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


# --- API tokens ----------------------------------------------------------------------------------------------------------


def test_api_token_is_shown_once_and_stored_as_sha256(app, login, session, world):
    client = login("xa_reg")
    page = client.get("/account")
    assert page.status_code == 200 and "暂无令牌" in page.get_data(as_text=True)

    resp = client.post("/account", data={"name": "数据对接"})
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

    other = login("xa_insp").post(f"/account/tokens/{token.id}/revoke")
    assert other.status_code == 404  # not theirs
    assert token.revoked_at is None

    client = login("xa_reg")
    resp = client.post(f"/account/tokens/{token.id}/revoke")
    assert resp.status_code == 302 and resp.headers["Location"] == "/account"
    assert token.revoked_at is not None
    assert "已吊销" in client.get("/account").get_data(as_text=True)
    me = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"})
    assert me.status_code == 401
    assert session.scalar(select(AuditEntry.action).where(AuditEntry.object_type == "api_token")
                          .order_by(AuditEntry.id.desc()).limit(1)) == "revoke"


def test_api_token_needs_a_name(login, session, world):
    resp = login("xa_reg").post("/account", data={"name": "  "})
    assert resp.status_code == 200
    assert "请填写用途说明（不超过 100 字）" in resp.get_data(as_text=True)
    assert session.scalar(select(func.count(ApiToken.id)).where(ApiToken.user_id == world.users["xa_reg"])) == 0


def test_account_page_shows_expired_certificate(login):
    html = login("xa_insp_expired").get("/account").get_data(as_text=True)
    assert "XA-002" in html and "已过期" in html
    assert "已过期" not in login("xa_insp").get("/account").get_data(as_text=True)


# --- CSRF ----------------------------------------------------------------------------------------------------------------


def new_enterprise_form(world, seq: int = 901, **extra) -> dict:
    return {"name": f"表单企业{seq}有限公司", "uscc": uscc(seq), "jurisdiction_id": str(world.nodes["新店街道"]),
            "grid_id": str(world.nodes["新店1网格"]), "address": "新店街道表单路1号",
            "is_high_risk": "0", "is_active": "1", **extra}


@pytest.fixture()
def csrf_on(app):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        yield
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_post_without_csrf_token_is_refused(csrf_on, login, session, world):
    client = login("xa_reg")
    before = counts(session)
    resp = client.post("/enterprises/new", data=new_enterprise_form(world))
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert "页面已过期或请求无效，请返回刷新后重试。" in html
    assert counts(session) == before
    resp = client.post("/enterprises/new", data={**new_enterprise_form(world), "csrf_token": "forged"})
    assert resp.status_code == 400
    assert counts(session) == before


def test_post_with_the_forms_csrf_token_works(csrf_on, login, session, world):
    client = login("xa_reg")
    token = csrf_token_from(client.get("/enterprises/new").get_data(as_text=True))
    before = counts(session)
    resp = client.post("/enterprises/new", data={**new_enterprise_form(world), "csrf_token": token})
    assert resp.status_code == 302
    ent = session.scalar(select(Enterprise).where(Enterprise.uscc == uscc(901)))
    assert resp.headers["Location"] == f"/enterprises/{ent.id}"
    assert counts(session) == (before[0] + 1, before[1] + 1)


def test_login_and_logout_are_csrf_protected(csrf_on, client, login):
    assert post_login(client, "xa_reg", PASSWORD).status_code == 400
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    resp = client.post("/login", data={"username": "xa_reg", "password": PASSWORD, "csrf_token": token})
    assert resp.status_code == 302
    assert client.post("/logout").status_code == 400
    assert session_user(client) is not None


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
    resp = client.post("/enterprises/new", data=new_enterprise_form(world, 903, uscc=bad))
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "提交的数据有误，请检查标出的字段" in html
    assert '<span class="field-error">统一社会信用代码校验位错误，请核对</span>' in html
    assert 'value="表单企业903有限公司"' in html and f'value="{bad}"' in html  # what was typed is kept
    assert counts(session) == before


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
    before = counts(session)
    resp = login("xa_reg").post("/enterprises/new", data=new_enterprise_form(world, 904, **change))
    assert resp.status_code == 422
    assert f'<span class="field-error">{message}</span>' in resp.get_data(as_text=True)
    assert counts(session) == before


def test_edit_with_stale_version_shows_conflict_and_changes_nothing(login, session, world):
    client = login("xa_reg")
    e2 = world.ent(session, "E2")
    edit_url = f"/enterprises/{e2.id}/edit"
    form_html = client.get(edit_url).get_data(as_text=True)
    assert '<input type="hidden" name="version" value="1">' in form_html

    # Someone else saves first.
    enterprises.update_enterprise(session, SYSTEM, e2.id, {"version": 1, "address": "他人先保存的地址"})
    session.commit()
    audits = counts(session)

    form = new_enterprise_form(world, 2, name=e2.name, uscc=e2.uscc, grid_id=str(world.nodes["新店2网格"]),
                               address="我基于旧版本的修改", version="1")
    resp = client.post(edit_url, data=form)
    assert resp.status_code == 409
    page = resp.get_data(as_text=True)
    assert "该企业信息已被他人修改（当前版本 2，您修改的是版本 1），请刷新后重试" in page
    assert "地址：最新为“他人先保存的地址”，您填写“我基于旧版本的修改”" in page  # the difference is shown
    assert 'value="我基于旧版本的修改"' in page  # what the user typed is kept
    assert '<input type="hidden" name="version" value="2">' in page  # saving again applies to the current version
    session.expire_all()
    assert (e2.address, e2.version) == ("他人先保存的地址", 2)
    assert counts(session) == audits

    # Saving again, knowingly, now succeeds.
    form["version"] = "2"
    assert client.post(edit_url, data=form).status_code == 302
    session.expire_all()
    assert (e2.address, e2.version) == ("我基于旧版本的修改", 3)


def test_edit_with_current_version_saves(login, session, world):
    client = login("xa_reg")
    e3 = world.ent(session, "E3")
    form = new_enterprise_form(world, 3, name=e3.name, uscc=e3.uscc, jurisdiction_id=str(world.nodes["马巷街道"]),
                               grid_id=str(world.nodes["马巷1网格"]), address="马巷街道新址", version="1",
                               is_key_industry="1")
    resp = client.post(f"/enterprises/{e3.id}/edit", data=form)
    assert resp.status_code == 302 and resp.headers["Location"] == f"/enterprises/{e3.id}"
    session.expire_all()
    assert (e3.address, e3.version) == ("马巷街道新址", 2)



def test_two_clients_in_one_test_act_as_their_own_users(login, world):
    """Guard for the test fixtures: each request loads the user of its own client."""
    reg, ent = login("xa_reg"), login("ent1_mgr")
    assert reg.get("/admin/users").status_code == 403
    assert ent.get("/enterprises/new").status_code == 403
    assert reg.get("/enterprises/new").status_code == 200
    assert ent.get(f"/enterprises/{world.enterprises['E2']}").status_code == 404
