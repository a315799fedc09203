"""What the workbench says, in Japanese first and in English: one entry per label, both languages beside."""

from __future__ import annotations

from schemas.events import DeclineReason
from schemas.vocabulary import Urgency

LANGUAGES = ("ja", "en")

LABELS: dict[str, tuple[str, str]] = {
    "app": ("藤沢市 重層的支援 ワークベンチ", "Fujisawa interagency support — workbench"),
    "inbox": ("受付箱", "Inbox"),
    "inbox_intro": (
        "あなたの機関あての、回答を待っているつなぎです。緊急のものが先、次に期限の近い順です。",
        "Referrals waiting for your agency's answer: urgent ones first, then by deadline.",
    ),
    "inbox_empty": ("回答待ちのつなぎはありません。", "No referral is waiting for your answer."),
    "live": ("新しいつなぎは自動で表示されます。", "New referrals appear here by themselves."),
    "sign_in": ("サインイン", "Sign in"),
    "sign_in_intro": (
        "市の認証基盤（シングルサインオン）でサインインしてください。",
        "Sign in with the city's identity provider (single sign-on).",
    ),
    "sign_out": ("サインアウト", "Sign out"),
    "signed_in_as": ("サインイン中", "Signed in"),
    "agency": ("機関", "Agency"),
    "urgency": ("緊急度", "Urgency"),
    "time_left": ("回答期限まで", "Time left"),
    "respond_by": ("回答期限", "Respond by"),
    "from_agency": ("つなぎ元", "From"),
    "to_agency": ("つなぎ先", "To"),
    "state": ("状態", "State"),
    "open": ("開く", "Open"),
    "referral": ("つなぎ", "Referral"),
    "routing": ("つなぎの根拠", "Why this agency"),
    "attempt": ("何番目の候補か", "Candidate number"),
    "waitlisted": ("順番待ち", "Waitlisted"),
    "person": ("ご本人", "The person"),
    "summary": ("相談の概要", "Consultation summary"),
    "name": ("氏名", "Name"),
    "kana": ("ふりがな", "Reading"),
    "birth_date": ("生年月日", "Birth date"),
    "address": ("住所", "Address"),
    "phone": ("電話", "Phone"),
    "not_disclosed": (
        "同意がないため表示できません",
        "Not shown: no consent covers your agency",
    ),
    "disclosure_note": (
        "ご本人の情報の表示は、目的「支援」での開示として記録されます。",
        "Showing the person's data is recorded as a disclosure for the purpose of support.",
    ),
    "accept": ("受け入れる", "Accept"),
    "decline": ("辞退する", "Decline"),
    "decline_reason": ("辞退の理由", "Reason"),
    "choose": ("選んでください", "Choose one"),
    "note": ("補足（200字以内・個人情報は書かないでください）", "Note (up to 200 characters, no personal data)"),
    "start": ("支援を開始する", "Start support"),
    "complete": ("支援を終了する", "Complete"),
    "outcome": ("結果", "Outcome"),
    "back_to_inbox": ("受付箱に戻る", "Back to the inbox"),
    "not_found": (
        "このつなぎは見つからないか、あなたの機関には表示できません。",
        "This referral does not exist, or your agency is not involved in its case.",
    ),
    "language": ("English", "日本語"),
    "error": ("できませんでした", "Not done"),
}

STATES: dict[str, tuple[str, str]] = {
    "proposed": ("回答待ち", "waiting for an answer"),
    "accepted": ("受入れ済み", "accepted"),
    "in-progress": ("支援中", "in progress"),
    "completed": ("終了", "completed"),
    "declined": ("辞退", "declined"),
    "cancelled": ("取消", "cancelled"),
}

URGENCY: dict[str, tuple[str, str]] = {
    Urgency.URGENT: ("緊急", "urgent"),
    Urgency.NORMAL: ("通常", "normal"),
}

OUTCOMES: dict[str, tuple[str, str]] = {
    "resolved": ("解決した", "resolved"),
    "transferred": ("他機関に引き継いだ", "transferred"),
    "ongoing-elsewhere": ("他機関で支援継続", "ongoing elsewhere"),
    "ended-by-person": ("ご本人の希望で終了", "ended at the person's wish"),
    "other": ("その他", "other"),
}

DECLINE_REASONS_EN: dict[DeclineReason, str] = {
    DeclineReason.NO_CAPACITY: "no capacity",
    DeclineReason.OUTSIDE_AREA: "outside our area",
    DeclineReason.NOT_ELIGIBLE: "not eligible",
    DeclineReason.OTHER: "other",
}

DONE: dict[str, tuple[str, str]] = {
    "accept": ("受け入れました。", "Accepted."),
    "decline": ("辞退しました。次の候補の機関につながれます。", "Declined. The next candidate agency is asked."),
    "start": ("支援の開始を記録しました。", "Support started."),
    "complete": ("支援の終了を記録しました。", "Support completed."),
}

REFUSED: dict[int, tuple[str, str]] = {
    403: ("このつなぎは他の機関あてのため、操作できません。", "This referral is addressed to another agency."),
    404: (LABELS["not_found"][0], LABELS["not_found"][1]),
    409: (
        "今の状態ではこの操作はできません。すでに誰かが操作した可能性があります。状態を確かめてください。",
        "Not possible in its present state; someone may have acted already. Check its state.",
    ),
    422: (
        "入力に誤りがあります。内容を確かめて、もう一度送ってください。",
        "Something in the form is wrong; check it.",
    ),
    429: (
        "混み合っています。少し待ってから、もう一度お試しください。",
        "Too many requests; wait a moment and try again.",
    ),
}

UNAVAILABLE = (
    "つなぎのシステムに接続できませんでした。しばらくしてから、もう一度お試しください。",
    "The referral service did not answer; try again in a moment.",
)

FORM_PROBLEMS: dict[str, tuple[str, str]] = {
    "reason": ("辞退の理由を選んでください。", "Choose a reason for declining."),
    "note": ("補足は200字以内で書いてください。", "Keep the note within 200 characters."),
    "outcome": ("結果を選んでください。", "Choose an outcome."),
}


def pick(pair: tuple[str, str], lang: str) -> str:
    return pair[1] if lang == "en" else pair[0]


def decline_reasons(lang: str) -> list[tuple[str, str]]:
    """The reasons a referral may be declined with, as (code, label) in the reader's language."""
    return [(reason.value, DECLINE_REASONS_EN[reason] if lang == "en" else reason.japanese) for reason in DeclineReason]
