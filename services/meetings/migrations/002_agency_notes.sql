-- An agency's own words beside a reason code stay here, where they can be erased; only the code is published
-- (MeetingRequested and MeetingCancelled carry codes). `reason` keeps why the meeting was requested; a
-- cancellation has its own code and note instead of overwriting it.
ALTER TABLE meetings
    ADD COLUMN request_note  text,
    ADD COLUMN cancel_reason text,
    ADD COLUMN cancel_note   text;

-- Rows written before: a cancellation had overwritten `reason` with its words (or with the service's own
-- sentence after a consent withdrawal); a request's `reason` was words too. The request's own reason is lost
-- where a cancellation overwrote it: those say `asked`.
UPDATE meetings
SET cancel_reason = CASE WHEN reason LIKE 'consent withdrawn%' THEN 'consent-withdrawn' ELSE 'other' END,
    cancel_note = CASE WHEN reason LIKE 'consent withdrawn%' THEN NULL ELSE nullif(reason, '') END
WHERE state = 'cancelled';

UPDATE meetings
SET request_note = CASE WHEN state = 'cancelled' OR reason IN ('requested', '') THEN NULL ELSE reason END,
    reason = 'asked'
WHERE reason NOT IN ('multi-domain', 'coordination-theme', 'no-agency-accepted', 'escalated', 'asked');
