"""The local identity provider (Keycloak, started through devtools.local.keycloak): staff sign in through its
real login form with the authorization code flow and PKCE, and the access token carries what the services
decide by. Needs neither Kafka nor PostgreSQL."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import secrets
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from devtools.local.keycloak import LocalKeycloak
from devtools.local.realm import AUDIENCE, DEMO_STAFF, WORKBENCH_CALLBACK, WORKBENCH_CLIENT, DemoStaff


@dataclass
class Authorization:
    """An authorization request in progress: the browser (cookies) and the PKCE verifier."""

    browser: httpx.Client
    verifier: str
    login_page: httpx.Response


def begin(discovery: dict[str, Any], **overrides: str) -> Authorization:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    params = {
        "client_id": WORKBENCH_CLIENT,
        "response_type": "code",
        "scope": "openid",
        "redirect_uri": WORKBENCH_CALLBACK,
        "state": secrets.token_urlsafe(16),
        "nonce": secrets.token_urlsafe(16),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    } | overrides
    browser = httpx.Client(timeout=15)
    page = browser.get(discovery["authorization_endpoint"], params=params)
    # Keycloak marks its cookies Secure. A browser sends them to http://127.0.0.1 (a secure context);
    # httpx's cookie jar would not, so they are unmarked here as a browser treats them.
    for cookie in browser.cookies.jar:
        cookie.secure = False
    return Authorization(browser, verifier, page)


def submit_login(authorization: Authorization, username: str, password: str) -> httpx.Response:
    """Fill in the real login form: POST to the form's own action, as a browser would."""
    form = re.search(r'<form[^>]*id="kc-form-login"[^>]*action="([^"]+)"', authorization.login_page.text)
    assert form, "the authorization endpoint did not show the login form"
    return authorization.browser.post(html.unescape(form[1]), data={"username": username, "password": password})


def code_from(redirect: httpx.Response) -> str:
    assert redirect.status_code == 302, redirect.text[:500]
    location = redirect.headers["location"]
    assert location.startswith(WORKBENCH_CALLBACK + "?")
    return parse_qs(urlsplit(location).query)["code"][0]


def exchange(discovery: dict[str, Any], code: str, verifier: str | None) -> httpx.Response:
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": WORKBENCH_CALLBACK}
    form |= {"client_id": WORKBENCH_CLIENT} | ({"code_verifier": verifier} if verifier is not None else {})
    return httpx.post(discovery["token_endpoint"], data=form, timeout=15)


def claims(jwt: str) -> dict[str, Any]:
    """A JWT's payload, decoded without verification (what is in it, not whether to trust it)."""
    payload = jwt.split(".")[1]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return decoded


def test_the_realm_publishes_its_discovery_document_and_signing_keys(
    keycloak: LocalKeycloak, discovery: dict[str, Any]
) -> None:
    assert discovery["issuer"] == keycloak.issuer
    assert "S256" in discovery["code_challenge_methods_supported"]
    assert discovery["end_session_endpoint"].startswith(keycloak.issuer)
    keys = httpx.get(discovery["jwks_uri"], timeout=10).json()["keys"]
    assert any(key["kty"] == "RSA" and key.get("use") == "sig" and key["kid"] for key in keys)


@pytest.mark.parametrize("member", DEMO_STAFF, ids=lambda member: member.username)
def test_a_demo_staff_member_signs_in_with_code_and_pkce_and_the_token_carries_agency_and_roles(
    keycloak: LocalKeycloak, discovery: dict[str, Any], passwords: dict[str, str], member: DemoStaff
) -> None:
    authorization = begin(discovery)
    code = code_from(submit_login(authorization, member.username, passwords[member.username]))
    response = exchange(discovery, code, authorization.verifier)
    assert response.status_code == 200, response.text
    token = claims(response.json()["access_token"])
    assert token["iss"] == keycloak.issuer
    audience = token["aud"] if isinstance(token["aud"], list) else [token["aud"]]
    assert AUDIENCE in audience
    assert token.get("agency") == member.agency  # absent for the city's auditor, who belongs to no agency
    assert sorted(token["roles"]) == sorted(member.roles)
    assert str(uuid.UUID(token["sub"])) == token["sub"]  # Keycloak's opaque id, not the username
    assert not {"name", "preferred_username", "email", "given_name", "family_name"} & set(token)
    assert response.json()["expires_in"] <= 300


def test_a_wrong_password_is_refused_on_the_login_form(discovery: dict[str, Any], passwords: dict[str, str]) -> None:
    member = DEMO_STAFF[0]
    authorization = begin(discovery)
    refused = submit_login(authorization, member.username, passwords[member.username] + "x")
    assert refused.status_code == 200  # the form again, with an error; no redirect carrying a code
    assert 'id="kc-form-login"' in refused.text
    assert "location" not in refused.headers
    # the right password still works (and clears the failure count of the brute-force protection)
    code_from(submit_login(begin(discovery), member.username, passwords[member.username]))


def test_a_code_exchange_without_the_pkce_verifier_is_refused(
    discovery: dict[str, Any], passwords: dict[str, str]
) -> None:
    member = DEMO_STAFF[1]
    authorization = begin(discovery)
    code = code_from(submit_login(authorization, member.username, passwords[member.username]))
    without = exchange(discovery, code, verifier=None)
    assert without.status_code == 400
    assert without.json()["error"] == "invalid_grant"
    assert "access_token" not in without.json()


def test_an_authorization_request_without_s256_pkce_is_refused(discovery: dict[str, Any]) -> None:
    for overrides in ({"code_challenge_method": "plain"}, {"code_challenge": "", "code_challenge_method": ""}):
        authorization = begin(discovery, **overrides)
        assert authorization.login_page.status_code == 302  # sent back to the workbench with an error
        error = parse_qs(urlsplit(authorization.login_page.headers["location"]).query)["error"]
        assert error == ["invalid_request"]
