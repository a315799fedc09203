"""OpenTelemetry, set up once per process; trace context carried in Kafka headers.

Exporter: OTLP/HTTP when an endpoint is configured, the console when asked, otherwise none (spans are
still created, so trace ids exist and are written to the records and rows that carry them). A
provider installed before `setup_tracing` (tests install one with an in-memory exporter) is kept.
Span attributes hold ids and codes only, never personal data.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.propagate import extract, inject
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor

from backbone.settings import TelemetrySettings


def setup_tracing(settings: TelemetrySettings, service: str) -> trace.Tracer:
    """The service's tracer; installs the process-wide provider on first call."""
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        provider = TracerProvider(resource=Resource.create({"service.name": f"backbone-{service}"}))
        if settings.otlp_endpoint:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter  # noqa: PLC0415

            endpoint = settings.otlp_endpoint.rstrip("/") + "/v1/traces"
            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
        if settings.console:
            provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter()))
        trace.set_tracer_provider(provider)
    # The instrumentation scope names the service, so spans of several services in one process
    # (as in the end-to-end test) can still be told apart.
    return trace.get_tracer(f"backbone.{service}")


def inject_trace_headers(headers: MutableMapping[str, str]) -> None:
    """Write the current span's W3C trace context into `headers`."""
    inject(headers)


def context_from_headers(headers: Mapping[str, str]) -> Context:
    return extract(headers)


def current_traceparent() -> str | None:
    """The current span's W3C `traceparent`, to keep beside work done later (a timer, a retry) that continues it."""
    headers: dict[str, str] = {}
    inject(headers)
    return headers.get("traceparent")


def current_trace_id() -> str | None:
    span_context = trace.get_current_span().get_span_context()
    return format(span_context.trace_id, "032x") if span_context.is_valid else None
