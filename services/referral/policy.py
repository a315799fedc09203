"""How long an agency has to answer, and how an unanswered referral climbs. Read from BACKBONE_REFERRAL__*."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from backbone.calendar import business_deadline
from schemas.vocabulary import Urgency


class ReferralPolicy(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BACKBONE_REFERRAL__", frozen=True)

    urgent_hours: float = Field(default=4.0, gt=0, description="Urgent: answer within this many hours, day and night")
    normal_business_days: int = Field(default=3, ge=1, description="Normal: by 17:00 on the Nth business day after")
    urgent_escalation_hours: float = Field(default=2.0, gt=0, description="Overdue urgent: the coordinator after this")
    normal_escalation_business_days: int = Field(default=1, ge=1, description="Overdue normal: the coordinator after")
    timer_poll_seconds: float = Field(default=1.0, gt=0)
    # ASSUMPTION: the city gives no figure for how long outreach may go without a contact attempt; two weeks.
    outreach_quiet_business_days: int = Field(
        default=10, ge=1, description="Outreach with no contact attempt for this many business days: at risk"
    )
    # ASSUMPTION: the city gives no figure for how long a plan's review may wait; two weeks of business days.
    plan_review_business_days: int = Field(
        default=10,
        ge=1,
        description="A plan not reviewed by 17:00 on the Nth business day after it fell due: at risk",
    )

    def respond_by(self, proposed_at: datetime, urgency: Urgency) -> datetime:
        if urgency is Urgency.URGENT:
            return proposed_at + timedelta(hours=self.urgent_hours)
        return business_deadline(proposed_at, self.normal_business_days)

    def outreach_quiet_until(self, since: datetime) -> datetime:
        return business_deadline(since, self.outreach_quiet_business_days)

    def review_overdue_at(self, due_at: datetime) -> datetime:
        return business_deadline(due_at, self.plan_review_business_days)

    def coordinator_after(self, overdue_at: datetime, urgency: Urgency) -> datetime:
        if urgency is Urgency.URGENT:
            return overdue_at + timedelta(hours=self.urgent_escalation_hours)
        return business_deadline(overdue_at, self.normal_escalation_business_days)
