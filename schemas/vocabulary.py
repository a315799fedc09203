"""The city's vocabulary, one English name per idea (see design/GLOSSARY.md)."""

from __future__ import annotations

from enum import StrEnum


class District(StrEnum):
    """地区: the 13 districts of Fujisawa City."""

    KATASE = "katase"  # 片瀬
    KUGENUMA = "kugenuma"  # 鵠沼
    TSUJIDO = "tsujido"  # 辻堂
    MURAOKA = "muraoka"  # 村岡
    FUJISAWA = "fujisawa"  # 藤沢
    MEIJI = "meiji"  # 明治
    ZENGYO = "zengyo"  # 善行
    SHONAN_OBA = "shonan-oba"  # 湘南大庭
    MUTSUAI = "mutsuai"  # 六会
    SHONANDAI = "shonandai"  # 湘南台
    ENDO = "endo"  # 遠藤
    CHOGO = "chogo"  # 長後
    GOSHOMI = "goshomi"  # 御所見

    @property
    def japanese(self) -> str:
        return _DISTRICT_JA[self]


_DISTRICT_JA: dict[District, str] = {
    District.KATASE: "片瀬",
    District.KUGENUMA: "鵠沼",
    District.TSUJIDO: "辻堂",
    District.MURAOKA: "村岡",
    District.FUJISAWA: "藤沢",
    District.MEIJI: "明治",
    District.ZENGYO: "善行",
    District.SHONAN_OBA: "湘南大庭",
    District.MUTSUAI: "六会",
    District.SHONANDAI: "湘南台",
    District.ENDO: "遠藤",
    District.CHOGO: "長後",
    District.GOSHOMI: "御所見",
}


class SupportDomain(StrEnum):
    """支援分野: what a consultation is about. The last four are the cross-cutting themes."""

    ELDERLY = "elderly"  # 高齢
    DISABILITY = "disability"  # 障がい
    CHILD = "child"  # 子ども・子育て
    POVERTY = "poverty"  # 生活困窮
    MENTAL_HEALTH = "mental-health"  # 精神保健
    MATERNAL_HEALTH = "maternal-health"  # 母子保健
    SINGLE_PARENT = "single-parent"  # ひとり親家庭
    SCHOOL = "school"  # 学校教育
    ABUSE = "abuse"  # DV・虐待
    WITHDRAWAL = "withdrawal"  # ひきこもり
    CARER = "carer"  # ケアラー
    HOARDING = "hoarding"  # ごみ屋敷・セルフネグレクト
    EIGHT_FIFTY = "8050"  # 8050問題


COORDINATION_THEMES: frozenset[SupportDomain] = frozenset(
    {SupportDomain.WITHDRAWAL, SupportDomain.CARER, SupportDomain.HOARDING, SupportDomain.EIGHT_FIFTY}
)
"""Themes that always go to multi-agency coordination (多機関協働事業), whatever else the case is about."""


class Channel(StrEnum):
    """How the consultation reached the agency."""

    COUNTER = "counter"  # 窓口
    PHONE = "phone"  # 電話
    HOME_VISIT = "home-visit"  # 訪問
    OUTREACH = "outreach"  # アウトリーチ
    COMMUNITY_PLACE = "community-place"  # 地域の縁側
    ONLINE = "online"  # オンライン・メール


class ConsultedBy(StrEnum):
    """相談者: who brought the consultation. The person concerned (本人) is often not the one who came: ひきこもり
    cases reach the programme through the family or a supporter who tells the CSW."""

    PERSON = "person"  # 本人
    FAMILY = "family"  # 家族
    SUPPORTER = "supporter"  # 支援関係者: 民生委員, a neighbour, another agency's worker
    OTHER = "other"  # その他


class HouseholdRelation(StrEnum):
    """続柄: a household member's relation to the head of the household (世帯主), as the residents' register
    records it. Kept by intake only; the bus carries the household's opaque id, never who is whose parent."""

    HEAD = "head"  # 世帯主
    SPOUSE = "spouse"  # 配偶者
    CHILD = "child"  # 子
    PARENT = "parent"  # 父母
    SIBLING = "sibling"  # 兄弟姉妹
    GRANDCHILD = "grandchild"  # 孫
    OTHER_RELATIVE = "other-relative"  # その他の親族
    OTHER = "other"  # 同居人など


class Urgency(StrEnum):
    """緊急度. Urgent cases run on the clock around the clock; normal ones on business days."""

    URGENT = "urgent"
    NORMAL = "normal"


class AgencyType(StrEnum):
    """Kinds of agency in the programme (包括的相談支援事業 and the resources around it).

    Consent can name agency types as well as single agencies ("any いきいきサポートセンター").
    """

    DISTRICT_WELFARE_COUNTER = "district-welfare-counter"  # 地区福祉窓口
    WELFARE_CONSULTATION_CENTRE = "welfare-consultation-centre"  # 福祉総合相談支援センター
    NORTHERN_WELFARE_OFFICE = "northern-welfare-office"  # 北部福祉総合相談室
    COMMUNITY_SUPPORT_CENTRE = "community-support-centre"  # 地域包括支援センター (いきいきサポートセンター)
    CORE_COMMUNITY_SUPPORT_CENTRE = "core-community-support-centre"  # 基幹型地域包括支援センター
    DISABILITY_CORE = "disability-core"  # 障がい者相談支援事業所 (基幹相談)
    DISABILITY_REGIONAL = "disability-regional"  # 地域相談支援センター
    DISABILITY_SPECIALIST = "disability-specialist"  # 専門相談事業所
    MENTAL_HEALTH = "mental-health"  # 精神保健福祉相談
    MATERNAL_CHILD_HEALTH = "maternal-child-health"  # 母子保健相談
    CHILD_YOUTH = "child-youth"  # 子ども・子育て・青少年相談
    CHILDCARE_CONCIERGE = "childcare-concierge"  # 保育コンシェルジュ
    SINGLE_PARENT = "single-parent"  # ひとり親家庭相談
    SCHOOL_EDUCATION = "school-education"  # 学校教育相談センター
    SELF_RELIANCE = "self-reliance"  # バックアップふじさわ
    SELF_RELIANCE_COUNCIL = "self-reliance-council"  # バックアップふじさわ社協
    DISTRICT_CSW = "district-csw"  # 地区のコミュニティソーシャルワーカー (社協)
    COMMUNITY_PLACE = "community-place"  # 地域の縁側 and other 参加支援 / 地域づくり resources
    AUDITOR = "auditor"  # 監査: the city's auditors and supervisors (the audit service only)
