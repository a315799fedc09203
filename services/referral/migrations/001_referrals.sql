-- Referrals proposed to agencies. The lifecycle (accept, decline, overdue, escalate) comes with the
-- referral issue; the skeleton proposes.
CREATE TABLE referrals (
    referral_id     uuid        PRIMARY KEY,
    case_id         uuid        NOT NULL,
    consultation_id uuid        NOT NULL,
    from_agency     text        NOT NULL,
    to_agency       text        NOT NULL,
    district        text        NOT NULL,
    domains         text[]      NOT NULL,
    urgency         text        NOT NULL,
    routing_rule    text        NOT NULL,
    state           text        NOT NULL DEFAULT 'proposed',
    respond_by      timestamptz NOT NULL,
    cause_event_id  uuid        NOT NULL,
    event_id        uuid        NOT NULL,
    trace_id        text,
    created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX referrals_case ON referrals (case_id);
-- One first referral per consultation, whatever happens upstream.
CREATE UNIQUE INDEX referrals_first_per_consultation ON referrals (consultation_id);
