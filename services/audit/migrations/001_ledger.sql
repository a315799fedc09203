-- The ledger: every record of every topic, once, in a hash chain. Each row holds the hash of the event's
-- canonical bytes, the previous row's hash, its own hash, and an Ed25519 signature of its hash.
CREATE TABLE ledger (
    seq           bigint      PRIMARY KEY,
    topic         text        NOT NULL,
    event_id      text        NOT NULL,
    kafka_partition integer,
    kafka_offset  bigint,
    event_type    text        NOT NULL,
    case_id       text,                      -- ce_correlationid (the case, or the agency / person for some events)
    causation_id  text,
    trace_id      text,
    occurred_at   timestamptz,
    recorded_at   timestamptz NOT NULL DEFAULT now(),
    canonical     bytea       NOT NULL,      -- headers, key and value, canonically encoded: what is hashed
    data          jsonb,                     -- the value parsed, for queries (NULL when it is not JSON)
    event_hash    text        NOT NULL,
    prev_hash     text        NOT NULL,
    row_hash      text        NOT NULL,
    signature     text        NOT NULL,
    UNIQUE (topic, event_id)
);
CREATE INDEX ledger_case ON ledger (case_id, occurred_at);
CREATE INDEX ledger_trace ON ledger (trace_id);
CREATE INDEX ledger_referral ON ledger ((data->>'referral_id'));
CREATE INDEX ledger_type ON ledger (event_type, occurred_at);

-- Append-only: UPDATE, DELETE and TRUNCATE are refused by a trigger (and by privileges, below).
CREATE FUNCTION ledger_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the ledger is append-only: % is refused', TG_OP;
END $$;
CREATE TRIGGER ledger_append_only BEFORE UPDATE OR DELETE ON ledger
    FOR EACH ROW EXECUTE FUNCTION ledger_is_append_only();
CREATE TRIGGER ledger_no_truncate BEFORE TRUNCATE ON ledger
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_is_append_only();
REVOKE UPDATE, DELETE, TRUNCATE ON ledger FROM PUBLIC;
REVOKE UPDATE, DELETE, TRUNCATE ON ledger FROM CURRENT_USER;

-- Signed checkpoints of the chain head, also written to a file an auditor keeps outside the database.
CREATE TABLE checkpoints (
    seq        bigint      PRIMARY KEY,
    row_hash   text        NOT NULL,
    signed_at  timestamptz NOT NULL,
    signature  text        NOT NULL
);
