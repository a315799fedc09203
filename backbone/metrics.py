"""Prometheus metrics of one service process, in a registry of its own.

Every metric a service exposes on `/metrics` is created through its `ServiceMetrics`: the kit's own
(consumption, dead letters, outbox, consumer lag) for every service, and a service's own through
`counter`, `histogram` and `gauge_from_query`. Tests run the five services in one process, so nothing
here touches prometheus_client's global default registry.

Gauges read from the database or from Kafka are refreshed by one background loop per process
(`keep_refreshed`), never at scrape time: a scrape stays cheap, and answers even while the database or
Kafka is down (with the last values read).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Mapping

import asyncpg
from aiokafka import TopicPartition
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from backbone.lag import LagReader
from backbone.loops import keep_running

# Applying one record is a few database statements: mostly milliseconds, seconds only when something waits.
PROCESSING_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

# Both halves read only the unsent rows through the partial index `outbox_unsent`, so the cost follows
# the backlog, not the table. The oldest row is the head of the relay's queue (it publishes by `seq`);
# its age is taken on the database's clock, the one that wrote `created_at`.
OUTBOX_STATE = """
SELECT (SELECT count(*) FROM outbox WHERE published_at IS NULL) AS backlog,
       coalesce((SELECT extract(epoch FROM now() - created_at) FROM outbox
                 WHERE published_at IS NULL ORDER BY seq LIMIT 1), 0)::float8 AS oldest_seconds
"""


class ServiceMetrics:
    """The metrics of one service process."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.consumer_lag = Gauge(
            "backbone_consumer_lag",
            "Records not yet consumed by this service's consumer group: log end offset minus committed offset,"
            " per partition assigned to this process",
            ["topic", "partition"],
            registry=self.registry,
        )
        self.processing_seconds = self.histogram(
            "backbone_processing_seconds",
            "Time to apply one consumed record (applied or found a duplicate), in its transaction or savepoint",
            labels=("topic",),
            buckets=PROCESSING_BUCKETS,
        )
        self.records = Counter(
            "backbone_records_total",
            "Consumed records by what became of them: applied, duplicate, ignored, dead-lettered",
            ["topic", "outcome"],
            registry=self.registry,
        )
        self.dead_letters = Counter(
            "backbone_dead_letters_total",
            "Records sent to this consumer's dead-letter topic, by the topic they came from",
            ["topic"],
            registry=self.registry,
        )
        self.outbox_backlog = Gauge(
            "backbone_outbox_backlog", "Outbox rows not yet published to Kafka", registry=self.registry
        )
        self.outbox_oldest_unsent_seconds = Gauge(
            "backbone_outbox_oldest_unsent_seconds",
            "Age of the oldest outbox row not yet published (0 when none waits)",
            registry=self.registry,
        )
        self._from_queries: list[tuple[Gauge, str]] = []
        self._lag_shown: set[tuple[str, str]] = set()

    def counter(self, name: str, documentation: str) -> Counter:
        """A counter of the service's own, exposed with the kit's."""
        return Counter(name, documentation, registry=self.registry)

    def histogram(
        self, name: str, documentation: str, *, buckets: tuple[float, ...], labels: tuple[str, ...] = ()
    ) -> Histogram:
        """A histogram of the service's own, exposed with the kit's."""
        return Histogram(name, documentation, labels, registry=self.registry, buckets=buckets)

    def gauge_from_query(self, name: str, documentation: str, query: str) -> Gauge:
        """A gauge set to what `query` (one row, one number, on the service's database) answers at every refresh."""
        gauge = Gauge(name, documentation, registry=self.registry)
        self._from_queries.append((gauge, query))
        return gauge

    def consumed(self, topic: str, outcome: str, seconds: float | None = None) -> None:
        """A record is done with; `seconds` is how long applying it took (applied or found a duplicate)."""
        self.records.labels(topic=topic, outcome=outcome).inc()
        if seconds is not None:
            self.processing_seconds.labels(topic=topic).observe(seconds)

    async def refresh_from_database(self, pool: asyncpg.Pool) -> None:
        async with pool.acquire() as conn:
            outbox = await conn.fetchrow(OUTBOX_STATE)
            values = [await conn.fetchval(query) for _, query in self._from_queries]
        assert outbox is not None  # a SELECT without FROM answers one row
        self.outbox_backlog.set(outbox["backlog"])
        self.outbox_oldest_unsent_seconds.set(outbox["oldest_seconds"])
        for (gauge, _), value in zip(self._from_queries, values, strict=True):
            gauge.set(value or 0)

    def show_lag(self, lag: Mapping[TopicPartition, int]) -> None:
        """Replace the lag series: a partition no longer assigned here drops out, so that the series of the
        instances of a service add up to the group's lag after a rebalance."""
        shown = {(partition.topic, str(partition.partition)): value for partition, value in lag.items()}
        for labels in self._lag_shown - shown.keys():
            self.consumer_lag.remove(*labels)
        for (topic, partition), value in shown.items():
            self.consumer_lag.labels(topic=topic, partition=partition).set(value)
        self._lag_shown = set(shown)

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric of this process."""
        return generate_latest(self.registry)


async def keep_refreshed(
    metrics: ServiceMetrics,
    pool: asyncpg.Pool,
    lag: LagReader,
    assigned: Callable[[], Collection[TopicPartition]],
    *,
    every: float,
) -> None:
    """Refresh the database and Kafka gauges every `every` seconds until cancelled, waiting out outages."""

    async def refresh() -> int:
        # Side by side, so that Kafka being down does not freeze the database gauges, nor the other way round.
        database, kafka = await asyncio.gather(
            metrics.refresh_from_database(pool), lag.read(assigned()), return_exceptions=True
        )
        if isinstance(kafka, dict):
            metrics.show_lag(kafka)
        for failure in (database, kafka):
            if isinstance(failure, BaseException):
                raise failure
        return 0

    async def idle() -> None:
        await asyncio.sleep(every)

    try:
        await keep_running("metrics refresh", refresh, idle=idle, backoff_max=every * 6)
    finally:
        await lag.close()
