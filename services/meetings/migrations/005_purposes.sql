-- 会議の目的: each meeting carries one of its kind's two purposes (seed: 重層的支援会議と支援会議). Meetings
-- recorded before purposes existed were of their kind's purpose ①.
ALTER TABLE meetings ADD COLUMN purpose text;
UPDATE meetings SET purpose = CASE kind WHEN 'consent-based' THEN 'plan-confirmation' ELSE 'no-consent-conference' END;
ALTER TABLE meetings ALTER COLUMN purpose SET NOT NULL;
ALTER TABLE meetings ADD CONSTRAINT meetings_purpose_of_kind CHECK (
    (kind = 'consent-based' AND purpose IN ('plan-confirmation', 'participation-plan'))
    OR (kind = 'confidential' AND purpose IN ('no-consent-conference', 'outreach-plan'))
);
