"""A service's runtime: the resources one process owns, opened and closed by its lifespan.

The pool (after migrations), the relay's producer, FastStream's broker with the service's
subscriptions, and the outbox relay and the metrics refresh as tasks the lifespan cancels. Nothing is
opened at import time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any

import asyncpg
from aiokafka import AIOKafkaProducer, TopicPartition
from fastapi import APIRouter, Depends, FastAPI, Request
from pydantic import BaseModel

from backbone import allocator, directory, involvement
from backbone.agencies import Credentials
from backbone.db import create_pool, migrate
from backbone.delivery import Handler, RecordHandler, Subscription
from backbone.http import (
    NATIVE_TELEMETRY_OFF,
    UNAVAILABLE,
    health_router,
    install_problem_handlers,
    install_server_spans,
    metrics_router,
)
from backbone.kafka import create_broker, create_producer
from backbone.lag import LagReader
from backbone.metrics import ServiceMetrics, keep_refreshed
from backbone.outbox import Outbox, OutboxRelay
from backbone.ratelimit import AgencyLimiter
from backbone.settings import ServiceSettings
from backbone.staff import StaffTokens
from backbone.telemetry import setup_tracing
from schemas.events import Event

log = logging.getLogger(__name__)


class ServiceRuntime:
    def __init__(self, settings: ServiceSettings, *, migrations: Path) -> None:
        self.settings = settings
        self.name = settings.service
        self.migrations = migrations
        self._topics: tuple[str, ...] = ()
        self._handlers: dict[type[Event], Handler[Any]] = {}
        self._record_handlers: dict[str, tuple[type[BaseModel], RecordHandler]] = {}
        self.tracer = setup_tracing(settings.telemetry, self.name)
        self.outbox = Outbox.of(self.name)
        key = settings.credentials_key
        self.credentials = Credentials(key.get_secret_value()) if key else None
        self._pool: asyncpg.Pool | None = None
        self._producer: AIOKafkaProducer | None = None
        self.subscription: Subscription | None = None
        self.relay: OutboxRelay | None = None
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._loops: dict[str, Callable[[asyncpg.Pool], Coroutine[Any, Any, None]]] = {}
        self._stack = contextlib.AsyncExitStack()
        self.metrics = ServiceMetrics()
        self.limiter = AgencyLimiter(settings.http.agency_rate, settings.http.agency_burst)
        self.directory = directory.load()
        self.involvement = involvement.Involvement(agency.id for agency in self.directory.coordinators())
        self.staff = StaffTokens(settings.identity) if settings.identity else None
        self.run_in_background("metrics", self._keep_metrics_refreshed)

    def subscribe(
        self,
        topics: Sequence[str],
        handlers: Mapping[type[Event], Handler[Any]],
        *,
        records: Mapping[str, tuple[type[BaseModel], RecordHandler]] | None = None,
    ) -> None:
        """Consume `topics` (as consumer group `<service>`), applying each event type with its handler.

        `records` names topics whose records go undecoded to their own handler (ingress topics), with
        the model of their body for the AsyncAPI document.
        """
        self._topics = tuple(topics)
        self._handlers = dict(handlers)
        self._record_handlers = dict(records or {})

    def run_in_background(self, name: str, loop: Callable[[asyncpg.Pool], Coroutine[Any, Any, None]]) -> None:
        """A loop the lifespan starts once the pool is open and cancels at shutdown (readiness reports it)."""
        self._loops[name] = loop

    @property
    def consumed(self) -> dict[str, tuple[type[BaseModel], ...]]:
        """Each topic this service subscribes to, with the models of what it applies (for the AsyncAPI document)."""
        return {
            topic: (self._record_handlers[topic][0],)
            if topic in self._record_handlers
            else tuple(
                model for model in dict.fromkeys((*self._handlers, *involvement.INVOLVING)) if model.TOPIC.name == topic
            )
            for topic in self._topics
        }

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError(f"{self.name} is not started")
        return self._pool

    async def start(self) -> None:
        stack = self._stack
        self._pool = await create_pool(self.settings.database)
        stack.push_async_callback(self._pool.close)
        applied = await migrate(self._pool, self.name, self.migrations)
        if applied:
            log.info("%s: applied migrations %s", self.name, ", ".join(applied))
        self._producer = producer = create_producer(self.settings.kafka, client_id=f"backbone-{self.name}")
        await producer.start()
        stack.push_async_callback(producer.stop)
        self.relay = OutboxRelay(self._pool, producer, self.settings.delivery, self.tracer)
        self._tasks["outbox_relay"] = asyncio.create_task(self.relay.run(), name=f"{self.name}-outbox-relay")
        for name, loop in self._loops.items():
            self._tasks[name] = asyncio.create_task(loop(self._pool), name=f"{self.name}-{name}")
        if allocator.can_trim():  # glibc: free heap memory goes back to the system (backbone/allocator.py)
            self._tasks["heap_trim"] = asyncio.create_task(allocator.keep_trimmed(), name=f"{self.name}-heap-trim")
        if self._topics:
            broker = create_broker(self.settings.kafka, client_id=f"backbone-{self.name}")
            self.subscription = self.consumer(self._pool, producer)
            self.subscription.register(broker, batch_size=self.settings.kafka.consumer_batch)
            await broker.start()
            stack.push_async_callback(broker.stop)

    def consumer(self, pool: asyncpg.Pool, producer: AIOKafkaProducer) -> Subscription:
        """The service's consumer (group, topics, handlers, inbox, dead letters) on `pool` and `producer`,
        not attached to any broker: `start` attaches it, and `backbone dlq redrive` applies dead letters
        through it without joining the service's consumer group."""
        if not self._topics:
            raise ValueError(f"{self.name} consumes no topic")
        subscription = Subscription(
            self.name,
            self._topics,
            pool=pool,
            producer=producer,
            settings=self.settings.delivery,
            tracer=self.tracer,
            metrics=self.metrics,
        )
        for event_type, handler in self._handlers.items():
            subscription.on(event_type, handler)
        for topic, (_, record_handler) in self._record_handlers.items():
            subscription.on_records(topic, record_handler)
        return subscription

    async def _keep_metrics_refreshed(self, pool: asyncpg.Pool) -> None:
        lag = LagReader(self.settings.kafka, group=self.name, client_id=f"backbone-{self.name}-lag")
        await keep_refreshed(
            self.metrics, pool, lag, self._assignment, every=self.settings.telemetry.metrics_refresh_seconds
        )

    def _assignment(self) -> frozenset[TopicPartition]:
        return self.subscription.assignment() if self.subscription else frozenset()

    async def stop(self) -> None:
        for task in self._tasks.values():
            task.cancel()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)
        self._tasks.clear()
        await self._stack.aclose()
        self._pool = None

    @contextlib.asynccontextmanager
    async def lifespan(self, _: FastAPI) -> AsyncIterator[None]:
        await self.start()
        try:
            yield
        finally:
            await self.stop()

    def liveness(self) -> bool:
        """False when the process cannot recover by itself: its consumer's group coordinator has died."""
        return self.subscription is None or self.subscription.consuming()

    async def readiness(self) -> dict[str, bool]:
        """Each dependency answers within two seconds, and the background loops are alive."""
        loops = {name: not task.done() for name, task in self._tasks.items()} or {"outbox_relay": False}
        return {
            "database": await _answers(self._pool.fetchval("SELECT true") if self._pool else None),
            "kafka": await _answers(self._producer.client.fetch_all_metadata() if self._producer else None),
            **loops,
        }


async def _answers(request: Awaitable[object] | None) -> bool:
    if request is None:
        return False
    try:
        await asyncio.wait_for(request, timeout=2.0)
    except Exception:  # noqa: BLE001 - any failure means "not ready"
        return False
    return True


def create_app(
    runtime: ServiceRuntime, *, title: str, summary: str, description: str = "", routers: Sequence[APIRouter] = ()
) -> FastAPI:
    """The service's FastAPI app: its routers, health, readiness and metrics, problem responses, server spans."""
    app = FastAPI(
        title=f"Fujisawa backbone — {title}",
        summary=summary,
        description=description,
        version="1",
        lifespan=runtime.lifespan,
        telemetry=NATIVE_TELEMETRY_OFF,
    )
    app.state.runtime = runtime
    install_problem_handlers(app)
    install_server_spans(app, runtime.tracer)
    for router in routers:
        app.include_router(router, responses=UNAVAILABLE)
    app.include_router(health_router(runtime.readiness, runtime.liveness))
    app.include_router(metrics_router(runtime.metrics.render))
    return app


async def _runtime_of(request: Request) -> ServiceRuntime:
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime


Runtime = Annotated[ServiceRuntime, Depends(_runtime_of)]
"""The running service, for route handlers."""
