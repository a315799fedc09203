-- The closed loop: every step of a referral, each case's lead or place in the coordination queue,
-- durable deadline timers, agencies' capacity, and refused ingress actions.

ALTER TABLE referrals
    ADD COLUMN attempt          integer     NOT NULL DEFAULT 1,
    ADD COLUMN reason           text        NOT NULL DEFAULT '',
    ADD COLUMN waitlisted       boolean     NOT NULL DEFAULT false,
    ADD COLUMN updated_at       timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN decline_reason   text,
    ADD COLUMN decline_note     text,
    ADD COLUMN cancel_reason    text,
    ADD COLUMN outcome          text,
    ADD COLUMN overdue_at       timestamptz,
    ADD COLUMN escalation_level integer     NOT NULL DEFAULT 0;

-- One proposal per attempt of a consultation: a redelivered decline cannot propose twice.
DROP INDEX referrals_first_per_consultation;
CREATE UNIQUE INDEX referrals_attempt ON referrals (consultation_id, attempt);
CREATE INDEX referrals_inbox ON referrals (to_agency, state);

CREATE TABLE cases (
    case_id          uuid        PRIMARY KEY,
    lead_agency      text,                    -- 主担当, once an agency accepted
    lead_referral_id uuid,
    queued_at        timestamptz,             -- in the multi-agency coordination queue since
    queue_reason     text,
    opened_at        timestamptz NOT NULL DEFAULT now()
);

-- Deadlines and escalations as rows: a restart never loses one, and firing marks the row in the same
-- transaction as the events it writes, so none fires twice.
CREATE TABLE referral_timers (
    timer_id    bigserial   PRIMARY KEY,
    referral_id uuid        NOT NULL,
    kind        text        NOT NULL CHECK (kind IN ('overdue', 'coordinator')),
    due_at      timestamptz NOT NULL,
    fired_at    timestamptz
);
CREATE INDEX referral_timers_due ON referral_timers (due_at) WHERE fired_at IS NULL;

-- Capacity is operational state that agencies change; it overrides the directory file's value.
CREATE TABLE capacities (
    agency_id  text        PRIMARY KEY,
    capacity   text        NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE rejected_actions (
    agency_id  text        NOT NULL,
    action_id  text        NOT NULL,
    reasons    jsonb       NOT NULL,
    rejected_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (agency_id, action_id)
);
