-- The delivery tables every service has: the transactional outbox and the consumer inbox.

CREATE TABLE outbox (
    seq          bigserial   PRIMARY KEY,
    event_id     uuid        NOT NULL UNIQUE,
    topic        text        NOT NULL,
    record_key   text        NOT NULL,
    headers      jsonb       NOT NULL,   -- ce_* attributes and the W3C trace context, as text
    payload      bytea       NOT NULL,   -- the event's JSON, exactly as it will be published
    created_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz
);

-- The relay reads unsent rows in order; sent rows drop out of this index.
CREATE INDEX outbox_unsent ON outbox (seq) WHERE published_at IS NULL;

-- Wake the relay as soon as a transaction that wrote events commits (it also polls as a fallback).
CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('outbox', '');
    RETURN NULL;
END $$;

CREATE TRIGGER outbox_written AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();

-- One row per event a consumer has applied, written in the same transaction as its effects:
-- a second delivery of the same event conflicts on the key and is "already done".
CREATE TABLE inbox (
    consumer     text        NOT NULL,
    event_id     uuid        NOT NULL,
    event_type   text        NOT NULL,
    topic        text        NOT NULL,
    kafka_partition integer  NOT NULL,
    kafka_offset bigint      NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
