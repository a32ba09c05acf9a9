"""Rendering regression of the core documents' PDFs (R-E4, R-O2; issue 7 item 9): fixed data in, then the page
count and the key text of every page. A template change that moves text across pages, drops a line of
boilerplate or breaks the footer fails here. (现场检查记录 is rendered by the field-inspection tests.)
"""

from __future__ import annotations

import io
import time
from datetime import date

import pytest
from pypdf import PdfReader

from core.pdf import render_pdf
from core.services.document_texts import EDITIONS, agency_problems, appeal_clause, edition

AGENCY = {"name": "厦门市翔安区应急管理局", "people_government": "厦门市翔安区人民政府", "court": "厦门市翔安区人民法院",
          "parent_name": "厦门市应急管理局"}
ENTERPRISE = {"name": "厦门回归测试化工有限公司", "address": "翔安区测试路1号", "legal_representative": "张法人",
              "principal_name": "李负责"}
SIGNERS = [{"user_id": 1, "name": "黄执法", "cert_number": "35021300101"},
           {"user_id": 2, "name": "郑执法", "cert_number": "35021300102"}]
TEXT = {"intro": "经研究，决定对你单位存在的下列重大事故隐患实行挂牌督办：",
        "closing": "请你单位按照督办要求，落实整改责任、措施、资金、时限和应急预案，在整改期限前完成整改，并将整改情况书面报告督办单位。"}


def pages_of(template: str, doc: dict) -> list[str]:
    started = time.perf_counter()
    pdf = render_pdf(template, doc=doc)
    elapsed = time.perf_counter() - started
    assert elapsed < 5, f"{template} took {elapsed:.2f} s"
    return ["".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(pdf)).pages]


def order(n: int, on: date = date(2026, 3, 2)) -> dict:
    return {"number": "（翔）应急责改〔2026〕7号", "verify_code": "ABCDEFGH23", "date": on.isoformat(),
            "type_name": "责令限期整改指令书", "agency": AGENCY, "enterprise": ENTERPRISE, "signers": SIGNERS,
            "supersedes_number": None, "appeal": appeal_clause(AGENCY, on),
            "problems": [{"no": i, "hazard_id": 100 + i, "location": f"{i}号车间",
                          "description": f"第{i}项问题：" + "可燃气体报警装置未定期检定，" * 3,
                          "deadline": "2026-03-20"} for i in range(1, n + 1)]}


@pytest.fixture()
def ctx(app):
    with app.test_request_context("/"):
        yield


def test_order_one_page(ctx):
    (page,) = pages_of("pdf/doc_rectification_order.html", order(3))
    for expected in ["安全生产行政执法文书", "责令限期整改指令书", "（翔）应急责改〔2026〕7号", "厦门回归测试化工有限公司：",
                     "经查，你单位存在下列问题：", "1号车间：第1项问题", "3号车间：第3项问题",
                     "现责令你单位对上述第1—3项问题于2026年3月20日前整改完毕", "整改期间，你单位应当采取措施，确保安全生产。",
                     "可以依法在60日内向厦门市翔安区人民政府申请行政复议",
                     "在6个月内依法向厦门市翔安区人民法院提起行政诉讼", "35021300102", "被检查单位负责人（签名）",
                     "厦门市翔安区应急管理局（印章）2026年3月2日", "本文书一式两份", "ABCDEFGH23", "第1页共1页"]:
        assert expected in page, expected
    assert "黄执法" not in page  # unsigned: no name on the signature line (issue 15 item 7)


def test_order_many_items_flows_onto_more_pages(ctx):
    pages = pages_of("pdf/doc_rectification_order.html", order(30))
    assert len(pages) == 2
    first, last = pages
    assert "责令限期整改指令书" in first and "1号车间：第1项问题" in first and "第1页共2页" in first
    assert "18号车间：第18项问题" in first and "19号车间" not in first
    assert "19号车间：第19项问题" in last and "30号车间：第30项问题" in last and "责令限期整改指令书" not in last
    for expected in ["现责令你单位对上述第1—30项问题于2026年3月20日前整改完毕", "提起行政诉讼，但本指令不停止执行",
                     "厦门市翔安区应急管理局（印章）", "ABCDEFGH23", "第2页共2页"]:
        assert expected in last, expected


def test_review_opinion_one_page(ctx):
    doc = {"number": "（翔）应急复查〔2026〕3号", "verify_code": "REVIEW2345", "date": "2026-03-21",
           "type_name": "整改复查意见书", "agency": AGENCY, "enterprise": ENTERPRISE, "signers": SIGNERS,
           "order": {"number": "（翔）应急责改〔2026〕7号", "date": "2026-03-02", "type_name": "责令限期整改指令书"},
           "passed": [{"no": 1, "description": "报警装置未检定"}, {"no": 2, "description": "通道堵塞"}],
           "failed": [{"no": 3, "description": "储罐区防火堤破损", "deadline": "2026-04-05"}],
           "opinion": "请于期限届满后申请复查。"}
    (page,) = pages_of("pdf/doc_review_opinion.html", doc)
    for expected in ["整改复查意见书", "（翔）应急复查〔2026〕3号",
                     "本机关于2026年3月2日作出了责令限期整改指令书的决定[（翔）应急责改〔2026〕7号]，经对你单位整改情况进行复查，提出如下意见：",
                     "一、已整改合格：", "第1项：报警装置未检定", "第2项：通道堵塞", "二、未整改合格，责令继续整改：",
                     "第3项：储罐区防火堤破损，须于2026年4月5日前整改完毕。", "请于期限届满后申请复查。",
                     "被复查单位负责人（签名）", "一份交被复查单位。", "REVIEW2345", "第1页共1页"]:
        assert expected in page, expected


