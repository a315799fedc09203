-- A plan comes back (見直し): its review falls due at 8:30 in Tokyo on review_on, or on the next business day
-- (backbone.calendar.business_morning, computed when the plan is confirmed). Plans confirmed before this
-- migration fall due at 8:30 on review_on itself, business day or not.
ALTER TABLE plans ADD COLUMN review_due_at timestamptz;
UPDATE plans SET review_due_at = (review_on + time '08:30') AT TIME ZONE 'Asia/Tokyo';
ALTER TABLE plans ALTER COLUMN review_due_at SET NOT NULL;
ALTER TABLE plans ADD COLUMN review_fired_at timestamptz;
ALTER TABLE plans ADD COLUMN review_meeting_id uuid;
CREATE INDEX plans_review_due ON plans (review_due_at) WHERE review_fired_at IS NULL;
