"""The CloudEvents 1.0 envelope in Kafka binary content mode.

Attributes travel as `ce_` headers, the body is the event's JSON, the record key is the case id.
Extensions: `correlationid` (the case) and `causationid` (the event that caused this one). Trace
context travels beside the envelope in the W3C `traceparent` / `tracestate` headers, which is where
OpenTelemetry's propagators and every Kafka instrumentation look for it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

CE_PREFIX = "ce_"
CONTENT_TYPE_HEADER = "content-type"
JSON = "application/json"
TRACE_HEADERS = ("traceparent", "tracestate")


class EnvelopeError(ValueError):
    """The record's headers do not form a valid CloudEvents 1.0 envelope."""


class Envelope(BaseModel):
    """CloudEvents context attributes of one event."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: UUID
    source: str = Field(min_length=1, description="URI-reference of the producing service, e.g. /intake")
    type: str = Field(min_length=1)
    specversion: Literal["1.0"] = "1.0"
    time: AwareDatetime
    subject: str | None = None
    dataschema: str | None = None
    datacontenttype: Literal["application/json"] = "application/json"
    correlationid: str = Field(min_length=1, description="The case id: every event of a case shares it")
    causationid: str | None = Field(default=None, description="Id of the event that caused this one")

    def to_headers(self) -> dict[str, str]:
        """Kafka headers in binary content mode (values still as text; the producer encodes UTF-8)."""
        headers: dict[str, str] = {}
        for name, value in self.model_dump(exclude_none=True).items():
            if name == "datacontenttype":
                headers[CONTENT_TYPE_HEADER] = str(value)
            elif name == "time":
                headers[CE_PREFIX + name] = _rfc3339(value)
            else:
                headers[CE_PREFIX + name] = str(value)
        return headers

    @classmethod
    def from_headers(cls, headers: dict[str, str]) -> Envelope:
        """Read the envelope back; raises EnvelopeError naming what is missing or wrong."""
        attributes: dict[str, str] = {
            name[len(CE_PREFIX) :]: value for name, value in headers.items() if name.startswith(CE_PREFIX)
        }
        if not attributes:
            raise EnvelopeError("no ce_ headers: the record is not a CloudEvent in Kafka binary mode")
        content_type = headers.get(CONTENT_TYPE_HEADER)
        if content_type is not None:
            attributes["datacontenttype"] = content_type.split(";")[0].strip()
        try:
            # A tolerant reader: an extension attribute it does not know (ce_<name>) is left unread (CloudEvents).
            return cls.model_validate(attributes, extra="ignore")
        except ValueError as error:
            raise EnvelopeError(f"invalid CloudEvents attributes: {error}") from error


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
