"""The closed-loop transition table, exhaustively (R-H2, R-H3, 16号令 第十五条/第二十三条 as verified).

``ALLOWED`` below is the declared expectation: for each action, each kind of hazard (一般: 企业自查 / 执法检查 /
网格巡查; 重大) and each of the action's source states, the world users who may take it. Everything else follows
from scope: users who cannot see 测试E1 (ta_reg, ent4_mgr) get :class:`NotFound`; every other user who is not
allowed gets :class:`PermissionDenied`; and in a state or at a level the action does not apply to, every user in
scope gets :class:`Conflict`. The table is written by hand from the requirements, never computed with
``hazard_flow.refusal`` (a test built from the code under test could not fail).

Allowed steps must record actor, time, comment, data and fire ``on_hazard_transition``; refused steps must change
nothing (version, state, timeline). Specific rules (挂牌督办 levels, 销号 by the listing agency, extensions,
review_fail deadlines, 立即整改 evidence) have their own tests below, as has the optimistic locking.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, text

from core.models import Attachment, Hazard, HazardState, HazardSupervision, HazardTransition
from core.services import hazard_flow, hazards
from core.services.actors import Actor
from core.services.attachments import Upload
from core.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from tests.plugins import fake_sector

S = HazardState
PNG = Upload(data=b"\x89PNG\r\n\x1a\n" + b"1" * 64, content_type="image/png", filename="现场照片.png")
USERS = ("admin", "city_reg", "xa_reg", "ta_reg", "xa_insp", "xa_insp_expired", "grid1", "ent1_mgr",
         "ent1_principal", "ent4_mgr")
#: Who cannot see 测试E1 (翔安区 新店1网格), where every hazard of this module lives.
OUT_OF_SCOPE = frozenset({"ta_reg", "ent4_mgr"})
ENT = frozenset({"ent1_mgr", "ent1_principal"})
#: Government users who may act on a hazard: regulators, and inspectors with a valid 执法证 (持证上岗, R-A4).
#: xa_insp_expired is deliberately absent; grid workers are not enforcement staff.
GOV = frozenset({"city_reg", "xa_reg", "xa_insp"})
KINDS = ("self_check", "inspection", "grid_patrol", "major")
GENERAL_KINDS = ("self_check", "inspection", "grid_patrol")


def _every(kinds, allowed) -> dict[str, frozenset[str]]:
    return {k: frozenset(allowed) for k in kinds}


#: action → kind → users allowed (in every source state of the action; see the docstrings of the situations).
ALLOWED: dict[str, dict[str, frozenset[str]]] = {
    # 16号令 第十五条: the enterprise (its 主要负责人 organises) draws up the 治理方案 of a major hazard.
    "plan": _every(["major"], ENT),
    # Rectification is ordered by the enterprise itself or by enforcement (责令限期整改).
    "assign": _every(KINDS, ENT | GOV),
    # 立即整改 of a general hazard: whoever is on the spot (enterprise, grid worker, enforcement), with photos.
    "rectify_on_spot": _every(GENERAL_KINDS, ENT | GOV | {"grid1"}),
    # Only the enterprise reports its rectification complete (and applies for the review).
    "request_review": _every(KINDS, ENT),
    # Review: the enterprise for its own findings; enforcement always; the grid worker for patrol findings;
    # government only for major hazards (第二十三条: the regulator reviews on site).
    "review_pass": {"self_check": ENT | GOV, "inspection": GOV, "grid_patrol": GOV | {"grid1"}, "major": GOV},
    "review_fail": {"self_check": ENT | GOV, "inspection": GOV, "grid_patrol": GOV | {"grid1"}, "major": GOV},
    # 销号 of a major hazard listed by 翔安局 (county): only 翔安局's regulator.
    "close": {"major": frozenset({"xa_reg"})},
    # 挂牌督办, each at their own level: county regulator → county, city regulator → city, principal → enterprise.
    "list": _every(["major"], {"xa_reg", "city_reg", "ent1_principal"}),
    "request_extension": _every(KINDS, ENT),
    # 延期审批: the principal for self-check findings; enforcement for others; regulators for major hazards.
    "decide_extension": {"self_check": frozenset({"ent1_principal"}), "inspection": GOV, "grid_patrol": GOV,
                         "major": frozenset({"xa_reg", "city_reg"})},
}
#: The source states of each action as the requirements describe them (checked against the table's own).
SOURCES: dict[str, tuple[HazardState, ...]] = {
    "plan": (S.REGISTERED, S.RECTIFYING),
    "assign": (S.REGISTERED,),
    "rectify_on_spot": (S.REGISTERED,),
    "request_review": (S.RECTIFYING,),
    "review_pass": (S.PENDING_REVIEW,),
    "review_fail": (S.PENDING_REVIEW,),
    "close": (S.REVIEWED,),
    "list": (S.REGISTERED, S.RECTIFYING, S.PENDING_REVIEW, S.REVIEWED),
    "request_extension": (S.RECTIFYING,),
    "decide_extension": (S.RECTIFYING,),
}
#: Where each action leads (None: the state is unchanged); review_pass depends on the level.
TARGET: dict[str, Any] = {
    "plan": None, "assign": S.RECTIFYING, "rectify_on_spot": S.CLOSED, "request_review": S.PENDING_REVIEW,
    "review_pass": {"general": S.CLOSED, "major": S.REVIEWED}, "review_fail": S.RECTIFYING, "close": S.CLOSED,
    "list": None, "request_extension": None, "decide_extension": None,
}
PLAN = {k: f"{label}：测试内容" for k, label in hazard_flow.PLAN_FIELDS.items()}
REGISTRAR = {"self_check": "ent1_mgr", "inspection": "xa_insp", "grid_patrol": "grid1", "major": "ent1_principal"}
LIST_LEVEL = {"city_reg": "city", "xa_reg": "county", "ent1_principal": "enterprise"}


@pytest.fixture(autouse=True)
def _uploads(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(tmp_path))


# --- building hazards in a given situation -----------------------------------------------------------------------

def u(session, world, name: str) -> Actor:
    return world.user(session, name)


def act(session, world, who: str, h: Hazard, code: str, **data) -> Hazard:
    uploads = data.pop("uploads", None)
    return hazard_flow.perform(session, u(session, world, who), h.id, code, {"version": h.version, **data},
                               uploads=uploads)


def register(session, world, kind: str, **extra) -> Hazard:
    data = {"enterprise_id": world.enterprises["E1"], "description": f"{kind}：储罐区可燃气体报警器失效",
            "category": "thing", **extra}
    if kind == "major":
        data.update(level="major", sector="fake", rule_item="fake/R1#1")
    h = hazards.register_hazard(session, u(session, world, REGISTRAR[kind]), data)
    assert h.level == ("major" if kind == "major" else "general")
    assert h.source == ("self_check" if kind == "major" else kind)
    return h


def build(session, world, kind: str, state: HazardState, *, pending_extension: bool = False,
          listed_by: str | None = None) -> Hazard:
    """A hazard of ``kind`` on 测试E1 brought to ``state`` through the services (major ones with a complete plan;
    ``listed_by`` lists it at that regulator's level first; ``pending_extension`` adds an undecided 延期申请)."""
    today = hazards.today()
    h = register(session, world, kind)
    if kind == "major":
        h = act(session, world, "ent1_principal", h, "plan", **PLAN)
        if listed_by:
            h = act(session, world, listed_by, h, "list", level=LIST_LEVEL[listed_by],
                    due_date=today + timedelta(days=60), leader_name="督办领导")
    if state == S.REGISTERED:
        return h
    h = act(session, world, "xa_reg", h, "assign", responsible_name="王五", days=10, deadline_kind="calendar")
    if pending_extension:
        h = act(session, world, "ent1_mgr", h, "request_extension", new_deadline=h.deadline + timedelta(days=30),
                reason="设备到货延迟")
    if state == S.RECTIFYING:
        return h
    h = act(session, world, "ent1_mgr", h, "request_review", comment="已整改")
    if state == S.PENDING_REVIEW:
        return h
    h = act(session, world, "xa_reg", h, "review_pass", comment="复查合格")
    if state == S.REVIEWED:
        assert kind == "major"
        return h
    if kind == "major":
        h = act(session, world, listed_by or "xa_reg", h, "close", comment="准予销号")
    assert h.state == S.CLOSED
    return h


def action_data(code: str, actor: str, h: Hazard) -> dict[str, Any]:
    """Valid data for ``code`` as ``actor`` would send it (the part the service sees after schema loading)."""
    today = hazards.today()
    data: dict[str, Any] = {"version": h.version, "comment": f"{actor} 的意见"}
    if code == "plan":
        data.update(PLAN, funds_amount=12.5)
    elif code == "assign":
        data.update(responsible_name="赵六", days=7, deadline_kind="calendar", measures="更换报警器")
    elif code == "review_fail":
        data.update(deadline=today + timedelta(days=5))
    elif code == "list":
        data.update(level=LIST_LEVEL.get(actor, "county"), due_date=today + timedelta(days=30), leader_name="李局")
    elif code == "request_extension":
        data.update(new_deadline=(h.deadline or today) + timedelta(days=20), reason="资金未到位")
    elif code == "decide_extension":
        data.update(approve=True)
    return data


@dataclass(frozen=True)
class Situation:
    kind: str
    state: HazardState

    @property
    def id(self) -> str:
        return f"{self.kind}-{self.state.value}"


def situation_kwargs(code: str) -> dict[str, Any]:
    return {"pending_extension": code == "decide_extension", "listed_by": "xa_reg" if code == "close" else None}


def _allowed_cases():
    for code, by_kind in ALLOWED.items():
        for kind, allowed in by_kind.items():
            for state in SOURCES[code]:
                for name in USERS:
                    if name in OUT_OF_SCOPE:
                        expected = NotFound
                    elif name in allowed:
                        expected = None
                    else:
                        expected = PermissionDenied
                    label = "ok" if expected is None else expected.__name__
                    yield pytest.param(code, Situation(kind, state), name, expected,
                                       id=f"{code}-{kind}-{state.value}-{name}-{label}")


def _wrong_situations(code: str) -> list[Situation]:
    """States (and levels) in which ``code`` must be refused with Conflict: the closed state always, the first
    state outside the action's sources, and the other level for level-bound actions."""
    kinds = list(ALLOWED[code])
    out = [Situation(kinds[0], S.CLOSED)]
    other_states = [s for s in (S.REGISTERED, S.RECTIFYING, S.PENDING_REVIEW) if s not in SOURCES[code]]
    if other_states:
        out.append(Situation(kinds[0], other_states[0]))
    if kinds == ["major"]:
        out.append(Situation("self_check", SOURCES[code][0] if SOURCES[code][0] != S.REVIEWED else S.REGISTERED))
    elif "major" not in kinds:
        out.append(Situation("major", SOURCES[code][0]))
    return out


def _conflict_cases():
    for code in ALLOWED:
        for sit in _wrong_situations(code):
            for name in USERS:
                expected = NotFound if name in OUT_OF_SCOPE else Conflict
                yield pytest.param(code, sit, name, expected,
                                   id=f"{code}-{sit.id}-{name}-{expected.__name__}")


def test_declared_sources_match_the_table():
    """The declared expectations cover exactly the actions and source states of the transition table."""
    assert set(ALLOWED) == set(hazard_flow.ACTIONS) == set(SOURCES)
    for code, action in hazard_flow.ACTIONS.items():
        assert action.sources == SOURCES[code], code
        # review_pass has no fixed target: its effect depends on the level (see TARGET).
        assert action.target == (None if isinstance(TARGET[code], dict) else TARGET[code]), code


def last_step(session, hazard_id: int) -> HazardTransition:
    """The newest timeline step, queried (``Hazard.transitions`` may have been loaded before the step was added)."""
    return session.scalars(select(HazardTransition).where(HazardTransition.hazard_id == hazard_id)
                           .order_by(HazardTransition.id.desc()).limit(1)).one()


def _db_state(session, hazard_id: int) -> tuple[int, str, int, int, int]:
    """(version, state, steps, listings, attachments) as stored (a query autoflushes pending changes, so an
    in-memory change made before a refusal would show here)."""
    version, state = session.execute(select(Hazard.version, Hazard.state).where(Hazard.id == hazard_id)).one()
    steps = session.scalar(select(func.count(HazardTransition.id)).where(HazardTransition.hazard_id == hazard_id))
    listings = session.scalar(select(func.count(HazardSupervision.id))
                              .where(HazardSupervision.hazard_id == hazard_id))
    files = session.scalar(select(func.count(Attachment.id)).where(Attachment.owner_type == "hazard",
                                                                   Attachment.owner_id == hazard_id))
    return version, state, steps, listings, files


@pytest.mark.parametrize(("code", "situation", "username", "expected"), [*_allowed_cases(), *_conflict_cases()])
def test_transition_matrix(session, world, code, situation, username, expected):
    """R-H2/R-H3: each action × each user × each situation is allowed or refused as declared; an allowed step is
    recorded in full and announced to the plugins; a refused one changes nothing."""
    h = build(session, world, situation.kind, situation.state, **situation_kwargs(code))
    before = _db_state(session, h.id)
    events = len(fake_sector.TRANSITIONS)
    data = action_data(code, username, h)
    uploads = [PNG] if code == "rectify_on_spot" else None
    actor = u(session, world, username)

    if expected is not None:
        with pytest.raises(expected) as info:
            hazard_flow.perform(session, actor, h.id, code, data, uploads=uploads)
        assert type(info.value) is expected
        assert any("\u4e00" <= ch <= "\u9fff" for ch in info.value.message), info.value.message
        assert _db_state(session, h.id) == before
        assert len(fake_sector.TRANSITIONS) == events
        return

    from_state = h.state
    h = hazard_flow.perform(session, actor, h.id, code, data, uploads=uploads)
    version, state, steps, _, files = _db_state(session, h.id)
    assert version > before[0], "every step bumps the version"
    assert steps == before[2] + 1
    target = TARGET[code]
    if isinstance(target, dict):
        target = target["major" if situation.kind == "major" else "general"]
    assert state == (target or from_state)
    step = last_step(session, h.id)
    assert (step.action, step.from_state, step.to_state) == (code, from_state, state)
    assert step.actor_id == actor.id and step.actor_name == actor.display_name
    assert step.at is not None and step.comment == data["comment"]
    assert isinstance(step.data, dict)
    if code == "rectify_on_spot":
        assert files == before[4] + 1 and step.attachments[0].sha256 == PNG.sha256
        assert h.closed_on_spot and h.closed_at is not None
    event = fake_sector.TRANSITIONS[-1]
    assert len(fake_sector.TRANSITIONS) == events + 1
    assert (event.hazard_id, event.action, event.from_state, event.to_state, event.actor_id) == (
        h.id, code, from_state, state, actor.id)


# --- specific rules ----------------------------------------------------------------------------------------------

def _list(session, world, who, h, level, days=30):
    return act(session, world, who, h, "list", level=level, due_date=hazards.today() + timedelta(days=days),
               leader_name="督办领导")


@pytest.mark.parametrize(("who", "level", "expected"), [
    ("xa_reg", "county", None),
    ("xa_reg", "city", PermissionDenied),
    ("xa_reg", "province", PermissionDenied),
    ("xa_reg", "enterprise", PermissionDenied),
    ("city_reg", "city", None),
    ("city_reg", "county", PermissionDenied),
    ("city_reg", "province", PermissionDenied),
    ("ent1_principal", "enterprise", None),
    ("ent1_principal", "county", PermissionDenied),
    ("ent1_mgr", "enterprise", PermissionDenied),
    ("xa_insp", "county", PermissionDenied),
])
def test_listing_levels(session, world, who, level, expected):
    """R-H3: 挂牌督办 at a level only by a regulator of that level; enterprise level only by the principal."""
    h = build(session, world, "major", S.RECTIFYING)
    if expected is None:
        h = _list(session, world, who, h, level)
        listing = h.active_supervision
        assert listing.level == level
        assert listing.agency_id == (None if level == "enterprise" else u(session, world, who).agency_id)
        assert last_step(session, h.id).data["level"] == level
    else:
        before = _db_state(session, h.id)
        with pytest.raises(expected):
            _list(session, world, who, h, level)
        assert _db_state(session, h.id) == before


def test_listing_twice_at_one_level_is_a_conflict_but_levels_stack(session, world):
    """R-H3: one active listing per level (409 for a duplicate); county and city listings may coexist."""
    h = build(session, world, "major", S.REGISTERED)
    h = _list(session, world, "xa_reg", h, "county")
    with pytest.raises(Conflict, match="已在此层级挂牌督办"):
        _list(session, world, "xa_reg", h, "county")
    h = _list(session, world, "city_reg", h, "city")
    h = _list(session, world, "ent1_principal", h, "enterprise")
    assert sorted(s.level for s in h.supervisions if s.lifted_at is None) == ["city", "county", "enterprise"]
    assert hazard_flow.top_listing(h).level == "city"


def test_listing_due_date_in_the_past_is_refused(session, world):
    h = build(session, world, "major", S.REGISTERED)
    with pytest.raises(ValidationFailed) as info:
        _list(session, world, "xa_reg", h, "county", days=-1)
    assert "due_date" in info.value.errors


def test_close_only_by_the_listing_agency_while_listed(session, world):
    """R-H3: a listed major hazard is struck off only by the regulator that listed it (the highest listing)."""
    h = build(session, world, "major", S.REVIEWED, listed_by="xa_reg")
    h = _list(session, world, "city_reg", h, "city")
    with pytest.raises(PermissionDenied):  # the city now holds the highest listing
        act(session, world, "xa_reg", h, "close", comment="销号")
    h = act(session, world, "city_reg", h, "close", comment="准予销号")
    assert h.state == S.CLOSED and h.closed_by_id == world.users["city_reg"]
    assert all(s.lifted_at is not None for s in h.supervisions)
    assert sorted(last_step(session, h.id).data["lifted_supervisions"]) == sorted(s.id for s in h.supervisions)


def test_close_of_an_unlisted_major_hazard_by_any_regulator_in_scope(session, world):
    h = build(session, world, "major", S.REVIEWED)
    for name in ("xa_insp", "ent1_principal", "grid1"):
        with pytest.raises(PermissionDenied):
            act(session, world, name, h, "close", comment="销号")
    h = act(session, world, "city_reg", h, "close", comment="准予销号")
    assert h.state == S.CLOSED


def test_a_general_hazard_closes_on_review_and_has_no_separate_close(session, world):
    h = build(session, world, "inspection", S.PENDING_REVIEW)
    h = act(session, world, "xa_insp", h, "review_pass", comment="复查合格")
    assert h.state == S.CLOSED and h.closed_by_id == world.users["xa_insp"]
    with pytest.raises(Conflict):
        act(session, world, "xa_reg", h, "close", comment="销号")


def test_major_assign_needs_the_complete_report_and_plan(session, world):
    """16号令 第十四条、第十五条: rectification of a major hazard starts only with the report and plan complete."""
    h = register(session, world, "major")
    with pytest.raises(Conflict, match="须先报告并制定治理方案") as info:
        act(session, world, "xa_reg", h, "assign", responsible_name="张三")
    assert all(label in info.value.message for label in hazard_flow.PLAN_FIELDS.values())
    h = act(session, world, "ent1_mgr", h, "plan", **{k: v for k, v in PLAN.items() if k != "safety_emergency"})
    assert h.reported_at is None and last_step(session, h.id).data["complete"] is False
    with pytest.raises(Conflict, match="安全措施和应急预案"):
        act(session, world, "xa_reg", h, "assign", responsible_name="张三")
    h = act(session, world, "ent1_principal", h, "plan", safety_emergency="应急预案已演练")
    assert h.reported_at is not None and last_step(session, h.id).data["complete"] is True
    h = act(session, world, "xa_reg", h, "assign", responsible_name="张三")
    assert h.state == S.RECTIFYING and h.deadline == hazards.today() + timedelta(days=90)


def test_extension_request_and_decision(session, world):
    """R-H3: 延期申请 needs approval; one pending request at a time; approval moves the deadline."""
    h = build(session, world, "inspection", S.RECTIFYING)
    old = h.deadline
    with pytest.raises(Conflict, match="没有待审批"):
        act(session, world, "xa_insp", h, "decide_extension", approve=True)
    with pytest.raises(ValidationFailed) as info:
        act(session, world, "ent1_mgr", h, "request_extension", new_deadline=old, reason="理由充分")
    assert "new_deadline" in info.value.errors
    h = act(session, world, "ent1_mgr", h, "request_extension", new_deadline=old + timedelta(days=10), reason="缺件")
    with pytest.raises(Conflict, match="已有待审批"):
        act(session, world, "ent1_principal", h, "request_extension", new_deadline=old + timedelta(days=20),
            reason="还缺件")
    with pytest.raises(PermissionDenied):  # an inspection finding: the enterprise does not approve its own delay
        act(session, world, "ent1_principal", h, "decide_extension", approve=True)
    h = act(session, world, "xa_insp", h, "decide_extension", approve=False, comment="理由不充分")
    assert h.deadline == old and h.extensions[-1].status == "rejected"
    assert h.extensions[-1].decision_comment == "理由不充分"
    h = act(session, world, "ent1_mgr", h, "request_extension", new_deadline=old + timedelta(days=10), reason="缺件")
    h = act(session, world, "xa_reg", h, "decide_extension", approve=True, comment="同意")
    assert h.deadline == old + timedelta(days=10)
    assert [e.status for e in h.extensions] == ["rejected", "approved"]
    assert h.extensions[-1].decided_by_id == world.users["xa_reg"] and h.extensions[-1].old_deadline == old


def test_extension_of_a_listed_major_hazard_is_decided_by_the_listing_agency(session, world):
    h = build(session, world, "major", S.RECTIFYING, listed_by="xa_reg", pending_extension=True)
    with pytest.raises(PermissionDenied):
        act(session, world, "city_reg", h, "decide_extension", approve=True)
    h = act(session, world, "xa_reg", h, "decide_extension", approve=True)
    assert h.extensions[-1].status == "approved"


def test_review_fail_needs_a_new_deadline_not_in_the_past(session, world):
    """R-H2: back to 整改中 with a new deadline, which may be today but not earlier."""
    h = build(session, world, "self_check", S.PENDING_REVIEW)
    before = _db_state(session, h.id)
    with pytest.raises(ValidationFailed) as info:
        act(session, world, "ent1_principal", h, "review_fail", comment="未整改到位",
            deadline=hazards.today() - timedelta(days=1))
    assert "deadline" in info.value.errors
    assert _db_state(session, h.id) == before
    old = h.deadline
    h = act(session, world, "ent1_principal", h, "review_fail", comment="未整改到位", deadline=hazards.today())
    assert h.state == S.RECTIFYING and h.deadline == hazards.today()
    assert last_step(session, h.id).data == {"old_deadline": old.isoformat(), "deadline": hazards.today().isoformat()}


def test_rectify_on_spot_needs_photos_and_is_refused_for_major(session, world):
    """R-H2: 立即整改 closes a general hazard in one step with evidence; never a major one."""
    h = build(session, world, "grid_patrol", S.REGISTERED)
    before = _db_state(session, h.id)
    with pytest.raises(ValidationFailed) as info:
        act(session, world, "grid1", h, "rectify_on_spot", comment="已当场整改")
    assert "photos" in info.value.errors
    assert _db_state(session, h.id) == before
    h = act(session, world, "grid1", h, "rectify_on_spot", comment="已当场整改", uploads=[PNG])
    assert h.state == S.CLOSED and h.closed_on_spot and h.closed_by_id == world.users["grid1"]
    major = build(session, world, "major", S.REGISTERED)
    with pytest.raises(Conflict, match="不适用于重大"):
        act(session, world, "ent1_principal", major, "rectify_on_spot", comment="已整改", uploads=[PNG])


def test_an_expired_inspector_is_told_why(session, world):
    """R-A4 持证上岗: an inspector whose 执法证 has expired may not order, review or approve."""
    h = build(session, world, "inspection", S.REGISTERED)
    with pytest.raises(PermissionDenied, match="执法证未登记或已过期"):
        act(session, world, "xa_insp_expired", h, "assign", responsible_name="张三")
    assert "assign" not in {a.code for a in hazard_flow.available_actions(u(session, world, "xa_insp_expired"), h)}
    assert "assign" in {a.code for a in hazard_flow.available_actions(u(session, world, "xa_insp"), h)}


# --- optimistic locking (R-N3, decision 3) -------------------------------------------------------------------------

def _committed_major(session, world) -> int:
    h = build(session, world, "major", S.RECTIFYING)
    session.commit()
    return h.id


def _bump_underneath(session, hazard_id: int) -> None:
    """Another actor's committed step: a raw UPDATE that the session's identity map does not see."""
    real = session()
    real.expire_on_commit = False  # keep the loaded hazard stale, as in a request that read it before
    try:
        session.execute(text("UPDATE hazards SET version = version + 1 WHERE id = :id"), {"id": hazard_id})
        session.commit()
    finally:
        real.expire_on_commit = True


def test_stale_version_from_the_client_is_refused_by_check_version(session, world):
    """A client that edited version v while the hazard is now at v+1 gets 409 before anything is applied."""
    hazard_id = _committed_major(session, world)
    seen = session.get(Hazard, hazard_id).version
    _bump_underneath(session, hazard_id)
    session.expire_all()  # a new request reads the current row
    before = _db_state(session, hazard_id)
    with pytest.raises(Conflict, match="已被他人修改"):
        hazard_flow.perform(session, u(session, world, "xa_reg"), hazard_id, "list", {
            "version": seen, "level": "county", "due_date": hazards.today() + timedelta(days=9), "leader_name": "李"})
    assert _db_state(session, hazard_id) == before


@pytest.mark.parametrize("code", ["list", "request_extension", "request_review"])
def test_a_race_on_the_same_version_ends_in_stale_data_and_conflict(session, world, code):
    """Two requests read version v; the other one commits first. Ours re-reads the hazard under a row lock
    (``perform`` → ``get_hazard(lock=True)``), so check_version sees v+1: 409, nothing of ours applied. (Were the
    lock bypassed, the UPDATE … WHERE version = v would find no row: StaleDataError, also 409.) This holds also for
    steps that only add child rows (挂牌督办, 延期申请), because every step bumps the version."""
    hazard_id = _committed_major(session, world)
    h = session.get(Hazard, hazard_id)
    h.transitions, h.supervisions, h.extensions  # noqa: B018 - loaded, as the request would have
    seen, before_steps = h.version, len(h.transitions)
    _bump_underneath(session, hazard_id)
    assert h.version == seen  # the identity map is stale
    actor = {"list": "xa_reg"}.get(code, "ent1_mgr")
    data = action_data(code, actor, h)
    assert data["version"] == seen
    with pytest.raises(Conflict, match=f"当前版本 {seen + 1}，您修改的是版本 {seen}"):
        hazard_flow.perform(session, u(session, world, actor), hazard_id, code, data)
    session.rollback()  # what the API's error handler does
    version, state, steps, listings, _ = _db_state(session, hazard_id)
    assert (version, state, listings) == (seen + 1, S.RECTIFYING, 0)
    assert last_step(session, hazard_id).action == "assign" and steps == before_steps
    assert session.get(Hazard, hazard_id).extensions == []
