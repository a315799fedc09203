-- Real channels: each delivery is a row that a dispatcher sends, retries, fails visibly, and escalates when
-- nobody acknowledges it. The row's notification_id is the idempotency key carried to the receiver.
ALTER TABLE deliveries
    ALTER COLUMN delivered_at DROP NOT NULL,
    ALTER COLUMN delivered_at DROP DEFAULT,
    ALTER COLUMN event_id DROP NOT NULL,
    ADD COLUMN person          text,
    ADD COLUMN endpoint        text,
    ADD COLUMN language        text        NOT NULL DEFAULT 'ja',
    ADD COLUMN subject         text        NOT NULL DEFAULT '',
    ADD COLUMN body            text        NOT NULL DEFAULT '',
    ADD COLUMN ics             text,
    ADD COLUMN state           text        NOT NULL DEFAULT 'delivered'
                               CHECK (state IN ('pending', 'delivered', 'failed')),
    ADD COLUMN attempts        integer     NOT NULL DEFAULT 0,
    ADD COLUMN next_attempt_at timestamptz,
    ADD COLUMN last_error      text,
    ADD COLUMN escalate_at     timestamptz,          -- unacknowledged by then: the next rung is told
    ADD COLUMN escalated_at    timestamptz,
    ADD COLUMN acknowledged_at timestamptz,
    ADD COLUMN acknowledged_via text,
    ADD COLUMN traceparent     text,                 -- the trace of the event that caused it, continued when sent
    ADD COLUMN created_at      timestamptz NOT NULL DEFAULT now();

CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX deliveries_unacknowledged ON deliveries (escalate_at)
    WHERE state = 'delivered' AND acknowledged_at IS NULL AND escalated_at IS NULL;

CREATE TABLE rosters (
    agency_id  text        PRIMARY KEY,
    roster     jsonb       NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Which agencies hold a case (told when consent is withdrawn), learned from referral's events.
CREATE TABLE case_agencies (
    case_id   uuid NOT NULL,
    agency_id text NOT NULL,
    PRIMARY KEY (case_id, agency_id)
);
