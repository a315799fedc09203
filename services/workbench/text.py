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
    # The auditors' pages (監査).
    "audit": ("監査", "Audit"),
    "audit_search": ("経過の照会", "Trace a case"),
    "audit_intro": (
        "ケース・つなぎ・トレースの番号で、記録された経過を照会します。照会も監査記録に残ります。",
        "Search the recorded timeline of a case, a referral or a trace. Each search is itself recorded.",
    ),
    "audit_kind": ("何の番号で照会するか", "Search by"),
    "audit_key": ("番号（ID）", "Id"),
    "audit_kind_case": ("ケース", "case"),
    "audit_kind_referral": ("つなぎ", "referral"),
    "audit_kind_trace": ("トレース", "trace"),
    "search": ("照会する", "Search"),
    "timeline": ("経過", "Timeline"),
    "handoffs": ("機関の間のつなぎ", "Hand-offs between agencies"),
    "nothing_recorded": ("記録はありません。", "Nothing recorded."),
    "csv": ("CSVでダウンロード", "Download as CSV"),
    "time": ("日時", "Time"),
    "what": ("出来事", "What"),
    "who": ("機関", "Who"),
    "why": ("理由", "Why"),
    "disclosures": ("開示記録", "Disclosures"),
    "disclosures_intro": (
        "個人情報の開示（許可・拒否とも）の記録です。ケースまたは機関で絞り込めます。",
        "Disclosures of personal data, allowed and denied; narrow them by case or agency.",
    ),
    "case_id": ("ケース番号", "Case id"),
    "any_agency": ("すべての機関", "Every agency"),
    "disclosure_outcome": ("結果", "Outcome"),
    "show": ("表示する", "Show"),
    "unanswered": ("未回答のつなぎ", "Unanswered referrals"),
    "unanswered_intro": (
        "期限を過ぎたつなぎと辞退されたつなぎの数を、機関ごとに示します。",
        "Referrals that went overdue or were declined, counted per agency.",
    ),
    "overdue": ("期限超過", "Overdue"),
    "declined": ("辞退", "Declined"),
    "yearly": ("年度の集計", "Yearly figures"),
    "yearly_intro": (
        "年度（4月〜翌年3月）ごとの件数と、理由の内訳です。",
        "Counts per fiscal year (April–March), with the reasons given.",
    ),
    "fiscal_year": ("年度（西暦）", "Fiscal year"),
    "count": ("件数", "Count"),
    "reasons": ("理由の内訳", "Reasons"),
    "back_to_audit": ("監査のページに戻る", "Back to the auditors' pages"),
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

AUDITORS_ONLY = (
    "監査のページは、監査担当（監査の役割）のアカウントだけが開けます。",
    "The auditors' pages are for accounts with the auditor role only.",
)
AUDITORS_ONLY_STAFF = (
    "監査担当のアカウントでは、監査のページだけを開けます。機関の受付箱やつなぎは開けません。",
    "An auditor's account opens the auditors' pages only, never an agency's inbox or referrals.",
)
AUDIT_UNAVAILABLE = (
    "監査記録のシステムに接続できませんでした。しばらくしてから、もう一度お試しください。",
    "The audit service did not answer; try again in a moment.",
)
DISCLOSURE_OUTCOMES: dict[str, tuple[str, str]] = {
    "allowed": ("開示", "disclosed"),
    "denied": ("拒否", "denied"),
}

UNAVAILABLE = (
    "つなぎのシステムに接続できませんでした。しばらくしてから、もう一度お試しください。",
    "The referral service did not answer; try again in a moment.",
)

FORM_PROBLEMS: dict[str, tuple[str, str]] = {
    "reason": ("辞退の理由を選んでください。", "Choose a reason for declining."),
    "note": ("補足は200字以内で書いてください。", "Keep the note within 200 characters."),
    "outcome": ("結果を選んでください。", "Choose an outcome."),
    "key": (
        "番号の形式が違います。ケース・つなぎは 8-4-4-4-12 桁の ID、トレースは 32 桁の英数字です。",
        "Not an id of that kind: a case or referral id looks like 8-4-4-4-12 hex digits, a trace id 32.",
    ),
    "case_id": ("ケース番号の形式が違います（8-4-4-4-12 桁の ID）。", "Not a case id (8-4-4-4-12 hex digits)."),
    "fiscal_year": ("年度は 2019 以降の西暦で入力してください。", "Give a fiscal year from 2019 on."),
}


def pick(pair: tuple[str, str], lang: str) -> str:
    return pair[1] if lang == "en" else pair[0]


def decline_reasons(lang: str) -> list[tuple[str, str]]:
    """The reasons a referral may be declined with, as (code, label) in the reader's language."""
    return [(reason.value, DECLINE_REASONS_EN[reason] if lang == "en" else reason.japanese) for reason in DeclineReason]


