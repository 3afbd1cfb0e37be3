"""Japanese and English for the web app: the language of a request, its texts, and dates and numbers as each
language writes them. Events happen in Kanazawa, so times are shown in Japan time in both languages."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from fastapi import Request

LANGUAGES = ("ja", "en")
LANG_COOKIE = "kyoso_lang"
JST = timezone(timedelta(hours=9), "JST")
WEEKDAYS_JA = "月火水木金土日"

TEXTS: dict[str, dict[str, str]] = {
    "ja": {
        "site_name": "共創 Kyoso",
        "tagline": "金沢のまちづくり・文化活動に参加して、バッジとポイントを集めよう",
        "skip": "本文へ移動",
        "nav_home": "イベント",
        "nav_me": "マイページ",
        "nav_proposals": "提案と投票",
        "nav_treasury": "会計",
        "nav_console": "主催者",
        "nav_login": "ログイン",
        "nav_logout": "ログアウト",
        "language": "言語",
        "switch_to": "English",
        "upcoming": "これからのイベント",
        "no_events": "予定されているイベントはまだありません。",
        "venue": "会場",
        "when": "日時",
        "points": "ポイント",
        "points_unit": "{n} ポイント",
        "claim_window": "バッジの受け取り期間",
        "capacity": "定員",
        "no_limit": "制限なし",
        "category": "分類",
        "claim_title": "参加バッジを受け取る",
        "claim_intro": "このイベントの参加バッジとポイントを受け取ります。ウォレットや暗号資産は必要ありません。",
        "claim_button": "バッジを受け取る",
        "claim_need_account": "受け取るにはアカウントが必要です。メールアドレスで登録するか、ログインしてください。",
        "claim_no_code": "このページのリンクにコードが含まれていません。会場のQRコードをもう一度読み取ってください。",
        "claim_kiosk_code": "画面に表示されたコード",
        "status_accepted": "受け付けました。ブロックチェーンに記録しています…",
        "status_submitted": "記録中です…もう少しお待ちください。",
        "status_confirmed": "バッジを受け取りました！",
        "status_failed": "受け取りに失敗しました：{reason}",
        "see_my_badges": "マイページでバッジを見る",
        "signup": "新規登録",
        "login": "ログイン",
        "email": "メールアドレス",
        "password": "パスワード（8文字以上）",
        "password_plain": "パスワード",
        "display_name": "表示名（任意）",
        "have_account": "アカウントをお持ちの方",
        "no_account": "はじめての方",
        "logged_in_as": "{name} としてログイン中",
        "login_failed": "メールアドレスかパスワードが違います。",
        "my_page": "マイページ",
        "my_badges": "バッジ",
        "no_badges": "まだバッジはありません。イベントに参加してQRコードを読み取りましょう。",
        "my_points": "ポイント",
        "my_voting_power": "投票力",
        "my_address": "あなたのアドレス（ほかの人から委任を受けるときに伝えます）",
        "delegation": "投票の委任",
        "delegation_intro": "信頼できる人に投票力を預けられます。いつでも取り消せます。",
        "delegate_to": "委任先のアドレス",
        "delegate_button": "委任する",
        "undelegate_button": "委任を取り消す",
        "delegated_to": "現在の委任先：{who}",
        "not_delegated": "委任していません（自分で投票します）。",
        "history": "受け取り履歴",
        "export_title": "自分のウォレットへ移す",
        "export_intro": "ウォレットをお持ちの方は、バッジとポイントを自分のウォレットへ移せます（任意）。",
        "export_link": "ウォレットを連携する",
        "wallet_link_title": "ウォレットの連携（任意）",
        "wallet_link_intro": "Ethereumウォレットをお持ちの方だけの手続きです。なくても共創のすべての機能を使えます。",
        "wallet_link_button": "ウォレットで署名して連携する",
        "wallet_missing": "このブラウザにはウォレットが見つかりません。ウォレットがなくても問題ありません。",
        "proposals": "提案と投票",
        "new_proposal": "新しい提案",
        "no_proposals": "提案はまだありません。",
        "state_submitting": "登録中",
        "state_awaiting_wallet": "ウォレットでの送信待ち",
        "state_failed": "失敗",
        "state_pending": "投票開始前",
        "state_active": "投票受付中",
        "state_canceled": "取り消し",
        "state_defeated": "否決",
        "state_succeeded": "可決",
        "state_queued": "実行待ち",
        "state_executed": "実行済み",
        "vote_for": "賛成",
        "vote_against": "反対",
        "vote_abstain": "棄権",
        "vote_button": "投票する",
        "vote_reason": "理由（任意）",
        "your_vote": "あなたの投票：{choice}",
        "your_power": "この提案でのあなたの投票力：{n}",
        "quorum": "定足数",
        "quorum_progress": "定足数の達成度 {pct}%（必要 {need} ポイント）",
        "quorum_unknown": "定足数は投票開始時に決まります。",
        "voting_period": "投票期間",
        "grant": "助成",
        "grant_line": "{amount} {symbol}",
        "parameter_change": "設定の変更",
        "text_decision": "決定事項",
        "proposer": "提案者",
        "official_text": "正式な文面のハッシュ（SHA-256）",
        "voters": "投票者",
        "title_ja": "タイトル（日本語）",
        "title_en": "タイトル（英語）",
        "body_ja": "本文（日本語）",
        "body_en": "本文（英語）",
        "kind": "種類",
        "recipient": "受取人のアドレス",
        "amount_eth": "金額（ETH）",
        "submit_proposal": "提案する",
        "threshold_note": "提案には {n} ポイントの投票力が必要です。",
        "treasury": "コミュニティ会計",
        "balances": "残高",
        "asset": "資産",
        "payouts": "支払い済みの助成",
        "no_payouts": "まだ支払いはありません。",
        "reports": "報告書（CSV）",
        "report_proposals": "提案一覧",
        "report_votes": "投票一覧",
        "report_payouts": "支払い一覧",
        "console": "主催者コンソール",
        "my_organizations": "あなたの団体",
        "no_organizations": "まだ団体がありません。",
        "new_organization": "団体を登録する",
        "org_name_ja": "団体名（日本語）",
        "org_name_en": "団体名（英語）",
        "create": "作成する",
        "new_event": "イベントを作成する",
        "event_title_ja": "イベント名（日本語）",
        "event_title_en": "イベント名（英語）",
        "starts_at": "開始",
        "ends_at": "終了",
        "points_field": "ポイント",
        "events_of": "{org} のイベント",
        "on_chain": "登録済み",
        "registering": "ブロックチェーンに登録中",
        "claims_count": "受け取り {n} 件（確定 {c} 件）",
        "claims_chart": "受け取り件数の推移（10分ごと）",
        "qr_sheet": "QRコード用紙",
        "qr_count": "枚数",
        "download_sheet": "QRコード用紙をダウンロード（PNG）",
        "kiosk_open": "会場用の画面（回転QRコード）を開く",
        "kiosk_title": "このQRコードを読み取ってバッジを受け取ってください",
        "kiosk_code_label": "コード",
        "kiosk_changes": "コードは30秒ごとに変わります。",
        "error_generic": "エラーが発生しました。もう一度お試しください。",
        "not_found": "ページが見つかりません。",
        "back_home": "トップへ戻る",
        "required_login": "このページを見るにはログインしてください。",
        "footer": "共創 Kyoso — 金沢の文化・共創コミュニティのためのオープンソース",
        "gas_note": "手数料はすべて主催者側が負担します。",
    },
    "en": {
        "site_name": "Kyoso 共創",
        "tagline": "Take part in Kanazawa's culture and community life, and collect badges and points",
        "skip": "Skip to content",
        "nav_home": "Events",
        "nav_me": "My page",
        "nav_proposals": "Proposals",
        "nav_treasury": "Treasury",
        "nav_console": "Organizers",
        "nav_login": "Log in",
        "nav_logout": "Log out",
        "language": "Language",
        "switch_to": "日本語",
        "upcoming": "Upcoming events",
        "no_events": "No events are planned yet.",
        "venue": "Venue",
        "when": "When",
        "points": "Points",
        "points_unit": "{n} points",
        "claim_window": "Badges can be claimed",
        "capacity": "Places",
        "no_limit": "no limit",
        "category": "Category",
        "claim_title": "Claim your participation badge",
        "claim_intro": "Receive this event's participation badge and points. No wallet or cryptocurrency needed.",
        "claim_button": "Claim the badge",
        "claim_need_account": "You need an account to claim: sign up with your e-mail address, or log in.",
        "claim_no_code": "This link has no code in it. Please scan the QR code at the venue again.",
        "claim_kiosk_code": "Code shown on the screen",
        "status_accepted": "Received. Recording it on the blockchain…",
        "status_submitted": "Recording… just a moment.",
        "status_confirmed": "Your badge is here!",
        "status_failed": "The claim failed: {reason}",
        "see_my_badges": "See your badges on My page",
        "signup": "Sign up",
        "login": "Log in",
        "email": "E-mail address",
        "password": "Password (8 characters or more)",
        "password_plain": "Password",
        "display_name": "Display name (optional)",
        "have_account": "Already have an account",
        "no_account": "New here",
        "logged_in_as": "Logged in as {name}",
        "login_failed": "Wrong e-mail address or password.",
        "my_page": "My page",
        "my_badges": "Badges",
        "no_badges": "No badges yet. Take part in an event and scan its QR code.",
        "my_points": "Points",
        "my_voting_power": "Voting power",
        "my_address": "Your address (give it to people who want to delegate to you)",
        "delegation": "Delegate your vote",
        "delegation_intro": "Let someone you trust vote with your points. You can take it back at any time.",
        "delegate_to": "Address to delegate to",
        "delegate_button": "Delegate",
        "undelegate_button": "Take my vote back",
        "delegated_to": "Currently delegated to: {who}",
        "not_delegated": "Not delegated (you vote yourself).",
        "history": "Claim history",
        "export_title": "Move to your own wallet",
        "export_intro": "If you have a wallet, you can move your badges and points to it (optional).",
        "export_link": "Link a wallet",
        "wallet_link_title": "Link a wallet (optional)",
        "wallet_link_intro": "Only for people who have an Ethereum wallet. Everything in Kyoso works without one.",
        "wallet_link_button": "Sign with my wallet to link it",
        "wallet_missing": "No wallet found in this browser. That is fine: you do not need one.",
        "proposals": "Proposals and votes",
        "new_proposal": "New proposal",
        "no_proposals": "No proposals yet.",
        "state_submitting": "Submitting",
        "state_awaiting_wallet": "Waiting for the wallet",
        "state_failed": "Failed",
        "state_pending": "Voting not open yet",
        "state_active": "Voting open",
        "state_canceled": "Canceled",
        "state_defeated": "Defeated",
        "state_succeeded": "Passed",
        "state_queued": "Waiting to be carried out",
        "state_executed": "Carried out",
        "vote_for": "For",
        "vote_against": "Against",
        "vote_abstain": "Abstain",
        "vote_button": "Vote",
        "vote_reason": "Reason (optional)",
        "your_vote": "Your vote: {choice}",
        "your_power": "Your voting power on this proposal: {n}",
        "quorum": "Quorum",
        "quorum_progress": "Quorum {pct}% reached ({need} points needed)",
        "quorum_unknown": "The quorum is fixed when voting opens.",
        "voting_period": "Voting",
        "grant": "Grant",
        "grant_line": "{amount} {symbol}",
        "parameter_change": "Change of a setting",
        "text_decision": "Decision",
        "proposer": "Proposed by",
        "official_text": "Hash of the official text (SHA-256)",
        "voters": "Voters",
        "title_ja": "Title (Japanese)",
        "title_en": "Title (English)",
        "body_ja": "Text (Japanese)",
        "body_en": "Text (English)",
        "kind": "Kind",
        "recipient": "Recipient address",
        "amount_eth": "Amount (ETH)",
        "submit_proposal": "Propose",
        "threshold_note": "Proposing needs {n} points of voting power.",
        "treasury": "Community treasury",
        "balances": "Balances",
        "asset": "Asset",
        "payouts": "Grants paid",
        "no_payouts": "No payments yet.",
        "reports": "Reports (CSV)",
        "report_proposals": "Proposals",
        "report_votes": "Votes",
        "report_payouts": "Payouts",
        "console": "Organizer console",
        "my_organizations": "Your organizations",
        "no_organizations": "No organizations yet.",
        "new_organization": "Register an organization",
        "org_name_ja": "Name (Japanese)",
        "org_name_en": "Name (English)",
        "create": "Create",
        "new_event": "Create an event",
        "event_title_ja": "Event title (Japanese)",
        "event_title_en": "Event title (English)",
        "starts_at": "Starts",
        "ends_at": "Ends",
        "points_field": "Points",
        "events_of": "Events of {org}",
        "on_chain": "On chain",
        "registering": "Registering on the blockchain",
        "claims_count": "{n} claims ({c} confirmed)",
        "claims_chart": "Claims over time (per 10 minutes)",
        "qr_sheet": "QR code sheet",
        "qr_count": "Number of codes",
        "download_sheet": "Download the QR code sheet (PNG)",
        "kiosk_open": "Open the venue screen (rotating QR code)",
        "kiosk_title": "Scan this QR code to claim your badge",
        "kiosk_code_label": "Code",
        "kiosk_changes": "The code changes every 30 seconds.",
        "error_generic": "Something went wrong. Please try again.",
        "not_found": "Page not found.",
        "back_home": "Back to the start page",
        "required_login": "Please log in to see this page.",
        "footer": "Kyoso 共創 — open source for Kanazawa's culture and co-creation community",
        "gas_note": "All fees are paid by the organizers.",
    },
}

CATEGORY_NAMES = {
    "ja": {"culture": "文化", "crafts": "工芸", "food": "食", "art": "アート", "sports": "スポーツ",
           "volunteering": "ボランティア", "hackathon": "ハッカソン", "festival": "祭り", "workshop": "ワークショップ",
           "cleanup": "清掃", "other": "その他"},
    "en": {"culture": "Culture", "crafts": "Crafts", "food": "Food", "art": "Art", "sports": "Sports",
           "volunteering": "Volunteering", "hackathon": "Hackathon", "festival": "Festival", "workshop": "Workshop",
           "cleanup": "Clean-up", "other": "Other"},
}


def language_of(request: Request) -> str:
    """?lang= (the visible switch, then remembered in a cookie), the cookie, then Accept-Language; Japanese by
    default."""
    asked = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    if asked in LANGUAGES:
        return asked
    for part in request.headers.get("accept-language", "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag[:2] in LANGUAGES:
            return tag[:2]
    return "ja"


class Texts:
    """`t("key", n=3)` in templates: the text in the request's language, formatted."""

    def __init__(self, lang: str):
        self.lang = lang
        self._texts = TEXTS[lang]

    def __call__(self, key: str, **values) -> str:
        text = self._texts[key]
        return text.format(**values) if values else text

    def category(self, name: str) -> str:
        return CATEGORY_NAMES[self.lang].get(name, name)

    def number(self, value: int | float) -> str:
        return f"{value:,}"

    def datetime(self, value: datetime | None) -> str:
        if value is None:
            return ""
        local = value.astimezone(JST)
        if self.lang == "ja":
            return f"{local.year}年{local.month}月{local.day}日({WEEKDAYS_JA[local.weekday()]}) {local:%H:%M}"
        return f"{local:%a} {local.day} {local:%b %Y}, {local:%H:%M}"

    def time(self, value: datetime) -> str:
        return f"{value.astimezone(JST):%H:%M}"

    def date(self, value: datetime | None) -> str:
        if value is None:
            return ""
        local = value.astimezone(JST)
        if self.lang == "ja":
            return f"{local.year}年{local.month}月{local.day}日({WEEKDAYS_JA[local.weekday()]})"
        return f"{local:%a} {local.day} {local:%b %Y}"

    def pick(self, ja: str, en: str) -> str:
        """The bilingual field in this language (the other one if empty)."""
        return (ja or en) if self.lang == "ja" else (en or ja)
