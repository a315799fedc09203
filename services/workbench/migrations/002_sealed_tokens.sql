-- The provider's tokens are kept sealed (AES-GCM under BACKBONE_WORKBENCH__SESSION_KEY, bound to the row's
-- session_hash and to the column), never in the clear: a copy of this table, a backup or a dump opens no
-- service on a staff member's behalf. Tokens stored in the clear cannot be sealed here (the key is not in
-- the database), and sessions last hours at most, so every session open at this migration ends: its rows
-- are deleted, and the staff members sign in again. Sign-ins under way are kept (they hold no token).
DELETE FROM sessions;
ALTER TABLE sessions
    DROP COLUMN id_token,
    DROP COLUMN access_token,
    DROP COLUMN refresh_token,
    ADD COLUMN id_token_sealed bytea NOT NULL,     -- nonce (12 bytes) ‖ ciphertext ‖ tag; the logout's id_token_hint
    ADD COLUMN access_token_sealed bytea NOT NULL,
    ADD COLUMN refresh_token_sealed bytea;
