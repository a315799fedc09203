-- Every person a case concerns: one for most cases, each member of a household whose case it is (8050: a parent
-- and a child). A consent-based meeting needs each one's own consent. case_persons keeps the case's district
-- and urgency, from its first consultation.
CREATE TABLE case_members (
    case_id   uuid NOT NULL,
    person_id uuid NOT NULL,
    PRIMARY KEY (case_id, person_id)
);
CREATE INDEX case_members_person ON case_members (person_id);

INSERT INTO case_members (case_id, person_id) SELECT case_id, person_id FROM case_persons;
