-- A pending delivery's deadline: its last try, even past an open breaker, and failed visibly if that fails too
-- (services/notify/lifecycle.py). Deliveries already pending get the default deadline from now on, so that none
-- is left waiting without one.
ALTER TABLE deliveries ADD COLUMN give_up_at timestamptz;
UPDATE deliveries SET give_up_at = greatest(next_attempt_at, now()) + interval '10 minutes' WHERE state = 'pending';
