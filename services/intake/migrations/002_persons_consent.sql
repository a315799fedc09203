-- Persons (personal data encrypted with a per-person data key), cases, consent, and refused ingress
-- submissions.

CREATE TABLE persons (
    person_id    uuid        PRIMARY KEY,
    subject_ref  text        UNIQUE,          -- keyed hash of identity; NULL when anonymous or erased
    wrapped_key  bytea,                       -- the data key wrapped by the master key; NULL once erased
    identity_ct  bytea,                       -- AES-GCM ciphertext of the identity JSON; NULL when anonymous
    created_at   timestamptz NOT NULL DEFAULT now(),
    erased_at    timestamptz
);

CREATE TABLE cases (
    case_id    uuid        PRIMARY KEY,
    person_id  uuid        NOT NULL REFERENCES persons,
    opened_at  timestamptz NOT NULL DEFAULT now(),
    closed_at  timestamptz
);
CREATE INDEX cases_open_by_person ON cases (person_id) WHERE closed_at IS NULL;

ALTER TABLE consultations
    ADD COLUMN person_id  uuid REFERENCES persons,
    ADD COLUMN staff_id   text,
    ADD COLUMN summary_ct bytea;              -- the free-text summary under the person's data key
CREATE INDEX consultations_person ON consultations (person_id);

CREATE TABLE consents (
    consent_id   uuid        PRIMARY KEY,
    person_id    uuid        NOT NULL REFERENCES persons,
    case_id      uuid        NOT NULL,
    scope        jsonb       NOT NULL,
    purposes     text[]      NOT NULL,
    method       text        NOT NULL,
    obtained_by  text        NOT NULL,
    given_at     timestamptz NOT NULL,
    valid_until  timestamptz,
    withdrawn_at timestamptz,
    withdrawn_by text,
    event_id     uuid        NOT NULL
);
CREATE INDEX consents_person ON consents (person_id);

-- Ingress submissions refused with SubmissionRejected: a retry of the same record is refused again
-- without a second event.
CREATE TABLE rejected_submissions (
    agency_id     text        NOT NULL,
    submission_id text        NOT NULL,
    reasons       jsonb       NOT NULL,
    rejected_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (agency_id, submission_id)
);
