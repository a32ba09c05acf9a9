"""Risk-register pages (R-R1, R-R2): forms with the value tables, Chinese errors, version conflicts, the due
checks, a failed check turning into a hidden danger, the regulator's list and the four-colour maps as SVG."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from xml.etree import ElementTree

import pytest
from sqlalchemy import func, select

from core.models import Hazard, InspectionTask, RiskPoint
from core.services import enterprises, risks
from core.services.actors import SYSTEM
from core.services.hazards import today
from tests.forms import get_form, page_form, submit

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(autouse=True)
def _uploads(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(tmp_path))


def png(width=400, height=300) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (width, height), "white").save(buf, "PNG")
    return buf.getvalue()


def make_point(session, world, user="ent1_mgr", **extra) -> RiskPoint:
    data = {"name": "反应釜区", "category": "process", "method": "LEC", "inputs": {"L": 6, "E": 6, "C": 15},
            "location": "甲类车间", **extra}
    p = risks.create_risk_point(session, world.user(session, user), data)
    m = risks.add_measure(session, world.user(session, user), p.id, {"kind": "engineering",
                                                                    "description": "反应釜温度压力联锁"})
    risks.add_task(session, world.user(session, user), p.id, {"measure_id": m.id, "content": "检查联锁投用",
                                                              "period": "daily"})
    session.commit()
    return p


def page(resp, status=200) -> str:
    assert resp.status_code == status, resp.get_data(as_text=True)[:2000]
    return resp.get_data(as_text=True)


def test_create_with_lec_and_the_tables_in_the_form(login, session):
    """R-R1: the form offers each factor's values with their descriptions; the saved point shows the grade."""
    c = login("ent1_mgr")
    html = page(c.get("/risks/new"))
    assert '<option value="6" >6 — 相当可能</option>' in html or "6 — 相当可能" in html
    assert "100 — 大灾难，许多人死亡" in html and "5 — 灾难性：多人死亡或重大财产损失" in html
    assert "较大风险 160 ≤ D ≤ 320" in html
    resp = submit(c, "/risks/new", {"name": "氯气钢瓶库", "category": "equipment", "method": "LEC",
                                    "f_LEC_L": "3", "f_LEC_E": "6", "f_LEC_C": "40", "f_LS_L": "5",
                                    "location": "仓库", "responsible_company": "李总"})
    assert resp.status_code == 302
    p = session.scalar(select(RiskPoint).where(RiskPoint.name == "氯气钢瓶库"))
    assert (p.method, p.inputs, p.score, p.grade) == ("LEC", {"L": 3.0, "E": 6.0, "C": 40.0}, 720, "major")
    html = page(c.get(resp.headers["Location"]))
    assert "重大风险" in html and "D = 720" in html and "L = 3（事故发生的可能性：可能，但不经常）" in html


def test_form_errors_in_chinese_beside_the_fields(login):
    c = login("ent1_mgr")
    html = page(submit(c, "/risks/new", {"name": "", "category": "", "method": "LEC", "f_LEC_L": "3"}), 422)
    assert "提交的数据有误" in html
    assert re.search(r'name="f_LEC_E".*?请选择暴露于危险环境的频繁程度', html, re.DOTALL)
    assert re.search(r'name="name".*?不能为空', html, re.DOTALL)


def test_edit_conflict_keeps_the_typed_values(login, session, world):
    p = make_point(session, world)
    c = login("ent1_mgr")
    form = get_form(c, f"/risks/{p.id}/edit")  # opened before the principal's save below
    risks.update_risk_point(session, world.user(session, "ent1_principal"), p.id, {"version": 1, "location": "乙"})
    session.commit()
    resp = form.fill(name="我改的名字", method="LS", f_LS_L="2", f_LS_S="2").submit(c)
    html = page(resp, 409)
    assert "已被他人修改" in html and 'value="我改的名字"' in html and 'name="version" value="2"' in html
    resp = page_form(resp, page_url=f"/risks/{p.id}/edit", status=409).submit(c)  # saved again as re-shown
    assert resp.status_code == 302
    session.refresh(p)
    assert (p.name, p.method, p.score, p.grade) == ("我改的名字", "LS", 4, "low")


def test_register_list_filters_and_detail(login, session, world):
    make_point(session, world)
    make_point(session, world, name="仓库叉车", inputs={"L": 1, "E": 3, "C": 7}, category="environment")
    make_point(session, world, "ent4_mgr", name="同安磨床")
    html = page(login("ent1_mgr").get("/risks/"))
    assert "反应釜区" in html and "仓库叉车" in html and "同安磨床" not in html
    html = page(login("ent1_mgr").get("/risks/?grade=low"))
    assert "仓库叉车" in html and "反应釜区" not in html
    html = page(login("city_reg").get("/risks/?category=process"))
    assert "反应釜区" in html and "同安磨床" in html and "仓库叉车" not in html
    html = page(login("xa_reg").get("/risks/"))
    assert "同安磨床" not in html and "新增风险点" not in html


