"""Staff access tokens verified against a provider's published keys (backbone/staff.py).

The provider here is a small HTTP server on 127.0.0.1 that publishes a discovery document and a JWKS of a
key made for the test, as any OIDC provider does; the tokens are signed with that key. The same code is
run against the real local Keycloak by the identity-provider integration tests.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from backbone.staff import IdentitySettings, StaffMember, StaffTokenError, StaffTokens, looks_like_a_jwt

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


class Provider:
    """Publishes `/.well-known/openid-configuration` and `/certs`; counts how often the keys were fetched."""

    def __init__(self) -> None:
        self.fetches = 0
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.endswith("/.well-known/openid-configuration"):
                    body: dict[str, Any] = {"issuer": provider.issuer, "jwks_uri": f"{provider.issuer}/certs"}
                elif self.path.endswith("/certs"):
                    provider.fetches += 1
                    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key()))
                    body = {"keys": [public | {"kid": "k1", "use": "sig", "alg": "RS256"}]}
                else:
                    self.send_error(404)
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}/realms/fujisawa"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    running = Provider()
    yield running
    running.server.shutdown()


def token(provider: Provider, *, key: Any = KEY, kid: str = "k1", alg: str = "RS256", **claims: Any) -> str:
    now = int(time.time())
    payload = {
        "iss": provider.issuer,
        "aud": ["backbone", "account"],
        "sub": "5f1c-opaque",
        "iat": now,
        "exp": now + 300,
        "agency": "ikiiki-katase",
        "roles": ["staff"],
    } | claims
    return jwt.encode({k: v for k, v in payload.items() if v is not None}, key, algorithm=alg, headers={"kid": kid})


async def test_a_signed_token_names_the_person_by_subject_and_their_agency(provider: Provider) -> None:
    tokens = StaffTokens(IdentitySettings(issuer=provider.issuer))
    member = await tokens.verify(token(provider))
    assert member == StaffMember(subject="5f1c-opaque", agency_id="ikiiki-katase", roles=frozenset({"staff"}))
    assert looks_like_a_jwt(token(provider)) and not looks_like_a_jwt("ikiiki-katase.c2VjcmV0")


@pytest.mark.parametrize(
    ("why", "claims"),
    [
        ("another audience", {"aud": "account"}),
        ("another issuer", {"iss": "http://127.0.0.1:1/realms/other"}),
        ("expired", {"exp": int(time.time()) - 120}),
        ("no subject", {"sub": None}),
        ("a subject that is an e-mail address", {"sub": "hanako.fujisawa@city.example"}),
        ("two agencies", {"agency": ["ikiiki-katase", "ikiiki-endo"]}),
        ("roles not a list", {"roles": "staff"}),
    ],
)
async def test_a_token_that_does_not_hold_is_refused(provider: Provider, why: str, claims: dict[str, Any]) -> None:
    tokens = StaffTokens(IdentitySettings(issuer=provider.issuer))
    with pytest.raises(StaffTokenError):
        await tokens.verify(token(provider, **claims))


async def test_a_member_of_no_agency_is_named_by_subject_and_roles_only(provider: Provider) -> None:
    tokens = StaffTokens(IdentitySettings(issuer=provider.issuer))
    auditor = await tokens.verify(token(provider, agency=None, roles=["auditor"]))
    assert auditor == StaffMember(subject="5f1c-opaque", agency_id=None, roles=frozenset({"auditor"}))


async def test_a_forged_or_downgraded_signature_is_refused(provider: Provider) -> None:
    tokens = StaffTokens(IdentitySettings(issuer=provider.issuer))
    public_pem = KEY.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    with pytest.raises(StaffTokenError):  # signed by a key the provider does not hold, under its key id
        await tokens.verify(token(provider, key=OTHER_KEY))
    with pytest.raises(StaffTokenError):  # HS256 keyed with the public key: the algorithm is ours to fix
        await tokens.verify(_hs256(jwt.decode(token(provider), options={"verify_signature": False}), public_pem))
    with pytest.raises(StaffTokenError):
        await tokens.verify("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.")


async def test_unknown_key_ids_fetch_the_keys_again_at_most_once_a_minute(provider: Provider) -> None:
    tokens = StaffTokens(IdentitySettings(issuer=provider.issuer))
    before = provider.fetches
    await tokens.verify(token(provider))
    for n in range(20):
        with pytest.raises(StaffTokenError):
            await tokens.verify(token(provider, kid=f"rotated-{n}"))
    assert provider.fetches - before == 1


def _hs256(claims: dict[str, Any], secret: bytes) -> str:
    """A token an attacker makes by HMAC-signing with the provider's public key (PyJWT refuses to)."""

    def part(data: bytes) -> bytes:
        return base64.urlsafe_b64encode(data).rstrip(b"=")

    signed = part(json.dumps({"alg": "HS256", "kid": "k1"}).encode()) + b"." + part(json.dumps(claims).encode())
    return (signed + b"." + part(hmac.new(secret, signed, hashlib.sha256).digest())).decode()
