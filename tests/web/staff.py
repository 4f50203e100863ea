"""TestClient steps the staff console's tests share: log in, read the CSRF token."""

from __future__ import annotations

import re
from typing import Any

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def log_in(client: Any, name: str, password: str) -> Any:
    page = client.get("/staff/login")
    response = client.post(
        "/staff/login",
        data={"csrf": csrf_of(page.text), "name": name, "password": password, "next": ""},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return response


def page_csrf(client: Any, path: str = "/staff/conversations") -> str:
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    return csrf_of(response.text)