def test_measure_and_task_forms(login, session, world):
    p = make_point(session, world)
    c = login("ent1_mgr")
    assert submit(c, f"/risks/{p.id}/measures/new", {"kind": "management", "description": "作业票制度",
                                                     "level": "team"}).status_code == 302
    session.refresh(p)
    measure = p.measures[-1]
    html = page(submit(c, f"/risks/{p.id}/tasks/new", {"measure_id": str(measure.id), "content": "",
                                                       "period": "monthly"}), 422)
    assert re.search(r'name="content".*?不能为空', html, re.DOTALL)
    assert submit(c, f"/risks/{p.id}/tasks/new", {"measure_id": str(measure.id), "content": "查作业票",
                                                  "period": "monthly", "next_due": today().isoformat(),
                                                  "assignee_user_id": str(world.users["ent1_principal"])}
                  ).status_code == 302
    task = session.scalar(select(InspectionTask).where(InspectionTask.content == "查作业票"))
    assert (task.period, task.assignee_user_id) == ("monthly", world.users["ent1_principal"])
    url = f"/risks/{p.id}/measures/{measure.id}/edit"
    form, second_tab = get_form(c, url), get_form(c, url)
    html = page(form.fill(description="作业票制度（修订）").submit(c), 302)
    html = page(second_tab.fill(description="过期版本").submit(c), 409)
    assert "已被他人修改" in html and "过期版本" in html
    html = page(c.get(f"/risks/{p.id}"))
    assert "作业票制度（修订）" in html and "查作业票 · 每月" in html


def test_due_page_and_a_failed_check_with_a_photo(login, session, world):
    """R-R2: the due list shows today's check; a failed check registers a linked hazard with the photo."""
    p = make_point(session, world)
    task = p.measures[0].tasks[0]
    c = login("ent1_principal")
    html = page(c.get("/risks/due"))
    assert "检查联锁投用" in html and "今天" in html
    url = f"/risks/tasks/{task.id}/check"
    second_tab = get_form(c, url)  # opened before the check below is saved
    html = page(submit(c, url, {"passed": "0"}), 422)
    assert "排查不合格时请描述发现的隐患" in html
    resp = get_form(c, url).fill(passed="0", description="联锁被短接", category="human",
                                 done_on=today().isoformat()).attach("photos", png(20, 20), "短接.png").submit(c)
    assert resp.status_code == 302
    hazard = session.scalar(select(Hazard).where(Hazard.risk_point_id == p.id))
    assert (hazard.description, hazard.control_measure_id, hazard.category) == (
        "联锁被短接", p.measures[0].id, "human")
    assert len(hazard.transitions[0].attachments) == 1
    session.refresh(task)
    assert task.next_due == today() + timedelta(days=1)
    assert "检查联锁投用" not in page(c.get("/risks/due"))
    html = page(login("xa_reg").get(f"/risks/{p.id}"))
    assert "联锁被短接" in html and "反应釜温度压力联锁" in html
    html = page(second_tab.fill(passed="1").submit(c), 409)
    assert "已被他人修改" in html


def test_supervision_page_lists_red_and_orange_only(login, session, world):
    make_point(session, world, name="重大反应釜", inputs={"L": 10, "E": 6, "C": 40})
    make_point(session, world, name="一般仓库", inputs={"L": 3, "E": 6, "C": 7})
    make_point(session, world, "ent4_mgr", name="同安较大", inputs={"L": 3, "E": 6, "C": 15})
    html = page(login("xa_reg").get("/risks/supervision"))
    assert "重大反应釜" in html and "一般仓库" not in html and "同安较大" not in html
    html = page(login("city_reg").get("/risks/supervision?grade=large"))
    assert "同安较大" in html and "重大反应釜" not in html


def _svg(text: str) -> ElementTree.Element:
    return ElementTree.fromstring(text.encode())