# つなぐシート (the consultation form): its labels, the vocabularies as staff write them, and each field's problem.
SHEET: dict[str, tuple[str, str]] = {
    "title": ("つなぐシート", "Consultation sheet"),
    "intro": (
        "相談を受け付けて、関係機関につなぎます。ご本人の情報と相談の概要は暗号化して保存され、"
        "同意の範囲の機関だけが見られます。",
        "Take in a consultation and refer it. The person's data and the summary are stored encrypted and shown only "
        "to the agencies the consent covers.",
    ),
    "required": ("必須", "required"),
    "person": ("ご本人", "The person"),
    "anonymous": ("匿名で受け付ける（ご本人の情報を記録しない）", "Anonymous (record nothing about the person)"),
    "family_name": ("氏", "Family name"),
    "given_name": ("名", "Given name"),
    "family_name_kana": ("ふりがな（氏）", "Reading of the family name (kana)"),
    "given_name_kana": ("ふりがな（名）", "Reading of the given name (kana)"),
    "kana_hint": ("ひらがな・カタカナのどちらでも入力できます。", "Hiragana or katakana."),
    "birth_date": ("生年月日", "Birth date"),
    "birth_era": ("元号", "Era"),
    "western": ("西暦", "Western calendar"),
    "year": ("年", "Year"),
    "month": ("月", "Month"),
    "day": ("日", "Day"),
    "birth_hint": ("元号でも西暦でも入力できます（元年は「1」または「元」）。", "In an era or the Western calendar."),
    "phone": ("電話番号", "Phone"),
    "address": ("住所（任意）", "Address (optional)"),
    "consultation": ("相談", "The consultation"),
    "channel": ("受付の方法", "How it came in"),
    "district": ("地区", "District"),
    "domains": ("相談の分野・テーマ（複数選択可）", "Domains and themes (tick all that apply)"),
    "domain_group": ("分野", "Domains"),
    "theme_group": ("テーマ（多機関協働）", "Themes (multi-agency coordination)"),
    "urgency": ("緊急度", "Urgency"),
    "normal": ("通常", "Normal"),
    "urgent": ("至急", "Urgent"),
    "summary": ("相談の概要", "Summary"),
    "summary_hint": ("4,000字以内。ご本人の同意の範囲の機関だけが読めます。", "Up to 4,000 characters."),
    "consent": ("本人同意", "Consent"),
    "consent_scope": ("同意の範囲（情報を共有してよい機関）", "Scope (who may receive the data)"),
    "scope_none": ("同意は得ていない", "No consent obtained"),
    "scope_all": ("重層的支援体制の全機関", "Every agency of the programme"),
    "scope_types": ("機関の種類を指定", "Kinds of agency"),
    "scope_agencies": ("機関を指定", "Named agencies"),
    "agency_types": ("機関の種類", "Kinds of agency"),
    "agencies": ("機関", "Agencies"),
    "consent_purposes": ("利用目的", "Purposes"),
    "consent_method": ("同意の取得方法", "How consent was given"),
    "submit": ("送信する", "Submit"),
    "problems": (
        "入力に誤りがあります。各欄の説明を確かめてください。",
        "Some fields need correcting; see each field.",
    ),
    "sent": ("つなぐシートを受け付けました", "The consultation was received"),
    "sent_again": (
        "このシートはすでに送信されています。最初の受付の内容を表示しています（二重には登録されません）。",
        "This sheet was sent before: this is its first answer (nothing was stored twice).",
    ),
    "consultation_id": ("受付番号", "Consultation id"),
    "case_id": ("ケース番号", "Case id"),
    "case_kind": ("ケース", "Case"),
    "new_case": ("新しいケースとして受け付けました", "A new case"),
    "joined_case": ("ご本人の支援中のケースに追加しました", "Joined the person's open case"),
    "follows": (
        "つなぎ先は数秒のうちに決まります。決まると下に表示されます（画面を読み込み直してください）。",
        "The referral follows within seconds; reload this page to see it below.",
    ),
    "referrals": ("つなぎの状況", "Referrals"),
    "no_referral_yet": ("つなぎ先を決めています。", "The referral is being routed."),
    "reload": ("読み込み直す", "Reload"),
    "another": ("新しいつなぐシート", "A new sheet"),
}

CHANNELS: dict[str, tuple[str, str]] = {
    "counter": ("窓口", "counter"),
    "phone": ("電話", "phone"),
    "home-visit": ("訪問", "home visit"),
    "outreach": ("アウトリーチ", "outreach"),
    "community-place": ("地域の縁側", "community place"),
    "online": ("オンライン・メール", "online or e-mail"),
}

DOMAINS: dict[str, tuple[str, str]] = {
    "elderly": ("高齢", "elderly"),
    "disability": ("障がい", "disability"),
    "child": ("子ども・子育て", "children and child-rearing"),
    "poverty": ("生活困窮", "poverty"),
    "mental-health": ("精神保健", "mental health"),
    "maternal-health": ("母子保健", "maternal health"),
    "single-parent": ("ひとり親家庭", "single-parent family"),
    "school": ("学校教育", "school"),
    "abuse": ("DV・虐待", "domestic violence or abuse"),
    "withdrawal": ("ひきこもり", "social withdrawal (hikikomori)"),
    "carer": ("ケアラー", "carer"),
    "hoarding": ("ごみ屋敷・セルフネグレクト", "hoarding or self-neglect"),
    "8050": ("8050問題", "the 8050 problem"),
}

