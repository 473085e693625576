"""Numbered schema versions of the store.

Each entry is applied once, in order, inside one transaction; the applied versions are kept in
`schema_migrations`. Later features add a new entry and never edit an applied one.
Times are naive UTC TIMESTAMP values.
"""

from __future__ import annotations

MIGRATIONS: list[tuple[int, str]] = [
    (
        1,
        """
        CREATE TABLE attributes (
            name VARCHAR PRIMARY KEY,
            value VARCHAR NOT NULL,
            updated_at TIMESTAMP NOT NULL
        );

        -- state: active | paused | cancelled
        CREATE TABLE batches (
            batch_id INTEGER PRIMARY KEY,
            title VARCHAR NOT NULL,
            body VARCHAR NOT NULL,
            created_at TIMESTAMP NOT NULL,
            state VARCHAR NOT NULL,
            region VARCHAR,
            columns VARCHAR NOT NULL,
            row_count INTEGER NOT NULL
        );

        -- variables and fields are JSON objects as text.
        -- verdict: valid | invalid | duplicate
        -- state: queued | waiting | sending | in_session | closing | done | paused | cancelled
        CREATE TABLE tasks (
            task_id BIGINT PRIMARY KEY,
            batch_id INTEGER NOT NULL,
            "row" INTEGER NOT NULL,
            input_phone VARCHAR,
            phone_number VARCHAR,
            user_id VARCHAR,
            reason VARCHAR,
            variables VARCHAR NOT NULL,
            verdict VARCHAR NOT NULL,
            verdict_message VARCHAR,
            warnings VARCHAR,
            state VARCHAR NOT NULL,
            wait_reason VARCHAR,
            not_before TIMESTAMP,
            status VARCHAR,
            outcome VARCHAR,
            error_code VARCHAR,
            error_message VARCHAR,
            started_at TIMESTAMP,
            session_ends_at TIMESTAMP,
            ended_at TIMESTAMP,
            summary VARCHAR,
            fields VARCHAR,
            llm_tokens INTEGER,
            llm_cost DOUBLE,
            updated_at TIMESTAMP NOT NULL
        );

        -- direction: outbound | inbound
        -- kind: greeting | reply | confirmation | help | inbound
        -- status, outbound: pending | queued | sent | delivered | undelivered | failed;
        -- inbound: received
        CREATE TABLE messages (
            message_id BIGINT PRIMARY KEY,
            task_id BIGINT,
            direction VARCHAR NOT NULL,
            kind VARCHAR NOT NULL,
            phone_number VARCHAR NOT NULL,
            sender VARCHAR,
            body VARCHAR NOT NULL,
            attempt_id VARCHAR,
            provider VARCHAR,
            provider_message_id VARCHAR,
            status VARCHAR NOT NULL,
            error_code VARCHAR,
            error_message VARCHAR,
            segments INTEGER,
            encoding VARCHAR,
            cost DOUBLE,
            after_session BOOLEAN NOT NULL DEFAULT false,
            created_at TIMESTAMP NOT NULL,
            sent_at TIMESTAMP,
            status_at TIMESTAMP
        );

        CREATE TABLE suppressions (
            phone_number VARCHAR PRIMARY KEY,
            reason VARCHAR NOT NULL,
            source VARCHAR NOT NULL,
            created_at TIMESTAMP NOT NULL
        );

        -- state: pending | delivered | given-up
        CREATE TABLE deliveries (
            delivery_id VARCHAR PRIMARY KEY,
            task_id BIGINT NOT NULL,
            url VARCHAR NOT NULL,
            body VARCHAR NOT NULL,
            state VARCHAR NOT NULL,
            attempts INTEGER NOT NULL,
            next_attempt_at TIMESTAMP,
            last_status INTEGER,
            last_error VARCHAR,
            created_at TIMESTAMP NOT NULL,
            updated_at TIMESTAMP NOT NULL
        );

        CREATE TABLE delivery_attempts (
            delivery_id VARCHAR NOT NULL,
            attempt INTEGER NOT NULL,
            started_at TIMESTAMP NOT NULL,
            duration_ms DOUBLE,
            status_code INTEGER,
            error VARCHAR
        );

        -- Runner bookkeeping: spool offset, clock description, last inbound fetched.
        CREATE TABLE runtime (
            key VARCHAR PRIMARY KEY,
            value VARCHAR NOT NULL
        );
        """,
    ),
]

LATEST_VERSION = MIGRATIONS[-1][0]