def test_supervision_notice_one_page(ctx):
    doc = {"number": "（翔）应急督办〔2026〕1号", "verify_code": "NOTICE2345", "date": "2026-03-05",
           "type_name": "挂牌督办通知书", "agency": AGENCY, "enterprise": ENTERPRISE, "signers": [], "text": TEXT,
           "supersedes_number": None,
           "supervision": {"id": 9, "level": "county", "level_label": "县（区）", "listed_on": "2026-03-04",
                           "due_date": "2026-05-31", "leader_name": "林副局长",
                           "requirements": "每周五前书面报送整改进展；整改完成后申请验收。"},
           "hazard": {"id": 321, "description": "液氨储罐区未设置紧急切断装置", "location": "液氨储罐区",
                      "level_label": "重大事故隐患", "found_on": "2026-03-01"}}
    (page,) = pages_of("pdf/doc_supervision_notice.html", doc)
    for expected in ["挂牌督办通知书", "（翔）应急督办〔2026〕1号", "厦门回归测试化工有限公司：", TEXT["intro"],
                     "督办单位厦门市翔安区应急管理局", "督办层级县（区）级挂牌督办（2026年3月4日挂牌）",
                     "隐患液氨储罐区未设置紧急切断装置（重大事故隐患，隐患编号321）", "隐患部位液氨储罐区",
                     "整改责任单位厦门回归测试化工有限公司（主要负责人：李负责）", "整改期限2026年5月31日前",
                     "督办责任领导林副局长", "督办要求每周五前书面报送整改进展；整改完成后申请验收。", TEXT["closing"],
                     "厦门市翔安区应急管理局（印章）2026年3月5日", "NOTICE2345", "第1页共1页"]:
        assert expected in page, expected
    assert "安全生产行政执法文书" not in page  # not one of the 2016 enforcement set


def test_order_names_items_sharing_a_deadline_together(ctx):
    """One 责令 sentence per deadline, earliest first; items with the same deadline are named together."""
    doc = order(4)
    for p, deadline in zip(doc["problems"], ["2026-03-30", "2026-03-20", "2026-03-30", "2026-03-20"], strict=True):
        p["deadline"] = deadline
    (page,) = pages_of("pdf/doc_rectification_order.html", doc)
    first = page.index("现责令你单位对上述第2、4项问题于2026年3月20日前整改完毕")
    second = page.index("现责令你单位对上述第1、3项问题于2026年3月30日前整改完毕")
    assert first < second and page.count("现责令你单位对上述第") == 2


def test_the_appeal_clause_follows_the_law_in_force_on_the_document_date(ctx):
    """Issue 15: the 2016 template named two 复议机关; from 2024-01-01 (revised 《行政复议法》) a department's
    decision has one, the 本级人民政府. A document takes the edition of its own date."""
    (old,) = pages_of("pdf/doc_rectification_order.html", order(1, date(2023, 12, 31)))
    assert "可以依法在60日内向厦门市翔安区人民政府或者厦门市应急管理局申请行政复议" in old
    (new,) = pages_of("pdf/doc_rectification_order.html", order(1, date(2024, 1, 1)))
    assert "可以依法在60日内向厦门市翔安区人民政府申请行政复议，或者在6个月内依法向厦门市翔安区人民法院提起行政诉讼" in new
    assert "人民政府或者" not in new
    # Only the 2016 sentence is a verified national text; the 2024 one is marked for checking.
    assert [(e.code, e.verified) for e in EDITIONS if e.clause == "appeal"] == [("2016", True), ("2024", False)]
    assert edition("appeal", date(2026, 12, 7)).code == "2024"


@pytest.mark.parametrize(("government", "court", "fields"), [
    ("厦门市翔安区人民政府", "厦门市翔安区人民法院", set()),
    ("厦门市人民政府", "厦门市思明区人民法院", set()),
    ("", "厦门市翔安区人民法院", {"people_government"}),
    ("厦门市应急管理局", "厦门市翔安区人民法院", {"people_government"}),
    ("厦门市人民政府", "厦门市中级人民法院", {"court"}),
    ("厦门市人民政府", "", {"court"}),
])
def test_agency_configuration_that_would_print_wrongly_is_named(government, court, fields):
    """Issue 15 item 4: a city department is sued at a 基层人民法院 (《行政诉讼法》第十四、十五条)."""
    assert set(agency_problems(government, court)) == fields


def test_check_agencies_command_names_what_would_print_wrongly(runner, session, world):
    """``anjian documents check-agencies``: silent exit 0 for the valid test world, exit 1 naming a bad agency."""
    ok = runner.invoke(args=["documents", "check-agencies"])
    assert ok.exit_code == 0, ok.output
    agency = world.agency(session, "翔安局")
    agency.court = "厦门市中级人民法院"  # as an older installation may have stored it, bypassing the form
    session.flush()
    bad = runner.invoke(args=["documents", "check-agencies"])
    assert bad.exit_code == 1 and "court" in bad.output
    assert "基层人民法院" in bad.output
    editions = runner.invoke(args=["documents", "editions"])
    assert "2024" in editions.output and "待核对" in editions.output
