-- When the person gave each consent, so that a consent recorded ahead of its time does not count before it
-- (backbone.consent: the one rule). Consents kept before this have none and count as given when recorded.
ALTER TABLE consents ADD COLUMN given_at timestamptz;
