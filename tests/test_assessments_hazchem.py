"""Issue 6 "done when" with the real 危险化学品 plugin (R-S1, R-S2, R-S4): a hazchem enterprise assesses itself
against the core tree plus the plugin's criteria, attaches evidence and submits; the district regulator returns it
once and then accepts it; the grade follows the configured thresholds; three deducted items become hazards in one
action (a failed 121号 veto item becomes a 重大隐患 citing its rule item); the PDF report has the page's numbers;
last year's assessment shows in the comparison.

Numbers: core GB/T 33000-2016 tree 28 items / 1000 points + hazchem 20 否决项 × 5 = 1100. This year: HC121-5 不适用
(−5 from the denominator → 1095), deductions 1.1 −10, 2.2 −40, 5.1 −30 → 1015 / 1095 × 100 = 92.7 → 一级 (≥ 90).
"""

from __future__ import annotations

import subprocess
from datetime import date

import pytest
from flask_migrate import upgrade

from core.app import create_app
from core.extensions import db
from core.models import Assessment, Hazard, User
from core.services import assessments as svc
from core.services import enterprises, users
from core.services.actors import SYSTEM
from core.services.attachments import Upload
from core.services.errors import Conflict
from tests import factories
from tests.conftest import base_config, session_user_id

YEAR = date.today().year
PNG = Upload(data=b"\x89PNG\r\n\x1a\n" + b"e" * 40, content_type="image/png", filename="目标分解.png")
DEDUCT = {"1.1": (10, "安全目标未分解到车间"), "2.2": (40, "规章制度未按规定修订"), "5.1": (30, "风险辨识未覆盖罐区")}


