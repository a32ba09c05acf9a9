"""The JSON API under /api/v1 (R-A2, R-A4, R-A5, R-N3, R-N5).

Every request goes through the ``api(username)`` fixture (a client carrying a fresh Bearer token). The tokens
are committed (into the per-test savepoint) right after they are made: an error response rolls the request's
session back, and an uncommitted token would be rolled back with it.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core.models import ApiToken, AuditEntry, Enterprise, Jurisdiction
from core.models.base import utcnow
from core.services.actors import SYSTEM
from core.services.users import create_token, revoke_token
from tests.factories import uscc

API = "/api/v1"
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture()
def as_user(api, session):
    """``as_user("xa_reg")`` → an API client whose token survives error responses (see the module docstring)."""

    def _as(username: str):
        client = api(username)
        session.commit()
        return client

    return _as


def names(resp) -> set[str]:
    return {item["name"] for item in resp.get_json()["items"]}


def ent_names(*keys: str) -> set[str]:
    return {f"测试{k}有限公司" for k in keys}


def audit_count(session, **where) -> int:
    stmt = select(func.count(AuditEntry.id))
    for key, value in where.items():
        stmt = stmt.where(getattr(AuditEntry, key) == value)
    return session.scalar(stmt)


def enterprise_count(session) -> int:
    return session.scalar(select(func.count(Enterprise.id)))


def new_enterprise(world, seq: int = 101, **extra) -> dict:
    return {"name": f"接口新建{seq}有限公司", "uscc": uscc(seq), "jurisdiction_id": world.nodes["新店街道"],
            "grid_id": world.nodes["新店1网格"], "address": "新店街道接口路1号", **extra}


def assert_chinese_error(resp, status: int) -> dict:
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.is_json
    body = resp.get_json()
    assert body["code"] == status
    assert CJK.search(body["message"]), body
    return body


# --- authentication (R-A5) ------------------------------------------------------------------------------------

def test_no_token_is_401_json_in_chinese(client):
    """R-A5: the API needs a token; the refusal is JSON with a Chinese message."""
    body = assert_chinese_error(client.get(f"{API}/enterprises"), 401)
    assert "令牌" in body["message"]
    assert_chinese_error(client.get(f"{API}/me"), 401)
    assert_chinese_error(client.get(f"{API}/jurisdictions"), 401)


@pytest.mark.parametrize("header", ["Bearer aj_not-a-real-token", "Basic eGFfcmVnOnRlc3QtcGFzcy0xMjM=", "Bearer ",
                                    "aj_no_scheme"])
def test_bad_token_is_401(client, header):
    """R-A5: a malformed, unknown or wrong-scheme credential is refused with 401."""
    body = assert_chinese_error(client.get(f"{API}/me", headers={"Authorization": header}), 401)
    assert "令牌" in body["message"]


def test_revoked_token_is_401(app, session, world):
    """R-A5: a revoked token stops working at once."""
    raw, token = create_token(session, SYSTEM, world.user(session, "xa_reg"), "吊销测试")
    session.commit()
    c = app.test_client()
    headers = {"Authorization": f"Bearer {raw}"}
    assert c.get(f"{API}/me", headers=headers).status_code == 200
    revoke_token(session, SYSTEM, token.id)
    session.commit()
    body = assert_chinese_error(c.get(f"{API}/me", headers=headers), 401)
    assert "吊销" in body["message"]


def test_expired_token_is_401(app, session, world):
    """R-A5: an expired token is refused."""
    raw, token = create_token(session, SYSTEM, world.user(session, "xa_reg"), "过期测试", days=1)
    session.commit()
    c = app.test_client()
    headers = {"Authorization": f"Bearer {raw}"}
    assert c.get(f"{API}/me", headers=headers).status_code == 200
    session.get(ApiToken, token.id).expires_at = utcnow() - timedelta(minutes=1)
    session.commit()
    assert_chinese_error(c.get(f"{API}/me", headers=headers), 401)


def test_token_of_disabled_user_is_401(app, session, world):
    """R-A5: disabling an account also disables its tokens."""
    user = world.user(session, "xa_reg")
    raw, _ = create_token(session, SYSTEM, user, "停用测试")
    user.is_active = False
    session.commit()
    assert_chinese_error(app.test_client().get(f"{API}/me", headers={"Authorization": f"Bearer {raw}"}), 401)


def test_session_cookie_does_not_authenticate_the_api(login):
    """R-A5: the API is token-only, so a logged-in browser session (and thus CSRF) cannot drive it."""
    c = login("admin")
    assert c.get("/enterprises/").status_code == 200  # the session works for the web UI …
    assert_chinese_error(c.get(f"{API}/enterprises"), 401)  # … but not for the API
    assert_chinese_error(c.post(f"{API}/jurisdictions", json={"level": "township", "name": "x"}), 401)


def test_me(as_user, world):
    """R-A4: /me tells who the token belongs to, with roles and scope anchors."""
    body = as_user("xa_insp").get(f"{API}/me").get_json()
    assert body["username"] == "xa_insp"
    assert body["roles"] == ["inspector"]
    assert body["jurisdiction_id"] == world.nodes["翔安区"]
    assert body["cert_number"] == "XA-001"
    assert "password_hash" not in body and "password" not in body
    body = as_user("ent1_mgr").get(f"{API}/me").get_json()
    assert body["enterprise_id"] == world.enterprises["E1"]
    assert body["roles"] == ["enterprise_manager"]


def test_errors_are_json_in_chinese(as_user, world):
    """R-N3/R-N4: unknown path, wrong method, malformed or non-object JSON: JSON errors, Chinese, unescaped."""
    c = as_user("admin")
    assert_chinese_error(c.get(f"{API}/nope"), 404)
    assert_chinese_error(c.delete(f"{API}/enterprises/{world.enterprises['E1']}"), 405)
    assert_chinese_error(c.post(f"{API}/enterprises", data="{bad", content_type="application/json"), 400)
    body = assert_chinese_error(c.post(f"{API}/enterprises", json=[1, 2]), 422)
    assert body["errors"]["json"]["_schema"] == ["数据格式无效"]
    resp = c.get(f"{API}/enterprises/987654")
    assert "记录不存在" in resp.get_data(as_text=True)  # readable UTF-8, not \u escapes
    assert "测试E1有限公司" in c.get(f"{API}/enterprises").get_data(as_text=True)


# --- enterprise list: scope, filters, pagination (R-A2, R-A4) ---------------------------------------------------

@pytest.mark.parametrize(("user", "expected"), [
    ("admin", ("E1", "E2", "E3", "E4")),
    ("city_reg", ("E1", "E2", "E3", "E4")),
    ("xa_reg", ("E1", "E2", "E3")),
    ("xa_insp", ("E1", "E2", "E3")),
    ("ta_reg", ("E4",)),
    ("grid1", ("E1",)),
    ("ent1_mgr", ("E1",)),
    ("ent1_principal", ("E1",)),
    ("ent4_mgr", ("E4",)),
])
def test_enterprise_list_is_scoped(as_user, user, expected):
    """R-A4: each user lists exactly the enterprises of their enterprise or jurisdiction subtree."""
    resp = as_user(user).get(f"{API}/enterprises")
    assert resp.status_code == 200
    body = resp.get_json()
    assert names(resp) == ent_names(*expected)
    assert body["total"] == len(expected)
    assert body["next_after"] is None


def test_enterprise_list_filters(as_user, world):
    """R-A2: q (name fragment or exact USCC), jurisdiction_id, sector, flags."""
    c = as_user("xa_reg")

    def listed(**params):
        resp = c.get(f"{API}/enterprises", query_string=params)
        assert resp.status_code == 200, resp.get_json()
        return names(resp)

    assert listed(q="E2") == ent_names("E2")
    assert listed(q="测试") == ent_names("E1", "E2", "E3")
    assert listed(q=uscc(3)) == ent_names("E3")
    assert listed(q=uscc(3).lower()) == ent_names("E3")
    assert listed(q=uscc(4, "350212")) == set()  # E4's exact USCC, but out of scope
    assert listed(q="%") == set()  # LIKE wildcards are escaped
    assert listed(q="_") == set()
    assert listed(jurisdiction_id=world.nodes["新店街道"]) == ent_names("E1", "E2")
    assert listed(jurisdiction_id=world.nodes["马巷1网格"]) == ent_names("E3")
    assert listed(jurisdiction_id=world.nodes["同安区"]) == set()  # outside the scope: nothing, not E4
    assert listed(jurisdiction_id=999999) == set()
    assert listed(sector="fake") == ent_names("E1")
    # An unknown sector code is a 422 naming the enabled ones, like every enum-like parameter (issue 14).
    resp = c.get(f"{API}/enterprises", query_string={"sector": "nosuch"})
    assert resp.status_code == 422 and resp.get_json()["errors"]["query"]["sector"] == ["取值应为以下之一：fake"]
    assert listed(is_high_risk="true") == ent_names("E1")
    assert listed(is_high_risk="false") == ent_names("E2", "E3")
    assert listed(is_small_micro="是") == ent_names("E2")
    assert listed(is_key_industry="true", jurisdiction_id=world.nodes["马巷街道"]) == ent_names("E3")
    assert as_user("admin").get(f"{API}/enterprises", query_string={"is_high_risk": "1"}).get_json()["total"] == 2


def test_enterprise_list_bad_filter_is_422(as_user):
    """R-N3: a malformed query parameter is a 422 naming the parameter."""
    c = as_user("xa_reg")
    body = assert_chinese_error(c.get(f"{API}/enterprises?size=0"), 422)
    assert "size" in body["errors"]["query"]
    body = assert_chinese_error(c.get(f"{API}/enterprises?size=201"), 422)
    assert "size" in body["errors"]["query"]
    body = assert_chinese_error(c.get(f"{API}/enterprises?jurisdiction_id=abc"), 422)
    assert body["errors"]["query"]["jurisdiction_id"] == ["应为整数"]


def test_enterprise_list_keyset_pagination(as_user):
    """R-N1/R-A2: keyset pages (size, next_after → after) walk every row once, newest first."""
    c = as_user("admin")
    seen, after, pages = [], None, 0
    while True:
        params = {"size": 1} if after is None else {"size": 1, "after": after}
        body = c.get(f"{API}/enterprises", query_string=params).get_json()
        pages += 1
        assert len(body["items"]) == 1
        assert body["total"] == 4
        seen.extend(item["id"] for item in body["items"])
        after = body["next_after"]
        if after is None:
            break
        assert after == body["items"][-1]["id"]
        assert pages < 10, "pagination does not end"
    assert pages == 4
    assert len(seen) == len(set(seen)) == 4
    assert seen == sorted(seen, reverse=True)

    body = c.get(f"{API}/enterprises", query_string={"size": 3}).get_json()
    assert len(body["items"]) == 3 and body["next_after"] is not None
    rest = c.get(f"{API}/enterprises", query_string={"size": 3, "after": body["next_after"]}).get_json()
    assert len(rest["items"]) == 1 and rest["next_after"] is None
    assert {i["id"] for i in body["items"]} | {i["id"] for i in rest["items"]} == set(seen)


def test_enterprise_list_pagination_keeps_scope(as_user, world):
    """R-A4: paging never steps outside the scope (xa_reg: three rows, E4 never appears)."""
    c = as_user("xa_reg")
    seen, after = [], None
    for _ in range(5):
        params = {"size": 2} if after is None else {"size": 2, "after": after}
        body = c.get(f"{API}/enterprises", query_string=params).get_json()
        seen.extend(i["id"] for i in body["items"])
        after = body["next_after"]
        if after is None:
            break
    assert sorted(seen) == sorted(world.enterprises[k] for k in ("E1", "E2", "E3"))


# --- enterprise detail ---------------------------------------------------------------------------------------------

def test_enterprise_detail_in_scope(as_user, world):
    """R-A2: the detail carries the record, its jurisdiction, grid, agency and sector data."""
    resp = as_user("xa_reg").get(f"{API}/enterprises/{world.enterprises['E1']}")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["name"] == "测试E1有限公司"
    assert body["uscc"] == uscc(1)
    assert body["jurisdiction"] == {"id": world.nodes["新店街道"], "name": "新店街道"}
    assert body["grid"] == {"id": world.nodes["新店1网格"], "name": "新店1网格"}
    assert body["supervising_agency"]["name"] == "厦门市翔安区应急管理局"
    assert body["is_high_risk"] is True
    assert body["sectors"] == [{"sector": "fake", "sector_name": "测试领域", "activities": ["生产"],
                                "data": {"licence_no": "FK-001"}}]
    assert isinstance(body["version"], int)
    assert "scope_path" not in body


@pytest.mark.parametrize(("user", "ent"), [("xa_reg", "E4"), ("ta_reg", "E1"), ("ent1_mgr", "E2"),
                                           ("ent4_mgr", "E1"), ("grid1", "E2"), ("xa_insp", "E4")])
def test_enterprise_detail_out_of_scope_is_404_like_missing(as_user, world, user, ent):
    """R-A4: out of scope answers exactly like a missing id (no leak of existence)."""
    c = as_user(user)
    hidden = c.get(f"{API}/enterprises/{world.enterprises[ent]}")
    missing = c.get(f"{API}/enterprises/987654")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.get_json() == missing.get_json()
    assert CJK.search(hidden.get_json()["message"])
    assert "测试" not in hidden.get_data(as_text=True)


# --- enterprise create (R-A2, R-A5, R-N3) --------------------------------------------------------------------------

def test_create_enterprise(as_user, session, world):
    """R-A2/R-A5: a regulator creates an enterprise in scope; 201 and an audit entry with the after-image."""
    data = new_enterprise(world, 101, sectors=[{"sector": "fake", "activities": ["经营"],
                                               "data": {"licence_no": "FK-777"}}], is_high_risk=True)
    resp = as_user("xa_reg").post(f"{API}/enterprises", json=data)
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["name"] == data["name"] and body["uscc"] == data["uscc"]
    assert body["version"] == 1
    assert body["sectors"][0]["data"]["licence_no"] == "FK-777"
    ent = session.get(Enterprise, body["id"])
    assert ent.scope_path == world.node(session, "新店1网格").path
    entry = session.scalar(select(AuditEntry).where(AuditEntry.object_type == "enterprise",
                                                    AuditEntry.object_id == str(ent.id)))
    assert entry is not None
    assert entry.action == "create"
    assert entry.actor_id == world.users["xa_reg"] and entry.actor_name == "xa_reg"
    assert entry.after["uscc"] == data["uscc"]
    assert entry.after["sectors"][0]["data"]["licence_no"] == "FK-777"
    # visible to the regulator's list now, not to the neighbouring district
    assert data["name"] in names(as_user("xa_reg").get(f"{API}/enterprises"))
    assert data["name"] not in names(as_user("ta_reg").get(f"{API}/enterprises"))


def test_create_normalises_uscc(as_user, world):
    """R-A2: spaces, dashes and lower case in the USCC are normalised before the check digit is verified."""
    code = uscc(102)
    spaced = f"{code[:6]}-{code[6:12]} {code[12:]}".lower()
    resp = as_user("xa_reg").post(f"{API}/enterprises", json=new_enterprise(world, 102, uscc=spaced))
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["uscc"] == code


def test_dates_round_trip(as_user, world):
    """R-A2 (安责险 period): dates are accepted as ISO strings and come back the same in create, detail, list."""
    c = as_user("xa_reg")
    data = new_enterprise(world, 110, insurance_company="某保险公司", insurance_start="2025-01-01",
                          insurance_end="2025-12-31", longitude=118.25, latitude=24.6)
    resp = c.post(f"{API}/enterprises", json=data)
    assert resp.status_code == 201, resp.get_data(as_text=True)
    ent_id = resp.get_json()["id"]
    for body in (resp.get_json(), c.get(f"{API}/enterprises/{ent_id}").get_json(),
                 next(i for i in c.get(f"{API}/enterprises").get_json()["items"] if i["id"] == ent_id)):
        assert (body["insurance_start"], body["insurance_end"]) == ("2025-01-01", "2025-12-31")
        assert (body["longitude"], body["latitude"]) == (118.25, 24.6)
    resp = c.patch(f"{API}/enterprises/{ent_id}", json={"insurance_end": "2026-06-30", "version": 1})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.get_json()["insurance_end"] == "2026-06-30"


def _refused(resp, session, before_ents, before_audit, status=422):
    """Nothing changed. A refused permission (403) is itself audited once as "refused" (R-N4); nothing else is."""
    body = assert_chinese_error(resp, status)
    assert enterprise_count(session) == before_ents
    expected_refusals = 1 if status == 403 else 0
    assert audit_count(session) == before_audit + expected_refusals
    assert audit_count(session, action="refused") >= expected_refusals
    return body


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"uscc": uscc(103)[:-1] + ("0" if uscc(103)[-1] != "0" else "1")}, "uscc", "统一社会信用代码校验位错误，请核对"),
    ({"uscc": "91350213"}, "uscc", "统一社会信用代码应为 18 位"),
    ({"uscc": None}, "uscc", "不能为空"),
    ({"name": ""}, "name", "不能为空"),
    ({"name": "   "}, "name", "不能为空"),
    ({"name": "甲"}, "name", "长度应在 2 到 200 个字符之间"),
    ({"nickname": "x"}, "nickname", "未知字段"),
    ({"jurisdiction_id": "abc"}, "jurisdiction_id", "应为整数"),
    ({"longitude": 200}, "longitude", "应在 -180 到 180 之间"),
    ({"insurance_start": "2025-01-01", "insurance_end": "2024-01-01"}, "insurance_end", "安责险止期不能早于起期"),
])
def test_create_schema_errors_are_422(as_user, session, world, change, field, message):
    """R-N3: bad input → 422 with errors.json.<field> in Chinese; nothing is written."""
    c = as_user("xa_reg")
    before = enterprise_count(session), audit_count(session)
    resp = c.post(f"{API}/enterprises", json=new_enterprise(world, 103, **change))
    body = _refused(resp, session, *before)
    assert message in body["errors"]["json"][field], body


def test_create_missing_required_fields(as_user, session):
    """R-N3: every missing required field is named at once."""
    c = as_user("xa_reg")
    before = enterprise_count(session), audit_count(session)
    body = _refused(c.post(f"{API}/enterprises", json={}), session, *before)
    assert body["errors"]["json"] == {"name": ["必填项"], "uscc": ["必填项"], "jurisdiction_id": ["必填项"]}


def test_create_duplicate_uscc_is_422(as_user, session, world):
    """R-A2/R-N3: a USCC already registered (even outside the caller's scope) is refused on the field."""
    c = as_user("xa_reg")
    before = enterprise_count(session), audit_count(session)
    body = _refused(c.post(f"{API}/enterprises", json=new_enterprise(world, 104, uscc=uscc(2))),
                    session, *before)
    assert body["errors"]["json"]["uscc"] == ["该统一社会信用代码已登记"]


def test_create_outside_scope_is_422_on_jurisdiction(as_user, session, world):
    """R-A4: a regulator cannot place an enterprise outside their jurisdiction."""
    c = as_user("xa_reg")
    before = enterprise_count(session), audit_count(session)
    data = new_enterprise(world, 105, jurisdiction_id=world.nodes["大同街道"], grid_id=world.nodes["大同1网格"])
    body = _refused(c.post(f"{API}/enterprises", json=data), session, *before)
    assert body["errors"]["json"]["jurisdiction_id"] == ["所属辖区不在您的管辖范围内"]


def test_create_grid_not_under_jurisdiction_is_422(as_user, session, world):
    """R-A1: the grid cell must lie under the enterprise's jurisdiction."""
    c = as_user("xa_reg")
    before = enterprise_count(session), audit_count(session)
    data = new_enterprise(world, 106, grid_id=world.nodes["马巷1网格"])
    body = _refused(c.post(f"{API}/enterprises", json=data), session, *before)
    assert body["errors"]["json"]["grid_id"] == ["所选网格不属于所属辖区"]
    body = _refused(c.post(f"{API}/enterprises", json=new_enterprise(world, 106, grid_id=world.nodes["新店街道"])),
                    session, *before)
    assert body["errors"]["json"]["grid_id"] == ["所选网格不存在"]
    body = _refused(c.post(f"{API}/enterprises", json=new_enterprise(
        world, 106, jurisdiction_id=world.nodes["新店1网格"], grid_id=None)), session, *before)
    assert "网格" in body["errors"]["json"]["jurisdiction_id"][0]


def test_create_unknown_references_are_422(as_user, session, world):
    """R-N3: ids that do not exist are refused on their fields."""
    c = as_user("admin")
    before = enterprise_count(session), audit_count(session)
    data = new_enterprise(world, 107, jurisdiction_id=999999, grid_id=None, supervising_agency_id=999999)
    body = _refused(c.post(f"{API}/enterprises", json=data), session, *before)
    assert body["errors"]["json"]["jurisdiction_id"] == ["所属辖区不存在"]
    assert body["errors"]["json"]["supervising_agency_id"] == ["监管主体不存在"]


def test_create_sector_data_failing_plugin_schema_is_422(as_user, session, world):
    """R-P2/R-N3: sector data is validated by the plugin's schema; the nested message reaches the client."""
    c = as_user("xa_reg")
    before = enterprise_count(session), audit_count(session)
    data = new_enterprise(world, 108, sectors=[{"sector": "fake", "activities": ["生产"],
                                               "data": {"licence_no": "XX-1"}}])
    body = _refused(c.post(f"{API}/enterprises", json=data), session, *before)
    assert body["errors"]["json"]["sectors"] == {"0": {"data": {"licence_no": ["许可证编号应以 FK- 开头"]}}}

    data["sectors"] = [{"sector": "fake", "activities": ["爆破"], "data": {"licence_no": "FK-1"}}]
    body = _refused(c.post(f"{API}/enterprises", json=data), session, *before)
    assert body["errors"]["json"]["sectors"]["0"]["activities"] == ["测试领域领域的类别应为：生产、经营"]

    # A sector code no enabled plugin provides is refused by the schema, naming the codes it accepts (issue 14).
    data["sectors"] = [{"sector": "hazchem", "data": {}}]
    body = _refused(c.post(f"{API}/enterprises", json=data), session, *before)
    assert body["errors"]["json"]["sectors"]["0"]["sector"] == ["取值应为以下之一：fake"]


@pytest.mark.parametrize("user", ["ent1_mgr", "ent1_principal", "grid1", "xa_insp"])
def test_create_by_non_regulator_is_403(as_user, session, world, user):
    """R-A4: only regulators and admins create enterprises."""
    c = as_user(user)
    before = enterprise_count(session), audit_count(session)
    body = _refused(c.post(f"{API}/enterprises", json=new_enterprise(world, 109)), session, *before, status=403)
    assert body["message"] == "只有监管人员或管理员可以新增企业"


# --- enterprise update (R-N3 optimistic locking, R-A4) -------------------------------------------------------------

def _ent(session, world, key="E2") -> Enterprise:
    session.expire_all()
    return world.ent(session, key)


def test_update_requires_version(as_user, session, world):
    """R-N3: a PATCH without ``version`` is a blind overwrite: 422 on ``version``, nothing changed."""
    before = _ent(session, world).address
    resp = as_user("xa_reg").patch(f"{API}/enterprises/{world.enterprises['E2']}", json={"address": "新地址"})
    body = assert_chinese_error(resp, 422)
    assert body["errors"]["json"]["version"] == ["必填项"]
    assert _ent(session, world).address == before


def test_update_partial_with_version(as_user, session, world):
    """R-N3: a PATCH changes only what it sends; version goes up by one; the change is audited."""
    ent = _ent(session, world)
    version, name = ent.version, ent.name
    resp = as_user("xa_reg").patch(f"{API}/enterprises/{ent.id}",
                                   json={"address": "新店街道新路8号", "employee_count": 42, "version": version})
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["address"] == "新店街道新路8号"
    assert body["employee_count"] == 42
    assert body["name"] == name
    assert body["version"] == version + 1
    ent = _ent(session, world)
    assert (ent.address, ent.version, ent.is_small_micro) == ("新店街道新路8号", version + 1, True)
    entry = session.scalar(select(AuditEntry).where(AuditEntry.object_type == "enterprise",
                                                    AuditEntry.object_id == str(ent.id),
                                                    AuditEntry.action == "update"))
    assert entry.after == {"address": "新店街道新路8号", "employee_count": 42}
    assert entry.before == {"address": "新店街道测试路2号", "employee_count": None}


def test_update_stale_version_is_409(as_user, session, world):
    """R-N3: editing an old version is refused with 409 and changes nothing."""
    ent = _ent(session, world)
    version = ent.version
    c = as_user("xa_reg")
    before_audit = audit_count(session)
    resp = c.patch(f"{API}/enterprises/{ent.id}", json={"address": "旧版本", "version": version - 1})
    body = assert_chinese_error(resp, 409)
    assert "已被他人修改" in body["message"]
    ent = _ent(session, world)
    assert ent.address != "旧版本" and ent.version == version
    assert audit_count(session) == before_audit


def test_concurrent_patches_second_is_409(as_user, session, world):
    """R-N3: two clients edit the same version; the first wins, the second gets 409 (never silently overwrites)."""
    ent = _ent(session, world)
    version = ent.version
    alice, bob = as_user("xa_reg"), as_user("city_reg")
    first = alice.patch(f"{API}/enterprises/{ent.id}", json={"address": "甲改的地址", "version": version})
    second = bob.patch(f"{API}/enterprises/{ent.id}", json={"address": "乙改的地址", "version": version})
    assert first.status_code == 200
    assert_chinese_error(second, 409)
    ent = _ent(session, world)
    assert (ent.address, ent.version) == ("甲改的地址", version + 1)


def test_update_bad_data_is_422_and_changes_nothing(as_user, session, world):
    """R-N3: a PATCH that fails validation leaves the record as it was."""
    ent = _ent(session, world, "E1")
    version, grid = ent.version, ent.grid_id
    c = as_user("xa_reg")
    body = assert_chinese_error(c.patch(f"{API}/enterprises/{ent.id}",
                                        json={"grid_id": world.nodes["马巷1网格"], "address": "半途", "version": version}),
                                422)
    assert body["errors"]["json"]["grid_id"] == ["所选网格不属于所属辖区"]
    body = assert_chinese_error(c.patch(f"{API}/enterprises/{ent.id}", json={
        "sectors": [{"sector": "fake", "data": {"licence_no": "BAD"}}], "version": version}), 422)
    assert body["errors"]["json"]["sectors"]["0"]["data"]["licence_no"] == ["许可证编号应以 FK- 开头"]
    ent = _ent(session, world, "E1")
    assert (ent.version, ent.grid_id) == (version, grid)
    assert ent.address != "半途"
    assert ent.sectors[0].data["licence_no"] == "FK-001"


def test_update_out_of_scope_is_404(as_user, session, world):
    """R-A4: a PATCH on another district's enterprise is 404 (like a missing id) and changes nothing."""
    ent = _ent(session, world, "E4")
    version, address = ent.version, ent.address
    resp = as_user("xa_reg").patch(f"{API}/enterprises/{ent.id}", json={"address": "越权", "version": version})
    assert_chinese_error(resp, 404)
    missing = as_user("xa_reg").patch(f"{API}/enterprises/987654", json={"address": "越权", "version": 1})
    assert resp.get_json() == missing.get_json()
    ent = _ent(session, world, "E4")
    assert (ent.address, ent.version) == (address, version)


def test_regulator_moves_enterprise_within_scope(as_user, session, world):
    """R-A4: changing jurisdiction and grid recomputes the enterprise's scope; out of the scope is refused."""
    ent = _ent(session, world, "E2")
    c = as_user("xa_reg")
    resp = c.patch(f"{API}/enterprises/{ent.id}", json={
        "jurisdiction_id": world.nodes["马巷街道"], "grid_id": world.nodes["马巷1网格"], "version": ent.version})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["grid"]["name"] == "马巷1网格"
    ent = _ent(session, world, "E2")
    assert ent.scope_path == world.node(session, "马巷1网格").path
    version = ent.version
    body = assert_chinese_error(c.patch(f"{API}/enterprises/{ent.id}", json={
        "jurisdiction_id": world.nodes["大同街道"], "grid_id": None, "version": version}), 422)
    assert body["errors"]["json"]["jurisdiction_id"] == ["所属辖区不在您的管辖范围内"]
    ent = _ent(session, world, "E2")
    assert (ent.jurisdiction_id, ent.version) == (world.nodes["马巷街道"], version)


def test_enterprise_user_updates_own_record(as_user, session, world):
    """R-A4: an enterprise manager keeps their own record (address, contacts)."""
    ent = _ent(session, world, "E1")
    resp = as_user("ent1_mgr").patch(f"{API}/enterprises/{ent.id}", json={
        "address": "新店街道自报路1号", "safety_manager_name": "张三", "is_high_risk": True, "version": ent.version})
    assert resp.status_code == 200, resp.get_json()  # an unchanged supervision value is no change
    assert resp.get_json()["address"] == "新店街道自报路1号"
    assert _ent(session, world, "E1").safety_manager_name == "张三"


@pytest.mark.parametrize(("change", "named"), [
    ({"is_high_risk": False}, ["is_high_risk"]),
    ({"jurisdiction_id": "马巷街道", "grid_id": "马巷1网格"}, ["grid_id", "jurisdiction_id"]),
    ({"credit_class": "A", "name": "改名有限公司"}, ["credit_class", "name"]),
])
def test_enterprise_user_cannot_change_supervision_fields(as_user, session, world, change, named):
    """R-A4: supervision fields are the regulator's; an enterprise changing them gets 403 naming the fields."""
    change = {k: world.nodes[v] if k.endswith("_id") else v for k, v in change.items()}
    ent = _ent(session, world, "E1")
    snapshot = (ent.version, ent.address, ent.is_high_risk, ent.jurisdiction_id, ent.credit_class, ent.name)
    resp = as_user("ent1_mgr").patch(f"{API}/enterprises/{ent.id}",
                                     json={"address": "顺便改地址", **change, "version": ent.version})
    body = assert_chinese_error(resp, 403)
    for field in named:
        assert field in body["message"]
    ent = _ent(session, world, "E1")
    assert (ent.version, ent.address, ent.is_high_risk, ent.jurisdiction_id, ent.credit_class, ent.name) == snapshot


def test_enterprise_user_cannot_patch_other_enterprise(as_user, session, world):
    """R-A4: an enterprise user editing another enterprise gets 404."""
    ent = _ent(session, world, "E4")
    assert_chinese_error(as_user("ent1_mgr").patch(f"{API}/enterprises/{ent.id}",
                                                   json={"address": "x", "version": ent.version}), 404)


@pytest.mark.parametrize("user", ["grid1", "xa_insp"])
def test_update_without_permission_is_403(as_user, session, world, user):
    """R-A4: grid workers and inspectors see an enterprise but do not edit it."""
    ent = _ent(session, world, "E1")
    resp = as_user(user).patch(f"{API}/enterprises/{ent.id}", json={"address": "x", "version": ent.version})
    assert assert_chinese_error(resp, 403)["message"] == "您无权修改企业信息"
    assert _ent(session, world, "E1").address != "x"


# --- jurisdictions (R-A1) ----------------------------------------------------------------------------------------

def test_jurisdiction_list_is_scoped(as_user, world):
    """R-A1/R-A4: a district regulator sees its own subtree in tree order; admin sees all."""
    resp = as_user("xa_reg").get(f"{API}/jurisdictions")
    assert resp.status_code == 200
    nodes = resp.get_json()
    assert [n["name"] for n in nodes] == ["翔安区", "新店街道", "新店1网格", "新店2网格", "马巷街道", "马巷1网格"]
    assert nodes[0]["level_label"] == "县/区"
    assert len(as_user("admin").get(f"{API}/jurisdictions").get_json()) == len(world.nodes)
    assert [n["name"] for n in as_user("grid1").get(f"{API}/jurisdictions").get_json()] == ["新店1网格"]


@pytest.mark.parametrize("user", ["ent1_mgr", "ent4_mgr"])
def test_jurisdiction_list_enterprise_user_sees_none(as_user, world, user):
    """R-A4: enterprise users see no jurisdiction nodes (refused: the tree is government data)."""
    resp = as_user(user).get(f"{API}/jurisdictions")
    assert assert_chinese_error(resp, 403)["message"] == "您无权查看辖区"
    assert "翔安区" not in resp.get_data(as_text=True)
    assert as_user(user).get(f"{API}/jurisdictions/{world.nodes['新店街道']}").status_code in (403, 404)


def test_jurisdiction_detail_scope(as_user, world):
    """R-A4: a node outside the subtree is 404 like a missing one."""
    c = as_user("xa_reg")
    assert c.get(f"{API}/jurisdictions/{world.nodes['马巷街道']}").get_json()["name"] == "马巷街道"
    hidden = c.get(f"{API}/jurisdictions/{world.nodes['同安区']}")
    missing = c.get(f"{API}/jurisdictions/987654")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.get_json() == missing.get_json()
    assert c.get(f"{API}/jurisdictions/{world.nodes['厦门市']}").status_code == 404  # parents too


def test_create_jurisdiction(as_user, session, world):
    """R-A1: admin adds a node below its parent; path and audit entry follow."""
    parent = world.node(session, "翔安区")
    resp = as_user("admin").post(f"{API}/jurisdictions", json={
        "parent_id": parent.id, "level": "township", "name": "内厝镇", "code": "350213104"})
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["path"] == f"{parent.path}{body['id']}/"
    assert body["level_label"] == "乡镇/街道"
    assert audit_count(session, object_type="jurisdiction", object_id=str(body["id"]), action="create") == 1
    assert "内厝镇" in [n["name"] for n in as_user("xa_reg").get(f"{API}/jurisdictions").get_json()]
    # a 功能区 ranks with counties: allowed under a city
    resp = as_user("admin").post(f"{API}/jurisdictions", json={
        "parent_id": world.nodes["厦门市"], "level": "zone", "name": "火炬高新区"})
    assert resp.status_code == 201


@pytest.mark.parametrize(("payload", "field", "message"), [
    ({"parent": "新店街道", "level": "county", "name": "错层区"}, "level", "县/区不能设在乡镇/街道“新店街道”之下"),
    ({"parent": "翔安区", "level": "county", "name": "同级区"}, "level", "县/区不能设在县/区“翔安区”之下"),
    ({"parent": "翔安区", "level": "township", "name": "重码镇", "code": "350212"}, "code", "该行政区划代码已被使用"),
    ({"parent": "翔安区", "level": "township", "name": "坏码镇", "code": "35A"}, "code",
     "行政区划代码应为 6、9 或 12 位数字"),
    ({"parent": "翔安区", "level": "town", "name": "乱级镇"}, "level", None),
    ({"parent": None, "level": "city", "name": "无上级市"}, "parent_id", "除省级外，辖区必须有上级"),
    ({"parent_id": 999999, "level": "township", "name": "无父镇"}, "parent_id", "上级辖区不存在"),
    ({"parent": "翔安区", "level": "township"}, "name", "必填项"),
])
def test_create_jurisdiction_errors_are_422(as_user, session, world, payload, field, message):
    """R-A1/R-N3: wrong level, duplicate or malformed code, missing parent → 422 on the field; nothing written."""
    payload = dict(payload)
    if "parent" in payload:
        parent = payload.pop("parent")
        payload["parent_id"] = world.nodes[parent] if parent else None
    count = session.scalar(select(func.count(Jurisdiction.id)))
    body = assert_chinese_error(as_user("admin").post(f"{API}/jurisdictions", json=payload), 422)
    assert field in body["errors"]["json"], body
    if message:
        assert message in body["errors"]["json"][field]
    assert session.scalar(select(func.count(Jurisdiction.id))) == count


@pytest.mark.parametrize("user", ["xa_reg", "city_reg", "ent1_mgr"])
def test_create_jurisdiction_by_non_admin_is_403(as_user, session, world, user):
    """R-A4: only the platform admin maintains the tree."""
    count = session.scalar(select(func.count(Jurisdiction.id)))
    resp = as_user(user).post(f"{API}/jurisdictions", json={
        "parent_id": world.nodes["翔安区"], "level": "township", "name": "越权镇"})
    assert assert_chinese_error(resp, 403)["message"] == "只有平台管理员可以维护辖区"
    assert session.scalar(select(func.count(Jurisdiction.id))) == count


def test_update_jurisdiction_version(as_user, session, world):
    """R-N3: renaming a node needs its current version; stale → 409, missing → 422, right → 200 and +1."""
    node = world.node(session, "马巷街道")
    version = node.version
    c = as_user("admin")
    assert_chinese_error(c.patch(f"{API}/jurisdictions/{node.id}", json={"name": "旧名"}), 422)
    body = assert_chinese_error(c.patch(f"{API}/jurisdictions/{node.id}", json={"name": "旧名", "version": version - 1}),
                                409)
    assert "已被他人修改" in body["message"]
    session.expire_all()
    assert world.node(session, "马巷街道").name == "马巷街道"
    resp = c.patch(f"{API}/jurisdictions/{node.id}", json={"name": "马巷镇", "version": version})
    assert resp.status_code == 200
    assert resp.get_json()["version"] == version + 1
    assert_chinese_error(c.patch(f"{API}/jurisdictions/{node.id}", json={"name": "再改", "version": version}), 409)


def test_update_jurisdiction_by_regulator_is_403(as_user, session, world):
    """R-A4: a regulator cannot rename even their own node."""
    node = world.node(session, "翔安区")
    resp = as_user("xa_reg").patch(f"{API}/jurisdictions/{node.id}", json={"name": "改名区", "version": node.version})
    assert_chinese_error(resp, 403)


def test_move_jurisdiction_rewrites_subtree_and_enterprise_scope(as_user, session, world):
    """R-A1 (行政区划调整): moving 新店街道 to 同安区 rewrites the subtree's paths and its enterprises' scope."""
    node, target = world.node(session, "新店街道"), world.node(session, "同安区")
    resp = as_user("admin").patch(f"{API}/jurisdictions/{node.id}",
                                  json={"parent_id": target.id, "version": node.version})
    assert resp.status_code == 200, resp.get_json()
    new_path = f"{target.path}{node.id}/"
    assert resp.get_json()["path"] == new_path
    session.expire_all()
    grid = world.node(session, "新店1网格")
    assert grid.path == f"{new_path}{grid.id}/"
    assert world.node(session, "新店2网格").path.startswith(new_path)
    assert world.node(session, "马巷街道").path.startswith(world.node(session, "翔安区").path)
    assert world.ent(session, "E1").scope_path == grid.path
    assert world.ent(session, "E2").scope_path.startswith(new_path)
    assert world.ent(session, "E3").scope_path.startswith(world.node(session, "翔安区").path)
    # scope follows the tree at once
    assert names(as_user("xa_reg").get(f"{API}/enterprises")) == ent_names("E3")
    assert names(as_user("ta_reg").get(f"{API}/enterprises")) == ent_names("E1", "E2", "E4")
    assert names(as_user("grid1").get(f"{API}/enterprises")) == ent_names("E1")
    assert as_user("xa_reg").get(f"{API}/enterprises/{world.enterprises['E1']}").status_code == 404


def test_change_level_above_children_is_422(as_user, session, world):
    """R-A1: a node cannot take a level at or below its children's (翔安区 has 街道 below it)."""
    node = world.node(session, "翔安区")
    c = as_user("admin")
    body = assert_chinese_error(c.patch(f"{API}/jurisdictions/{node.id}",
                                        json={"level": "village", "version": node.version}), 422)
    assert body["errors"]["json"]["level"] == ["“翔安区”下有乡镇/街道级辖区，不能改为村/社区"]
    session.expire_all()
    assert world.node(session, "翔安区").level == "county"
    # a level change that keeps the order is fine: 县/区 → 功能区 (same rank)
    resp = c.patch(f"{API}/jurisdictions/{node.id}", json={"level": "zone", "version": node.version})
    assert resp.status_code == 200, resp.get_json()


def test_move_jurisdiction_into_own_subtree_is_422(as_user, session, world):
    """R-A1: a node cannot become its own descendant."""
    node = world.node(session, "翔安区")
    resp = as_user("admin").patch(f"{API}/jurisdictions/{node.id}",
                                  json={"parent_id": world.nodes["新店街道"], "version": node.version})
    body = assert_chinese_error(resp, 422)
    assert body["errors"]["json"]["parent_id"] == ["不能把辖区移到它自己的下级"]
    session.expire_all()
    assert world.node(session, "翔安区").parent_id == world.nodes["厦门市"]


# --- OpenAPI (R-N5) ------------------------------------------------------------------------------------------------

def test_openapi_lists_every_api_path(app, client):
    """R-N5: /api/v1/openapi.json is public JSON describing every API route and the bearer scheme."""
    resp = client.get(f"{API}/openapi.json")
    assert resp.status_code == 200
    spec = json.loads(resp.get_data(as_text=True))
    assert spec["openapi"].startswith("3.")
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {"type": "http", "scheme": "bearer"}
    assert {"bearerAuth": []} in spec["security"]
    documented = {(path, method.upper()) for path, ops in spec["paths"].items() for method in ops
                  if method in ("get", "post", "patch", "put", "delete")}
    routes = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(API + "/") or rule.endpoint.startswith("api-docs."):
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        routes.update((path, m) for m in rule.methods - {"HEAD", "OPTIONS"})
    assert routes, "no API routes found"
    assert routes == documented
    patch = spec["paths"][f"{API}/enterprises/{{enterprise_id}}"]["patch"]
    schema = patch["requestBody"]["content"]["application/json"]["schema"]
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    assert schema.get("required") == ["version"]
