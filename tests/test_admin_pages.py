"""The administration pages as an admin uses them: users, jurisdictions, agencies, audit log (R-A1, R-A4, R-A5)."""

from __future__ import annotations

from sqlalchemy import func, select

from core.models import Agency, AuditEntry, Jurisdiction, User
from tests.forms import get_form, submit


def test_create_and_edit_a_user_through_the_form(login, session, world):
    admin = login("admin")
    fields = {"username": "new_insp", "display_name": "新执法员", "password": "abc12345", "roles": ["inspector"],
              "jurisdiction_id": str(world.nodes["翔安区"]), "agency_id": str(world.agencies["翔安局"]),
              "cert_number": "XA-099", "cert_valid_until": "2030-01-31", "is_active": True}
    response = submit(admin, "/admin/users/new", fields)
    assert response.status_code == 302
    user = session.scalar(select(User).where(User.username == "new_insp"))
    assert user.agency_id == world.agencies["翔安局"] and user.cert_number == "XA-099"
    assert user.password_hash != "abc12345"

    # Edit without touching the password keeps it; a form opened before that save (a second tab) is stale.
    url = f"/admin/users/{user.id}/edit"
    edit, second_tab = get_form(admin, url), get_form(admin, url)
    assert edit.fill(display_name="改名执法员").submit(admin).status_code == 302
    session.expire_all()
    assert user.display_name == "改名执法员" and user.version == 2
    stale = second_tab.fill(display_name="再改").submit(admin)
    assert stale.status_code == 302  # back to the page with the conflict message
    session.expire_all()
    assert user.display_name == "改名执法员"


def test_user_form_errors_are_shown_in_chinese_and_nothing_is_written(login, session, world):
    admin = login("admin")
    before = session.scalar(select(func.count(User.id)))
    response = submit(admin, "/admin/users/new", {"username": "x y", "display_name": "", "password": "123",
                                                   "roles": ["inspector"]})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "登录名只能包含英文字母、数字和 . _ -" in html
    assert "密码至少 8 位" in html
    assert session.scalar(select(func.count(User.id))) == before


def test_jurisdiction_form_creates_a_child_and_refuses_a_wrong_level(login, session, world):
    admin = login("admin")
    ok = submit(admin, "/admin/jurisdictions/new", {"parent_id": str(world.nodes["新店街道"]), "level": "village",
                                                     "name": "新店社区", "code": ""})
    assert ok.status_code == 302
    node = session.scalar(select(Jurisdiction).where(Jurisdiction.name == "新店社区"))
    assert node.path == world.node(session, "新店街道").path + f"{node.id}/"
    bad = submit(admin, "/admin/jurisdictions/new", {"parent_id": str(world.nodes["新店街道"]), "level": "city",
                                                      "name": "错层级"})
    assert bad.status_code == 422
    assert "市不能设在乡镇/街道“新店街道”之下" in bad.get_data(as_text=True)
    assert session.scalar(select(Jurisdiction).where(Jurisdiction.name == "错层级")) is None


def test_agency_form(login, session, world):
    admin = login("admin")
    response = submit(admin, "/admin/agencies/new", {"name": "厦门市翔安区新店街道办事处", "short_name": "新店",
                                                      "jurisdiction_id": str(world.nodes["新店街道"]),
                                                      "parent_id": str(world.agencies["翔安局"])})
    assert response.status_code == 302
    agency = session.scalar(select(Agency).where(Agency.short_name == "新店"))
    assert agency.parent_id == world.agencies["翔安局"]
    dup = submit(admin, "/admin/agencies/new", {"name": "厦门市翔安区新店街道办事处", "short_name": "新",
                                                 "jurisdiction_id": str(world.nodes["新店街道"])})
    assert dup.status_code == 422 and "已有同名执法机关" in dup.get_data(as_text=True)


def test_audit_log_shows_chinese_labels_and_filters(login, session, world):
    admin = login("admin")
    submit(admin, "/admin/jurisdictions/new", {"parent_id": str(world.nodes["马巷街道"]), "level": "grid",
                                                "name": "马巷2网格"})
    html = admin.get("/admin/audit?object_type=jurisdiction").get_data(as_text=True)
    assert "新增辖区 马巷2网格" in html and ">新增<" in html and ">辖区 " in html
    assert "新增企业" not in html  # filtered to jurisdictions
    entry = session.scalar(select(AuditEntry).where(AuditEntry.summary == "新增辖区 马巷2网格"))
    assert entry.actor_name == "admin" and entry.after["name"] == "马巷2网格"