@pytest.fixture(scope="module")
def hz(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("std-hazchem")
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("ANJIAN_ENABLED_PLUGINS", raising=False)
        mp.setenv("ANJIAN_INSTANCE_PATH", str(tmp / "instance"))
        app = create_app(base_config(f"sqlite:///{tmp / 'db.sqlite'}", ENABLED_PLUGINS=["hazchem"],
                                     UPLOAD_FOLDER=str(tmp / "uploads")))
    with app.app_context():
        upgrade()
        world = factories.build_world(db.session)
        ent = enterprises.create_enterprise(db.session, SYSTEM, {
            "name": "测试危化企业", "uscc": factories.uscc(95), "jurisdiction_id": world.nodes["新店街道"],
            "grid_id": world.nodes["新店1网格"], "supervising_agency_id": world.agencies["翔安局"],
            "sectors": [{"sector": "hazchem", "activities": ["生产"], "data": {}}]})
        ids = {"ent": ent.id, "xa_reg": world.users["xa_reg"]}
        for username, role in (("hz_mgr", "enterprise_manager"), ("hz_principal", "enterprise_principal")):
            u = users.save_user(db.session, SYSTEM, {"username": username, "display_name": username,
                                                     "password": factories.PASSWORD, "roles": [role],
                                                     "enterprise_id": ent.id})
            ids[username] = u.id
        db.session.commit()
        app.config["IDS"] = ids
        db.session.remove()
    yield app
    with app.app_context():
        db.engine.dispose()


def actor(app, key):
    return db.session.get(User, app.config["IDS"][key])


def fill(app, a, overrides):
    results = [{"item_id": it.id, **overrides.get(it.code, {"result": "scored", "score": it.standard_score})}
               for it in a.items]
    return svc.save_items(db.session, actor(app, "hz_mgr"), a.id, a.version, results)


def submit_and_accept(app, a, returns=0):
    for _ in range(returns + 1):
        svc.submit(db.session, actor(app, "hz_principal"), a.id, {"version": a.version, "signer_name": "张主要"})
        decision = {"decision": "return", "comment": "5.1 请补充罐区风险辨识记录"} if _ < returns else {"decision": "accept"}
        svc.review(db.session, actor(app, "xa_reg"), a.id, {"version": a.version, **decision})
    return a


def test_a_hazchem_enterprise_walks_the_whole_assessment(hz):
    with hz.app_context():
        ent_id = hz.config["IDS"]["ent"]
        mgr = actor(hz, "hz_mgr")
        # Last year: accepted with one deduction, for the comparison.
        last = svc.create_assessment(db.session, mgr, ent_id, {"year": YEAR - 1, "team_leader": "李组长"})
        fill(hz, last, {"5.1": {"result": "scored", "deduction": 50, "reason": "未开展风险辨识"}})
        submit_and_accept(hz, last)

        a = svc.create_assessment(db.session, mgr, ent_id,
                                  {"year": YEAR, "team_leader": "李组长", "team_members": "王一、赵二"})
        hazchem = [it for it in a.items if it.sector == "hazchem"]
        assert len(a.items) == 48 and len(hazchem) == 20
        assert a.sector_criteria == ["hazchem-121-veto"]
        assert {it.element_code for it in hazchem} == {"5"} and all(it.is_veto for it in hazchem)
        assert sum(it.verified for it in hazchem) == 15
        first = next(it for it in hazchem if it.code == "HC121-1")
        assert first.text == "危险化学品生产、经营单位主要负责人和安全生产管理人员未依法经考核合格。"
        assert "GB 45673-2025" in a.edition_note and "尚未载入其条文" in a.edition_note
        assert "平台约定" in a.edition_note

        overrides = {code: {"result": "scored", "deduction": d, "reason": why} for code, (d, why) in DEDUCT.items()}
        overrides["HC121-5"] = {"result": "not_applicable", "na_reason": "企业无危险化学品罐区"}
        fill(hz, a, overrides)
        svc.add_evidence(db.session, mgr, a.id, next(it.id for it in a.items if it.code == "1.1"), [PNG], a.version)
        submit_and_accept(hz, a, returns=1)
        db.session.commit()

        assert a.status == "accepted" and a.returned_count == 1
        assert (a.applicable_total, a.earned_total, a.score, a.grade) == (1095, 1015, 92.7, "level1")
        with pytest.raises(Conflict):
            fill(hz, a, {})  # locked after acceptance

        deducted = [it.id for it in a.items if it.code in DEDUCT]
        created = svc.create_hazards(db.session, mgr, a.id, deducted)
        db.session.commit()
        assert len(created) == 3 and all(h.source == "self_check" for h in created)
        assert {it.code: it.hazard_id for it in a.items if it.hazard_id} == {
            it.code: h.id for it, h in zip(sorted((i for i in a.items if i.id in deducted), key=lambda i: i.position),
                                           created, strict=True)}

        cmp = svc.comparison(db.session, mgr, ent_id)
        assert cmp.years == [YEAR - 1, YEAR]
        element5 = dict(cmp.rows)["安全风险管控及隐患排查治理"]
        assert element5[YEAR - 1] < element5[YEAR]

        client = hz.test_client()
        with client.session_transaction() as s:
            s["_user_id"], s["_fresh"] = session_user_id(mgr.id), True
        pdf = client.get(f"/assessments/{a.id}/report.pdf")
        assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
        text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf.data, capture_output=True,
                              check=True).stdout.decode()
        flat = "".join(text.split())
        for expected in ("测试危化企业", "92.7", "一级", "1015", "1095", "安全目标未分解到车间", "风险辨识未覆盖罐区",
                         "李组长", "张主要", "hazchem-121-veto"):
            assert expected in flat, expected
        page = client.get(f"/assessments/{a.id}").get_data(as_text=True)
        assert "92.7" in page and "1015" in page


def test_a_failed_121_veto_item_fails_the_grade_and_becomes_a_major_hazard(hz):
    """R-S1: a 否决项 「不符合」 means 未达标 whatever the score; its hazard cites the 121号 item, so the hazchem plugin
    classifies it 重大 (classify_hazard)."""
    with hz.app_context():
        ent_id = hz.config["IDS"]["ent"]
        mgr = actor(hz, "hz_mgr")
        a = svc.create_assessment(db.session, mgr, ent_id, {"year": YEAR - 2, "team_leader": "李组长"})
        fill(hz, a, {"HC121-4": {"result": "scored", "vetoed": "on", "reason": "紧急停车系统未投用"}})
        result = svc.result_of(a)
        assert result.grade == "none" and "HC121-4" in result.reason
        assert result.score == round(1095 / 1100 * 100, 1)
        [hazard] = svc.create_hazards(db.session, mgr, a.id, [next(it.id for it in a.items if it.code == "HC121-4")])
        db.session.commit()
        stored = db.session.get(Hazard, hazard.id)
        assert (stored.level, stored.rule_item, stored.classified_by) == ("major", "hazchem-2017-121#4", "hazchem")
        assert db.session.get(Assessment, a.id).items[next(i for i, it in enumerate(a.items)
                                                           if it.code == "HC121-4")].hazard_id == hazard.id
