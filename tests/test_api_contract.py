"""The JSON API keeps the contract its OpenAPI document states (issue 14 items 4 and 6; R-N3).

* every enum-like field is validated by the one :class:`core.schemas.base.Choices` validator, whose error lists
  the accepted values as the API spells them, and the document's ``enum`` is the same list;
* ids: a path id above 2^31-1 (the id columns' range on PostgreSQL), 0 or negative is a 404 (never a 500); body ids are range-checked; integer fields
  refuse fractions and booleans;
* answers: datetimes carry their UTC offset; 405 names the allowed methods; dates outside 1900–2200 are a 422;
* a risk point cannot be PATCHed into another enterprise (422, not a silent 200);
* unknown query parameters of list endpoints are ignored, as the document's description says.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from collections.abc import Iterator

import pytest
from marshmallow import Schema, ValidationError, fields, validate

from core.schemas.base import INT_MAX, Choices, choices_message
from tests.api_helpers import error, ok

API = "/api/v1"
OPENAPI = f"{API}/openapi.json"
NOPE = "__no_such_value__"


def _schema_modules() -> Iterator[object]:
    import core.schemas
    import core.views.api
    import plugins

    for package in (core.schemas, core.views.api):
        for info in pkgutil.iter_modules(package.__path__):
            yield importlib.import_module(f"{package.__name__}.{info.name}")
    for name in ("core.catalog.schemas", "core.standardization"):
        yield importlib.import_module(name)
    for info in pkgutil.iter_modules(plugins.__path__):
        try:
            yield importlib.import_module(f"plugins.{info.name}.fields")
        except ModuleNotFoundError:
            continue


def all_schemas() -> dict[str, type[Schema]]:
    """Every marshmallow schema class defined by the core and the bundled plugins, by ``module.Class``."""
    found = {}
    for module in _schema_modules():
        for name, obj in vars(module).items():
            if inspect.isclass(obj) and issubclass(obj, Schema) and obj.__module__ == module.__name__:
                found[f"{module.__name__}.{name}"] = obj
    return found


def _validated_fields(field: fields.Field, path: str) -> Iterator[tuple[str, fields.Field]]:
    """The field itself and the fields inside it that carry validators (list items, dict keys and values)."""
    yield path, field
    if isinstance(field, fields.List):
        yield from _validated_fields(field.inner, path + "[]")
    if isinstance(field, fields.Dict):
        if field.key_field is not None:
            yield from _validated_fields(field.key_field, path + "{key}")
        if field.value_field is not None:
            yield from _validated_fields(field.value_field, path + "{value}")


def choice_fields() -> Iterator[tuple[str, str, fields.Field, validate.OneOf]]:
    for qualname, schema in sorted(all_schemas().items()):
        for name, field in schema._declared_fields.items():
            for path, inner in _validated_fields(field, name):
                for validator in inner.validators:
                    if isinstance(validator, validate.OneOf):
                        yield qualname, path, inner, validator


@pytest.fixture()
def document(client) -> dict:
    return ok(client.get(OPENAPI))


def test_every_enum_field_uses_choices_and_its_error_lists_the_accepted_codes(app):
    """Issue 14 item 4: no enum-like field of any schema (core, API views, plugins) is validated otherwise; the
    error of each is 「取值应为以下之一：…」 with exactly the values it accepts — each of which it accepts."""
    checked = 0
    with app.test_request_context():
        for qualname, path, _field, validator in choice_fields():
            where = f"{qualname}.{path}"
            assert isinstance(validator, Choices), f"{where}: use core.schemas.base.Choices (one_of), not OneOf"
            accepted = validator.accepted_values()
            assert accepted, f"{where}: no accepted values"
            with pytest.raises(ValidationError) as exc:
                validator(NOPE)
            assert exc.value.messages == [choices_message(accepted)], where
            for value in accepted:
                assert validator(value) == value, f"{where}: refuses its own value {value!r}"
            checked += 1
    assert checked >= 60, f"only {checked} enum fields found: the walk is broken"


def _component_for(document: dict, schema: type[Schema]) -> dict | None:
    return document["components"]["schemas"].get(schema.__name__)


def test_openapi_enum_is_what_the_validator_accepts(app, client, document):
    """Issue 14 item 4: for every enum field of a schema in the OpenAPI document (request bodies and answers),
    ``enum`` lists exactly the values the validator accepts — plugin sector codes and configured risk methods
    and levels included (filled in when the document is served)."""
    assert "x-choices" not in str(document)
    compared = 0
    with app.test_request_context():
        for qualname, schema in all_schemas().items():
            component = _component_for(document, schema)
            if component is None:
                continue
            for name, field in schema._declared_fields.items():
                prop = component["properties"].get(field.data_key or name)
                if prop is None:
                    continue
                for target, where in ((field, prop), (getattr(field, "inner", None), prop.get("items"))):
                    if target is None or where is None:
                        continue
                    choice = next((v for v in target.validators if isinstance(v, Choices)), None)
                    if choice is None:
                        continue
                    enum = [v for v in where.get("enum", []) if v is not None]
                    assert enum == choice.accepted_values(), f"{qualname}.{name}: enum {enum}"
                    compared += 1
    assert compared >= 40, f"only {compared} enum fields compared"
    sectors = document["components"]["schemas"]["HazardIn"]["properties"]["sector"]["enum"]
    assert sectors == ["fake", None]  # the test app's only sector plugin


def test_enum_query_parameters_name_the_documented_values(api, document):
    """Issue 14 item 4: every enum query parameter of a list endpoint refuses an unknown value with a 422 whose
    message lists exactly the document's ``enum``."""
    c = api("xa_reg")
    checked = 0
    for path, item in document["paths"].items():
        get = item.get("get")
        if get is None or "{" in path:
            continue
        for param in get.get("parameters", []):
            enum = [v for v in (param.get("schema", {}).get("enum") or []) if v is not None]
            if param["in"] != "query" or not enum:
                continue
            resp = c.get(path, query_string={param["name"]: NOPE})
            body = error(resp, 422)
            assert body["errors"]["query"][param["name"]] == [choices_message(enum)], (path, param["name"])
            checked += 1
    assert checked >= 8, checked


