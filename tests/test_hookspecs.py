"""The hook vocabulary is documented, and the documentation is kept in sync with it (architecture: plugin contract).

* every hookspec in :mod:`core.hookspecs` has a real docstring and a ``## <name>`` section in docs/plugin_hooks.md;
* every ``## `` section of that page names an existing hook;
* the vocabulary is regular: ``register_*`` collected, ``on_*`` events, a bare verb is a ``firstresult`` decision
  with a core default registered ``trylast``.
"""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from core import hookspecs
from core.plugins import CoreDefaults, build_plugin_manager

DOC = Path(__file__).resolve().parent.parent / "docs" / "plugin_hooks.md"
MIN_DOCSTRING = 80


def _hookspecs() -> dict[str, object]:
    """name → function for every function marked ``@hookspec`` in core.hookspecs."""
    marker = f"{hookspecs.hookspec.project_name}_spec"
    return {name: fn for name, fn in vars(hookspecs).items() if inspect.isfunction(fn) and hasattr(fn, marker)}


def _spec_opts(fn) -> dict:
    return getattr(fn, f"{hookspecs.hookspec.project_name}_spec")


def _doc_sections() -> dict[str, str]:
    """``## `` heading → section text, ignoring fenced code blocks (a ``## `` inside code is not a heading)."""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    in_code = False
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith("```"):
            in_code = not in_code
        elif not in_code and line.startswith("## "):
            current = sections.setdefault(line[3:].strip(), [])
            continue
        elif not in_code and line.startswith("# "):
            current = None
            continue
        if current is not None:
            current.append(line)
    return {name: "\n".join(lines) for name, lines in sections.items()}


HOOKS = _hookspecs()
SECTIONS = _doc_sections()


def test_the_vocabulary_was_found():
    # Guard against the helpers above silently finding nothing (then every parametrised test would vanish).
    assert {"register_sector", "classify_hazard", "on_hazard_transition"} <= set(HOOKS)
    assert "register_sector" in SECTIONS


@pytest.mark.parametrize("name", sorted(HOOKS))
def test_hookspec_has_a_real_docstring(name):
    doc = inspect.getdoc(HOOKS[name]) or ""
    assert len(doc) > MIN_DOCSTRING, f"hookspec {name} needs a docstring saying when it fires and who wins"


@pytest.mark.parametrize("name", sorted(HOOKS))
def test_hookspec_has_a_documentation_section(name):
    assert name in SECTIONS, f"docs/plugin_hooks.md has no '## {name}' section"
    section = SECTIONS[name]
    assert "```python" in section and f"def {name}(" in section, f"section {name} needs an example implementation"
    for label in ("**When:**", "**Arguments:**", "**Returns:**", "**Who wins:**"):
        assert label in section, f"section {name} does not say {label}"


@pytest.mark.parametrize("name", sorted(SECTIONS))
def test_every_documentation_section_names_an_existing_hook(name):
    assert name in HOOKS, f"docs/plugin_hooks.md documents '## {name}', which is not a hook in core/hookspecs.py"


@pytest.mark.parametrize("name", sorted(HOOKS))
def test_documented_arguments_match_the_spec(name):
    params = list(inspect.signature(HOOKS[name]).parameters)
    section = SECTIONS.get(name, "")
    arguments = section.split("**Arguments:**", 1)[-1].split("**Returns:**", 1)[0]
    if not params:
        assert "none" in arguments.lower(), f"section {name} should say it takes no arguments"
    for param in params:
        assert f"`{param}" in arguments, f"section {name} does not document argument {param!r}"


@pytest.mark.parametrize("name", sorted(HOOKS))
def test_vocabulary_is_regular(name):
    """register_* are collected, on_* are events, a bare verb is a firstresult decision (and says so in the doc)."""
    opts = _spec_opts(HOOKS[name])
    who_wins = SECTIONS.get(name, "").split("**Who wins:**", 1)[-1]
    if name.startswith(("register_", "on_")):
        assert not opts.get("firstresult"), f"{name} is a contribution/event hook, it must be collected"
        assert ("collected" in who_wins) or ("every implementation is called" in who_wins)
    else:
        assert opts.get("firstresult"), f"{name} is a decision: it must be firstresult=True"
        assert "firstresult" in who_wins and "core default" in who_wins


def test_classify_hazard_is_a_firstresult_decision():
    assert _spec_opts(hookspecs.classify_hazard)["firstresult"] is True


@pytest.mark.parametrize("name", sorted(n for n in HOOKS if not n.startswith(("register_", "on_"))))
def test_every_decision_has_a_trylast_core_default(name):
    impl = getattr(CoreDefaults, name, None)
    assert impl is not None, f"the core has no default for decision hook {name}"
    assert getattr(impl, f"{hookspecs.hookimpl.project_name}_impl")["trylast"] is True
    # In a built manager the core default is the last one called (pluggy calls get_hookimpls() in reverse).
    registry = build_plugin_manager([])
    impls = getattr(registry.pm.hook, name).get_hookimpls()
    assert impls[0].plugin_name == "core"
    assert inspect.signature(impl).parameters.keys() - {"self"} == inspect.signature(HOOKS[name]).parameters.keys()


def test_core_defaults_implement_only_existing_hooks():
    marker = f"{hookspecs.hookimpl.project_name}_impl"
    implemented = {n for n, f in vars(CoreDefaults).items() if hasattr(f, marker)}
    assert implemented and implemented <= set(HOOKS)
