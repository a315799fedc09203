-- Every notification delivered. Rosters, e-mail and webhooks come with the notify issue; the skeleton
-- delivers through the `record` channel, which writes here and nowhere else.
CREATE TABLE deliveries (
    notification_id  uuid        PRIMARY KEY,
    case_id          uuid        NOT NULL,
    cause_event_id   uuid        NOT NULL,
    category         text        NOT NULL,
    recipient_agency text        NOT NULL,
    recipient_role   text        NOT NULL,
    channel          text        NOT NULL,
    urgency          text        NOT NULL,
    delivered_at     timestamptz NOT NULL DEFAULT now(),
    event_id         uuid        NOT NULL,
    trace_id         text,
    -- One delivery per (event, recipient), however often the event arrives.
    UNIQUE (cause_event_id, recipient_agency, recipient_role)
);

CREATE INDEX deliveries_case ON deliveries (case_id);