def test_risk_category_error_names_the_codes_it_accepts(api):
    """Issue 14: the category error listed Chinese labels that the field then refused."""
    c = api("ent1_mgr")
    body = error(c.post(f"{API}/risk-points", json={"name": "液氯汽化器", "category": "人", "method": "LEC",
                                                    "inputs": {"L": 3, "E": 6, "C": 7}}), 422)
    message = body["errors"]["json"]["category"][0]
    codes = message.split("：", 1)[1].split("、")
    assert message.startswith("取值应为以下之一：") and codes == ["process", "equipment", "environment", "management"]
    for code in codes:  # each listed value is accepted
        resp = c.post(f"{API}/risk-points", json={"name": "液氯汽化器", "category": code, "method": "LEC",
                                                  "inputs": {"L": 3, "E": 6, "C": 7}})
        assert resp.status_code == 201, resp.get_json()


# --- ids --------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw", [str(2**31), str(2**63), str(2**64 + 5), "99999999999999999999999", "0", "-1"])
def test_path_ids_outside_the_id_range_are_404(api, login, raw):
    """Issue 14: ids above 2^63 reached SQLite as OverflowError (500), and above 2^31-1 PostgreSQL refuses them
    (integer out of range); 0 and negatives are no ids either."""
    c = api("xa_reg")
    for path in (f"/hazards/{raw}", f"/enterprises/{raw}", f"/risk-points/{raw}", f"/plans/{raw}",
                 f"/hazards/1/attachments/{raw}", f"/inspections/{raw}/record"):
        resp = c.get(API + path)
        assert resp.status_code == 404, (path, resp.status_code)
        assert resp.is_json and re.search(r"[\u4e00-\u9fff]", resp.get_json()["message"])
    assert login("xa_reg").get(f"/hazards/{raw}").status_code == 404  # the pages share the converter


def test_largest_id_is_an_ordinary_missing_object(api):
    c = api("xa_reg")
    error(c.get(f"{API}/hazards/{INT_MAX}"), 404)


def test_path_ids_are_documented_with_their_range(document):
    item = document["paths"]["/api/v1/hazards/{hazard_id}"]
    params = item.get("parameters", []) + item["get"].get("parameters", [])
    (hazard_id,) = [p for p in params if p["name"] == "hazard_id"]
    assert hazard_id["schema"] == {"type": "integer", "minimum": 1, "maximum": INT_MAX}


