-- 世帯: a household links the persons one case concerns. An 8050 case is a parent and a child in one household:
-- one case, each person's own identity and consent. 続柄 stays here; the bus carries only the household's id.
CREATE TABLE households (
    household_id uuid        PRIMARY KEY,
    created_by   text        NOT NULL,   -- the agency whose consultation started it
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE household_members (
    household_id uuid        NOT NULL REFERENCES households,
    person_id    uuid        NOT NULL REFERENCES persons,
    relation     text,                   -- 続柄 to the head of the household, when the agency said
    joined_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (household_id, person_id)
);
CREATE INDEX household_members_person ON household_members (person_id);

ALTER TABLE cases ADD COLUMN household_id uuid REFERENCES households;
CREATE INDEX cases_of_household ON cases (household_id) WHERE household_id IS NOT NULL;

ALTER TABLE consultations
    ADD COLUMN consulted_by text NOT NULL DEFAULT 'person',
    ADD COLUMN household_id uuid;
