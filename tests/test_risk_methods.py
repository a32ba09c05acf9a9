"""Risk assessment methods as data (R-R1): LEC and the risk matrix L×S, graded at every boundary.

Pure functions over :data:`core.config.DEFAULT_RISK_METHODS`; one test goes through the app configuration to
show that a province's thresholds replace the defaults.
"""

from __future__ import annotations

import copy

import pytest

from core.config import DEFAULT_RISK_METHODS, ConfigError
from core.models import RiskGrade
from core.services import risk_methods
from core.services.errors import ValidationFailed
from core.services.risk_methods import assess, grade_for, parse_methods

METHODS = parse_methods(DEFAULT_RISK_METHODS)
LEC, LS = METHODS["LEC"], METHODS["LS"]
MAJOR, LARGE, GENERAL, LOW = RiskGrade.MAJOR, RiskGrade.LARGE, RiskGrade.GENERAL, RiskGrade.LOW


@pytest.mark.parametrize(("score", "grade"), [
    (1000, MAJOR), (320.0001, MAJOR), (320, LARGE), (319.9999, LARGE), (160, LARGE), (159.9999, GENERAL),
    (70, GENERAL), (69.9999, LOW), (0.001, LOW),
])
def test_lec_grade_boundaries(score, grade):
    """R-R1: D > 320 重大; 160 ≤ D ≤ 320 较大; 70 ≤ D < 160 一般; D < 70 低 (the documented defaults)."""
    assert LEC.grade_for(score) is grade


@pytest.mark.parametrize(("score", "grade"), [
    (25, MAJOR), (20, MAJOR), (19.99, LARGE), (16, LARGE), (15, LARGE), (14.99, GENERAL), (12, GENERAL),
    (9, GENERAL), (8.99, LOW), (8, LOW), (1, LOW),
])
def test_ls_grade_boundaries(score, grade):
    """R-R1: R ≥ 20 重大; 15 ≤ R < 20 较大; 9 ≤ R < 15 一般; R < 9 低."""
    assert LS.grade_for(score) is grade


@pytest.mark.parametrize(("inputs", "score", "grade"), [
    ({"L": 10, "E": 10, "C": 100}, 10000, MAJOR),
    ({"L": 6, "E": 6, "C": 15}, 540, MAJOR),
    ({"L": 3, "E": 6, "C": 15}, 270, LARGE),
    ({"L": 3, "E": 6, "C": 7}, 126, GENERAL),
    ({"L": 1, "E": 10, "C": 7}, 70, GENERAL),       # exactly on the 70 boundary, reachable with table values
    ({"L": 1, "E": 6, "C": 7}, 42, LOW),
    ({"L": 0.2, "E": 3, "C": 1}, 0.6, LOW),          # 0.2 × 3 must be 0.6, not 0.6000000000000001
    ({"L": 0.1, "E": 0.5, "C": 1}, 0.05, LOW),
])
def test_lec_assessment(inputs, score, grade):
    """R-R1: D = L × E × C from the value tables, graded by the bands."""
    result = assess(LEC, inputs)
    assert (result.method, result.score, result.grade) == ("LEC", score, grade)
    assert result.inputs == {k: float(v) for k, v in inputs.items()}


def test_every_lec_combination_is_graded_consistently():
    """R-R1: all 7 × 6 × 6 table combinations; the grade follows the score and never skips a band order."""
    seen = set()
    for lv, _ in LEC.factors[0].values:
        for ev, _ in LEC.factors[1].values:
            for cv, _ in LEC.factors[2].values:
                r = assess(LEC, {"L": lv, "E": ev, "C": cv})
                expected = MAJOR if r.score > 320 else LARGE if r.score >= 160 else GENERAL if r.score >= 70 else LOW
                assert r.grade is expected, (lv, ev, cv, r.score)
                seen.add(r.grade)
    assert seen == {MAJOR, LARGE, GENERAL, LOW}


@pytest.mark.parametrize(("l_value", "s_value", "grade"), [
    (5, 5, MAJOR), (4, 5, MAJOR), (4, 4, LARGE), (5, 3, LARGE), (3, 4, GENERAL), (3, 3, GENERAL), (2, 4, LOW),
    (1, 1, LOW),
])
def test_ls_assessment(l_value, s_value, grade):
    """R-R1: R = L × S on a 5 × 5 matrix."""
    result = assess(LS, {"L": l_value, "S": s_value})
    assert result.score == l_value * s_value and result.grade is grade


