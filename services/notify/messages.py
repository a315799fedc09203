"""Notification texts in Japanese and English. They carry ids, a category, the urgency and a link —
never personal data (the person's details are only ever read through intake, under consent)."""

from __future__ import annotations

from dataclasses import dataclass

SUBJECTS = {
    "ja": {
        "referral-proposed": "【つなぎ】ケース {case} の受入れ依頼",
        "referral-escalated": "【至急確認】ケース {case} のつなぎが未回答です",
        "meeting-scheduled": "【会議】ケース {case} の会議のご案内",
        "meeting-changed": "【会議変更】ケース {case} の会議が変更されました",
        "meeting-cancelled": "【会議中止】ケース {case} の会議は中止です",
        "support-plan-confirmed": "【支援プラン】ケース {case} の支援プランが確定しました",
        "support-plan-review-opened": "【プラン見直し】ケース {case} の支援プランが見直しの時期です",
        "consent-withdrawn": "【同意撤回】ケース {case} の本人同意が撤回されました",
    },
    "en": {
        "referral-proposed": "[Referral] Case {case}: please accept or decline",
        "referral-escalated": "[Urgent] Case {case}: a referral is unanswered",
        "meeting-scheduled": "[Meeting] Case {case}: invitation",
        "meeting-changed": "[Meeting changed] Case {case}",
        "meeting-cancelled": "[Meeting cancelled] Case {case}",
        "support-plan-confirmed": "[Support plan] Case {case}: confirmed",
        "support-plan-review-opened": "[Plan review] Case {case}: the support plan is due for review",
        "consent-withdrawn": "[Consent withdrawn] Case {case}",
    },
}

BODIES = {
    "ja": "{subject}\n\n緊急度: {urgency}\nケースID: {case_id}\n通知ID: {notification_id}\n\n"
    "詳細はバックボーンでご確認ください。次のリンクを開き、表示されたページの「確認しました」ボタンを押してください"
    "(リンクを開くだけでは確認になりません):\n{ack_link}\n",
    "en": "{subject}\n\nUrgency: {urgency}\nCase id: {case_id}\nNotification id: {notification_id}\n\n"
    "See the details in the backbone. To acknowledge, open this link and press the button on the page"
    " (opening the link alone acknowledges nothing):\n{ack_link}\n",
}
URGENCY = {"ja": {"urgent": "至急", "normal": "通常"}, "en": {"urgent": "urgent", "normal": "normal"}}
# What a notification is about, as the acknowledgement page names it (the reason it was sent).
CATEGORIES = {
    "ja": {
        "referral-proposed": "つなぎ(受入れ依頼)",
        "referral-escalated": "未回答のつなぎ(至急確認)",
        "meeting-scheduled": "会議のご案内",
        "meeting-changed": "会議の変更",
        "meeting-cancelled": "会議の中止",
        "support-plan-confirmed": "支援プランの確定",
        "support-plan-review-opened": "支援プランの見直し時期",
        "consent-withdrawn": "本人同意の撤回",
    },
    "en": {
        "referral-proposed": "a referral to accept or decline",
        "referral-escalated": "an unanswered referral (urgent)",
        "meeting-scheduled": "a meeting invitation",
        "meeting-changed": "a meeting changed",
        "meeting-cancelled": "a meeting cancelled",
        "support-plan-confirmed": "a support plan confirmed",
        "support-plan-review-opened": "a support plan due for review",
        "consent-withdrawn": "consent withdrawn",
    },
}


@dataclass(frozen=True)
class Message:
    subject: str
    body: str


def render(category: str, language: str, *, case_id: str, notification_id: str, urgency: str, ack_link: str) -> Message:
    subject = SUBJECTS[language][category].format(case=case_id[:8])
    body = BODIES[language].format(
        subject=subject,
        urgency=URGENCY[language][urgency],
        case_id=case_id,
        notification_id=notification_id,
        ack_link=ack_link,
    )
    return Message(subject, body)
