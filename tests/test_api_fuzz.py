"""Schemathesis over the whole OpenAPI document, a short run in the suite (issue 14 item 6; R-N3).

About 600 generated requests — valid and invalid data for every operation, with a regulator's and an enterprise
manager's token — each answer checked: no server error, the body matches the documented response schema, the
status is one the operation documents. ``scripts/fuzz-api`` runs the same checks with 10,000+ requests; the
figures are in ``docs/security.md`` §6.
"""

from __future__ import annotations

import pytest

from tests.fuzz_api import CONTRACT_CHECKS, make_tokens, run

#: examples per operation, data mode (valid/invalid) and token: 2 × 2 × 2 × ~75 operations ≈ 600 requests
PER_OPERATION = 2


@pytest.mark.slow
def test_schemathesis_short_run_finds_no_server_error_and_no_contract_break(app, session, world):
    tokens = make_tokens(session, world)
    figures = run(app, tokens, PER_OPERATION, seed=14, checks=CONTRACT_CHECKS)
    assert figures.requests >= 500, figures.summary()
    assert not figures.by_kind, figures.report()
