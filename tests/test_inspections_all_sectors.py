"""Issue 5 "done when" for every sector: a self-inspection with the plugin's own checklist turns a failing 重大
question into a 重大 hazard naming the rule item it cites, and a failing basic duty into an 一般 one (R-P1…R-P3).

Each case builds an app with only that real plugin enabled (plus the fake sector the test world needs), syncs the
catalog, and runs the checklist through the services as the enterprise's safety manager would.
"""

from __future__ import annotations

import pytest
from flask_migrate import upgrade

from core.app import create_app
from core.extensions import db
from core.models import Enterprise, User
from core.plugins import plugins
from core.services import enterprises, inspections, users
from core.services.actors import SYSTEM
from core.services.attachments import Upload
from core.services.catalog import sync_catalog
from tests import factories
from tests.conftest import base_config

PNG = Upload(data=b"\x89PNG\r\n\x1a\n" + b"s" * 40, content_type="image/png", filename="现场.png")
#: sector → an activity its enterprise is tagged with.
SECTORS = {"hazchem": "生产", "fire": "人员密集场所", "roadtransport": "道路旅客运输", "specialequip": "电梯"}


@pytest.fixture(scope="module", params=sorted(SECTORS))
def sector_app(request, tmp_path_factory):
    sector = request.param
    tmp = tmp_path_factory.mktemp(f"insp-{sector}")
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("ANJIAN_ENABLED_PLUGINS", raising=False)
        mp.setenv("ANJIAN_INSTANCE_PATH", str(tmp / "instance"))
        app = create_app(base_config(f"sqlite:///{tmp / 'db.sqlite'}", ENABLED_PLUGINS=[sector],
                                     UPLOAD_FOLDER=str(tmp / "uploads")))
    with app.app_context():
        upgrade()
        world = factories.build_world(db.session)
        sync_catalog(db.session)
        ent = enterprises.create_enterprise(db.session, SYSTEM, {
            "name": f"测试{sector}企业", "uscc": factories.uscc(90 + sorted(SECTORS).index(sector)),
            "jurisdiction_id": world.nodes["新店街道"], "grid_id": world.nodes["新店1网格"],
            "sectors": [{"sector": sector, "activities": [SECTORS[sector]], "data": {}}]})
        user = users.save_user(db.session, SYSTEM, {"username": f"{sector}_mgr", "display_name": "安全员",
                                                    "password": factories.PASSWORD,
                                                    "roles": ["enterprise_manager"], "enterprise_id": ent.id})
        db.session.commit()
        app.config["CASE"] = (sector, ent.id, user.id)
        db.session.remove()
    yield app
    with app.app_context():
        db.engine.dispose()


def _passing_value(item) -> str:
    if item.answer_type == "number":
        return str((item.pass_when or {}).get("min", 0))
    return item.pass_when


def test_a_failing_major_question_becomes_a_major_hazard_with_its_rule_item(sector_app):
    with sector_app.app_context():
        sector, ent_id, user_id = sector_app.config["CASE"]
        actor = db.session.get(User, user_id)
        checklists = inspections.applicable_checklists(db.session.get(Enterprise, ent_id))
        assert checklists and all(c.sector == sector for c in checklists)
        basic = checklists[0]
        assert len(basic.items) >= 25, (basic.code, len(basic.items))
        run = inspections.start_run(db.session, actor, {"checklists": [basic.code]})
        view = inspections.load_run(db.session, actor, run.id)
        scored = [iv for iv in view.items if iv.item.pass_when is not None]
        major = next(iv.item for iv in scored if (iv.item.on_fail or {}).get("level") == "major")
        general = next(iv.item for iv in scored if (iv.item.on_fail or {}).get("hazard")
                       and (iv.item.on_fail or {}).get("level", "general") == "general")
        failing = {major.id, general.id}
        for iv in scored:
            item = iv.item
            value = ("no" if item.pass_when == "yes" else "yes") if item.id in failing else _passing_value(item)
            photo = item.id in failing and (item.on_fail or {}).get("photo_required")
            inspections.save_answer(db.session, actor, run.id, {"item_id": item.id, "value": value,
                                                                "comment": "现场发现问题"},
                                    uploads=[PNG] if photo else None)
        db.session.flush()
        done = inspections.complete_run(db.session, actor, run.id, run.version)
        made = {h.checklist_item: h for h in inspections.created_hazards(db.session, actor, done)}
        hazard = made[f"{basic.code}/{major.code}"]
        assert (hazard.level, hazard.rule_item, hazard.classified_by, hazard.sector) == (
            "major", major.on_fail["rule"], sector, sector)
        # The description is a statement fit for a 执法文书: the cited rule item's text, where, what was seen.
        rule_text = plugins().rule_item(major.on_fail["rule"])[0].text
        assert hazard.description == (f"{rule_text.rstrip('。')}（《{basic.title}》检查项 {major.code}）。"
                                      "现场情况：现场发现问题")
        assert made[f"{basic.code}/{general.code}"].description.endswith("。现场情况：现场发现问题")
        assert made[f"{basic.code}/{general.code}"].level == "general"
        assert done.summary["hazards"]["major"] == 1
        db.session.rollback()
