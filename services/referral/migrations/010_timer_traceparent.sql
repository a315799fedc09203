-- A deadline fires long after the request that set it: the timer keeps the trace it was set in (W3C traceparent),
-- so that an escalation's span and log lines continue the referral's trace. NULL for timers set before this.
ALTER TABLE referral_timers ADD COLUMN traceparent text;