def test_inputs_accept_form_strings():
    """Web forms post strings: "0.5" is the table value 0.5."""
    assert assess(LEC, {"L": "0.5", "E": "6", "C": "40"}).score == 120


@pytest.mark.parametrize(("inputs", "field", "words"), [
    ({"E": 6, "C": 7}, "L", "请选择事故发生的可能性"),
    ({"L": 4, "E": 6, "C": 7}, "L", "L 应为以下之一：10、6、3、1、0.5、0.2、0.1"),
    ({"L": "三", "E": 6, "C": 7}, "L", "应为以下之一"),
    ({"L": True, "E": 6, "C": 7}, "L", "应为以下之一"),
    ({"L": 3, "E": 6, "C": 7, "X": 1}, "X", "没有 X 这一项"),
])
def test_invalid_inputs_are_refused_per_factor(inputs, field, words):
    """A value outside the table is refused on ``inputs.<factor>`` with a Chinese message."""
    with pytest.raises(ValidationFailed) as exc:
        assess(LEC, inputs)
    assert words in exc.value.errors["inputs"][field][0]


def test_band_texts_describe_the_ranges():
    """The form and the docs print the ranges from the same data."""
    assert [(g.value, t) for g, t in LEC.band_texts()] == [
        ("major", "D > 320"), ("large", "160 ≤ D ≤ 320"), ("general", "70 ≤ D < 160"), ("low", "D < 70")]
    assert [t for _, t in LS.band_texts()] == ["R ≥ 20", "15 ≤ R < 20", "9 ≤ R < 15", "R < 9"]


def test_grade_for_with_custom_bands():
    bands = [risk_methods.Band(MAJOR, 100, inclusive=False), risk_methods.Band(GENERAL, 10)]
    assert [grade_for(bands, s) for s in (101, 100, 10, 9.9)] == [MAJOR, GENERAL, GENERAL, LOW]


@pytest.mark.parametrize(("change", "words"), [
    (lambda c: c["LEC"].pop("grades"), "missing 'grades'"),
    (lambda c: c["LEC"]["grades"].reverse(), "from the highest"),
    (lambda c: c["LEC"]["grades"].append({"grade": "low", "min": 1}), "'low' is what lies below"),
    (lambda c: c["LEC"]["grades"][1].update(min=400), "must decrease"),
    (lambda c: c["LS"]["factors"][0]["values"].append([0, "不可能"]), "positive number"),
    (lambda c: c["LS"]["factors"][1]["values"].append([5, "重复"]), "repeated value"),
    (lambda c: c["LS"]["grades"][0].update(grade="huge"), "grade must be one of"),
])
def test_bad_configurations_are_refused(change, words):
    """A province's edit that cannot work is refused with a message naming the problem."""
    config = copy.deepcopy(DEFAULT_RISK_METHODS)
    change(config)
    with pytest.raises(ValueError, match=words):
        parse_methods(config)


def test_province_thresholds_replace_the_defaults(app, session):
    """R-R1: thresholds are configuration: a province grading R ≥ 16 as 重大 makes 4 × 4 重大."""
    config = copy.deepcopy(DEFAULT_RISK_METHODS)
    config["LS"]["grades"][0]["min"] = 16
    before = app.config["RISK_METHODS"]
    app.config["RISK_METHODS"] = config
    try:
        assert risk_methods.assess(risk_methods.method("LS"), {"L": 4, "S": 4}).grade is MAJOR
    finally:
        app.config["RISK_METHODS"] = before
    assert risk_methods.assess(risk_methods.method("LS"), {"L": 4, "S": 4}).grade is LARGE


def test_unknown_method_is_a_field_error(app, session):
    with pytest.raises(ValidationFailed) as exc:
        risk_methods.method("HAZOP")
    assert exc.value.errors == {"method": ["评价方法应为以下之一：LEC、LS"]}


def test_invalid_configuration_stops_start_up(tmp_path):
    """A broken RISK_METHODS fails at start-up, not on the first form."""
    from core.app import create_app
    from tests.conftest import base_config

    config = copy.deepcopy(DEFAULT_RISK_METHODS)
    config["LEC"]["grades"][0]["grade"] = "catastrophic"
    with pytest.raises(ConfigError, match="RISK_METHODS is invalid"):
        create_app(base_config("sqlite:///" + str(tmp_path / "x.db"), RISK_METHODS=config))
