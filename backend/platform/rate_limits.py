"""How often an account, or an organization, may create what costs the sponsor gas or the server work: each limit
with the reason for its number. Counted by backend/platform/throttle.py `take` in fixed windows (so a burst across the
end of a window can reach twice a limit, never more); the one beyond a limit gets 429 with Retry-After and the
limit's error code (its text in the catalogs, listed in backend/i18n/markers.py).

The keys: `<what>:user:<id>` per account, `<what>:org:<id>` per organization (the functions at the end). A
per-organization limit stops a team (or a stolen organizer account among several) that shares an organization; a
per-account limit stops one person who organizes many organizations. The organization's gas budget
(backend/organizations/gas_budget.py) still bounds what all of it may cost; these limits bound how fast.
"""

from __future__ import annotations

from datetime import timedelta

from backend.platform.throttle import RateLimit

HOUR, DAY = timedelta(hours=1), timedelta(days=1)

# Founding an organization is rare: a city employee setting up the departments (the demo seeds three at once) needs
# three in a day. Each one is a new sealed key in the database and, once a steward approves it, a registration and an
# issuer grant paid by the sponsor; a script making thousands would flood the stewards' queue.
ORGANIZATIONS_PER_ACCOUNT = RateLimit("rate_limit_organizations_per_account", 3, DAY)

# A festival's programme entered in one sitting is 30-40 sessions; 50 an hour leaves room for corrections. Each event
# costs the sponsor a `createEvent` (~89,000 gas) and its key's top-up once the organization is approved.
EVENTS_PER_ORGANIZATION = RateLimit("rate_limit_events_per_organization", 50, HOUR)
EVENTS_PER_ACCOUNT = RateLimit("rate_limit_events_per_account", 50, HOUR)

# Missions are few (a season's goals), and each open one is checked by the indexer for every member who receives a
# badge, so they are held tighter than events: 20 an hour is still more than any organizer has set up at once.
MISSIONS_PER_ORGANIZATION = RateLimit("rate_limit_missions_per_organization", 20, HOUR)
MISSIONS_PER_ACCOUNT = RateLimit("rate_limit_missions_per_account", 20, HOUR)

# A sheet per reception desk, session or reprint: 50 an hour covers a festival's stations. A sheet of 1000 codes takes
# ~10 s of one core (segno), so one account cannot keep a core busy for more than a few minutes an hour. The JSON
# claim links (`/events/{id}/codes`) count as sheets.
CODE_SHEETS_PER_ORGANIZATION = RateLimit("rate_limit_code_sheets_per_organization", 50, HOUR)
CODE_SHEETS_PER_ACCOUNT = RateLimit("rate_limit_code_sheets_per_account", 50, HOUR)

# A member proposes a few times a year; five a day is far beyond that. Each proposal costs the community's governance
# budget its `propose`, queue and execute (backend/governance/budget.py), so one member with the threshold's points
# cannot take the proposals' whole share of that budget in an afternoon.
PROPOSALS_PER_ACCOUNT = RateLimit("rate_limit_proposals_per_account", 5, DAY)

# Mail that anyone can make the server send: a sign-up (the verification link, or to a known address the note that it
# has an account) and a password reset (the link, or to an unknown address the note that it has none). Per address
# mailed, five an hour: a person who mistyped or lost a mail asks again a few times; nobody can bury an inbox under
# them. Per client address, generous: a festival's attendees sign up behind one carrier NAT or the venue's Wi-Fi,
# several hundred in an hour (each sign-up is an argon2 hash, ~50 ms of a core, so this also bounds the CPU one machine
# takes: under a minute an hour).
SIGNUPS_PER_MAILBOX = RateLimit("rate_limit_signups_per_mailbox", 5, HOUR)
SIGNUPS_PER_ADDRESS = RateLimit("rate_limit_signups_per_address", 1000, HOUR)
RESETS_PER_MAILBOX = RateLimit("rate_limit_resets_per_mailbox", 5, HOUR)
RESETS_PER_ADDRESS = RateLimit("rate_limit_resets_per_address", 50, HOUR)
# A member asking for the verification link again: a few times an hour is plenty.
VERIFICATION_MAILS_PER_ACCOUNT = RateLimit("rate_limit_verification_mails_per_account", 5, HOUR)


# The keys each creation counts under (read at call time, so a test may lower a limit).

def organizations(*, user_id: int) -> dict[str, RateLimit]:
    return {f"organizations:user:{user_id}": ORGANIZATIONS_PER_ACCOUNT}


def events(*, organization_id: int, user_id: int) -> dict[str, RateLimit]:
    return {f"events:org:{organization_id}": EVENTS_PER_ORGANIZATION, f"events:user:{user_id}": EVENTS_PER_ACCOUNT}


def missions(*, organization_id: int, user_id: int) -> dict[str, RateLimit]:
    return {f"missions:org:{organization_id}": MISSIONS_PER_ORGANIZATION,
            f"missions:user:{user_id}": MISSIONS_PER_ACCOUNT}


def code_sheets(*, organization_id: int, user_id: int) -> dict[str, RateLimit]:
    return {f"code_sheets:org:{organization_id}": CODE_SHEETS_PER_ORGANIZATION,
            f"code_sheets:user:{user_id}": CODE_SHEETS_PER_ACCOUNT}


def proposals(*, user_id: int) -> dict[str, RateLimit]:
    return {f"proposals:user:{user_id}": PROPOSALS_PER_ACCOUNT}


# Keyed by the mailbox's hash: the throttle table holds no e-mail address. `address` is the client's
# (backend/platform/http.py client_ip).

def signups(*, mailbox_hash: str, address: str) -> dict[str, RateLimit]:
    return {f"signups:mailbox:{mailbox_hash}": SIGNUPS_PER_MAILBOX, f"signups:ip:{address}": SIGNUPS_PER_ADDRESS}


def resets(*, mailbox_hash: str, address: str) -> dict[str, RateLimit]:
    return {f"resets:mailbox:{mailbox_hash}": RESETS_PER_MAILBOX, f"resets:ip:{address}": RESETS_PER_ADDRESS}


def verification_mails(*, user_id: int) -> dict[str, RateLimit]:
    return {f"verification_mails:user:{user_id}": VERIFICATION_MAILS_PER_ACCOUNT}
