-- Staff sessions, kept on the server: the browser holds only a random session id, and this table only its
-- SHA-256 (a copy of the table opens no session). The provider's tokens stay here and never reach a browser.
CREATE TABLE sessions (
    session_hash bytea PRIMARY KEY,
    subject text NOT NULL,                 -- the provider's opaque id of the staff member (never a name)
    agency_id text,                        -- from the access token's claim; NULL for a staff member of none
    roles text[] NOT NULL DEFAULT '{}',
    display_name text NOT NULL DEFAULT '', -- from the ID token, shown to the staff member themselves only
    csrf_token text NOT NULL,              -- the synchronizer token every form of this session carries
    id_token text NOT NULL,                -- the id_token_hint of the provider's logout
    access_token text NOT NULL,
    access_expires_at timestamptz NOT NULL,
    refresh_token text,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX sessions_expiry ON sessions (expires_at);

-- A sign-in under way: what the callback must find again (state), check (nonce, the browser that started
-- it) and prove (the PKCE verifier). Kept for minutes; used once.
CREATE TABLE sign_ins (
    state_hash bytea PRIMARY KEY,
    browser_hash bytea NOT NULL,
    nonce text NOT NULL,
    code_verifier text NOT NULL,
    return_to text NOT NULL DEFAULT '/',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sign_ins_age ON sign_ins (created_at);
