"""Property-based requests over the whole OpenAPI document with schemathesis (issue 14, R-N3).

Shared by ``tests/test_api_fuzz.py`` (a short run in the suite) and ``scripts/fuzz-api`` (the long run). Every
operation of ``/api/v1/openapi.json`` gets generated requests — valid ones (the schema allows them) and invalid
ones (they break it) — sent in-process to the WSGI app with a regulator's and an enterprise manager's token, and
each answer is checked:

* ``not_a_server_error``: no 5xx;
* ``response_schema_conformance``: the body matches the documented response schema;
* ``status_code_conformance``: the status is one the operation documents;
* ``positive_data_acceptance``: a body the schema allows is not refused as malformed (400/422).

Failures are collected (not raised) so that one run counts all of them; :class:`Figures` sums them up.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import hypothesis
import schemathesis
from hypothesis import HealthCheck, Phase
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

#: What the suite requires of every answer.
CONTRACT_CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]
#: The long run also counts valid bodies refused as malformed: a 422 for a rule the schema cannot state (a USCC
#: check digit, an end date before the start, an id of no object) is right, so this figure is a lead, not a bug.
CHECKS = [*CONTRACT_CHECKS, positive_data_acceptance]
KINDS = {
    "not_a_server_error": "server_errors",
    "response_schema_conformance": "schema_violations",
    "status_code_conformance": "undocumented_statuses",
    "positive_data_acceptance": "rejected_valid_bodies",
}
#: The users whose tokens the run uses (tests/factories.py): a district regulator and an enterprise's manager.
USERS = ("xa_reg", "ent1_mgr")


@dataclass
class Figures:
    requests: int = 0
    by_kind: Counter = field(default_factory=Counter)
    #: (kind, operation label, status, short message, curl) of the first few failures of each operation and kind
    examples: list[tuple[str, str, int, str, str]] = field(default_factory=list)
    seconds: float = 0.0
    #: (operation, "location.field") of the fields named by the 422s refusing schema-valid data
    rejected_fields: Counter = field(default_factory=Counter)

    @property
    def server_errors(self) -> int:
        return self.by_kind["server_errors"]

    @property
    def schema_violations(self) -> int:
        return self.by_kind["schema_violations"]

    def report(self, limit: int = 20) -> str:
        lines = [f"{kind} {label} -> {status}\n  {message}\n  {curl}"
                 for kind, label, status, message, curl in self.examples[:limit]]
        return "\n".join([self.summary(), *lines])

    def summary(self) -> str:
        parts = [f"requests={self.requests}"] + [f"{k}={self.by_kind[k]}" for k in KINDS.values()]
        return " ".join(parts) + f" seconds={self.seconds:.1f}"


def load_schema(app) -> Any:
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


def _record(figures: Figures, seen: Counter, case, response, exc: FailureGroup) -> None:
    label = case.operation.label
    for failure in exc.exceptions:
        name = getattr(failure, "check_name", None) or type(failure).__name__
        kind = KINDS.get(_check_name(failure), name)
        figures.by_kind[kind] += 1
        if kind == "rejected_valid_bodies":
            for where in _error_fields(response):
                figures.rejected_fields[(label, where)] += 1
        key = (kind, label)
        seen[key] += 1
        if seen[key] <= 2:
            title = getattr(failure, "title", "") or ""
            message = (getattr(failure, "message", "") or str(failure))[:600]
            try:
                curl = case.as_curl_command()
            except Exception:  # a body that cannot be shown as a command line: the message is enough
                curl = ""
            figures.examples.append((kind, label, response.status_code, f"{title}: {message}", curl))


def _error_fields(response) -> list[str]:
    try:
        errors = response.json().get("errors") or {}
    except Exception:  # not JSON: nothing to name
        return []
    if not isinstance(errors, dict):
        return []
    return [f"{location}.{name}" for location, named in errors.items() if isinstance(named, dict)
            for name in named] or ["(message only)"]


def _record_exception(figures: Figures, seen: Counter, case, exc: Exception) -> None:
    label = case.operation.label
    figures.by_kind["server_errors"] += 1
    seen[("server_errors", label)] += 1
    if seen[("server_errors", label)] <= 2:
        try:
            curl = case.as_curl_command()
        except Exception:
            curl = ""
        figures.examples.append(("server_errors", label, 500, f"{type(exc).__name__}: {exc}"[:600], curl))


def _check_name(failure: Any) -> str:
    from schemathesis.core import failures as f

    if isinstance(failure, f.ServerError):
        return "not_a_server_error"
    name = type(failure).__name__
    return {
        "JsonSchemaError": "response_schema_conformance",
        "MalformedJson": "response_schema_conformance",
        "UndefinedStatusCode": "status_code_conformance",
        "RejectedPositiveData": "positive_data_acceptance",
    }.get(name, name)


def run(app, tokens: dict[str, str], per_operation: int, seed: int = 0,
        operations: Iterable[str] | None = None, checks: list | None = None) -> Figures:
    """``per_operation`` examples of each mode (valid and invalid data) for each operation and token."""
    schema = load_schema(app)
    figures = Figures()
    seen: Counter = Counter()
    started = time.monotonic()
    wanted = set(operations) if operations else None
    for result in schema.get_all_operations():
        operation = result.ok()
        if wanted is not None and operation.label not in wanted:
            continue
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                strategy = operation.as_strategy(generation_mode=mode)
            except Exception:  # an operation without anything to negate (no parameters): positive only
                continue
            for user, token in tokens.items():
                _run_one(figures, seen, strategy, token, per_operation, seed, checks or CHECKS)
    figures.seconds = time.monotonic() - started
    return figures


def _run_one(figures: Figures, seen: Counter, strategy, token: str, n: int, seed: int, checks: list) -> None:
    headers = {"Authorization": f"Bearer {token}"}

    @hypothesis.settings(max_examples=n, deadline=None, database=None, derandomize=False,
                         phases=[Phase.generate], suppress_health_check=list(HealthCheck),
                         print_blob=False, report_multiple_bugs=False)
    @hypothesis.seed(seed)
    @hypothesis.given(data=st.data())
    def body(data):
        case = data.draw(strategy)
        figures.requests += 1
        try:
            response = case.call(headers=headers)
        except Exception as exc:  # raised through the WSGI app: a server error that escaped the error handlers
            _record_exception(figures, seen, case, exc)
            return
        try:
            case.validate_response(response, checks=checks, headers=headers)
        except FailureGroup as exc:
            _record(figures, seen, case, response, exc)

    body()


def make_tokens(session, world) -> dict[str, str]:
    from core.services.actors import SYSTEM
    from core.services.users import create_token

    tokens = {}
    for username in USERS:
        raw, _ = create_token(session, SYSTEM, world.user(session, username), "fuzz")
        tokens[username] = raw
    session.commit()
    return tokens
