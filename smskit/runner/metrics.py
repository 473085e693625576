"""Prometheus metrics of the runner, served at /metrics."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge


class Metrics:
    """The runner's counters and gauges, in a registry of their own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.messages_sent = Counter(
            "smskit_messages_sent",
            "Outbound messages accepted by the provider, by kind.",
            ["kind"],
            registry=self.registry,
        )
        self.messages_received = Counter(
            "smskit_messages_received",
            "Inbound messages applied to the store.",
            registry=self.registry,
        )
        self.sessions_open = Gauge(
            "smskit_sessions_open", "Conversations whose session is open.", registry=self.registry
        )
        self.webhook_attempts = Gauge(
            "smskit_webhook_attempts",
            "Webhook attempts made by this runner.",
            registry=self.registry,
        )
        self.webhook_failures = Gauge(
            "smskit_webhook_failures", "Webhook attempts that failed.", registry=self.registry
        )
        self.webhooks_given_up = Gauge(
            "smskit_webhooks_given_up",
            "Webhook deliveries given up by this runner.",
            registry=self.registry,
        )
        self.lock_waits = Gauge(
            "smskit_store_lock_waits",
            "Transactions that waited for the database lock.",
            registry=self.registry,
        )
        self.lock_timeouts = Counter(
            "smskit_store_lock_timeouts",
            "Ticks skipped because the database stayed locked.",
            registry=self.registry,
        )
        self.spool_backlog = Gauge(
            "smskit_spool_backlog_bytes",
            "Spooled events not yet applied to the store.",
            registry=self.registry,
        )
