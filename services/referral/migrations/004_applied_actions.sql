-- Ingress actions that were applied, by the ce_id the agency gave them, written in the transaction that
-- applied them: the agency reads the outcome (GET /v1/actions/{ce_id}), and a retried record gets the
-- first outcome. Refused actions are in rejected_actions (002).
CREATE TABLE applied_actions (
    agency_id   text        NOT NULL,
    action_id   text        NOT NULL,
    referral_id uuid        NOT NULL,
    action      text        NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (agency_id, action_id)
);
