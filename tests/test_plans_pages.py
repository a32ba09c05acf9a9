"""The plan pages (R-E1, R-E2): plan form and progress, the draw form, the draw page with 复算校验 and publishing,
the public page without login, campaigns; forms answer 422 with Chinese messages beside the fields."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from core.models import InspectionDraw, InspectionPlan
from core.models.plan import Campaign
from core.services import plans
from tests.forms import get_form, submit, tamper
from tests.test_plans import add_inspectors


def test_plan_form_detail_edit_approve(login, session, world):
    """R-E1: a regulator makes the year's plan with targets, sees progress, edits and approves it."""
    c = login("xa_reg")
    page = c.get("/plans/").get_data(as_text=True)
    assert "年度执法计划" in page and "制定计划" in page
    resp = submit(c, "/plans/new", {"year": "2026", "title": "", "target_total": "-3"})
    assert resp.status_code == 422
    body = resp.get_data(as_text=True)
    assert "必填项" in body and "应在 0 到 1000000 之间" in body and "targets.total" not in body
    resp = submit(c, "/plans/new", {"year": "2026", "title": "翔安区2026年度执法计划", "target_total": "120",
                                    "target_classes_high_risk": "40", "target_levels_county": "30",
                                    "target_sectors_fake": "12", "note": "双随机为主"})
    assert resp.status_code == 302
    plan = session.scalar(select(InspectionPlan).where(InspectionPlan.title == "翔安区2026年度执法计划"))
    assert plan.targets == {"total": 120, "classes": {"high_risk": 40}, "levels": {"county": 30},
                            "sectors": {"fake": 12}}
    detail = c.get(f"/plans/{plan.id}").get_data(as_text=True)
    assert "0</b><span> / 120 家次（0%）" in detail and "高危行业" in detail and "测试领域" in detail
    assert "批准计划" in detail
    edit = c.get(f"/plans/{plan.id}/edit").get_data(as_text=True)
    assert 'value="120"' in edit and 'name="version"' in edit
    # A second tab opened before the save below is stale when it is saved after it.
    form, second_tab = get_form(c, f"/plans/{plan.id}/edit"), get_form(c, f"/plans/{plan.id}/edit")
    resp = form.fill(title="翔安区2026年度执法计划（调整）", target_total="100", target_levels_county="").submit(c)
    assert resp.status_code == 302
    assert plan.title.endswith("（调整）") and plan.targets == {"total": 100, "classes": {"high_risk": 40},
                                                              "sectors": {"fake": 12}}
    resp = second_tab.fill(title="过期").submit(c)
    assert resp.status_code == 302 and "已被他人修改" in c.get(resp.headers["Location"]).get_data(as_text=True)
    assert get_form(c, f"/plans/{plan.id}", action="/approve").submit(c).status_code == 302
    assert plan.status == "approved"
    # The city regulator sees the plan but has no buttons and may not edit it; 同安 does not see it.
    city = login("city_reg").get(f"/plans/{plan.id}").get_data(as_text=True)
    assert "翔安区2026年度执法计划" in city and "修改</a>" not in city
    assert login("city_reg").get(f"/plans/{plan.id}/edit").status_code == 403
    assert login("ta_reg").get(f"/plans/{plan.id}").status_code == 404
    assert login("ent1_mgr").get("/plans/").status_code == 403


