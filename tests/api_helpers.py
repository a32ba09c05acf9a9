"""Assertions shared by the JSON API tests: the status and, for errors, the Chinese message (R-N3)."""

from __future__ import annotations

import re

CJK = re.compile(r"[\u4e00-\u9fff]")


def ok(resp, status: int = 200) -> dict:
    """The JSON body of a response that must have ``status``."""
    assert resp.status_code == status, resp.get_data(as_text=True)
    return resp.get_json()


def error(resp, status: int) -> dict:
    """The JSON error body of a response that must have ``status`` and say what is wrong in Chinese."""
    assert resp.status_code == status, resp.get_data(as_text=True)
    body = resp.get_json()
    assert body["code"] == status and CJK.search(body["message"]), body
    return body
