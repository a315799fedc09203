-- An agency's own notifications, newest first (GET /v1/notifications without a case): read by the
-- workbench's notifications page, so it must not scan every delivery of every agency.
CREATE INDEX deliveries_recipient ON deliveries (recipient_agency, created_at DESC);
