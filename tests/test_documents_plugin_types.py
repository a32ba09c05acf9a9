"""Document types from plugins (R-O2; issue 7 item 8): ``register_document_types``.

The external 工贸 plugin (tests/data/anjian_gongmao, installed through a real entry point, no core change) adds
粉尘防爆专项检查告知书 with its own 文书代字 and PDF template; it is issued, numbered and rendered like a core type.
A type code that clashes with a core type or with another plugin's stops the start-up naming both.
"""

from __future__ import annotations

import io
import types
from datetime import date, timedelta

import pytest
from flask_migrate import upgrade
from pypdf import PdfReader
from sqlalchemy import select

from core.app import create_app
from core.extensions import db
from core.hookspecs import hookimpl
from core.models import User
from core.plugin_types import DocumentField, DocumentType
from core.plugins import PluginLoadError, build_plugin_manager
from core.services import documents, enterprises, jurisdictions, users
from core.services.actors import SYSTEM
from core.services.errors import ValidationFailed
from tests.conftest import base_config
from tests.factories import uscc
from tests.forms import submit
from tests.test_plugins import _dispose, install_gongmao, isolated_env  # noqa: F401 - fixtures


def _plugin(name: str, code: str) -> types.ModuleType:
    module = types.ModuleType(name)
    module.register_document_types = hookimpl(lambda: [DocumentType(
        code=code, name="测试文书", number_code="测文", template="x/doc.html", sector="fake",
        fields=(DocumentField("a", "甲"),))])
    return module


def test_a_type_code_equal_to_a_core_type_fails_at_startup(database_url, isolated_env):  # noqa: F811
    """R-O2: a plugin may not redefine a core type; the message names the plugin, its type and the core type."""
    with pytest.raises(PluginLoadError) as excinfo:
        create_app(base_config(database_url, EXTRA_PLUGINS=[_plugin("clasher", "rectification_order")]))
    message = str(excinfo.value)
    assert "'clasher'" in message and "'rectification_order'（测试文书）" in message
    assert "核心文书种类 'rectification_order'（责令限期整改指令书" in message


def test_two_plugins_with_the_same_type_code_fail():
    with pytest.raises(PluginLoadError, match="插件 'one' 与插件 'two' 注册了同一个文书种类代码 'x_notice'|"
                                              "插件 'two' 与插件 'one' 注册了同一个文书种类代码 'x_notice'"):
        build_plugin_manager([], [_plugin("one", "x_notice"), _plugin("two", "x_notice")])


def test_gongmao_document_type_through_its_entry_point(install_gongmao, tmp_path, isolated_env):  # noqa: F811
    """R-O2/R-E4: the external plugin's type is listed, issued with its 代字, rendered from its template (every
    fill-in in the PDF text), checked against its field list, and shown on the form and the detail page."""
    install_gongmao()
    app = create_app(base_config(f"sqlite:///{tmp_path / 'gm.db'}", ENABLED_PLUGINS=["gongmao"], EXTRA_PLUGINS=[],
                                 UPLOAD_FOLDER=str(tmp_path / "uploads")))
    try:
        with app.app_context():
            upgrade()
            s = db.session
            area = jurisdictions.create_jurisdiction(s, SYSTEM, {"parent_id": None, "level": "county",
                                                                 "name": "湖里区", "code": "350206"})
            agency = jurisdictions.save_agency(s, SYSTEM, {"name": "厦门市湖里区应急管理局", "short_name": "湖",
                                                           "jurisdiction_id": area.id})
            ent = enterprises.create_enterprise(s, SYSTEM, {"name": "湖里粉末冶金有限公司", "uscc": uscc(77, "350206"),
                                                            "jurisdiction_id": area.id})
            inspectors = [users.save_user(s, SYSTEM, {
                "username": f"hl{i}", "display_name": name, "password": "hl-pass-12345", "roles": ["inspector"],
                "jurisdiction_id": area.id, "agency_id": agency.id, "cert_number": f"HL-00{i}",
                "cert_valid_until": date.today() + timedelta(days=90)}) for i, name in ((1, "陈执法"), (2, "王执法"))]
            s.commit()
            assert documents.plugin_types()["gongmao_dust_notice"]["plugin"] == "gongmao"
            assert documents.document_types()["gongmao_dust_notice"]["code"] == "应急粉告"
            actor = inspectors[0]
            base = {"doc_type": "gongmao_dust_notice", "enterprise_id": ent.id,
                    "signer_ids": [u.id for u in inspectors]}
            with pytest.raises(ValidationFailed) as bad:
                documents.issue_typed(s, actor, {**base, "fields": {"workshop": "", "findings": "x",
                                                                     "reply_by": "明天", "colour": "红"}})
            assert bad.value.errors["fields"] == {"workshop": ["请填写“涉粉作业场所”"],
                                                  "reply_by": ["“书面回复日期”应为日期（格式 YYYY-MM-DD）"],
                                                  "_unknown": ["未知的填写项：colour"]}
            s.rollback()
            reply_by = date.today() + timedelta(days=7)
            doc = documents.issue_typed(s, actor, {**base, "fields": {
                "workshop": "抛光车间", "findings": "除尘器泄爆口朝向人员通道", "reply_by": reply_by.isoformat()}})
            s.commit()
            assert doc.number == f"（湖）应急粉告〔{date.today().year}〕1号"
            reader = PdfReader(io.BytesIO(documents.pdf_bytes(doc)))
            text = "".join("".join(p.extract_text().split()) for p in reader.pages)
            for expected in ["粉尘防爆专项检查告知书", doc.number, "湖里粉末冶金有限公司", "抛光车间",
                             "除尘器泄爆口朝向人员通道", f"{reply_by.year}年{reply_by.month}月{reply_by.day}日",
                             "HL-001", "HL-002", "厦门市湖里区应急管理局（印章）", doc.verify_code]:
                assert expected in text, expected
            assert len(reader.pages) == 1
            doc_id, ent_id, actor_id = doc.id, ent.id, actor.id
            db.session.remove()
        client = app.test_client()
        with client.session_transaction() as sess:
            sess["_user_id"] = str(actor_id)
            sess["_fresh"] = True
        form = client.get(f"/documents/new/gongmao_dust_notice/{ent_id}").get_data(as_text=True)
        assert "涉粉作业场所" in form and "书面回复日期" in form and "陈执法" in form
        assert "粉尘防爆专项检查告知书" in client.get("/documents/").get_data(as_text=True)
        page = client.get(f"/documents/{doc_id}").get_data(as_text=True)
        assert "涉粉作业场所" in page and "抛光车间" in page
        url = f"/documents/new/gongmao_dust_notice/{ent_id}"
        refused = submit(client, url, {"field_workshop": "喷粉房", "field_findings": "", "field_reply_by": "",
                                       "signer_ids": [str(actor_id)]})
        assert refused.status_code == 422
        assert "请填写“检查发现的情况”" in refused.get_data(as_text=True)
        with app.app_context():
            signer_ids = [str(u) for u in db.session.scalars(select(User.id).where(User.username.in_(["hl1", "hl2"])))]
        issued = submit(client, url, {"field_workshop": "喷粉房", "field_findings": "静电接地断开",
                                      "field_reply_by": reply_by.isoformat(), "signer_ids": signer_ids})
        assert issued.status_code == 302
        second = client.get(issued.headers["Location"]).get_data(as_text=True)
        assert f"（湖）应急粉告〔{date.today().year}〕2号" in second and "静电接地断开" in second
    finally:
        _dispose(app)
