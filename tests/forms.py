"""Submit a rendered page's form exactly as a browser does (issue 14, R-N3).

Form tests must not post hand-built dictionaries: a hand-built dictionary hides what the page really sends (the
enterprise form lost every sector on an unchanged save because a hidden ``sector_X=0`` precedes each checkbox and
the view read the first value, while the tests posted ``sector_X=1`` alone). :func:`page_form` parses the page's
HTML and :meth:`Form.submit` sends what a browser would send, in document order:

* ``<input>`` of every text-like type and ``hidden``: its ``value`` attribute (empty when absent);
* checkboxes and radios only when checked, with their value (``on`` when they have none);
* ``<select>``: the selected options (a single select without one sends its first option; a multiple select
  without one sends nothing);
* ``<textarea>``: its text (one leading newline dropped, as HTML does);
* controls that are ``disabled`` (or inside a disabled ``<fieldset>``) and controls without a name: nothing;
* ``type=file``: one part per chosen file (:meth:`Form.attach`, several for ``multiple``), an empty part when none
  was chosen, and the form is sent as multipart;
* submit buttons: only the one clicked (by name, ``name=value`` or its text), when it has a name; its
  ``formaction`` / ``formmethod`` / ``formenctype`` replace the form's.

Changing a field the form does not have raises (:meth:`Form.fill`, :meth:`Form.set`), so a test cannot invent
fields; hidden fields change only as the page's script changes them (:meth:`Form.scripted`). The usual round is
``submit(client, url, {...}, action=..., button=...)`` or ``get_form(client, url).fill(...).submit(client)``.

Two deliberate exceptions, each saying why: :func:`tamper` sends a body no page renders (a forged or stale post,
a user refused the page), :func:`script_post` what a page script builds itself. ``test_form_roundtrip`` scans the
tests and fails on any other hand-built post to a web URL.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from html import unescape
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

from werkzeug.datastructures import MultiDict

TEXT_TYPES = {"text", "hidden", "number", "date", "datetime-local", "time", "month", "week", "email", "tel", "url",
              "search", "password", "color", "range", ""}


@dataclass
class Control:
    """One named form control as parsed from the page."""

    tag: str
    name: str
    type: str = ""
    value: str = ""
    checked: bool = False
    disabled: bool = False
    multiple: bool = False
    #: ``<select>`` options as (value, selected)
    options: list[tuple[str, bool]] = field(default_factory=list)
    multiple_files: bool = False
    #: a submit button's text and its ``formaction`` / ``formmethod`` / ``formenctype`` overrides
    label: str = ""
    formaction: str | None = None
    formmethod: str | None = None
    formenctype: str | None = None
    #: files chosen for a ``type=file`` input, as (content, filename)
    files: list[tuple[bytes, str]] = field(default_factory=list)

    def is_button(self) -> bool:
        return self.tag == "button" and self.type == "submit" or self.tag == "input" and self.type in ("submit",
                                                                                                     "image")

    def matches(self, button: str) -> bool:
        """``button`` names this submit button: by name, ``name=value`` or its visible text."""
        return bool(button) and button in ({self.name, f"{self.name}={self.value}", self.label.strip()} - {"", "="})


@dataclass
class Form:
    """A parsed ``<form>``: its action, method, enctype and controls in document order."""

    action: str
    method: str
    enctype: str
    controls: list[Control]
    page_url: str = ""

    # -- reading -------------------------------------------------------------------------------------------
    def names(self) -> set[str]:
        return {c.name for c in self.controls}

    def fields(self, button: str | None = None) -> list[tuple[str, Any]]:
        """The (name, value) pairs a browser sends, in order; ``button``: the name (or name=value) clicked."""
        pairs: list[tuple[str, Any]] = []
        clicked = False
        for c in self.controls:
            if c.disabled:
                continue
            if c.tag == "button" or (c.tag == "input" and c.type in ("submit", "image")):
                if button is not None and not clicked and c.is_button() and c.matches(button):
                    if c.name:
                        pairs.append((c.name, c.value))
                    clicked = True
                continue
            if c.tag == "input" and c.type in ("checkbox", "radio"):
                if c.checked:
                    pairs.append((c.name, c.value or "on"))
            elif c.tag == "input" and c.type == "file":
                # A browser sends one part per chosen file, or one empty part when none was chosen.
                pairs.extend((c.name, (io.BytesIO(content), filename)) for content, filename in c.files or [(b"", "")])
            elif c.tag == "input" and c.type in ("reset", "button"):
                continue
            elif c.tag == "select":
                chosen = [v for v, sel in c.options if sel]
                if not chosen and not c.multiple and c.options:
                    chosen = [c.options[0][0]]
                pairs.extend((c.name, v) for v in (chosen if c.multiple else chosen[-1:]))
            else:
                pairs.append((c.name, c.value))
        if button is not None and not clicked:
            raise KeyError(f"no submit button {button!r} in the form")
        return pairs

    def value(self, name: str) -> str | None:
        """What the browser would send for ``name`` (the last value), or None."""
        values = [v for n, v in self.fields() if n == name]
        return values[-1] if values else None

    def values(self, name: str) -> list[Any]:
        """Every value the browser would send for ``name``, in order."""
        return [v for n, v in self.fields() if n == name]

    def buttons(self) -> list[Control]:
        return [c for c in self.controls if c.is_button()]

    def has_button(self, button: str) -> bool:
        return any(c.matches(button) for c in self.buttons())

    # -- changing, as a user would -------------------------------------------------------------------------
    def _named(self, name: str) -> list[Control]:
        found = [c for c in self.controls if c.name == name and name]
        if not found:
            raise KeyError(f"the form has no field {name!r}; it has {sorted(self.names() - {''})}")
        return found

    def set(self, name: str, value: Any) -> Form:
        """Type into a text field or textarea, or choose an option of a select (by value)."""
        value = str(value)
        for c in self._named(name):
            if c.disabled:
                continue
            if c.tag == "select":
                if value not in [v for v, _ in c.options]:
                    raise KeyError(f"select {name!r} has no option {value!r}; it has {[v for v, _ in c.options]}")
                c.options = [(v, v == value) for v, _ in c.options]
                return self
            if c.tag == "textarea" or (c.tag == "input" and c.type in TEXT_TYPES and c.type != "hidden"):
                c.value = value
                return self
        raise KeyError(f"{name!r} is not a field a user can type into")

    def select(self, name: str, values: list[Any]) -> Form:
        """Choose exactly ``values`` in a multiple select."""
        wanted = [str(v) for v in values]
        (c,) = [c for c in self._named(name) if c.tag == "select"]
        missing = set(wanted) - {v for v, _ in c.options}
        if missing or not c.multiple:
            raise KeyError(f"select {name!r} (multiple={c.multiple}) cannot choose {sorted(missing) or wanted}")
        c.options = [(v, v in wanted) for v, _ in c.options]
        return self

    def scripted(self, name: str, value: Any) -> Form:
        """Set a hidden field as the page's own script does (a map click, a signature pad): the one way a hidden
        value changes in a browser. Refuses a field that is not hidden, so typing still goes through :meth:`set`."""
        hidden = [c for c in self._named(name) if c.tag == "input" and c.type == "hidden"]
        if not hidden:
            raise KeyError(f"{name!r} is not a hidden field a page script fills")
        hidden[-1].value = str(value)
        return self

    def check(self, name: str, value: str | None = None, on: bool = True) -> Form:
        """Tick (or untick) a checkbox, or choose a radio button."""
        boxes = [c for c in self._named(name) if c.tag == "input" and c.type in ("checkbox", "radio")]
        if value is not None:
            boxes = [c for c in boxes if (c.value or "on") == str(value)]
        if not boxes:
            raise KeyError(f"no checkbox or radio {name!r} with value {value!r}")
        for c in boxes:
            if c.type == "radio" and on:
                for other in self._named(name):
                    other.checked = False
            c.checked = on
        return self

    def uncheck(self, name: str, value: str | None = None) -> Form:
        return self.check(name, value, on=False)

    def fill(self, fields: dict[str, Any] | None = None, /, **more: Any) -> Form:
        """Do what a user does to several fields at once; every name must be a field of the form.

        A text field, textarea or single select takes a value; a checkbox takes ``True``/``False`` (a group of
        checkboxes sharing a name takes the list of values to tick, unticking the others); a radio group takes
        the value to choose; a multiple select takes a list. ``fields`` is for names that are not identifiers.
        """
        for name, value in {**(fields or {}), **more}.items():
            controls = self._named(name)
            kinds = {c.type if c.tag == "input" else c.tag for c in controls if not c.disabled} - {"hidden"}
            if "checkbox" in kinds:
                boxes = [c for c in controls if c.type == "checkbox"]
                if isinstance(value, bool) and len({c.value for c in boxes}) == 1:
                    self.check(name, on=value)
                else:
                    wanted = {str(v) for v in (value if isinstance(value, list | tuple | set) else [value])}
                    known = {c.value or "on" for c in boxes}
                    if wanted - known:
                        raise KeyError(f"checkboxes {name!r} have no value {sorted(wanted - known)}; {sorted(known)}")
                    for c in boxes:
                        c.checked = (c.value or "on") in wanted
            elif "radio" in kinds:
                self.check(name, str(value))
            elif "select" in kinds and isinstance(value, list | tuple):
                self.select(name, list(value))
            elif kinds == {"file"}:
                items = value if isinstance(value, list) else [value]
                for i, (content, filename) in enumerate(items):
                    self.attach(name, content, filename, add=i > 0)
            else:
                self.set(name, value)
        return self

    def attach(self, name: str, content: bytes, filename: str, add: bool = False) -> Form:
        """Choose a file for a file input; ``add=True`` adds another one to an ``<input multiple>``."""
        for c in self._named(name):
            if c.tag == "input" and c.type == "file" and not c.disabled:
                if add and not c.multiple_files:
                    raise KeyError(f"file input {name!r} takes one file (no multiple attribute)")
                c.files = [*c.files, (content, filename)] if add else [(content, filename)]
                return self
        raise KeyError(f"{name!r} is not a file input")

    def attach_all(self, name: str, files: list[tuple[bytes, str]]) -> Form:
        """Choose several files at once for an ``<input type=file multiple>``."""
        for i, (content, filename) in enumerate(files):
            self.attach(name, content, filename, add=i > 0)
        return self

    # -- sending ---------------------------------------------------------------------------------------------
    def submit(self, client: Any, button: str | None = None, **kwargs: Any) -> Any:
        """Send the form with a Flask test client (or anything with ``.open``) as a browser would; ``button``:
        the submit button clicked (by name, ``name=value`` or its text), whose ``formaction`` etc. apply."""
        clicked = next((c for c in self.buttons() if button is not None and c.matches(button)), None)
        action = clicked.formaction if clicked is not None and clicked.formaction is not None else self.action
        method = (clicked.formmethod if clicked is not None and clicked.formmethod else self.method).lower()
        enctype = clicked.formenctype if clicked is not None and clicked.formenctype else self.enctype
        url = urljoin(self.page_url, action) if action else self.page_url
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        pairs = self.fields(button)
        if method == "get":
            return client.get(parts.path + "?" + urlencode(pairs), **kwargs)
        files = any(c.type == "file" for c in self.controls if not c.disabled)
        if files or enctype == "multipart/form-data":
            content_type = "multipart/form-data"
        else:
            content_type = "application/x-www-form-urlencoded"
        return client.open(path, method="POST", data=MultiDict(pairs), content_type=content_type, **kwargs)


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: Control | None = None
        self._option: list[Any] | None = None
        self._textarea: Control | None = None
        self._button: Control | None = None
        self._fieldset_disabled = 0
        self._fieldset_depth: list[bool] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            self._form = Form(action=a.get("action", ""), method=(a.get("method") or "get").lower(),
                              enctype=a.get("enctype", "application/x-www-form-urlencoded"), controls=[])
            self.forms.append(self._form)
            return
        if self._form is None:
            return
        if tag == "fieldset":
            disabled = "disabled" in a
            self._fieldset_depth.append(disabled)
            self._fieldset_disabled += disabled
            return
        disabled = "disabled" in a or self._fieldset_disabled > 0
        name = a.get("name", "")
        overrides = {"formaction": a.get("formaction"), "formmethod": a.get("formmethod"),
                     "formenctype": a.get("formenctype")}
        if tag == "input":
            kind = a.get("type", "text").lower()
            if name or kind in ("submit", "image"):  # a nameless submit button still submits the form
                self._form.controls.append(Control("input", name, kind, a.get("value", ""),
                                                   checked="checked" in a, disabled=disabled,
                                                   multiple_files="multiple" in a, label=a.get("value", ""),
                                                   **overrides))
        elif tag == "button":
            self._button = Control("button", name, a.get("type", "submit").lower(), a.get("value", ""),
                                   disabled=disabled, **overrides)
            self._form.controls.append(self._button)
        elif tag == "select" and name:
            self._select = Control("select", name, disabled=disabled, multiple="multiple" in a)
            self._form.controls.append(self._select)
        elif tag == "option" and self._select is not None:
            self._close_option()  # an <option> ends the one before it (its end tag is optional)
            self._option = [a.get("value"), "selected" in a, ""]
        elif tag == "textarea" and name:
            self._textarea = Control("textarea", name, disabled=disabled)
            self._form.controls.append(self._textarea)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_data(self, data: str) -> None:
        if self._option is not None:
            self._option[2] += data
        if self._textarea is not None:
            self._textarea.value += data
        if self._button is not None:
            self._button.label += data

    def _close_option(self) -> None:
        if self._option is not None and self._select is not None:
            value, selected, text = self._option
            self._select.options.append((value if value is not None else text.strip(), selected))
        self._option = None

    def handle_endtag(self, tag: str) -> None:
        if tag == "option":
            self._close_option()
        elif tag == "select":
            self._close_option()
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self._textarea.value = self._textarea.value.removeprefix("\n")
            self._textarea.value = unescape(self._textarea.value)
            self._textarea = None
        elif tag == "button":
            if self._button is not None:
                self._button.label = " ".join(self._button.label.split())
            self._button = None
        elif tag == "fieldset" and self._fieldset_depth:
            self._fieldset_disabled -= self._fieldset_depth.pop()
        elif tag == "form":
            self._form = None


def parse_forms(html: str, page_url: str = "") -> list[Form]:
    """Every ``<form>`` of the page."""
    parser = _Parser()
    parser.feed(html)
    parser.close()
    for f in parser.forms:
        f.page_url = page_url
    return parser.forms


def _is_logout(form: Form) -> bool:
    return urlsplit(form.action).path.rstrip("/").endswith("/logout")


def page_form(resp: Any, which: int | str | None = None, page_url: str | None = None, *, action: str | None = None,
              button: str | None = None, status: int = 200) -> Form:
    """The form of a test-client response.

    ``which``: an index, or a text the form's action contains (same as ``action``); ``button``: the form that has
    this submit button (name, ``name=value`` or text); neither: the page's main form, the one with the most
    controls. The layout's logout form is never chosen unless asked for by its action. ``status``: the status
    the page must answer with (a form re-rendered with errors answers 400 or 422).
    """
    assert resp.status_code == status, f"the page answered {resp.status_code}, expected {status}"
    if page_url is None and resp.request is not None:
        # A form without an action posts to the page's own URL, query string included.
        query = resp.request.query_string.decode()
        page_url = resp.request.path + (f"?{query}" if query else "")
    forms = parse_forms(resp.get_data(as_text=True), page_url or "")
    if isinstance(which, int):
        return forms[which]
    if isinstance(which, str):
        action = which
    candidates = forms
    if action is None or "logout" not in action:
        candidates = [f for f in forms if not _is_logout(f)]
    if action is not None:
        candidates = [f for f in candidates if action in f.action
                      or any(b.formaction and action in b.formaction for b in f.buttons())]
        assert candidates, f"no form with action containing {action!r}: {[f.action for f in forms]}"
    if button is not None:
        candidates = [f for f in candidates if f.has_button(button)]
        assert candidates, f"no form with a submit button {button!r}"
    assert candidates, f"the page has no form but the logout form: {[f.action for f in forms]}"
    if action is None and button is None:
        return max(candidates, key=lambda f: len(f.controls))
    return candidates[0]


def get_form(client: Any, url: str, which: int | str | None = None, *, action: str | None = None,
             button: str | None = None, status: int = 200) -> Form:
    """GET ``url`` with ``client`` and return one of its forms (see :func:`page_form`)."""
    return page_form(client.get(url), which, page_url=url, action=action, button=button, status=status)


def submit(client: Any, url: str, fields: dict[str, Any] | None = None, *, action: str | None = None,
           button: str | None = None, status: int = 200, **kwargs: Any) -> Any:
    """GET ``url``, pick its form (by ``action`` or ``button``), :meth:`Form.fill` ``fields`` and submit it by
    clicking ``button``: the whole browser round in one call."""
    form = get_form(client, url, action=action, button=button, status=status)
    return form.fill(fields or {}).submit(client, button, **kwargs)


def tamper(client: Any, url: str, data: Any = None, *, why: str, method: str = "POST", **kwargs: Any) -> Any:
    """Send a hand-built body no page of the application renders: a forged or stale post, a field the form does
    not have, a user without the page posting anyway. ``why`` says what is forged, so that a hand-built post is
    always a deliberate attack on the server and never a stand-in for a form."""
    assert why.strip(), "say why this post cannot come from a page"
    return client.open(url, method=method, data=data if data is not None else {}, **kwargs)


def script_post(client: Any, url: str, data: Any = None, *, script: str, **kwargs: Any) -> Any:
    """Send what one of the page's scripts posts with ``fetch`` (a FormData it builds, such as a signature pad's
    drawing): no ``<form>`` renders that body, so the test builds the same one. ``script`` names the script file
    (``js/signature.js``), so that a reader can check the fields against it."""
    assert script.endswith(".js"), "name the page script whose request this is"
    return client.open(url, method="POST", data=data if data is not None else {}, **kwargs)
