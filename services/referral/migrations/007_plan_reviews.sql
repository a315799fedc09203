-- Plans that came back for review (meetings' SupportPlanReviewOpened). The review ends when the case's next plan
-- is confirmed (reviewed_at); a review still open at overdue_at puts the case on the at-risk list.
CREATE TABLE plan_reviews (
    plan_id     uuid        PRIMARY KEY,
    case_id     uuid        NOT NULL,
    review_on   date        NOT NULL,
    due_at      timestamptz NOT NULL,
    overdue_at  timestamptz NOT NULL,
    reviewed_at timestamptz
);
CREATE INDEX plan_reviews_open ON plan_reviews (case_id) WHERE reviewed_at IS NULL;
