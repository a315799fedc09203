-- Need to know: the organizers and participants of the meetings stored before involvement was recorded.
INSERT INTO case_involvement (case_id, agency_id, role)
SELECT DISTINCT case_id, agency, 'meeting' FROM meetings, unnest(participants || organizer) AS agency
ON CONFLICT DO NOTHING;
