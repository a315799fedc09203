-- An agency's agenda (GET /v1/meetings without a case): its meetings as organizer or as participant.
CREATE INDEX meetings_organizer ON meetings (organizer);
CREATE INDEX meetings_participants ON meetings USING gin (participants);
