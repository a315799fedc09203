-- Need to know: the agencies notified about a case before involvement was recorded (each was referred,
-- leads, meets on or coordinates the case, or it would not have been notified).
INSERT INTO case_involvement (case_id, agency_id, role)
SELECT DISTINCT case_id, recipient_agency, 'referred' FROM deliveries
ON CONFLICT DO NOTHING;
