"""Message ids that no code names in a literal, listed so that extraction (babel.cfg) finds them and
`make i18n-update` keeps their texts. Nothing imports this at run time."""

from __future__ import annotations


def N_(message_id: str) -> str:
    return message_id


# t.category(name) reads "category_" + the event's category (backend/events: its categories).
CATEGORIES = (
    N_("category_culture"), N_("category_crafts"), N_("category_food"), N_("category_art"), N_("category_sports"),
    N_("category_volunteering"), N_("category_hackathon"), N_("category_festival"), N_("category_workshop"),
    N_("category_cleanup"), N_("category_other"),
)

# t("status_" ~ claim status) on My page; t("state_" ~ proposal state) on the proposal pages.
CLAIM_STATUSES = (N_("status_accepted"), N_("status_submitted"), N_("status_confirmed"), N_("status_failed"))
PROPOSAL_STATES = (
    N_("state_submitting"), N_("state_awaiting_wallet"), N_("state_failed"), N_("state_pending"), N_("state_active"),
    N_("state_canceled"), N_("state_defeated"), N_("state_succeeded"), N_("state_queued"), N_("state_executed"),
)
# t("rule_kind_" ~ kind) in the organizer's perk and mission forms.
RULE_KINDS = (N_("rule_kind_any_events"), N_("rule_kind_all_events"), N_("rule_kind_category"))
# t(error) on the log-in form: the log-in page (backend/web/pages/auth.py) names the text.
LOGIN_ERRORS = (N_("login_failed"),)

# Codes the API layer answers with but builds at run time: Starlette's own errors mapped to codes, the request limits
# (an ASGI middleware that answers before any route), and the text for any code a catalog lacks.
API_ERRORS = (
    N_("invalid_body"), N_("not_found"), N_("method_not_allowed"), N_("body_too_large"), N_("headers_too_large"),
    N_("invalid_content_length"), N_("error_generic"),
)

# Translated texts no page shows at the moment (the claim page's kiosk code field, a quorum label), kept so that a page
# can use them again without a new translation.
SPARE_TEXTS = (N_("claim_kiosk_code"), N_("quorum"))
