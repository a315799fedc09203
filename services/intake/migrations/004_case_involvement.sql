-- Need to know: the agencies that took in the consultations stored before involvement was recorded.
INSERT INTO case_involvement (case_id, agency_id, role)
SELECT DISTINCT case_id, receiving_agency, 'received' FROM consultations
ON CONFLICT DO NOTHING;
