-- Case meetings, the consent the meetings service learned from intake's events, and support plans.

CREATE TABLE case_persons (
    case_id   uuid PRIMARY KEY,
    person_id uuid NOT NULL,
    district  text NOT NULL,
    urgency   text NOT NULL
);
CREATE INDEX case_persons_person ON case_persons (person_id);

-- A projection of intake's ConsentRecorded / ConsentWithdrawn: scopes and purposes only, no personal data.
CREATE TABLE consents (
    consent_id   uuid        PRIMARY KEY,
    person_id    uuid        NOT NULL,
    scope        jsonb       NOT NULL,
    purposes     text[]      NOT NULL,
    valid_until  timestamptz,
    withdrawn_at timestamptz
);
CREATE INDEX consents_person ON consents (person_id);

CREATE TABLE meetings (
    meeting_id   uuid        PRIMARY KEY,
    case_id      uuid        NOT NULL,
    kind         text        NOT NULL CHECK (kind IN ('consent-based', 'confidential')),
    state        text        NOT NULL CHECK (state IN ('requested', 'scheduled', 'cancelled', 'held')),
    organizer    text        NOT NULL,
    participants text[]      NOT NULL,
    starts_at    timestamptz NOT NULL,
    ends_at      timestamptz NOT NULL,
    sequence     integer     NOT NULL DEFAULT 0,
    reason       text        NOT NULL DEFAULT '',
    flag         text,                        -- e.g. converted to 支援会議 after consent was withdrawn
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CHECK (starts_at < ends_at)
);
CREATE INDEX meetings_case ON meetings (case_id);
CREATE INDEX meetings_open_times ON meetings (starts_at) WHERE state IN ('requested', 'scheduled');

CREATE TABLE plans (
    plan_id      uuid        PRIMARY KEY,
    meeting_id   uuid        NOT NULL UNIQUE REFERENCES meetings,
    case_id      uuid        NOT NULL,
    goals        jsonb       NOT NULL,        -- free text stays here; events carry only the count
    roles        jsonb       NOT NULL,
    review_on    date        NOT NULL,
    confirmed_by text        NOT NULL,
    confirmed_at timestamptz NOT NULL DEFAULT now()
);
