-- The overdue referrals are counted every few seconds for the metrics: this index holds only them, so the
-- count does not read the whole referrals table.
CREATE INDEX referrals_overdue ON referrals (referral_id) WHERE state = 'proposed' AND overdue_at IS NOT NULL;
