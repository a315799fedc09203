-- アウトリーチ等を通じた継続的支援: outreach engagements and their contact attempts (services/referral/outreach.py).
-- quiet_until: when the engagement goes on the at-risk list if no further attempt is recorded.
CREATE TABLE outreach (
    outreach_id     uuid        PRIMARY KEY,
    case_id         uuid        NOT NULL,
    holder          text        NOT NULL,
    partner         text,
    plan_id         uuid        UNIQUE,       -- the outreach plan it came from: one engagement per plan
    state           text        NOT NULL CHECK (state IN ('attempting', 'in-contact', 'consented', 'ended')),
    attempts        integer     NOT NULL DEFAULT 0,
    started_at      timestamptz NOT NULL,
    last_attempt_at timestamptz,
    quiet_until     timestamptz NOT NULL,
    contact_at      timestamptz,
    consent_at      timestamptz,
    ended_at        timestamptz,
    ending          text,
    end_note        text                      -- the worker's words beside the ending code, never published
);
CREATE INDEX outreach_case ON outreach (case_id);
CREATE INDEX outreach_quiet ON outreach (quiet_until) WHERE state <> 'ended';

-- The attempts, with the worker's own words (a short note, never published): the events carry the codes.
CREATE TABLE outreach_attempts (
    outreach_id uuid        NOT NULL REFERENCES outreach,
    attempt     integer     NOT NULL,
    at          timestamptz NOT NULL,
    method      text        NOT NULL,
    result      text        NOT NULL,
    agency      text        NOT NULL,
    by_staff    text,
    note        text,
    PRIMARY KEY (outreach_id, attempt)
);
