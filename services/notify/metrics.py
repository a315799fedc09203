"""notify's own metrics, in the service's registry beside the kit's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from prometheus_client import Counter, Histogram

from backbone.metrics import ServiceMetrics

# Quiet hours hold a normal notification until the morning, so the buckets reach well past half a day.
MINUTE, HOUR = 60.0, 3600.0
DELIVERY_BUCKETS = (
    *(1.0, 5.0, 15.0, 30.0),
    *(MINUTE, 2 * MINUTE, 5 * MINUTE, 10 * MINUTE, 30 * MINUTE),
    *(HOUR, 2 * HOUR, 4 * HOUR, 8 * HOUR, 12 * HOUR, 16 * HOUR),
)


@dataclass(frozen=True)
class NotificationMetrics:
    delivery_seconds: Histogram
    failed: Counter

    @classmethod
    def on(cls, metrics: ServiceMetrics) -> NotificationMetrics:
        return cls(
            delivery_seconds=metrics.histogram(
                "backbone_notification_delivery_seconds",
                "From a delivery being planned (its row written) to its channel accepting it, retries and"
                " quiet hours included",
                buckets=DELIVERY_BUCKETS,
            ),
            failed=metrics.counter(
                "backbone_notifications_failed_total", "Deliveries given up after their last attempt"
            ),
        )

    def delivered(self, *, created_at: datetime, delivered_at: datetime) -> None:
        # `created_at` is the database's clock and `delivered_at` the dispatcher's: a skew must not go negative.
        self.delivery_seconds.observe(max((delivered_at - created_at).total_seconds(), 0.0))
