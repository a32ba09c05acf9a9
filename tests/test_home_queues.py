"""Every role's home page is its work queue (issue 17 item 1, R-O1).

The home page of each world user is rendered with real data behind every queue; each queue's number is followed to
its list, which must show exactly that many rows (「共 N 条」 of the ledger and the document list); every item links
to the page where its job is done, and that page opens. The two notions of overdue are separate queues with their
own filters: a hazard whose 挂牌督办 deadline passed while its rectification deadline has not is 督办逾期 only.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from core.models import Hazard, HazardSupervision
from core.services import hazards
from core.services.hazards import today
from tests import factories

COUNT = re.compile(r'<a class="queue-count" href="([^"]+)" title="[^"]*" data-count="(\d+)"')
ITEM = re.compile(r'<ul class="queue-items">(.*?)</ul>', re.DOTALL)
TOTAL = re.compile(r"共 (\d+)(\+?) 条")


@pytest.fixture(autouse=True)
def _uploads(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(tmp_path))


@pytest.fixture()
def busy(session, world):
    made = factories.fill_work_queues(session, world)
    session.commit()
    return made


def queues_of(client) -> tuple[str, list[tuple[str, int]]]:
    html = client.get("/").get_data(as_text=True)
    return html, [(href.replace("&amp;", "&"), int(n)) for href, n in COUNT.findall(html)]


@pytest.mark.parametrize("username", ["xa_reg", "city_reg", "ta_reg", "xa_insp", "ent1_mgr", "ent4_mgr", "grid1",
                                      "admin"])
def test_every_queue_number_is_the_count_of_its_list_and_every_item_opens(login, busy, username):
    client = login(username)
    html, counts = queues_of(client)
    assert counts, f"{username} has no work queue on the home page"
    for href, n in counts:
        page = client.get(href)
        assert page.status_code == 200, href
        total = TOTAL.search(page.get_data(as_text=True))
        if href.startswith(("/hazards/", "/documents/?")):
            assert total and (int(total[1]), total[2]) == (n, ""), (href, n, total and total[0])
    for block in ITEM.findall(html):
        for href in re.findall(r'<a href="([^"]+)"', block):
            assert client.get(href.replace("&amp;", "&")).status_code == 200, href


def test_the_regulator_sees_both_notions_of_overdue_by_name(login, busy, world):
    """督办逾期 (the 挂牌督办 deadline) and 整改逾期 (the rectification deadline) are separate, each named."""
    html, counts = queues_of(login("xa_reg"))
    by_href = dict(counts)
    assert by_href["/hazards/?supervised=true&supervision_overdue=true"] == 1
    assert by_href["/hazards/?overdue=true"] == 1
    assert by_href["/hazards/?level=major&state=open"] == 1
    assert "挂牌督办期限已过、督办未解除的隐患" in html and "整改期限已过、仍为登记或整改中的隐患" in html
    assert "逾期 3 天" in html and "逾期 2 天" in html
    # The district regulator does not see the sibling district's hazard; the city regulator sees both districts.
    assert "同安区的隐患" not in html


def test_the_inspector_sees_rechecks_unreceived_documents_and_checks(login, busy, world):
    html, counts = queues_of(login("xa_insp"))
    by_href = dict(counts)
    assert by_href["/hazards/?state=pending_review"] == 1
    assert by_href["/documents/?unreceived=true"] == 2
    assert "配电箱未接地" in html and busy["order"].number in html


def test_the_enterprise_manager_starts_a_self_check_from_home(login, busy, world):
    """The enterprise's home page is its own queue (not a redirect), with the 开始自查 button."""
    resp = login("ent1_mgr").get("/")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "开始自查" in html and 'href="/inspections/new"' in html
    assert dict(queues_of(login("ent1_mgr"))[1])[f"/hazards/?state=open&enterprise_id={world.enterprises['E1']}"] == 3
    assert "同安区的隐患" not in html


def test_supervision_overdue_is_a_ledger_filter_of_its_own(session, busy, world):
    """The ledger filter behind 督办逾期 counts listings past their own deadline, not rectification deadlines."""
    reg = world.user(session, "xa_reg")
    late = hazards.hazard_query(session, reg, {"supervision_overdue": True})
    ids = {h.id for h in session.scalars(late)}
    assert ids == {busy["listed"].id}
    assert busy["late"].id not in ids  # 整改逾期 only
    supervision = session.query(HazardSupervision).filter_by(hazard_id=busy["listed"].id).one()
    supervision.due_date = date.today() + timedelta(days=1)
    session.flush()
    assert not list(session.scalars(hazards.hazard_query(session, reg, {"supervision_overdue": True})))
    assert session.get(Hazard, busy["late"].id).is_overdue(today())
