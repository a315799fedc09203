-- Whose case it is (intake's opaque person id, from ConsultationReceived): a referred agency reads the
-- person through intake's API under consent. NULL for cases opened before it was kept.
ALTER TABLE cases ADD COLUMN person_id uuid;

-- Need to know: the agencies of the referrals and case leads stored before involvement was recorded.
INSERT INTO case_involvement (case_id, agency_id, role)
SELECT DISTINCT case_id, to_agency, 'referred' FROM referrals
UNION SELECT DISTINCT case_id, from_agency, 'received' FROM referrals WHERE attempt = 1  -- or a plan's organizer
UNION SELECT case_id, lead_agency, 'lead' FROM cases WHERE lead_agency IS NOT NULL
ON CONFLICT DO NOTHING;
