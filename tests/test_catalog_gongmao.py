"""A fifth sector as an external package (R-P1, R-P2; docs/plugin_author_guide.md): 工贸, from tests/data/, ships
the verified part of 《工贸企业重大事故隐患判定标准》(应急管理部令第10号 第三条) and a checklist citing it, loaded through
its entry point with no change to the core, validated, stored and shown like the shipped plugins' data."""

from __future__ import annotations

from flask_migrate import upgrade

from core.app import create_app
from core.catalog.registry import thaw
from core.extensions import db
from core.plugin_types import Finding
from core.services import users
from core.services.actors import SYSTEM
from core.services.catalog import sync_catalog
from tests.conftest import base_config, session_user_id
from tests.test_plugins import _dispose, install_gongmao, isolated_env  # noqa: F401 - fixtures


def test_gongmao_catalog_through_its_entry_point(install_gongmao, tmp_path, isolated_env):  # noqa: F811
    install_gongmao()
    app = create_app(base_config(f"sqlite:///{tmp_path / 'gm.db'}", ENABLED_PLUGINS=["gongmao"], EXTRA_PLUGINS=[]))
    try:
        registry = app.extensions["anjian"]
        rule_set = registry.rule_sets["gongmao-2023-mem10"]
        assert (rule_set.document_number, rule_set.issuer, rule_set.text_status, rule_set.kind) == (
            "应急管理部令第10号", "应急管理部", "partial", "major_hazard")
        assert rule_set.file == "anjian_gongmao/rules/gongmao-2023-mem10.yaml"
        assert [(i.number, i.verified) for i in rule_set.items] == [
            ("第三条(一)", True), ("第三条(二)", True), ("第三条(三)", True)]
        item, _ = registry.rule_item("gongmao-2023-mem10#第三条(二)")
        assert item.text == "特种作业人员未按照规定经专门的安全作业培训并取得相应资格，上岗作业的；"
        checklist = registry.catalog.checklist("gongmao-basic")
        assert (checklist.version, len(checklist.items)) == ("2026.1", 4)
        for ci in checklist.items:
            assert all(registry.rule_item(ref) for ref in ci.rule_refs)
            finding = Finding(sector="gongmao", description=ci.question, checklist_item=ci.ref,
                              rule_item=ci.on_fail["rule"], suggested_level=ci.on_fail["level"])
            decided = registry.classify(finding)
            assert decided == registry.classify(finding)
            assert (decided.level, decided.rule_item) == ("major", ci.on_fail["rule"])

        spec = registry.enterprise_fields["gongmao"]
        with app.app_context():
            upgrade()
            report = sync_catalog(db.session)
            assert (report.rule_sets, report.checklists) == ([("gongmao-2023-mem10", 1)], [("gongmao-basic", "2026.1")])
            admin = users.save_user(db.session, SYSTEM, {"username": "admin", "display_name": "管理员",
                                                         "password": "gongmao-pass-1", "roles": ["admin"]})
            db.session.commit()
            admin_id = admin.id
            data = spec.schema().dump(spec.schema().load(spec.example))
            with app.test_request_context("/"):
                html = app.jinja_env.get_template(spec.template).render(data=data, enterprise=None)
            assert "液氨储存量 12.5 吨" in html and "3 处" in html
            db.session.remove()
        client = app.test_client()
        with client.session_transaction() as s:
            s["_user_id"] = session_user_id(admin_id)
            s["_fresh"] = True
        page = client.get("/catalog/checklists/gongmao-basic/2026.1").get_data(as_text=True)
        assert "应急管理部令第10号 第三条(一)" in page
        assert "未对承包单位、承租单位的安全生产工作统一协调、管理，或者未定期进行安全检查的；" in page
        rules_page = client.get("/catalog/rules/gongmao-2023-mem10").get_data(as_text=True)
        assert "金属冶炼企业主要负责人、安全生产管理人员未按照规定经考核合格的。" in rules_page
        assert "部分" in rules_page
        assert thaw(checklist.content)["sections"][1]["items"][0]["on_fail"]["category"] == "human"
    finally:
        _dispose(app)
