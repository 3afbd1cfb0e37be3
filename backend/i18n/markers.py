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
CLAIM_STATUSES = (N_("status_accepted"), N_("status_submitted"), N_("status_confirmed"), N_("status_failed"),
                  N_("status_owed"))
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

# The rate limits' error codes (backend/platform/rate_limits.py names them in its RateLimit constants).
RATE_LIMITS = (
    N_("rate_limit_organizations_per_account"), N_("rate_limit_events_per_organization"),
    N_("rate_limit_events_per_account"), N_("rate_limit_missions_per_organization"),
    N_("rate_limit_missions_per_account"), N_("rate_limit_code_sheets_per_organization"),
    N_("rate_limit_code_sheets_per_account"), N_("rate_limit_proposals_per_account"),
)

# t("purpose_" ~ a transaction's purpose) on the sponsor's spend page (backend/relayer: the purposes it sends).
PURPOSES = (
    N_("purpose_register_organization"), N_("purpose_grant_issuer"), N_("purpose_revoke_issuer"), N_("purpose_fund"),
    N_("purpose_create_event"), N_("purpose_issue"), N_("purpose_migrate"), N_("purpose_propose"),
    N_("purpose_fund_member"), N_("purpose_vote"), N_("purpose_delegate"), N_("purpose_queue"), N_("purpose_execute"),
)

# Translated texts no page shows at the moment (the claim page's kiosk code field, a quorum label), kept so that a page
# can use them again without a new translation.
SPARE_TEXTS = (N_("claim_kiosk_code"), N_("quorum"))

# t("role_" ~ role) in the owners' member and invitation lists of the console (backend/organizations: Role).
ROLES = (N_("role_owner"), N_("role_organizer"))

# t("org_" ~ status) on the stewards' list of the console (backend/organizations: OrganizationStatus).
ORGANIZATION_STATUSES = (N_("org_pending"), N_("org_approved"), N_("org_suspended"))

# t("parameter_" ~ name) in the proposal form (backend/governance/actions.py: PARAMETERS).
PARAMETER_NAMES = (
    N_("parameter_voting_delay"), N_("parameter_voting_period"), N_("parameter_proposal_threshold"),
    N_("parameter_quorum_percent"), N_("parameter_timelock_delay"), N_("parameter_max_event_points"),
    N_("parameter_points_allowance"), N_("parameter_allowance_period"), N_("parameter_organization_allowance"),
)

# t(notice) and t(error) on the account page (backend/web/pages/account.py: NOTICES, and its forms' refusals); the
# limits on mail anyone can make the server send (backend/platform/rate_limits.py).
ACCOUNT_NOTICES = (N_("verification_sent"), N_("password_changed"), N_("password_reset_done"), N_("session_ended"))
ACCOUNT_FORM_ERRORS = (N_("current_password_wrong"), N_("password_too_short"))
MAIL_RATE_LIMITS = (
    N_("rate_limit_signups_per_mailbox"), N_("rate_limit_signups_per_address"), N_("rate_limit_resets_per_mailbox"),
    N_("rate_limit_resets_per_address"), N_("rate_limit_verification_mails_per_account"),
)
