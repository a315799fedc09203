"""The local identity provider's realm, generated from the service directory."""

from __future__ import annotations

import json
from typing import Any

import pytest

from backbone import directory
from devtools.local.realm import AUDIENCE, DEMO_STAFF, REALM, STAFF_ROLES, WORKBENCH_CALLBACK, realm

PASSWORDS = {member.username: f"pw-{member.username}-Zq81x" for member in DEMO_STAFF}


@pytest.fixture(scope="module")
def generated() -> dict[str, Any]:
    return realm(directory.load(), PASSWORDS)


def _workbench(generated: dict[str, Any]) -> dict[str, Any]:
    [client] = [c for c in generated["clients"] if c["clientId"] == "workbench"]
    return client


def _mappers(client: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {m["protocolMapper"]: m["config"] for m in client["protocolMappers"]}


def test_a_group_per_directory_agency_carrying_its_id_and_japanese_name(generated: dict[str, Any]) -> None:
    agencies = directory.load().agencies
    groups = {group["name"]: group for group in generated["groups"]}
    assert generated["realm"] == REALM
    assert set(groups) == set(agencies)
    for agency_id, agency in agencies.items():
        assert groups[agency_id]["attributes"]["agency"] == [agency_id]
        assert groups[agency_id]["attributes"]["name_ja"] == [agency.name]


def test_the_four_staff_roles(generated: dict[str, Any]) -> None:
    names = {role["name"] for role in generated["roles"]["realm"]}
    assert names == {"staff", "coordinator", "supervisor", "auditor"} == set(STAFF_ROLES)


def test_the_workbench_is_a_public_client_with_the_code_flow_and_pkce_s256_only(generated: dict[str, Any]) -> None:
    client = _workbench(generated)
    assert client["publicClient"] is True
    assert client["standardFlowEnabled"] is True
    assert client["implicitFlowEnabled"] is False
    assert client["directAccessGrantsEnabled"] is False
    assert client["serviceAccountsEnabled"] is False
    assert client["attributes"]["pkce.code.challenge.method"] == "S256"
    assert client["attributes"]["oauth2.device.authorization.grant.enabled"] == "false"
    assert client["redirectUris"] == [WORKBENCH_CALLBACK]
    assert client["attributes"]["post.logout.redirect.uris"].startswith("http://127.0.0.1:8106/")


def test_the_access_token_carries_agency_roles_and_the_backbone_audience(generated: dict[str, Any]) -> None:
    mappers = _mappers(_workbench(generated))
    agency = mappers["oidc-usermodel-attribute-mapper"]
    assert (agency["claim.name"], agency["user.attribute"], agency["multivalued"]) == ("agency", "agency", "false")
    assert agency["access.token.claim"] == "true"
    roles = mappers["oidc-usermodel-realm-role-mapper"]
    assert (roles["claim.name"], roles["access.token.claim"]) == ("roles", "true")
    audience = mappers["oidc-audience-mapper"]
    assert (audience["included.custom.audience"], audience["access.token.claim"]) == (AUDIENCE, "true")
    # the name is for the ID token only; no profile or e-mail scope puts personal data into the access token
    assert mappers["oidc-full-name-mapper"]["access.token.claim"] == "false"
    assert not {"profile", "email"} & set(_workbench(generated)["defaultClientScopes"])


def test_only_the_staff_roles_reach_the_workbench_tokens(generated: dict[str, Any]) -> None:
    assert _workbench(generated)["fullScopeAllowed"] is False
    assert generated["scopeMappings"] == [{"client": "workbench", "roles": list(STAFF_ROLES)}]


def test_demo_staff_belong_to_real_agencies_and_get_the_passwords_passed_in(generated: dict[str, Any]) -> None:
    agencies = directory.load().agencies
    users = {user["username"]: user for user in generated["users"]}
    assert set(users) == set(PASSWORDS)
    for member in DEMO_STAFF:
        user = users[member.username]
        assert user["credentials"] == [{"type": "password", "value": PASSWORDS[member.username], "temporary": False}]
        assert set(user["realmRoles"]) == set(member.roles) <= set(STAFF_ROLES)
        if member.agency is None:
            assert user["groups"] == []
        else:
            assert member.agency in agencies
            assert user["groups"] == [f"/{member.agency}"]
    coordinators = {a.id for a in directory.load().coordinators()}
    assert any(m.agency in coordinators and "coordinator" in m.roles for m in DEMO_STAFF)
    assert {"staff", "coordinator", "supervisor", "auditor"} <= {role for m in DEMO_STAFF for role in m.roles}


def test_a_demo_staff_member_without_a_password_gets_no_credential() -> None:
    first = DEMO_STAFF[0].username
    users = {u["username"]: u for u in realm(directory.load(), {first: PASSWORDS[first]})["users"]}
    assert users[first]["credentials"]
    assert all(user["credentials"] == [] for name, user in users.items() if name != first)


def test_passwords_appear_only_in_the_users_credentials(generated: dict[str, Any]) -> None:
    without_credentials = {**generated, "users": [{**u, "credentials": []} for u in generated["users"]]}
    text = json.dumps(without_credentials, ensure_ascii=False)
    assert not [password for password in PASSWORDS.values() if password in text]
    assert sum(json.dumps(generated).count(password) for password in PASSWORDS.values()) == len(PASSWORDS)


def test_short_access_tokens_and_brute_force_protection(generated: dict[str, Any]) -> None:
    assert generated["accessTokenLifespan"] == 300
    assert generated["ssoSessionIdleTimeout"] <= generated["ssoSessionMaxLifespan"] <= 12 * 60 * 60
    assert generated["bruteForceProtected"] is True
    assert generated["failureFactor"] >= 3