def test_enterprise_map_grid_then_plan_and_placing(login, session, world):
    """R-R2: four-colour map of an enterprise: coordinates grid without a plan; the plan once uploaded; a point
    placed by its 0–1 position; legend with four Chinese labels; grades carried by shape and text too."""
    p = make_point(session, world, longitude=118.25, latitude=24.6)
    make_point(session, world, name="配电房", inputs={"L": 1, "E": 1, "C": 1}, longitude=118.26, latitude=24.61)
    e1 = world.enterprises["E1"]
    c = login("ent1_mgr")
    resp = c.get(f"/risks/enterprises/{e1}/map.svg")
    assert resp.status_code == 200 and resp.mimetype == "image/svg+xml"
    root = _svg(resp.get_data(as_text=True))
    assert root.get("data-kind") == "grid"
    markers = root.findall(f".//{SVG}g[@class]")
    grades = [g.get("data-grade") for g in markers if g.get("data-grade")]
    assert sorted(grades) == ["low", "major"]
    texts = "".join(root.itertext())
    for words in ("重大风险（红）", "较大风险（橙）", "一般风险（黄）", "低风险（蓝）", "反应釜区", "配电房", "°E", "°N"):
        assert words in texts
    assert root.find(f".//{SVG}rect") is not None and root.find(f".//{SVG}circle") is not None  # 重大 ■, 低 ●

    map_url = f"/risks/enterprises/{e1}/map"
    resp = get_form(c, map_url, action="/site-plan").attach("file", png(400, 200), "厂区.png").submit(c)
    assert resp.status_code == 302
    html = page(c.get(f"/risks/enterprises/{e1}/map"))
    assert 'data-kind="plan"' in html and "要放置的风险点" in html and "未标注位置的风险点" in html
    # The placement form works without its script: the select names the point, the numbers are typed.
    place = get_form(c, map_url, action="/place").fill(point_id=str(p.id), plan_x="0.5", plan_y="0.25")
    assert place.submit(c).status_code == 302
    root = _svg(page(c.get(f"/risks/enterprises/{e1}/map.svg")))
    assert root.get("viewBox") == "0 0 1000.0 556.0"  # 500 high plan + 56 legend
    image = root.find(f"{SVG}image")
    assert image is not None and "/site-plan" in image.get("href")
    marker = [g for g in root.iter(f"{SVG}g") if g.get("data-grade")]
    assert len(marker) == 1 and marker[0].find(f"{SVG}title").text.startswith("反应釜区｜重大风险")
    rect = marker[0].find(f"{SVG}g/{SVG}g/{SVG}rect")
    assert (float(rect.get("x")) + 14, float(rect.get("y")) + 14) == (500, 125)
    plan = c.get(f"/risks/enterprises/{e1}/site-plan")
    assert plan.status_code == 200 and plan.mimetype == "image/png"
    assert login("ta_reg").get(f"/risks/enterprises/{e1}/site-plan").status_code == 404
    bad = get_form(c, map_url, action="/place").fill(point_id=str(p.id), plan_x="1.2", plan_y="0.2").submit(
        c, follow_redirects=True)
    assert "位置无效" in bad.get_data(as_text=True)
    unchosen = get_form(c, map_url, action="/place").fill(plan_x="0.1", plan_y="0.1").submit(c, follow_redirects=True)
    assert "请选择要放置的风险点" in unchosen.get_data(as_text=True)


def test_area_map_for_regulators(login, session, world):
    """R-R2: enterprises coloured by their highest grade, placed by coordinates; the table lists them all."""
    ent = world.ent(session, "E1")
    enterprises.update_enterprise(session, SYSTEM, ent.id, {"version": ent.version, "longitude": 118.3,
                                                            "latitude": 24.6})
    session.commit()
    make_point(session, world, name="重大点", inputs={"L": 10, "E": 6, "C": 40})
    make_point(session, world, "ent4_mgr", name="同安低", inputs={"L": 1, "E": 1, "C": 1})
    html = page(login("city_reg").get("/risks/area-map"))
    assert "测试E1有限公司" in html and "测试E4有限公司" in html and "无坐标，未上图" in html
    root = _svg(page(login("city_reg").get("/risks/area-map.svg")))
    marks = [g for g in root.iter(f"{SVG}g") if g.get("data-grade")]
    assert [(g.get("data-grade"), g.find(f"{SVG}title").text.split("｜")[0]) for g in marks] == [
        ("major", "测试E1有限公司")]
    assert login("ent1_mgr").get("/risks/map").headers["Location"].endswith(
        f"/risks/enterprises/{world.enterprises['E1']}/map")
    assert login("xa_reg").get("/risks/map").headers["Location"].endswith("/risks/area-map")
    html = page(login("ta_reg").get("/risks/area-map"))
    assert "测试E1有限公司" not in html


def test_nav_entries(login):
    html = page(login("ent1_mgr").get("/risks/"))
    assert "排查任务" in html and "四色图" in html and "重大较大风险" not in html.split("<main>")[0]
    html = page(login("xa_reg").get("/risks/"))
    assert "重大较大风险" in html.split("<main>")[0] and "排查任务" not in html.split("<main>")[0]


def test_list_pages_cost_the_same_queries_for_more_points(login, session, world, queries):
    """R-N1: the register, the red/orange list, the due list and the area map load related rows in bulk."""
    urls = {"ent1_mgr": ["/risks/", "/risks/due", f"/risks/enterprises/{world.enterprises['E1']}/map"],
            "city_reg": ["/risks/", "/risks/supervision", "/risks/area-map"]}
    counts = []
    for n in (2, 6):
        while (i := session.scalar(select(func.count()).select_from(RiskPoint))) < n:
            make_point(session, world, "ent1_mgr" if i % 2 else "ent4_mgr", name=f"点{i}",
                       inputs={"L": 10, "E": 6, "C": 40}, longitude=118.2 + i / 100, latitude=24.6)
        row = []
        for user, paths in urls.items():
            c = login(user)
            for path in paths:
                row.append(queries.of(lambda: page(c.get(path))))
        counts.append(row)
    assert counts[0] == counts[1], counts
