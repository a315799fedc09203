"""The local identity provider's realm, generated from the service directory (schemas/directory.toml).

One group per agency (the group carries the agency's id as the attribute `agency`), the four staff roles,
the workbench as a public client that may only use the authorization code flow with PKCE (S256), and a
few demo staff members. The access token the workbench receives carries what the services decide by:
`agency` (one agency id), `roles` (the staff roles only) and the audience `backbone`; `sub` stays
Keycloak's opaque user id. No name or e-mail address goes into the access token.

Pure: the caller passes the directory and the demo passwords (kept in the local secrets file, never in
the repository), and writes the result where Keycloak imports it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from backbone.directory import Directory

REALM = "fujisawa"
WORKBENCH_CLIENT = "workbench"
AUDIENCE = "backbone"
"""The `aud` the services require in a staff member's access token."""

WORKBENCH_URL = "http://127.0.0.1:8106"
"""Where the local workbench listens (the services use 8101–8105)."""
WORKBENCH_CALLBACK = f"{WORKBENCH_URL}/auth/callback"

STAFF_ROLES: dict[str, str] = {
    "staff": "職員: 自機関の受付・ケースを扱う / Staff: handles their agency's referrals and cases",
    "coordinator": "調整役: 支援会議の開催と支援プランの確定 / Coordinator: schedules meetings, confirms plans",
    "supervisor": "管理職: 自機関の当番表と受入可否 / Supervisor: their agency's on-call roster and capacity",
    "auditor": "監査: 監査記録の閲覧 / Auditor: reads the audit ledger",
}

ACCESS_TOKEN_SECONDS = 5 * 60
SSO_IDLE_SECONDS = 30 * 60
SSO_MAX_SECONDS = 10 * 60 * 60  # a working day, then sign in again


@dataclass(frozen=True)
class DemoStaff:
    """A made-up staff member to sign in as locally; `agency` None for a city auditor, who belongs to none."""

    username: str
    agency: str | None
    roles: tuple[str, ...]
    family_name: str
    given_name: str
    who: str
    """Who this is, in Japanese and English (printed by `backbone demo-login`)."""


DEMO_STAFF: tuple[DemoStaff, ...] = (
    DemoStaff(
        "katase-counter",
        "chiku-fukushi-katase",
        ("staff",),
        "片瀬",
        "花子",
        "地区福祉窓口（片瀬）の職員 / a staff member of the Katase district welfare counter",
    ),
    DemoStaff(
        "ikiiki-katase",
        "ikiiki-katase",
        ("staff",),
        "江ノ島",
        "太郎",
        "いきいきサポートセンター片瀬の職員 / a staff member of the Katase community support centre",
    ),
    DemoStaff(
        "backup-coordinator",
        "backup-fujisawa",
        ("staff", "coordinator"),
        "辻堂",
        "美咲",
        "バックアップふじさわの調整役 / a coordinator at Backup Fujisawa",
    ),
    DemoStaff(
        "sogo-supervisor",
        "fukushi-sogo",
        ("staff", "supervisor"),
        "鵠沼",
        "健一",
        "福祉総合相談支援センターの管理職 / a supervisor at the welfare consultation centre",
    ),
    DemoStaff(
        "city-auditor",
        None,
        ("auditor",),
        "湘南",
        "陽子",
        "市の監査担当（機関に属さない） / the city's auditor (belongs to no agency)",
    ),
)


def realm(directory: Directory, passwords: Mapping[str, str], *, workbench_url: str = WORKBENCH_URL) -> dict[str, Any]:
    """The realm as Keycloak's import JSON. A demo staff member without a password in `passwords` gets
    no credential (they cannot sign in until one is set)."""
    return {
        "realm": REALM,
        "enabled": True,
        "displayName": "藤沢市 重層的支援 / Fujisawa interagency support",
        "sslRequired": "external",  # TLS everywhere but on the loopback interface
        "registrationAllowed": False,
        "resetPasswordAllowed": False,
        "rememberMe": False,
        "loginWithEmailAllowed": False,
        "internationalizationEnabled": True,
        "supportedLocales": ["ja", "en"],
        "defaultLocale": "ja",
        "accessTokenLifespan": ACCESS_TOKEN_SECONDS,
        "ssoSessionIdleTimeout": SSO_IDLE_SECONDS,
        "ssoSessionMaxLifespan": SSO_MAX_SECONDS,
        "passwordPolicy": "length(12) and notUsername",
        # Repeated wrong passwords lock the account for a while, longer each time (at most 15 minutes).
        "bruteForceProtected": True,
        "failureFactor": 5,
        "waitIncrementSeconds": 60,
        "maxFailureWaitSeconds": 900,
        "maxDeltaTimeSeconds": 12 * 60 * 60,
        "roles": {"realm": [{"name": name, "description": text} for name, text in STAFF_ROLES.items()]},
        "groups": [
            {
                "name": agency.id,
                "path": f"/{agency.id}",
                "attributes": {"agency": [agency.id], "name_ja": [agency.name], "type": [agency.type.value]},
            }
            for agency in directory.agencies.values()
        ],
        "clients": [_workbench(workbench_url)],
        # Only the staff roles may reach the workbench's tokens (not Keycloak's own default roles).
        "scopeMappings": [{"client": WORKBENCH_CLIENT, "roles": list(STAFF_ROLES)}],
        "users": [_user(member, passwords.get(member.username)) for member in DEMO_STAFF],
    }