def test_draw_form_detail_publish_and_public_page(app, login, session, world):
    """R-E1: draw from the form, see seed, inputs and 复算校验 通过, publish; the public page needs no login."""
    c = login("xa_reg")
    form = c.get("/plans/draws/new").get_data(as_text=True)
    assert "不足两名，无法抽取" in form and "监管企业 <b>3</b> 家" in form
    resp = submit(c, "/plans/draws/new", {"month": "2026-11", "count": "2"})
    assert resp.status_code == 422 and "执法证有效的执法人员不足两名（现有 1 名）" in resp.get_data(as_text=True)
    add_inspectors(session, world, 2)
    session.commit()
    resp = submit(c, "/plans/draws/new", {"month": "2026-13", "count": "0", "seed": "x"})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "应为年月（格式 YYYY-MM）" in body and "应在 1 到 500 之间" in body
    resp = submit(c, "/plans/draws/new", {"month": "2026-11", "count": "9"})
    assert resp.status_code == 422 and "抽取数量（9）超过候选企业数（3）" in resp.get_data(as_text=True)
    resp = submit(c, "/plans/draws/new", {"month": "2026-11", "count": "2", "seed": "公开摇号 0815",
                                          "classes": ["high_risk", "general"]})
    assert resp.status_code == 302
    draw = session.scalar(select(InspectionDraw).order_by(InspectionDraw.id.desc()))
    assert (draw.period_start, draw.period_end, draw.title) == (date(2026, 11, 1), date(2026, 11, 30),
                                                               "2026年11月双随机抽查")
    assert draw.filters == {"classes": ["general", "high_risk"]} and len(draw.items) == 2
    page = c.get(f"/plans/draws/{draw.id}").get_data(as_text=True)
    assert "复算校验：通过" in page and "公开摇号 0815" in page and "类别：一般企业、高危行业" in page
    assert "公布名单" in page
    for item in draw.items:
        assert item.enterprise.name in page
    inputs = c.get(f"/plans/draws/{draw.id}/inputs.json").get_json()
    assert inputs["seed"] == "公开摇号 0815" and plans.compute(inputs["seed"], inputs["inputs"]) == [
        tuple(t) for t in inputs["items"]]
    assert app.test_client().get(f"/plans/draws/{draw.id}").status_code == 302  # login needed

    assert get_form(c, f"/plans/draws/{draw.id}", action="/publish").submit(c).status_code == 302
    assert draw.status == "published" and draw.public_token
    public = app.test_client().get(f"/public/draws/{draw.public_token}")
    text = public.get_data(as_text=True)
    assert public.status_code == 200 and "厦门市翔安区应急管理局" in text and "公开摇号 0815" in text
    assert "按上述种子和输入复算，结果与本名单一致" in text and "待检查" in text
    for item in draw.items:
        assert item.enterprise.name in text
    assert "/enterprises/" not in text  # no links into the logged-in pages
    assert app.test_client().get("/public/draws/nope").status_code == 404
    listing = login("xa_insp").get("/plans/draws/").get_data(as_text=True)
    assert draw.title in listing and "待公布" not in listing


def test_draw_detail_flags_a_tampered_draw(login, session, world):
    add_inspectors(session, world, 2)
    d = plans.create_draw(session, world.user(session, "xa_reg"), {
        "period_start": date(2026, 12, 1), "period_end": date(2026, 12, 31), "count": 2, "seed": "s"})
    d.items[0].inspector1_id, d.items[0].inspector2_id = d.items[0].inspector2_id, d.items[0].inspector1_id
    session.commit()
    page = login("xa_reg").get(f"/plans/draws/{d.id}").get_data(as_text=True)
    assert "复算校验：不一致" in page


def test_campaign_pages(login, session, world):
    """R-E2: create a campaign with scope, period and checklist; its page shows the progress counts."""
    c = login("xa_reg")
    form = c.get("/plans/campaigns/new").get_data(as_text=True)
    assert "测试领域基础检查表" in form and "新店街道" in form and "同安区" not in form
    # 同安区 is not offered (asserted above): a user of 翔安 can only name it by forging the post.
    fields = {"name": "国庆节前大检查", "kind": "holiday", "starts_on": "2026-09-20", "ends_on": "2026-09-01"}
    forged = [*get_form(c, "/plans/campaigns/new").fill(fields).fields(), ("jurisdiction_ids", world.nodes["同安区"])]
    resp = tamper(c, "/plans/campaigns/new", MultiDict(forged), why="a jurisdiction the page does not offer")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "结束日期不能早于开始日期" in body and "不在厦门市翔安区应急管理局的管辖范围内" in body
    resp = submit(c, "/plans/campaigns/new", {
        "name": "国庆节前大检查", "kind": "holiday", "status": "active", "starts_on": "2026-09-20",
        "ends_on": "2026-10-08", "sectors": ["fake"], "jurisdiction_ids": [str(world.nodes["新店街道"])],
        "checklist_codes": ["fake-basic"], "description": "重点检查动火作业"})
    assert resp.status_code == 302
    camp = session.scalar(select(Campaign).where(Campaign.name == "国庆节前大检查"))
    assert (camp.sectors, camp.jurisdiction_ids, camp.checklist_codes) == (["fake"], [world.nodes["新店街道"]],
                                                                          ["fake-basic"])
    page = c.get(f"/plans/campaigns/{camp.id}").get_data(as_text=True)
    assert re.search(r"<b>1</b><span>范围内企业", page) and "节假日" in page and "测试领域基础检查表" in page
    listing = login("xa_insp").get("/plans/campaigns/?status=active").get_data(as_text=True)
    assert "国庆节前大检查" in listing and "组织专项行动" not in listing
    resp = submit(c, f"/plans/campaigns/{camp.id}/edit", {"name": "国庆节前安全大检查", "status": "closed",
                                                            "sectors": []})
    assert resp.status_code == 302 and camp.name == "国庆节前安全大检查" and camp.sectors == []
    assert login("ta_reg").get(f"/plans/campaigns/{camp.id}").status_code == 404


