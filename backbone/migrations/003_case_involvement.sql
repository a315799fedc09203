-- Need to know: the agencies involved in each case, as this service has seen them (backbone/involvement.py).
-- Written in the transaction of the event that involves the agency; never deleted.
CREATE TABLE case_involvement (
    case_id   uuid        NOT NULL,
    agency_id text        NOT NULL,
    role      text        NOT NULL,
    since     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (case_id, agency_id, role)
);
CREATE INDEX case_involvement_agency ON case_involvement (agency_id, case_id);
