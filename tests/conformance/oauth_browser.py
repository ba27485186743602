"""A scripted browser for the OAuth flows over a real server: follows redirects to /login, fills
the form as a user would (every hidden input, CSRF token included), and stops at the app's callback."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin

import httpx


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append({"action": a.get("action", ""), "method": a.get("method", "get"), "inputs": {}})
        elif tag == "input" and self.forms and a.get("name"):
            self.forms[-1]["inputs"][a["name"]] = a.get("value", "")
        elif tag == "button" and self.forms and a.get("type", "submit") == "submit":
            self.forms[-1].setdefault("submits", 0)
            self.forms[-1]["submits"] += 1


def forms_of(page: str) -> list[dict[str, Any]]:
    parser = _Forms()
    parser.feed(page)
    return parser.forms


class Browser:
    """httpx with a cookie jar, walking redirects by hand so the test sees each hop."""

    def __init__(self, base: str, verify: Any = True) -> None:
        self.base = base
        self.http = httpx.Client(base_url=base, follow_redirects=False, verify=verify, timeout=30)

    def close(self) -> None:
        self.http.close()

    def go(self, url: str, *, until: str) -> httpx.Response:
        """GET ``url`` and follow redirects until one leaves for ``until`` (not followed) or a page."""
        response = self.http.get(url)
        for _ in range(10):
            if response.status_code not in (301, 302, 303):
                return response
            location = urljoin(str(response.url), response.headers["location"])
            if location.startswith(until):
                return response
            response = self.http.get(location)
        raise AssertionError("too many redirects")

    def sign_in(self, authorize_url: str, username: str, password: str, callback: str) -> str:
        """From an authorization URL to the callback URL the server sends the browser to."""
        response = self.go(authorize_url, until=callback)
        if response.status_code == 302:
            return str(response.headers["location"])  # a live session: no form
        assert response.status_code == 200, response.text
        assert "/login" in str(response.url)
        login = [f for f in forms_of(response.text) if "password" in f["inputs"]]
        assert len(login) == 1 and login[0].get("submits") == 1, "one login form, one submit button"
        data = {**login[0]["inputs"], "username": username, "password": password}
        posted = self.http.post(urljoin(str(response.url), login[0]["action"] or "/login"), data=data)
        assert posted.status_code in (302, 303), posted.text
        location = str(posted.headers["location"])
        if not location.startswith(callback):
            location = str(self.go(urljoin(str(posted.url), location), until=callback).headers["location"])
        assert location.startswith(callback), location
        return location
