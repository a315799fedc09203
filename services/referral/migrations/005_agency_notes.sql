-- An agency's own words beside a reason code stay here, where they can be erased; only the code is published
-- (ReferralDeclined and ReferralCancelled carry codes). A decline already had its note (decline_note); a
-- cancellation's reason was free text until now: it becomes a code, and words written before move to the note.
ALTER TABLE referrals ADD COLUMN cancel_note text;

UPDATE referrals SET cancel_note = cancel_reason, cancel_reason = 'other'
WHERE cancel_reason IS NOT NULL
  AND cancel_reason NOT IN ('no-longer-needed', 'person-declined', 'duplicate', 'sent-in-error', 'other');
