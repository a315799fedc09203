"""What the workbench says, in Japanese first and in English: one entry per label, both languages beside."""

from __future__ import annotations

from schemas.events import DeclineReason
from schemas.vocabulary import Urgency

LANGUAGES = ("ja", "en")

LABELS: dict[str, tuple[str, str]] = {
    "app": ("藤沢市 重層的支援 ワークベンチ", "Fujisawa interagency support — workbench"),
    "inbox": ("受付箱", "Inbox"),
    "cases": ("ケース", "Cases"),
    "meetings": ("会議", "Meetings"),
    "notifications": ("通知", "Notifications"),
    "my_agency": ("自機関", "My agency"),
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
    "meetings_held": ("会議の開催実績（種類・目的別）", "Meetings held, by kind and purpose"),
    "meeting_kind": ("会議", "Meeting"),
    "purpose": ("目的", "Purpose"),
    "back_to_audit": ("監査のページに戻る", "Back to the auditors' pages"),
    "language": ("English", "日本語"),
    "error": ("できませんでした", "Not done"),
    "arrived": ("新着", "New"),
    "for_place": ("代わりに回答する場", "Answering for"),
    "answered_for": ("あなたの機関が代わりに回答します", "your agency answers for it"),
    "inbox_pages": ("受付箱のページ", "Inbox pages"),
    "previous_page": ("前の100件", "Previous 100"),
    "next_page": ("次の100件", "Next 100"),
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

DATABASE_UNAVAILABLE = (
    "ワークベンチのデータベースに一時的に接続できません。この操作は保存されていません。数秒後にもう一度お試しください。",
    "The workbench cannot reach its database just now. Nothing was saved: try again in a few seconds.",
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
    "who_came": ("相談者と世帯", "Who came, and the household"),
    "consulted_by": ("相談に来た人", "Who came"),
    "by_person": ("ご本人", "The person"),
    "by_family": ("家族", "Family"),
    "by_supporter": ("支援関係者（民生委員・近所の方など）", "A supporter (民生委員, a neighbour)"),
    "by_other": ("その他", "Someone else"),
    "household": ("世帯", "Household"),
    "household_none": ("世帯を登録しない", "No household"),
    "household_new": ("新しい世帯として登録する（8050など、家族の相談が続くとき）", "Start a new household"),
    "household_join": ("登録済みの世帯に加える", "Add to a household already started"),
    "household_id": ("世帯番号", "Household number"),
    "household_id_hint": (
        "先に受け付けた世帯員のシートの結果に表示された番号です。同じケースになり、同意は一人ずつです。",
        "Shown on an earlier member's sheet. The case is the household's; consent stays each person's own.",
    ),
    "relation": ("続柄（世帯主から見て）", "Relation to the head of the household"),
    "household_of_sheet": ("世帯番号", "Household number"),
    "household_next": (
        "家族の相談を続けて受け付けるときは、この番号をシートの「世帯番号」に入れてください。",
        "To take in another member's consultation, enter this number on their sheet.",
    ),
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
    "household_id": (
        "世帯番号を確かめてください。先に受け付けた世帯員のシートの結果に表示された番号で、あなたの機関が関わっている"
        "世帯のものです。新しい世帯なら「新しい世帯として登録」を選んでください。",
        "Check the household number: the one an earlier member's sheet showed, of a household your agency takes part"
        " in. For a new household, choose Start a new household.",
    ),
    "relation": ("続柄を選び直してください。", "Choose the relation again."),
    "household": ("世帯の扱いを選び直してください。", "Choose again what to do with the household."),
    "consulted_by": ("相談者を選び直してください。", "Choose again who came."),
    "form": ("入力内容を確かめて、もう一度送信してください。", "Check the sheet and submit it again."),
}

SHEET_SENT_BEFORE = (
    "このシートは別の内容ですでに送信されています。新しい相談として送る場合は、この画面のまま、もう一度送信してください。",
    "This sheet was sent before with other contents. To send it as a new consultation, submit it again.",
)

RELATIONS: dict[str, tuple[str, str]] = {
    "head": ("世帯主", "Head of the household"),
    "spouse": ("配偶者", "Spouse"),
    "child": ("子", "Child"),
    "parent": ("父母", "Parent"),
    "sibling": ("兄弟姉妹", "Sibling"),
    "grandchild": ("孫", "Grandchild"),
    "other-relative": ("その他の親族", "Other relative"),
    "other": ("同居人など", "Other"),
}

CASES: dict[str, tuple[str, str]] = {
    "intro": (
        "あなたの機関が関わっているケースです（受付・つなぎ先・主担当・会議）。新しい動きのあったものが先です。",
        "The cases your agency takes part in (took in, referred to, leads, meets on): latest activity first.",
    ),
    "empty": ("あなたの機関が関わっているケースはまだありません。", "Your agency takes part in no case yet."),
    "case": ("ケース", "Case"),
    "your_part": ("あなたの機関の関わり", "Your agency's part"),
    "lead": ("主担当", "Lead agency"),
    "no_lead": ("未定", "Not yet"),
    "open_referrals": ("進行中のつなぎ", "Open referrals"),
    "waiting_for_you": ("回答待ち", "Waiting for you"),
    "last_activity": ("最新の動き", "Latest activity"),
    "opened_at": ("開始", "Opened"),
    "queued": ("多機関協働の調整待ち", "Waiting for coordination"),
    "referrals": ("つなぎ", "Referrals"),
    "no_referrals": ("このケースのつなぎはありません。", "The case has no referral."),
    "history": ("経過", "History"),
    "history_intro": (
        "記録（監査台帳）のうち、あなたの機関が知ることのできるものです。ほかの機関あての通知や開示、"
        "あなたの機関が出席しない会議は表示されません。",
        "From the record (the audit ledger), what your agency may know: other agencies' notifications and "
        "disclosures, and meetings your agency does not attend, are not shown.",
    ),
    "history_unavailable": (
        "経過は今は表示できません（監査サービスが応答しません）。しばらくしてから読み込み直してください。",
        "The history cannot be shown now (the audit service does not answer): reload in a while.",
    ),
    "no_history": ("まだ記録がありません。", "Nothing is recorded yet."),
    "when": ("日時", "When"),
    "what": ("できごと", "What"),
    "who": ("機関", "Who"),
    "why": ("理由・結果", "Why / outcome"),
    "by_staff": ("職員が操作", "by a staff member"),
    "meeting": ("会議", "Meeting"),
    "to_case": ("ケースの経過を見る", "The case's history"),
}

INVOLVEMENT_ROLES: dict[str, tuple[str, str]] = {
    "received": ("受付", "took it in"),
    "referred": ("つなぎ先", "referred to"),
    "lead": ("主担当", "lead"),
    "meeting": ("会議", "meetings"),
}

# The notifications page (通知) and My agency (自機関): labels, the codes notify and referral answer with
# (`kind:code`), and what each action came to.
AGENCY_PAGES: dict[str, tuple[str, str]] = {
    "notifications_intro": (
        "あなたの機関あての通知です。新しい順に並んでいます。内容を確認したら「確認しました」を"
        "押してください。あなたの名前で確認が記録され、上位者への連絡（エスカレーション）が止まります。",
        "Notifications addressed to your agency, newest first. Once you have read one, "
        "press Acknowledge: it is recorded in your name, and it stops climbing to the supervisor.",
    ),
    "views": ("表示する通知", "Which notifications"),
    "show:open": ("未確認", "Not acknowledged"),
    "show:acknowledged": ("確認済み", "Acknowledged"),
    "about": ("内容", "About"),
    "sent": ("送信日時", "Sent"),
    "channel": ("送信方法", "Channel"),
    "acknowledge": ("確認しました", "Acknowledge"),
    "open_case": ("のケースを開く", "open the case"),
    "escalated": ("上位者に連絡済み", "escalated"),
    "none:open": ("未確認の通知はありません。", "No notification is waiting to be acknowledged."),
    "none:acknowledged": ("確認済みの通知はありません。", "No acknowledged notification."),
    "link_still_works": (
        "メールの確認リンクからも、これまでどおり確認できます（サインインは不要です）。",
        "The link in the e-mail works as before, without signing in.",
    ),
    "acknowledged": ("通知を確認済みにしました。", "The notification is acknowledged."),
    "not_yours": (
        "この通知は見つからないか、あなたの機関あての通知ではありません。",
        "This notification does not exist, or it is not addressed to your agency.",
    ),
    "unavailable": (
        "通知または受入れのシステムに接続できませんでした。しばらくしてから、もう一度お試しください。",
        "The notification or referral service did not answer; try again in a moment.",
    ),
    "category:referral-proposed": ("つなぎ（受入れ依頼）", "a referral to accept or decline"),
    "category:referral-escalated": ("未回答のつなぎ（至急確認）", "an unanswered referral (urgent)"),
    "category:meeting-scheduled": ("会議のご案内", "a meeting invitation"),
    "category:meeting-changed": ("会議の変更", "a meeting changed"),
    "category:meeting-cancelled": ("会議の中止", "a meeting cancelled"),
    "category:support-plan-confirmed": ("支援プランの確定", "a support plan confirmed"),
    "category:support-plan-review-opened": ("支援プランの見直し時期", "a support plan due for review"),
    "category:consent-withdrawn": ("本人同意の撤回", "consent withdrawn"),
    "role:primary": ("当番（主）あて", "to the primary on call"),
    "role:secondary": ("当番（副）あて", "to the secondary on call"),
    "role:supervisor": ("管理職あて", "to the supervisor"),
    "channel:email": ("メール", "e-mail"),
    "channel:webhook": ("Webhook（機関のシステム）", "webhook (your agency's system)"),
    "channel:record": ("記録のみ", "recorded only"),
    "state:pending": ("送信待ち", "waiting to be sent"),
    "state:delivered": ("未確認（送信済み）", "not acknowledged (sent)"),
    "state:failed": ("送信できませんでした（未確認）", "could not be sent (not acknowledged)"),
    "state:acknowledged": ("確認済み", "Acknowledged"),
    "via:api": ("ワークベンチまたは機関のシステムから", "in the workbench or by your agency's system"),
    "via:link": ("メールのリンクから", "from the e-mail's link"),
    "via:webhook": ("署名付きの応答から", "by a signed request"),
    # My agency (自機関)
    "read_only": (
        "当番表と受入可否の変更は、管理職または調整役の役割を持つ職員だけができます。表示は誰でもできます。",
        "Only staff with the supervisor or coordinator role change the roster and the capacity; anyone may read them.",
    ),
    "needs_role": (
        "この変更には管理職または調整役の役割が必要です。自機関の管理職に依頼してください。",
        "This change needs the supervisor or coordinator role; ask your agency's supervisor.",
    ),
    "not_changed": (
        "変更できませんでした。画面を読み込み直して、もう一度お試しください。",
        "Not changed; reload the page and try again.",
    ),
    "capacity": ("受入可否", "Capacity"),
    "capacity_intro": (
        "新しいつなぎを受け入れられるかどうかです。「受入れ停止」の間、つなぎは次の候補の機関に回ります。",
        "Whether your agency takes new referrals. While it takes none, referrals go to the next agency of the route.",
    ),
    "capacity_now": ("現在", "Now"),
    "capacity_report": ("受入可否を報告する", "Report your capacity"),
    "capacity:available": ("受入れ可", "taking referrals"),
    "capacity:waitlist": ("順番待ちで受入れ", "taking referrals onto a waiting list"),
    "capacity:none": ("受入れ停止", "taking no referrals"),
    "capacity_choose": ("受入可否を選んでください。", "Choose the capacity."),
    "report": ("報告する", "Report"),
    "capacity_withdraw": ("報告を取り下げる（名簿の既定に戻す）", "Withdraw (the directory's own applies)"),
    "roster": ("当番表", "On-call roster"),
    "roster_intro": (
        "通知を受ける当番の担当者です（東京時間。祝日は曜日に代わって「祝日」の行が使われます）。",
        "Who receives the notifications (Tokyo time; on public holidays the holiday row applies).",
    ),
    "roster_week": ("曜日ごとの当番", "On call, per day of the week"),
    "day": ("曜日", "Day"),
    "people": ("担当者", "People"),
    "person_id": ("職員ID", "Staff id"),
    "contact": ("連絡先", "Contact"),
    "overrides": ("臨時の交代", "Overrides"),
    "roster_json": ("当番表の登録（JSON）", "Register the roster (JSON)"),
    "roster_hint": (
        "people（担当者：id と email または webhook）、shifts（role、days、start、end、person）、overrides を書きます。"
        "当番（主）は24時間切れ目なく、同じ役割のシフトは重ならないようにしてください。誤りがあれば登録されません。",
        "people (id with email or webhook), shifts (role, days, start, end, person) and overrides. The primary must be "
        "covered around the clock and shifts of one role must not overlap; a roster with problems is not stored.",
    ),
    "roster_not_stored": ("当番表に誤りがあるため、登録していません。", "The roster has problems; nothing was stored."),
    "register": ("登録する", "Register"),
    "roster_withdraw": ("登録を取り下げる（既定の当番に戻す）", "Withdraw (the default roster applies)"),
    "done:capacity": ("受入可否を報告しました。", "Capacity reported."),
    "done:capacity_withdrawn": (
        "報告を取り下げました。名簿の既定の受入可否に戻りました。",
        "Withdrawn: the directory's own applies.",
    ),
    "done:roster": ("当番表を登録しました。", "The roster is registered."),
    "done:roster_withdrawn": (
        "当番表の登録を取り下げました。既定の当番に戻りました。",
        "Withdrawn: the default roster applies.",
    ),
}


# 会議 (the meetings pages): labels, the meetings' kinds, states and reasons, the plan's roles, each field's
# problem, and meetings' refusals in the staff member's words (keys of services/workbench/meeting_forms.py).
OUTREACH: dict[str, tuple[str, str]] = {
    "heading": ("アウトリーチ（継続的な訪問・接触）", "Outreach"),
    "section_intro": (
        "同意のない方に、訪問や手紙で継続して接触を試みる取組です。担当機関と協力機関、調整役の機関が記録します。",
        "Continued contact with a person who has not consented, by visits or letters, recorded by its workers.",
    ),
    "none": ("このケースのアウトリーチはありません。", "The case has no outreach."),
    "open": ("開く", "Open"),
    "case": ("ケース", "Case"),
    "open_case": ("ケースを開く", "Open the case"),
    "holder": ("担当機関", "Held by"),
    "partner": ("協力機関", "With"),
    "no_partner": ("なし", "No one"),
    "state": ("状態", "State"),
    "state.attempting": ("接触を試みている", "Attempting contact"),
    "state.in-contact": ("接触できた", "In contact"),
    "state.consented": ("同意を得た", "Consented"),
    "state.ended": ("終了", "Ended"),
    "from_plan": ("支援会議のプランから", "From a 支援会議's plan"),
    "started": ("開始", "Started"),
    "last_attempt": ("最後の接触の試み", "Last attempt"),
    "quiet_until": (
        "この日時までに次の試みがなければ「要注意」に載ります",
        "At risk from this time unless a further attempt is recorded",
    ),
    "contact_at": ("接触できた日時", "Reached at"),
    "consent_at": ("同意を得た日時", "Consented at"),
    "ended_at": ("終了日時", "Ended at"),
    "ending": ("終了の理由", "Ending"),
    "ending.handed-over": ("支援プランへの引継ぎ", "Handed over to a plan"),
    "ending.no-longer-needed": ("支援が不要になった", "No longer needed"),
    "ending.moved-away": ("転居", "Moved away"),
    "ending.other": ("その他", "Other"),
    "attempts": ("接触の試み", "Contact attempts"),
    "no_attempts": ("まだ記録がありません。", "None recorded yet."),
    "at": ("日時", "When"),
    "by": ("記録した機関", "Recorded by"),
    "method": ("方法", "How"),
    "method.visit": ("訪問", "Visit"),
    "method.phone": ("電話", "Phone"),
    "method.letter": ("手紙・置き手紙", "Letter"),
    "method.via-family": ("家族を通じて", "Through the family"),
    "method.via-supporter": ("民生委員など支援者を通じて", "Through a supporter"),
    "method.other": ("その他", "Other"),
    "result": ("結果", "Result"),
    "result.no-answer": ("応答なし", "No answer"),
    "result.left-word": ("手紙・伝言を残した", "Left word"),
    "result.declined": ("会うことを断られた", "Declined to meet"),
    "result.brief-contact": ("短い接触ができた", "Brief contact"),
    "note": ("メモ（200字まで）", "Note (up to 200 characters)"),
    "note_hint": (
        "機関の間の連絡用です。バスには載りません。ご本人を特定する内容は書かないでください。",
        "For the agencies of the case; never published. Do not write anything that identifies the person.",
    ),
    "workers": ("記録する", "Record"),
    "attempts_heading": ("接触の試みを記録する", "Record a contact attempt"),
    "attempts_button": ("この試みを記録する", "Record this attempt"),
    "contact_heading": ("接触できた", "The person was reached"),
    "contact_hint": (
        "ご本人と会えた、または話せたときに記録します。",
        "Record it when you met or talked with the person.",
    ),
    "contact_button": ("接触できたことを記録する", "Record the contact"),
    "consent_heading": ("同意を得た", "The person consented"),
    "consent_hint": (
        "同意の範囲（どの機関に伝えてよいか）は、つなぐシートまたは機関のシステムから本人同意として記録してください。",
        "Record the consent itself (whom it covers) on the consultation sheet or from your agency's system.",
    ),
    "consent_button": ("同意を得たことを記録する", "Record the consent"),
    "end_heading": ("終了する", "End it"),
    "end_hint": (
        "支援プランへの引継ぎは同意を得た後にできます。",
        "Handing over to a plan needs the person's consent first.",
    ),
    "end_button": ("終了を記録する", "Record the ending"),
    "done.attempts": ("接触の試みを記録しました。", "The attempt is recorded."),
    "done.contact": ("接触できたことを記録しました。", "The contact is recorded."),
    "done.consent": ("同意を得たことを記録しました。", "The consent is recorded."),
    "done.end": ("終了を記録しました。", "The ending is recorded."),
    "problem.method": ("方法を選んでください。", "Choose how."),
    "problem.result": ("結果を選んでください。", "Choose the result."),
    "problem.ending": ("終了の理由を選んでください。", "Choose why it ends."),
    "problem.note": ("メモは200字までです。", "The note is limited to 200 characters."),
    "refused.403": (
        "この取組の担当機関・協力機関・調整役の機関だけが記録できます。",
        "Only its holder, its partner or a coordinator agency records on it.",
    ),
    "refused.409": (
        "今の状態ではこの記録はできません（例：接触の前の同意）。状態を確かめてください。",
        "Not possible in its present state (for example, a consent before the contact). Check its state.",
    ),
    "refused.422": (
        "入力に誤りがあります。内容を確かめて、もう一度送ってください。",
        "Something in the form is not valid. Check it and send it again.",
    ),
}

MEETINGS: dict[str, tuple[str, str]] = {
    "intro": (
        "あなたの機関が主催する、または参加する会議です。これからの会議が先、その後に終わった会議を新しい順に示します。",
        "The meetings your agency organises or attends: those to come first, then past ones, latest first.",
    ),
    "empty": ("会議はありません。", "No meetings."),
    "when": ("日時", "When"),
    "kind": ("種類", "Kind"),
    "organizer": ("主催", "Organiser"),
    "participants": ("参加機関", "Participating agencies"),
    "case": ("ケース", "Case"),
    "open_case": ("ケースを開く", "Open the case"),
    "back": ("会議の一覧に戻る", "Back to the meetings"),
    "reason": ("開催の理由", "Why it is held"),
    "request_note": ("依頼時の補足", "Note with the request"),
    "flag": ("注記", "Remark"),
    "cancel_reason": ("中止の理由", "Why it was cancelled"),
    "ics": ("招待状（.ics）をダウンロード", "Download the invitation (.ics)"),
    "ics_hint": ("カレンダーに取り込めます。", "Any calendar can import it."),
    "history": ("経過", "History"),
    "history_hint": (
        "誰がいつ操作したかは、監査記録に職員のIDとともに残ります。",
        "Who did what and when is kept in the audit ledger, with the staff member's id.",
    ),
    "h_requested": ("開催の依頼", "Requested"),
    "h_rescheduled": ("日時の変更（回）", "Times changed"),
    "h_updated": ("最後の変更", "Last change"),
    "h_plan": ("支援プランの確定", "Plan confirmed"),
    "plan": ("支援プラン", "Support plan"),
    "goals": ("目標", "Goals"),
    "roles": ("役割分担", "Who does what"),
    "review_on": ("見直しの日", "Review on"),
    "purpose": ("目的", "Purpose"),
    "purpose.plan-confirmation": ("①支援プランの確認（役割分担）", "① Confirming a multi-agency plan"),
    "purpose.participation-plan": ("②参加支援につなぐプランの決定", "② Deciding a participation plan"),
    "purpose.no-consent-conference": (
        "①同意が得られていない事案のカンファレンス",
        "① Conference on a case without consent",
    ),
    "purpose.outreach-plan": ("②アウトリーチ支援につなぐプランの検討", "② Planning outreach"),
    "place": ("参加支援の場（つなぎ先）", "The place to connect the person to"),
    "place_hint": (
        "参加していない場（地域の縁側など）も選べます。本人の同意の範囲に含まれている必要があります。",
        "It need not have attended; the person's consent must cover it.",
    ),
    "place_field": ("参加支援の場", "Place"),
    "kind.consent-based": ("重層的支援会議", "Multi-agency support meeting (with consent)"),
    "kind.confidential": ("支援会議（社会福祉法第106条の6）", "Support meeting (confidential, Welfare Act 106-6)"),
    "state.requested": ("日程調整中（日時の提案あり）", "Time proposed"),
    "state.scheduled": ("開催予定", "Scheduled"),
    "state.held": ("開催済み", "Held"),
    "state.cancelled": ("中止", "Cancelled"),
    "reason.multi-domain": ("複数の分野にわたる相談", "The consultation spans several domains"),
    "reason.coordination-theme": (
        "多機関協働のテーマ（ひきこもり・ケアラー・ごみ屋敷・8050）",
        "A coordination theme (withdrawal, carers, hoarding, 8050)",
    ),
    "reason.household": (
        "世帯の複合課題（世帯員の相談を合わせると多機関協働が必要）",
        "A household's needs together call for coordination",
    ),
    "reason.no-agency-accepted": ("受け入れる機関がなかった", "No agency accepted the referral"),
    "reason.escalated": ("期限を過ぎて引き上げられた", "Escalated after a missed deadline"),
    "reason.asked": ("機関からの依頼", "An agency asked for it"),
    "reason.plan-review": ("支援プランの見直し時期", "The support plan is due for review"),
    "role.none": ("役割なし", "No role"),
    "role.lead": ("主担当", "Lead"),
    "role.home-visits": ("訪問", "Home visits"),
    "role.benefits": ("制度・給付の手続き", "Benefits"),
    "role.employment": ("就労の支援", "Employment"),
    "role.health-care": ("医療・保健", "Health care"),
    "role.carer-support": ("ケアラーの支援", "Carer support"),
    "role.participation": ("参加支援", "Participation"),
    "role.housing": ("住まいの支援", "Housing"),
    "role.monitoring": ("見守り", "Monitoring"),
    "role.outreach": ("アウトリーチ（継続的な訪問・接触）", "Outreach"),
    "coordinators": ("調整役の操作", "For coordinators"),
    "schedule_heading": ("日時の確定", "Fix the time"),
    "schedule_hint": (
        "提案された日時のままで確定するか、別の日時を入力してください。開庁日の8時30分〜17時15分の間です。",
        "Fix the proposed time as it is, or enter another: a business day, between 8:30 and 17:15.",
    ),
    "date": ("日付", "Date"),
    "starts": ("開始時刻", "Starts at"),
    "ends": ("終了時刻", "Ends at"),
    "schedule": ("この日時で確定する", "Fix this time"),
    "reschedule": ("この日時に変更する", "Move to this time"),
    "held_heading": ("開催の記録", "Record that it was held"),
    "held_hint": (
        "予定どおり開催した場合は空欄のままにしてください。予定より早く緊急開催した場合は、その日時を入力してください"
        "（30日前まで）。",
        "Held as planned: leave both empty. Held earlier at short notice: enter when (within the past 30 days).",
    ),
    "held_date": ("開催日（緊急開催の場合）", "Held on (if at short notice)"),
    "held_time": ("開催時刻（緊急開催の場合）", "Held at (if at short notice)"),
    "held": ("開催を記録する", "Record as held"),
    "plan_heading": ("支援プランの確定", "Confirm the support plan"),
    "goals_field": (
        "目標（1行に1つ、10件まで、各200字以内。個人情報は書かないでください）",
        "Goals (one a line, up to 10 of up to 200 characters; no personal data)",
    ),
    "responsibility": ("役割", "Role"),
    "domain": ("分野", "Domain"),
    "confirm_plan": ("支援プランを確定する", "Confirm the plan"),
    "done.schedule": ("日時を確定しました。", "The time is fixed."),
    "done.held": ("開催を記録しました。", "Recorded as held."),
    "done.plan": (
        "支援プランを確定しました。役割のある機関につなぎが送られます。",
        "The plan is confirmed; each agency with a role receives a referral.",
    ),
    "problem.date": ("日付を「2026-05-12」の形で入力してください。", "Enter the date as 2026-05-12."),
    "problem.starts": ("開始時刻を「10:00」の形で入力してください。", "Enter the start as 10:00."),
    "problem.ends": (
        "終了時刻を「11:00」の形で、開始時刻より後に入力してください。",
        "Enter the end as 11:00, after the start.",
    ),
    "problem.held_date": (
        "開催日を「2026-05-12」の形で入力してください（予定どおりの開催なら、開催日と時刻を両方とも空欄に）。",
        "Enter the date as 2026-05-12 (held as planned: leave both fields empty).",
    ),
    "problem.held_time": (
        "開催時刻を「10:00」の形で、今より前の時刻で入力してください。",
        "Enter the time as 10:00, earlier than now.",
    ),
    "problem.goals": (
        "目標を1行に1つ、1〜10件、各200字以内で入力してください。",
        "Enter 1 to 10 goals, one a line, each up to 200 characters.",
    ),
    "problem.roles": (
        "少なくとも1つの機関に役割を選び、役割を選んだ機関には分野も選んでください。",
        "Give at least one agency a role, and a domain to each agency with a role.",
    ),
    "problem.review_on": ("見直しの日は、明日以降の日付にしてください。", "The review date must be after today."),
    "refused.future": ("開始は、これから先の日時にしてください。", "The meeting must start in the future."),
    "refused.business-hours": (
        "開庁日の8時30分〜17時15分の間で、1日のうちに収まる日時にしてください。",
        "Choose one business day, between 8:30 and 17:15.",
    ),
    "refused.busy": (
        "その時間には、このケースの別の会議があるか、参加機関の予定が埋まっています。別の日時を選んでください。",
        "The case has another meeting then, or an agency is fully booked; choose another time.",
    ),
    "refused.consent": (
        "ご本人の同意（会議での共有）が、参加機関のすべてには及んでいません。同意を確かめてください。",
        "The person's consent (sharing in case meetings) does not cover every participant; check the consent.",
    ),
    "refused.members": (
        "支援会議には、守秘義務のある構成機関しか参加できません。参加機関を確かめてください。",
        "Only member agencies bound by confidentiality may attend a 支援会議; check the participants.",
    ),
    "refused.not-started": (
        "開始前の会議は、開催済みにできません。予定より早く緊急開催した場合は、その日時を入力してください。",
        "A meeting can be recorded as held once it has started; if held earlier at short notice, enter when.",
    ),
    "refused.at": ("緊急開催の日時は、30日前から今までの間にしてください。", "Enter a time within the past 30 days."),
    "refused.conference": (
        "カンファレンス（支援会議①）では支援プランを決めません。アウトリーチのプラン検討（支援会議②）を依頼するか、"
        "本人の同意が得られたら重層的支援会議を開いてください。",
        "A conference (support meeting ①) decides no plan: ask for an outreach-plan meeting (②), or hold a"
        " multi-agency support meeting once the person consents.",
    ),
    "refused.participation": (
        "参加支援のプランでは、参加支援の場（地域の縁側など）を少なくとも1か所、つなぎ先に選んでください。",
        "A participation plan connects the person to at least one place (a community place such as a 縁側).",
    ),
    "refused.outreach": (
        "アウトリーチのプランには「アウトリーチ」の役割が必要です。担えるのは、バックアップふじさわ、"
        "バックアップふじさわ社協、地区のCSWです。",
        "An outreach plan needs an outreach role, held by バックアップふじさわ, バックアップふじさわ社協 or the"
        " district CSW.",
    ),
    "refused.purpose": (
        "この会議の種類では、その目的は選べません。",
        "That purpose does not belong to this kind of meeting.",
    ),
    "refused.not-held": ("先に、会議の開催を記録してください。", "Record the meeting as held first."),
    "refused.outsiders": (
        "役割は、この会議に参加した機関にだけ割り当てられます（参加支援のプランの、参加支援の場を除きます）。",
        "Roles can go only to agencies that took part in the meeting (besides a participation plan's place).",
    ),
    "refused.review": ("見直しの日は、明日以降の日付にしてください。", "The review date must be after today."),
    "refused.confirmed": ("この会議の支援プランは、すでに確定しています。", "The plan is confirmed already."),
    "refused.other": (
        "会議のシステムがこの操作を受け付けませんでした。内容を確かめて、もう一度お試しください。",
        "The meetings service refused this; check what you entered and try again.",
    ),
    "refused.403": (
        "この会議を操作できるのは、主催機関または調整機関の、調整役の職員だけです。",
        "Only a coordinator of the organising agency, or of a coordinating agency, may do this.",
    ),
    "refused.404": (
        "この会議は見つからないか、あなたの機関は参加していません。",
        "This meeting does not exist, or your agency takes no part in it.",
    ),
    "refused.409": (
        "この会議はすでに開催済みか中止のため、操作できません。状態を確かめてください。",
        "The meeting was held or cancelled already; check its state.",
    ),
    "refused.429": REFUSED[429],
    "unavailable": (
        "会議のシステムに接続できませんでした。しばらくしてから、もう一度お試しください。",
        "The meetings service did not answer; try again in a moment.",
    ),
}


def inbox_count(total: int, first: int, last: int) -> tuple[str, str]:
    """Where a page of the inbox is in the whole, as a counter's staff would say it."""
    return (f"全{total:,}件のうち {first:,}〜{last:,}件目", f"{first:,}–{last:,} of {total:,}")