@pytest.mark.parametrize("version, message", [(1.5, "应为整数"), (True, "应为整数"), ("abc", "应为整数"),
                                              (2**31, "之间"), (2**63, "之间")])
def test_integer_fields_refuse_fractions_booleans_and_overflow(api, world, version, message):
    """Issue 14: ``version: 1.5`` was accepted (as 1)."""
    c = api("xa_reg")
    ent = world.enterprises["E1"]
    body = error(c.patch(f"{API}/enterprises/{ent}", json={"version": version, "address": "新地址"}), 422)
    assert message in body["errors"]["json"]["version"][0]


def test_integral_float_is_an_integer(api, world):
    """JSON has one number type: 1.0 is the integer 1 (JSON Schema agrees)."""
    c = api("xa_reg")
    ent = world.enterprises["E1"]
    assert ok(c.patch(f"{API}/enterprises/{ent}", json={"version": 1.0, "address": "新地址"}))["version"] == 2


@pytest.mark.parametrize("value", [0, -3, 2**63, INT_MAX + 1])
def test_body_ids_are_range_checked(api, world, value):
    c = api("xa_reg")
    body = error(c.post(f"{API}/hazards", json={"enterprise_id": value, "description": "配电箱门未关闭",
                                               "category": "thing"}), 422)
    assert body["errors"]["json"]["enterprise_id"] == [f"应为 1 到 {INT_MAX} 之间的编号"]


# --- answers ----------------------------------------------------------------------------------------------------

AWARE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def test_datetimes_in_answers_carry_their_utc_offset(api, world, document):
    """Issue 14: some answers had naive datetimes (the document says ``date-time``, which needs an offset); and
    every ``date-time`` field of the document's answers is dumped by the one aware field."""
    c = api("xa_reg")
    hazard = ok(c.post(f"{API}/hazards", json={"enterprise_id": world.enterprises["E1"],
                                               "description": "配电箱门未关闭", "category": "thing"}), 201)
    stamps = [hazard["found_at"]] + [t["at"] for t in hazard["transitions"]]
    plan = ok(c.post(f"{API}/plans", json={"year": 2031, "title": "2031 年度监督检查计划"}), 201)
    stamps += [v for k, v in plan.items() if k.endswith("_at") and v]
    assert stamps and all(AWARE.match(s) for s in stamps), stamps

    from core.schemas.base import UtcDateTime

    with c.application.test_request_context():
        for qualname, schema in all_schemas().items():
            for name, field in schema._declared_fields.items():
                if isinstance(field, fields.DateTime):
                    assert isinstance(field, UtcDateTime), f"{qualname}.{name}: use UtcDateTime"


def test_method_not_allowed_names_the_allowed_methods(api, client):
    """Issue 14: 405 without ``Allow`` (RFC 9110 §15.5.6)."""
    resp = api("xa_reg").delete(f"{API}/me")
    assert resp.status_code == 405 and resp.is_json
    assert set(resp.headers["Allow"].replace(" ", "").split(",")) >= {"GET"}
    resp = client.put("/healthz")
    assert resp.status_code == 405 and "GET" in resp.headers["Allow"]


@pytest.mark.parametrize("day", ["0001-01-01", "1899-12-31", "2201-01-01", "9999-12-31"])
def test_dates_out_of_the_sane_range_are_422(api, day):
    """Issue 14: campaign dates like 0001-01-01 overflowed into a 500; every schema date is 1900–2200."""
    c = api("xa_reg")
    body = error(c.post(f"{API}/campaigns", json={"name": "节前安全检查", "kind": "holiday",
                                                 "starts_on": day, "ends_on": "2031-02-01"}), 422)
    assert body["errors"]["json"]["starts_on"] == ["日期应在 1900-01-01 到 2200-12-31 之间"]
    body = error(c.get(f"{API}/hazards", query_string={"found_from": day}), 422)
    assert "found_from" in body["errors"]["query"]