def _workbench(url: str) -> dict[str, Any]:
    return {
        "clientId": WORKBENCH_CLIENT,
        "name": "ワークベンチ / Workbench",
        "enabled": True,
        "protocol": "openid-connect",
        "publicClient": True,
        "standardFlowEnabled": True,
        "implicitFlowEnabled": False,
        "directAccessGrantsEnabled": False,
        "serviceAccountsEnabled": False,
        "frontchannelLogout": True,
        "fullScopeAllowed": False,
        "redirectUris": [f"{url}/auth/callback"],
        "webOrigins": [],
        "attributes": {
            "pkce.code.challenge.method": "S256",
            "post.logout.redirect.uris": f"{url}/",
            "oauth2.device.authorization.grant.enabled": "false",
            "oidc.ciba.grant.enabled": "false",
        },
        # `basic` gives `sub` (and auth_time); `acr` the authentication level. No `profile`/`email` scope:
        # names and addresses stay out of the access token (the ID token carries the name, for display).
        "defaultClientScopes": ["basic", "acr"],
        "optionalClientScopes": [],
        "protocolMappers": [
            _mapper(
                "agency",
                "oidc-usermodel-attribute-mapper",
                # The user's agency comes from their group's attribute (aggregated from the group).
                {"user.attribute": "agency", "aggregate.attrs": "true", "multivalued": "false"},
                claim="agency",
            ),
            _mapper("roles", "oidc-usermodel-realm-role-mapper", {"multivalued": "true"}, claim="roles"),
            _mapper(
                "audience backbone",
                "oidc-audience-mapper",
                {"included.custom.audience": AUDIENCE, "access.token.claim": "true", "id.token.claim": "false"},
            ),
            _mapper(
                "name (ID token only)",
                "oidc-full-name-mapper",
                {"access.token.claim": "false", "id.token.claim": "true", "userinfo.token.claim": "true"},
            ),
        ],
    }


def _mapper(name: str, kind: str, config: dict[str, str], *, claim: str | None = None) -> dict[str, Any]:
    if claim is not None:
        config = {
            "claim.name": claim,
            "jsonType.label": "String",
            "access.token.claim": "true",
            "id.token.claim": "false",
            "userinfo.token.claim": "true",
            "introspection.token.claim": "true",
        } | config
    return {"name": name, "protocol": "openid-connect", "protocolMapper": kind, "config": config}


def _user(member: DemoStaff, password: str | None) -> dict[str, Any]:
    return {
        "username": member.username,
        "enabled": True,
        # Keycloak's user profile asks for names and an address before a first sign-in; these are made up.
        "firstName": member.given_name,
        "lastName": member.family_name,
        "email": f"{member.username}@example.org",
        "emailVerified": True,
        "attributes": {"locale": ["ja"]},
        "groups": [f"/{member.agency}"] if member.agency else [],
        "realmRoles": list(member.roles),
        "credentials": [{"type": "password", "value": password, "temporary": False}] if password else [],
        "requiredActions": [],
    }


def demo_logins(passwords: Mapping[str, str], only: str | None = None) -> list[str]:
    """How to sign in to the local workbench as the demo staff (all, or `only` one), in Japanese and English."""
    lines = [f"ワークベンチ / Workbench: {WORKBENCH_URL}  (サインイン / Sign in)"]
    for member in DEMO_STAFF:
        if only in (None, member.username):
            lines += [
                "",
                f"  {member.who}",
                f"  ユーザー名 / username: {member.username}",
                f"  パスワード / password: {passwords[member.username]}",
            ]
    return lines
