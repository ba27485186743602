"""Read the forms of an HTML page (stdlib parser), to fill them in as a browser would."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)
    inputs: list[dict[str, str]] = field(default_factory=list)
    submits: int = 0


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self.labels: dict[str, str] = {}
        self._form: Form | None = None
        self._label_for: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._form = Form(a.get("action", ""), a.get("method", "get").lower())
            self.forms.append(self._form)
        elif tag == "input" and self._form is not None:
            self._form.inputs.append(a)
            if a.get("type") == "submit":
                self._form.submits += 1
            elif "name" in a:
                self._form.fields[a["name"]] = a.get("value", "")
        elif tag == "button" and self._form is not None and a.get("type", "submit") == "submit":
            self._form.submits += 1
        elif tag == "label":
            self._label_for = a.get("for")

    def handle_data(self, data: str) -> None:
        if self._label_for:
            self.labels[self._label_for] = self.labels.get(self._label_for, "") + data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "label":
            self._label_for = None


def forms(html: str) -> list[Form]:
    parser = _Parser()
    parser.feed(html)
    return parser.forms


def labels(html: str) -> dict[str, str]:
    parser = _Parser()
    parser.feed(html)
    return {k: v.strip() for k, v in parser.labels.items()}


def form(html: str, action: str) -> Form:
    for f in forms(html):
        if f.action == action:
            return f
    raise AssertionError(f"no form posting to {action} in the page:\n{html[:2000]}")
