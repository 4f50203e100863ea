"""The staff console's guards: every /staff route needs a session, CSRF on every form,
login throttling, idle timeout, logout, cookies, the secret key, admin-only pages."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Callable, Iterator

import pytest
import sqlalchemy as sa
import yaml
from starlette.routing import Route
from starlette.testclient import TestClient

from clinic.web.app import create_app
from clinic.web.settings import WebSettings, WebSettingsError, load_settings

from .conftest import ADMIN_PASSWORD, STAFF_PASSWORD, add_staff_users
from .staff import csrf_of, log_in, page_csrf

# the generic failure text, as the console says it (clinic/web/messages.yml)
MESSAGES = Path(__file__).resolve().parents[2] / "clinic" / "web" / "messages.yml"
LOGIN_FAILED = yaml.safe_load(MESSAGES.read_text(encoding="utf-8"))["staff"]["login_failed"]


@pytest.fixture
def app_db(tmp_path: Path) -> Path:
    path = tmp_path / "clinic.db"
    add_staff_users(f"sqlite:///{path}")
    return path


@pytest.fixture
def settings(make_settings: Callable[..., WebSettings], app_db: Path) -> WebSettings:
    return make_settings(database_url=f"sqlite:///{app_db}")


@pytest.fixture
def client(settings: WebSettings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def staff_routes(settings: WebSettings) -> list[tuple[str, str]]:
    """(method, path) of every /staff route of the app, path parameters filled in."""
    found = []
    for route in create_app(settings).routes:
        if not isinstance(route, Route):
            continue
        if route.path != "/staff" and not route.path.startswith("/staff/"):
            continue  # /staff.css is the console's public style sheet
        if route.path == "/staff/login":
            continue
        path = route.path.replace("{sender}", "web-abc").replace("{booking_id:int}", "1")
        path = path.replace("{user_id:int}", "1")
        assert "{" not in path, f"fill in the parameter of {route.path}"
        for method in sorted(route.methods or []):
            if method != "HEAD":
                found.append((method, path))
    return found


def test_the_route_list_covers_the_whole_console(settings: WebSettings):
    paths = {path for _, path in staff_routes(settings)}
    for expected in ("/staff/bookings", "/staff/conversations", "/staff/inbox", "/staff/audit"):
        assert expected in paths
    assert len(staff_routes(settings)) >= 15


def test_every_staff_route_needs_a_session(client: TestClient, settings: WebSettings):
    for method, path in staff_routes(settings):
        response = client.request(method, path, follow_redirects=False)
        if method == "GET":
            assert response.status_code == 303, (method, path)
            assert response.headers["location"].startswith("/staff/login?next="), path
        else:
            assert response.status_code == 401, (method, path)


def test_every_post_without_the_csrf_token_is_403(client: TestClient, settings: WebSettings):
    log_in(client, "admin", ADMIN_PASSWORD)
    for method, path in staff_routes(settings):
        if method != "POST":
            continue
        for form in ({}, {"csrf": "forged"}):
            response = client.post(path, data={**form, "status": "confirmed"})
            assert response.status_code == 403, (path, form, response.status_code)
    assert client.get("/staff/conversations").status_code == 200  # still logged in


def test_the_login_form_itself_needs_its_csrf_token(client: TestClient):
    client.get("/staff/login")
    response = client.post(
        "/staff/login", data={"name": "admin", "password": ADMIN_PASSWORD, "csrf": "x"}
    )
    assert response.status_code == 403
    assert "clinic_staff" not in client.cookies


def test_login_sets_an_httponly_strict_cookie_and_logout_ends_the_session(client: TestClient):
    response = log_in(client, "sam", STAFF_PASSWORD)
    cookie = response.headers["set-cookie"].lower()
    assert "clinic_staff=" in cookie and "httponly" in cookie and "samesite=strict" in cookie
    assert "secure" not in cookie  # plain http in the test
    old_cookie = client.cookies.get("clinic_staff")
    csrf = page_csrf(client)
    assert client.post("/staff/logout", data={"csrf": csrf}).url.path == "/staff/login"
    client.cookies.set("clinic_staff", old_cookie, path="/staff")
    response = client.get("/staff/conversations", follow_redirects=False)
    assert response.status_code == 303


def test_the_cookie_is_secure_over_https(settings: WebSettings):
    with TestClient(create_app(settings), base_url="https://testserver") as client:
        response = log_in(client, "sam", STAFF_PASSWORD)
        assert "secure" in response.headers["set-cookie"].lower()


def test_a_redirect_after_login_stays_inside_the_console(client: TestClient):
    page = client.get("/staff/login?next=https://evil.example/")
    response = client.post(
        "/staff/login",
        data={
            "csrf": csrf_of(page.text),
            "name": "sam",
            "password": STAFF_PASSWORD,
            "next": "//evil.example/",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/staff/conversations"


def failed_login(client: TestClient, name: str, password: str = "wrong password 123") -> str:
    page = client.get("/staff/login")
    response = client.post(
        "/staff/login", data={"csrf": csrf_of(page.text), "name": name, "password": password}
    )
    return response.text


def test_five_failures_lock_the_account_with_the_same_generic_message(
    client: TestClient, app_db: Path
):
    for _ in range(5):
        assert LOGIN_FAILED in failed_login(client, "sam")
    # the right password is refused now, with the very same message
    assert LOGIN_FAILED in failed_login(client, "sam", STAFF_PASSWORD)
    assert LOGIN_FAILED in failed_login(client, "nobody-at-all")  # unknown name: same text
    engine = sa.create_engine(f"sqlite:///{app_db}")
    with engine.begin() as db:
        until = db.execute(
            sa.text("SELECT locked_until FROM staff_login_throttle WHERE key = 'user:sam'")
        ).scalar()
        assert until is not None
        # 15 minutes later
        db.execute(sa.text("UPDATE staff_login_throttle SET locked_until = '2000-01-01 00:00:00'"))
    log_in(client, "sam", STAFF_PASSWORD)


def test_five_failures_from_one_address_lock_that_address(client: TestClient):
    for name in ("a1", "b2", "c3", "d4", "e5"):
        failed_login(client, name)
    # another account, right password, same address: locked
    assert LOGIN_FAILED in failed_login(client, "admin", ADMIN_PASSWORD)


def test_a_session_ends_after_30_idle_minutes(client: TestClient, app_db: Path):
    log_in(client, "sam", STAFF_PASSWORD)
    assert client.get("/staff/conversations", follow_redirects=False).status_code == 200
    engine = sa.create_engine(f"sqlite:///{app_db}")
    from clinic.db.models import utc_now

    with engine.begin() as db:
        idle = (utc_now() - timedelta(minutes=31)).replace(tzinfo=None)
        db.execute(sa.text("UPDATE staff_sessions SET last_seen_at = :t"), {"t": idle})
    assert client.get("/staff/conversations", follow_redirects=False).status_code == 303


def test_staff_cannot_open_admin_pages_but_admins_can(settings: WebSettings):
    with TestClient(create_app(settings)) as client:
        log_in(client, "sam", STAFF_PASSWORD)
        assert client.get("/staff/audit").status_code == 403
        assert client.get("/staff/users").status_code == 403
    with TestClient(create_app(settings)) as client:
        log_in(client, "admin", ADMIN_PASSWORD)
        page = client.get("/staff/audit")
        assert page.status_code == 200
        assert "login" in page.text and "sam" in page.text  # the audit log names who did what


def test_admins_manage_accounts_and_the_last_admin_stays(client: TestClient):
    log_in(client, "admin", ADMIN_PASSWORD)
    csrf = page_csrf(client, "/staff/users")
    data = {"csrf": csrf, "name": "nina", "role": "staff", "password": "long enough password"}
    assert client.post("/staff/users/new", data=data).status_code == 200
    assert "nina" in client.get("/staff/users").text
    refused = client.post("/staff/users/new", data={**data, "password": "short"})
    assert refused.status_code == 400 and "too short" in refused.text
    refused = client.post("/staff/users/1", data={"csrf": csrf, "role": "staff"})
    assert refused.status_code == 400 and "last active admin" in refused.text


def test_production_needs_a_staff_secret_key():
    with pytest.raises(WebSettingsError, match="STAFF_SECRET_KEY"):
        load_settings({"CLINIC_ENV": "production"})
    with pytest.raises(WebSettingsError, match="at least 32"):
        load_settings({"CLINIC_ENV": "production", "STAFF_SECRET_KEY": "short"})
    key = "k" * 40
    assert (
        load_settings({"CLINIC_ENV": "production", "STAFF_SECRET_KEY": key}).staff_secret_key == key
    )
    first, second = load_settings({}), load_settings({})
    assert len(first.staff_secret_key) >= 32 and first.staff_secret_key != second.staff_secret_key


def test_staff_pages_are_never_cached_and_carry_the_security_headers(client: TestClient):
    log_in(client, "sam", STAFF_PASSWORD)
    response = client.get("/staff/conversations")
    assert response.headers["cache-control"] == "no-store"
    assert "script-src 'self'" in response.headers["content-security-policy"]
