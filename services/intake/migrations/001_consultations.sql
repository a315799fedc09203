-- Consultations as received. Personal data does not live here yet (the intake issue adds encrypted
-- person records); these columns are what the rest of the backbone may know.
CREATE TABLE consultations (
    consultation_id  uuid        PRIMARY KEY,
    case_id          uuid        NOT NULL,
    receiving_agency text        NOT NULL,
    channel          text        NOT NULL,
    district         text        NOT NULL,
    domains          text[]      NOT NULL,
    urgency          text        NOT NULL,
    received_at      timestamptz NOT NULL,
    event_id         uuid        NOT NULL,
    trace_id         text,
    idempotency_key  text,
    request_hash     text        NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    -- A retried submission (same key from the same agency) finds the first one.
    UNIQUE (receiving_agency, idempotency_key)
);

CREATE INDEX consultations_case ON consultations (case_id);