def test_risk_point_patch_to_another_enterprise_is_422(api, world):
    """Issue 14: a PATCH with another ``enterprise_id`` answered 200 and ignored it."""
    c = api("ent1_mgr")
    point = ok(c.post(f"{API}/risk-points", json={
        "name": "液氯汽化器", "category": "process", "method": "LEC",
        "inputs": {"L": 3, "E": 6, "C": 7}}), 201)
    body = error(c.patch(f"{API}/risk-points/{point['id']}", json={
        "version": point["version"], "enterprise_id": world.enterprises["E2"], "name": "改名"}), 422)
    assert body["errors"]["json"]["enterprise_id"] == [
        f"风险点不能移到其他企业：enterprise_id 应为 {world.enterprises['E1']} 或省略"]
    same = ok(c.patch(f"{API}/risk-points/{point['id']}", json={
        "version": point["version"], "enterprise_id": world.enterprises["E1"], "name": "液氯汽化器二"}))
    assert same["name"] == "液氯汽化器二" and same["enterprise_id"] == world.enterprises["E1"]


def test_unknown_query_parameters_are_ignored_as_documented(api, document):
    """Issue 14 item 6: list endpoints ignore query parameters they do not know (the document says so), while a
    known parameter with a bad value is a 422."""
    assert "未知的查询参数会被忽略" in document["info"]["description"]
    c = api("xa_reg")
    plain = ok(c.get(f"{API}/hazards"))
    assert ok(c.get(f"{API}/hazards", query_string={"no_such_filter": "1"})) == plain
    error(c.get(f"{API}/hazards", query_string={"size": "0"}), 422)


def test_nullable_columns_are_documented_nullable(document):
    """Issue 14: answers held nulls in fields the document called non-nullable (enterprise, /me)."""
    ent = document["components"]["schemas"]["EnterpriseOut"]["properties"]
    assert ent["longitude"].get("nullable") and ent["principal_name"].get("nullable")
    assert not ent["name"].get("nullable")
    me = document["components"]["schemas"]["UserOut"]["properties"]
    assert me["enterprise_id"].get("nullable") and not me["username"].get("nullable")


def test_dates_parsed_outside_schemas_are_range_checked_too():
    """Issue 14: dates out of 1900–2200 are refused wherever they are parsed — here a plugin document type's
    date fill-in (checked by the documents service, not a schema)."""
    from core.plugin_types import DocumentField
    from core.services.documents import check_fields
    from core.services.errors import ValidationFailed

    specs = (DocumentField(name="reply_by", label="书面回复日期", kind="date"),)
    assert check_fields(specs, {"reply_by": "2031-05-01"}) == {"reply_by": "2031-05-01"}
    for day in ("0001-01-01", "9999-12-31"):
        with pytest.raises(ValidationFailed) as exc:
            check_fields(specs, {"reply_by": day})
        assert exc.value.errors == {"fields": {"reply_by": ["“书面回复日期”应在 1900-01-01 到 2200-12-31 之间"]}}


def test_nul_characters_are_refused_as_data(api, world):
    """PostgreSQL text cannot hold NUL: a search term or a field with one was a 500 there (schemathesis on
    PostgreSQL); every text field refuses it, on both databases."""
    c = api("xa_reg")
    body = error(c.get(f"{API}/documents", query_string={"q": "a\x00b"}), 422)
    assert body["errors"]["query"]["q"] == ["不能包含空字符（\\u0000）"]
    body = error(c.post(f"{API}/hazards", json={"enterprise_id": world.enterprises["E1"],
                                               "description": "配电箱\x00门未关闭", "category": "thing"}), 422)
    assert body["errors"]["json"]["description"] == ["不能包含空字符（\\u0000）"]


def test_a_value_the_database_refuses_is_a_422_not_a_500(app):
    """The safety net behind the schemas: SQLSTATE class 22 (data exception) answers 422."""
    from sqlalchemy.exc import DataError, DBAPIError

    from core.views import is_data_error

    class Orig(Exception):
        sqlstate = "22003"  # numeric_value_out_of_range

    assert is_data_error(DataError("SELECT 1", {}, Exception("NUL")))
    assert is_data_error(DBAPIError("SELECT 1", {}, Orig()))
    assert not is_data_error(DBAPIError("SELECT 1", {}, Exception("disk I/O error")))
