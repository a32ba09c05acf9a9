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
* ``type=file``: an empty file part, and the form is sent as multipart;
* submit buttons: only the one clicked, when it has a name.

Changing a field the form does not have raises, so a test cannot invent fields.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from html import unescape
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

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
                if button is not None and not clicked and button in (c.name, f"{c.name}={c.value}"):
                    pairs.append((c.name, c.value))
                    clicked = True
                continue
            if c.tag == "input" and c.type in ("checkbox", "radio"):
                if c.checked:
                    pairs.append((c.name, c.value or "on"))
            elif c.tag == "input" and c.type == "file":
                pairs.append((c.name, (io.BytesIO(c.value.encode()) if c.value else io.BytesIO(b""), "")))
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

    # -- changing, as a user would -------------------------------------------------------------------------
    def _named(self, name: str) -> list[Control]:
        found = [c for c in self.controls if c.name == name]
        if not found:
            raise KeyError(f"the form has no field {name!r}; it has {sorted(self.names())}")
        return found

    def set(self, name: str, value: Any) -> Form:
        """Type into a text field or textarea, or choose an option of a select (by value)."""
        value = str(value)
        for c in self._named(name):
            if c.tag == "select":
                if value not in [v for v, _ in c.options]:
                    raise KeyError(f"select {name!r} has no option {value!r}")
                c.options = [(v, v == value) for v, _ in c.options]
                return self
            if c.tag == "textarea" or (c.tag == "input" and c.type in TEXT_TYPES and c.type != "hidden"):
                c.value = value
                return self
        raise KeyError(f"{name!r} is not a field a user can type into")

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

    def attach(self, name: str, content: bytes, filename: str) -> Form:
        for c in self._named(name):
            if c.tag == "input" and c.type == "file":
                c.value = ""
                c.options = [(filename, True)]
                c._content = content  # type: ignore[attr-defined]
                return self
        raise KeyError(f"{name!r} is not a file input")

    # -- sending ---------------------------------------------------------------------------------------------
    def submit(self, client: Any, button: str | None = None, **kwargs: Any) -> Any:
        """Send the form with a Flask test client (or anything with ``.open``) as a browser would."""
        url = urljoin(self.page_url, self.action) if self.action else self.page_url
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        pairs = []
        for c_name, v in self.fields(button):
            control = next(c for c in self.controls if c.name == c_name)
            if control.tag == "input" and control.type == "file" and hasattr(control, "_content"):
                v = (io.BytesIO(control._content), control.options[0][0])
            pairs.append((c_name, v))
        if self.method == "get":
            from urllib.parse import urlencode
            return client.get(parts.path + "?" + urlencode(pairs), **kwargs)
        from werkzeug.datastructures import MultiDict
        data = MultiDict(pairs)
        content_type = "multipart/form-data" if self.enctype == "multipart/form-data" or any(
            c.type == "file" for c in self.controls) else "application/x-www-form-urlencoded"
        return client.open(path, method="POST", data=data, content_type=content_type, **kwargs)


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: Control | None = None
        self._option: list[Any] | None = None
        self._textarea: Control | None = None
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
        name = a.get("name")
        if tag == "input" and name:
            self._form.controls.append(Control("input", name, a.get("type", "text").lower(), a.get("value", ""),
                                               checked="checked" in a, disabled=disabled))
        elif tag == "button" and name:
            self._form.controls.append(Control("button", name, a.get("type", "submit").lower(), a.get("value", ""),
                                               disabled=disabled))
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


def page_form(resp: Any, which: int | str | None = None, page_url: str | None = None) -> Form:
    """The form of a test-client response: by index, the first whose action contains ``which``, or (``None``)
    the page's main form, the one with the most controls (the layout's own logout form has one)."""
    assert resp.status_code == 200, f"the page answered {resp.status_code}"
    url = page_url if page_url is not None else getattr(resp.request, "path", "") if resp.request else ""
    forms = parse_forms(resp.get_data(as_text=True), url)
    if which is None:
        return max(forms, key=lambda f: len(f.controls))
    if isinstance(which, int):
        return forms[which]
    matching = [f for f in forms if which in f.action]
    assert matching, f"no form with action containing {which!r}: {[f.action for f in forms]}"
    return matching[0]