AGENCY_TYPES: dict[str, tuple[str, str]] = {
    "district-welfare-counter": ("地区福祉窓口", "district welfare counter"),
    "welfare-consultation-centre": ("福祉総合相談支援センター", "welfare consultation centre"),
    "northern-welfare-office": ("北部福祉総合相談室", "northern welfare office"),
    "community-support-centre": ("いきいきサポートセンター（地域包括支援センター）", "community support centre"),
    "core-community-support-centre": ("基幹型地域包括支援センター", "core community support centre"),
    "disability-core": ("基幹相談支援センター", "core disability consultation"),
    "disability-regional": ("地域相談支援センター（障がい）", "regional disability consultation"),
    "disability-specialist": ("障がいの専門相談事業所", "specialist disability consultation"),
    "mental-health": ("精神保健福祉相談", "mental health consultation"),
    "maternal-child-health": ("母子保健相談", "maternal and child health"),
    "child-youth": ("子ども・子育て・青少年相談", "children and youth consultation"),
    "childcare-concierge": ("保育コンシェルジュ", "childcare concierge"),
    "single-parent": ("ひとり親家庭相談", "single-parent consultation"),
    "school-education": ("学校教育相談センター", "school education consultation"),
    "self-reliance": ("バックアップふじさわ", "self-reliance support"),
    "self-reliance-council": ("バックアップふじさわ社協", "self-reliance support (council)"),
    "district-csw": ("地区のコミュニティソーシャルワーカー", "district community social workers"),
    "community-place": ("地域の縁側など", "community places"),
}

PURPOSES: dict[str, tuple[str, str]] = {
    "support": ("相談支援・支援調整", "support"),
    "referral": ("関係機関へのつなぎ", "referral to other agencies"),
    "case-meeting": ("重層的支援会議での共有", "sharing in case meetings"),
}

METHODS: dict[str, tuple[str, str]] = {
    "written": ("書面", "in writing"),
    "verbal": ("口頭（職員が記録）", "verbally (recorded by staff)"),
    "electronic": ("電子", "electronically"),
}

SHEET_PROBLEMS: dict[str, tuple[str, str]] = {
    "family_name": (
        "氏を60字以内で入力してください。ご本人が名乗らない場合は「匿名で受け付ける」にチェックしてください。",
        "Enter the family name (up to 60 characters), or tick Anonymous.",
    ),
    "given_name": ("名は60字以内で入力してください。", "Keep the given name within 60 characters."),
    "family_name_kana": (
        "ふりがなは、ひらがなかカタカナで入力してください（60字以内）。",
        "Write the reading in hiragana or katakana (up to 60 characters).",
    ),
    "given_name_kana": (
        "ふりがなは、ひらがなかカタカナで入力してください（60字以内）。",
        "Write the reading in hiragana or katakana (up to 60 characters).",
    ),
    "birth_date": (
        "生年月日を確かめてください。1900年1月1日から今日までで、元号で書く場合はその元号の期間内の日付です"
        "（例：昭和64年は1月7日まで）。",
        "Check the birth date: between 1 January 1900 and today, and within the era named.",
    ),
    "phone": (
        "電話番号は数字とハイフンで入力してください（例：0466-00-0000）。",
        "Write the phone number in digits, optionally with hyphens.",
    ),
    "address": ("住所は200字以内で入力してください。", "Keep the address within 200 characters."),
    "summary": ("相談の概要は4,000字以内で入力してください。", "Keep the summary within 4,000 characters."),
    "channel": ("受付の方法を選んでください。", "Choose how it came in."),
    "district": ("地区を選んでください。", "Choose the district."),
    "domains": ("相談の分野・テーマを1つ以上選んでください。", "Tick at least one domain or theme."),
    "urgency": ("緊急度を選んでください。", "Choose the urgency."),
    "consent_scope": (
        "同意の範囲を選び、機関の種類または機関を指定した場合は1つ以上チェックしてください。",
        "Choose the scope; for kinds of agency or named agencies, tick at least one.",
    ),
    "consent_purposes": ("同意を得た利用目的を1つ以上選んでください。", "Tick at least one purpose."),
    "consent_method": ("同意の取得方法を選んでください。", "Choose how consent was given."),
    "form": ("入力内容を確かめて、もう一度送信してください。", "Check the sheet and submit it again."),
}

SHEET_SENT_BEFORE = (
    "このシートは別の内容ですでに送信されています。新しい相談として送る場合は、この画面のまま、もう一度送信してください。",
    "This sheet was sent before with other contents. To send it as a new consultation, submit it again.",
)
