"""Applying the ACL model (backbone/acl.py) to a broker, as its administrator.

aiokafka 0.14's admin client has no ACL call, so the CreateAcls request is sent with aiokafka's own
protocol classes: version 1 (literal and prefixed patterns), the oldest version Kafka 4 still accepts.
Creating a binding that exists already succeeds: applying the model again changes nothing.

The controller answers once it has committed the ACLs; the broker's authorizer applies them a moment
later (a producer started at once was refused). So `create_acls` returns only when the broker lists them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from dataclasses import dataclass

from aiokafka import AIOKafkaClient
from aiokafka.protocol.admin import CreateAclsRequest_v1, DescribeAclsRequest
from aiokafka.protocol.api import Request

from backbone.acl import Acl
from backbone.kafka import client_options
from backbone.settings import KafkaSettings
from devtools.local.kafka import LocalRuntimeError

# Kafka's codes (org.apache.kafka.common.resource.ResourceType and PatternType,
# org.apache.kafka.common.acl.AclOperation and AclPermissionType).
RESOURCE_TYPES = {"topic": 2, "group": 3}
OPERATIONS = {"Read": 3, "Write": 4, "Describe": 8}
LITERAL = 3
ALLOW = 3
ANY = 1  # the wildcard of a DescribeAcls filter's resource type, pattern type, operation and permission
ANY_HOST = "*"


class AclApplyError(LocalRuntimeError):
    """The broker refused an ACL; the message names it and says what to check."""


@dataclass(frozen=True, order=True)
class AclBinding:
    """One allowed operation of one principal on one literal resource: Kafka's unit of an ACL."""

    resource_type: str
    resource_name: str
    principal: str  # User:<name>
    operation: str

    def creation(self) -> tuple[int, str, int, str, str, int, int]:
        """The binding as a CreateAcls v1 creation: an allow on a literal name, from any host."""
        return (
            RESOURCE_TYPES[self.resource_type],
            self.resource_name,
            LITERAL,
            self.principal,
            ANY_HOST,
            OPERATIONS[self.operation],
            ALLOW,
        )


class _CreateAllAcls(Request[CreateAclsRequest_v1]):  # type: ignore[misc]  # aiokafka ships no type information
    """Every binding in one request. aiokafka's own CreateAclsRequest carries one binding, and the
    controller commits each request on its own: ~350 requests took 11 s where this one takes half a second."""

    API_KEY = 30  # the request struct's version is taken from the base's type argument

    def __init__(self, wanted: list[AclBinding]) -> None:
        self._creations = [binding.creation() for binding in wanted]

    def build(self, request_struct_class: type[CreateAclsRequest_v1]) -> CreateAclsRequest_v1:
        return request_struct_class(self._creations)


def bindings(acls: Iterable[Acl]) -> list[AclBinding]:
    """The model's ACLs one operation at a time; ValueError for a resource or operation not mapped here."""
    result = []
    for acl in acls:
        for operation in acl.operations:
            if acl.resource_type not in RESOURCE_TYPES or operation not in OPERATIONS:
                raise ValueError(
                    f"{acl}: {acl.resource_type}/{operation} has no Kafka code in devtools/local/kafka_acls.py; add it"
                )
            result.append(AclBinding(acl.resource_type, acl.name, f"User:{acl.principal}", operation))
    return result


async def create_acls(admin: KafkaSettings, acls: Iterable[Acl], *, within: float = 30.0) -> int:
    """Create every binding of `acls` as the super user `admin` and wait until the broker enforces them;
    returns how many. AclApplyError if the broker refuses one or does not list them all in time."""
    wanted = bindings(acls)
    client = AIOKafkaClient(**client_options(admin), client_id="backbone-acls")
    await client.bootstrap()
    try:
        node = client.get_random_node()
        response = await client.send(node, _CreateAllAcls(wanted))
        results = response.to_object()["creation_responses"]
        for binding, result in zip(wanted, results, strict=True):
            if result["error_code"]:
                raise AclApplyError(
                    f"the broker refused {binding}: {result['error_message'] or 'error ' + str(result['error_code'])}"
                    f" (is {admin.sasl_username} a super user, and is an authorizer configured?)"
                )
        deadline = time.monotonic() + within
        while missing := set(wanted) - await _listed(client, node):
            if time.monotonic() > deadline:
                raise AclApplyError(
                    f"the broker still lacks {len(missing)} ACL(s) after {within:.0f}s, e.g. {min(missing)}"
                )
            await asyncio.sleep(0.1)
    finally:
        await client.close()
    return len(wanted)


async def _listed(client: AIOKafkaClient, node: int) -> set[AclBinding]:
    """The literal allow bindings the broker's authorizer holds now."""
    response = await client.send(node, DescribeAclsRequest(ANY, None, ANY, None, None, ANY, ANY))
    described = response.to_object()
    if described["error_code"]:
        raise AclApplyError(f"the broker would not list its ACLs: {described['error_message']}")
    types = {code: name for name, code in RESOURCE_TYPES.items()}
    operations = {code: name for name, code in OPERATIONS.items()}
    return {
        AclBinding(
            types[resource["resource_type"]], resource["resource_name"], acl["principal"], operations[acl["operation"]]
        )
        for resource in described["resources"]
        if resource["resource_type"] in types and resource["resource_pattern_type"] == LITERAL
        for acl in resource["acls"]
        if acl["operation"] in operations and acl["permission_type"] == ALLOW
    }