def test_lists_and_detail_do_not_query_per_row(login, session, world, queries):
    """R-N1: the draw list, a draw page, the public page and the plan and campaign pages run the same number of
    statements for few rows as for many (no query per draw or item)."""
    add_inspectors(session, world, 3)
    reg = world.user(session, "xa_reg")
    period = {"period_start": date(2026, 11, 1), "period_end": date(2026, 11, 30)}
    small = plans.create_draw(session, reg, {**period, "count": 1, "seed": "a"})
    plans.publish_draw(session, reg, small.id, small.version)
    plan = plans.create_plan(session, reg, {"year": 2026, "title": "计划", "targets": {"total": 5}})
    camp = plans.create_campaign(session, reg, {"name": "行动", "kind": "other", "starts_on": date(2026, 1, 1),
                                                "ends_on": date(2026, 12, 31), "checklist_codes": ["fake-basic"]})
    session.commit()
    c = login("xa_reg")
    pages = {"list": "/plans/draws/", "detail": f"/plans/draws/{small.id}", "plans": "/plans/",
             "plan": f"/plans/{plan.id}", "campaign": f"/plans/campaigns/{camp.id}", "campaigns": "/plans/campaigns/",
             "public": f"/public/draws/{small.public_token}"}
    before = {k: queries.of(lambda u=u: c.get(u)) for k, u in pages.items()}
    big = plans.create_draw(session, reg, {**period, "count": 3, "seed": "b"})
    for k in range(4):
        d = plans.create_draw(session, reg, {**period, "count": 2, "seed": f"c{k}"})
        plans.publish_draw(session, reg, d.id, d.version)
    plans.create_campaign(session, reg, {"name": "行动二", "kind": "flood", "starts_on": date(2026, 6, 1),
                                         "ends_on": date(2026, 9, 30)})
    session.commit()
    pages["detail"] = f"/plans/draws/{big.id}"
    after = {k: queries.of(lambda u=u: c.get(u)) for k, u in pages.items()}
    assert after == before


def test_public_page_shows_each_result_when_done(app, session, world):
    """一公开: once a drawn enterprise's check is linked and completed, the public list shows its result."""
    from datetime import UTC, datetime

    from core.models import InspectionRun, User

    add_inspectors(session, world, 2)
    reg = world.user(session, "xa_reg")
    d = plans.create_draw(session, reg, {"period_start": date(2026, 11, 1), "period_end": date(2026, 11, 30),
                                         "count": 3, "seed": "results"})
    plans.publish_draw(session, reg, d.id, d.version)
    first, second = d.items[0], d.items[1]
    for item, summary in ((first, {"ids": [1, 2], "major": 1, "general": 1}), (second, {"ids": [], "major": 0})):
        ent = item.enterprise
        run = InspectionRun(enterprise_id=ent.id, scope_path=ent.scope_path, kind="enforcement", started_by_name="测",
                            status="completed", completed_at=datetime.now(UTC), summary={"hazards": summary})
        session.add(run)
        session.flush()
        plans.link_run(session, session.get(User, item.inspector1_id), item.id, run.id)
    session.commit()
    text = app.test_client().get(f"/public/draws/{d.public_token}").get_data(as_text=True)
    assert "已检查，发现隐患 2 项（重大 1 项）" in text and "已检查，未发现隐患" in text and "待检查" in text
