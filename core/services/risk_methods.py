"""Risk assessment methods as data (双重预防 风险分级, R-R1): LEC, the risk matrix L×S, or whatever a deployment
configures in ``RISK_METHODS`` (see :data:`core.config.DEFAULT_RISK_METHODS` and ``docs/risk_methods.md``).

A method is a list of factors, each with a table of allowed values and their descriptions; the score is the
product of the chosen values; the grade is the first band (from the top) whose lower bound the score reaches
(``inclusive``) or exceeds, else 低风险. Everything here is pure: :func:`parse_methods` checks a configuration,
:func:`assess` scores inputs, :func:`grade_for` grades a score. Only :func:`methods` reads the app config.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import isfinite, prod
from typing import Any

from core.models.risk import RiskGrade
from core.services.errors import ValidationFailed

#: Grades a band may name, highest first; 低 is what lies below the last band.
_BAND_GRADES = (RiskGrade.MAJOR, RiskGrade.LARGE, RiskGrade.GENERAL)


@dataclass(frozen=True)
class Factor:
    code: str
    name: str
    #: (value, description), as listed in the configuration (usually highest first).
    values: tuple[tuple[float, str], ...]

    def describe(self, value: float) -> str:
        return next((text for v, text in self.values if v == value), "")


@dataclass(frozen=True)
class Band:
    grade: RiskGrade
    min: float
    inclusive: bool = True

    def contains(self, score: float) -> bool:
        return score >= self.min if self.inclusive else score > self.min

    @property
    def label(self) -> str:
        return f"{self.score_op} {self.min:g}"

    @property
    def score_op(self) -> str:
        return "≥" if self.inclusive else ">"


@dataclass(frozen=True)
class Method:
    code: str
    name: str
    formula: str
    score_name: str
    factors: tuple[Factor, ...]
    bands: tuple[Band, ...]

    def grade_for(self, score: float) -> RiskGrade:
        return grade_for(self.bands, score)

    def band_texts(self) -> list[tuple[RiskGrade, str]]:
        """Each grade with its score range in words, e.g. (较大, "160 ≤ D ≤ 320"), for forms and docs."""
        out: list[tuple[RiskGrade, str]] = []
        upper: Band | None = None
        s = self.score_name
        for band in self.bands:
            low = f"{band.min:g} {'≤' if band.inclusive else '<'} {s}"
            if upper is None:
                text = f"{s} {band.score_op} {band.min:g}"
            else:
                text = f"{low} {'<' if upper.inclusive else '≤'} {upper.min:g}"
            out.append((band.grade, text))
            upper = band
        last = self.bands[-1]
        out.append((RiskGrade.LOW, f"{s} {'<' if last.inclusive else '≤'} {last.min:g}"))
        return out

    def as_json(self) -> dict[str, Any]:
        """What the form's script needs to show the score and grade while the user picks values."""
        return {"code": self.code, "score_name": self.score_name, "factors": [f.code for f in self.factors],
                "bands": [{"grade": b.grade.value, "label": b.grade.label, "min": b.min, "inclusive": b.inclusive}
                          for b in self.bands], "low": RiskGrade.LOW.label}


@dataclass(frozen=True)
class Assessment:
    method: str
    inputs: dict[str, float]
    score: float
    grade: RiskGrade


def grade_for(bands: tuple[Band, ...] | list[Band], score: float) -> RiskGrade:
    """The grade of ``score``: the first band (highest first) that contains it, else 低风险."""
    for band in bands:
        if band.contains(score):
            return band.grade
    return RiskGrade.LOW


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not isfinite(value) or value <= 0:
        raise ValueError(f"{where}: expected a positive number, got {value!r}")
    return float(value)


