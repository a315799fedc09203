-- The kit tests' stand-in for a service's effects: one row per applied event.
CREATE TABLE test_effects (
    consumer   text        NOT NULL,
    event_id   uuid        NOT NULL,
    case_id    uuid        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);
