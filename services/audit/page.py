"""The audit service's front page: it sends auditors to the auditors' pages of the workbench.

Auditors sign in there through the city's identity provider, with the auditor role, and search timelines,
disclosures, unanswered referrals and yearly figures without ever handling a token. This page is static:
no script, no form, nothing read from the ledger.
"""

from html import escape

PAGE = """<!doctype html>
<html lang="ja"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>監査 / Audit — Fujisawa backbone</title>
<style>body{{font-family:system-ui,"Noto Sans CJK JP",sans-serif;margin:1.5rem;color:#1a1a1a;line-height:1.6}}
a{{color:#0b5cad}}</style></head><body><main>
<h1>監査 — 照会</h1>
<p>監査の照会（ケース・つなぎ・トレースの経過、個人情報の開示記録、未回答のつなぎ、年度の集計）は、
ワークベンチの監査ページで行います。市の認証基盤に、監査担当（auditor の役割）のアカウントでサインインしてください。</p>
<p><a id="workbench" href="{audit}">監査ページを開く（ワークベンチ）</a></p>
<h2 lang="en">Audit — for auditors</h2>
<p lang="en">The auditors' pages are in the workbench: sign in through the city's identity provider with an
account that has the auditor role. <a href="{audit}?lang=en">Open the auditors' pages</a>.</p>
<p lang="en">Systems call the API with an auditor's token: <code>GET /v1/timeline</code>, <code>/v1/timeline.csv</code>,
<code>/v1/disclosures</code>, <code>/v1/unanswered</code>, <code>/v1/yearly</code>.</p>
</main></body></html>
"""


def front_page(workbench_url: str) -> str:
    """The page, linking to the workbench's auditors' pages at `workbench_url`."""
    return PAGE.format(audit=escape(f"{workbench_url.rstrip('/')}/audit", quote=True))