def parse_methods(config: dict[str, Any]) -> dict[str, Method]:
    """Check a ``RISK_METHODS`` configuration and build the methods; :class:`ValueError` says what is wrong."""
    if not isinstance(config, dict) or not config:
        raise ValueError("expected a non-empty mapping of method code → definition")
    methods: dict[str, Method] = {}
    for code, spec in config.items():
        if not isinstance(spec, dict):
            raise ValueError(f"{code}: expected a mapping")
        for key in ("name", "formula", "score_name", "factors", "grades"):
            if key not in spec:
                raise ValueError(f"{code}: missing {key!r}")
        factors = []
        for f in spec["factors"]:
            values = tuple((_number(v, f"{code}.{f.get('code')}"), str(text)) for v, text in f.get("values") or [])
            if not f.get("code") or not values:
                raise ValueError(f"{code}: every factor needs a code and at least one value")
            if len({v for v, _ in values}) != len(values):
                raise ValueError(f"{code}.{f['code']}: repeated value")
            factors.append(Factor(code=str(f["code"]), name=str(f.get("name") or f["code"]), values=values))
        if not factors or len({f.code for f in factors}) != len(factors):
            raise ValueError(f"{code}: factors must be present and have distinct codes")
        bands = []
        for b in spec["grades"]:
            try:
                grade = RiskGrade(b["grade"])
            except (KeyError, ValueError):
                raise ValueError(f"{code}: grade must be one of major, large, general (got {b.get('grade')!r})") from None
            if grade == RiskGrade.LOW:
                raise ValueError(f"{code}: 'low' is what lies below the last band and takes no band of its own")
            bands.append(Band(grade=grade, min=_number(b.get("min"), f"{code}.{grade}"),
                              inclusive=bool(b.get("inclusive", True))))
        order = [b.grade for b in bands]
        if order != [g for g in _BAND_GRADES if g in order] or not bands:
            raise ValueError(f"{code}: grades must be listed from the highest, each once")
        if any(hi.min < lo.min or (hi.min == lo.min and not (lo.inclusive and not hi.inclusive))
               for hi, lo in zip(bands, bands[1:])):
            raise ValueError(f"{code}: band lower bounds must decrease from the highest grade")
        methods[code] = Method(code=code, name=str(spec["name"]), formula=str(spec["formula"]),
                               score_name=str(spec["score_name"]), factors=tuple(factors), bands=tuple(bands))
    return methods


def assess(method: Method, inputs: dict[str, Any]) -> Assessment:
    """Score and grade ``inputs`` (factor code → value from the factor's table).

    Raises :class:`ValidationFailed` with ``{"inputs": {code: [message]}}`` for a missing or unlisted value.
    The score is rounded to 4 decimals so that 0.2 × 3 is 0.6, not 0.6000000000000001.
    """
    errors: dict[str, list[str]] = {}
    chosen: dict[str, float] = {}
    for factor in method.factors:
        raw = inputs.get(factor.code) if isinstance(inputs, dict) else None
        try:
            value = float(raw) if raw is not None and raw != "" and not isinstance(raw, bool) else None
        except (TypeError, ValueError):
            value = None
        allowed = [v for v, _ in factor.values]
        if raw is None or raw == "":
            errors[factor.code] = [f"请选择{factor.name}（{factor.code}）"]
        elif value not in allowed:
            errors[factor.code] = [f"{factor.code} 应为以下之一：" + "、".join(f"{v:g}" for v in allowed)]
        else:
            chosen[factor.code] = value
    unknown = sorted(set(inputs or {}) - {f.code for f in method.factors}) if isinstance(inputs, dict) else []
    for key in unknown:
        errors[key] = [f"{method.name}没有 {key} 这一项"]
    if errors:
        raise ValidationFailed({"inputs": errors})
    score = round(prod(chosen.values()), 4)
    return Assessment(method=method.code, inputs=chosen, score=score, grade=method.grade_for(score))


def methods() -> dict[str, Method]:
    """The configured methods of the current app (parsed once per app and configuration object)."""
    from flask import current_app

    config = current_app.config["RISK_METHODS"]
    cache = current_app.extensions.setdefault("anjian_risk_methods", {})
    if cache.get("config") is not config:
        cache["config"], cache["methods"] = config, parse_methods(config)
    return cache["methods"]


def method(code: str) -> Method:
    """One configured method; :class:`ValidationFailed` on ``method`` when it is not configured."""
    known = methods()
    if code not in known:
        raise ValidationFailed({"method": ["评价方法应为以下之一：" + "、".join(known)]})
    return known[code]
