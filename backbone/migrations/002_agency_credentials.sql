-- Agency credentials, in every service that agencies call: the bearer token's hash for HTTP, and the
-- secret itself (encrypted under the service's credentials key) for checking ingress records' HMACs.
CREATE TABLE agency_credentials (
    agency_id   text        PRIMARY KEY,
    agency_type text        NOT NULL,
    token_hash  text        NOT NULL UNIQUE,
    secret_ct   bytea       NOT NULL,
    issued_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);
