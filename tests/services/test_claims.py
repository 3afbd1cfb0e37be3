"""The rules of a claim, the attendee's journey: which secret is right, how guessing is throttled, and what a claim
stores (the claim, the spent code, the gas reserved) or why it is refused."""

from __future__ import annotations

import asyncio
import os
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from backend.accounts.models import ExportStatus, User, WalletExport, WalletKind
from backend.claims import service
from backend.claims.models import Claim, ClaimMethod, ClaimStatus
from backend.events.kiosk import kiosk_code, kiosk_period
from backend.events.models import ClaimCode, Event
from backend.organizations.gas_budget import GAS_PER_CLAIM_ESTIMATE
from backend.organizations.models import Organization, OrganizationStatus
from backend.platform.db import session_factory
from backend.platform.errors import Conflict, Forbidden, Gone, Invalid, NotFound, PaymentRequired
from backend.platform.models import GuessThrottle
from backend.platform.security import secret_hash
from backend.platform.throttle import ACCOUNT, ACCOUNT_AT_LOCKED_ADDRESS, ADDRESS
from tests.services.conftest import EXPLORER, IP
from tests.services.errors import refused

NOW = datetime.now(timezone.utc)


def add_user(session, n: int) -> User:
    """A member as the route gets it: detached, with its columns loaded."""
    user = User(email=f"member{n}@example.jp", wallet_address=f"0x{n:040x}", wallet_kind=WalletKind.custodial)
    session.add(user)
    session.commit()
    session.refresh(user)
    session.expunge(user)
    return user


@pytest.fixture
def org(session) -> Organization:
    org = Organization(name_ja="金沢工芸会", name_en="Kanazawa Crafts", issuer_address=f"0x{os.urandom(20).hex()}",
                       issuer_key=b"sealed", status=OrganizationStatus.approved)
    session.add(org)
    session.commit()
    return org


def add_event(session, org: Organization, *, opens_in=-timedelta(hours=1), **fields) -> Event:
    opens = NOW + opens_in
    event = Event(organization_id=org.id, title_ja="金箔貼り体験", title_en="Gold leaf workshop", category="crafts",
                  starts_at=opens, ends_at=opens + timedelta(hours=3), claim_start=opens,
                  claim_end=opens + timedelta(hours=4), points=10, kiosk_seed=os.urandom(32), **fields)
    session.add(event)
    session.commit()
    return event


@pytest.fixture
def event(session, org) -> Event:
    return add_event(session, org)


def add_code(session, event: Event, secret: str = "printed-code-1", used: bool = False) -> str:
    session.add(ClaimCode(code_hash=secret_hash(secret), event_id=event.id, used_at=NOW if used else None))
    session.commit()
    return secret


def code_row(session, secret: str) -> ClaimCode:
    session.expire_all()
    return session.get(ClaimCode, secret_hash(secret))


def claims_of_event(session, event: Event) -> list[Claim]:
    session.expire_all()
    return list(session.scalars(select(Claim).where(Claim.event_id == event.id)))


def reserved(session, org: Organization) -> int:
    session.expire_all()
    return session.get(Organization, org.id).gas_reserved


# ---------------------------------------------------------------------------------------------------- accepted


def test_a_printed_code_gives_an_accepted_claim_spends_the_code_and_reserves_gas(session, claim, org, event):
    attendee = add_user(session, 1)
    secret = add_code(session, event)
    accepted = claim(attendee, event, secret)
    assert accepted.status == ClaimStatus.accepted and accepted.recipient == attendee.wallet_address
    assert accepted.tx_hash is None and accepted.explorer_url is None
    (stored,) = claims_of_event(session, event)
    assert (stored.id, stored.user_id, stored.method, stored.status) == (accepted.id, attendee.id, ClaimMethod.code,
                                                                          ClaimStatus.accepted)
    assert code_row(session, secret).used_at is not None
    assert reserved(session, org) == GAS_PER_CLAIM_ESTIMATE


def test_the_kiosk_code_on_the_screen_gives_a_claim(session, claim, event):
    code = kiosk_code(event.kiosk_seed, kiosk_period())
    assert claim(add_user(session, 1), event, code, ClaimMethod.kiosk).method == ClaimMethod.kiosk


def test_an_expired_kiosk_code_is_gone(session, claim, event):
    old = kiosk_code(event.kiosk_seed, kiosk_period() - 5)
    error = refused(claim, add_user(session, 1), event, old, ClaimMethod.kiosk)
    assert isinstance(error, Gone) and error.code == "kiosk_code_expired"
    assert claims_of_event(session, event) == []


def test_the_secret_word_is_right_in_any_case_and_a_wrong_word_is_invalid(session, claim, org):
    event = add_event(session, org, word_hash=secret_hash("kenrokuen"))
    assert claim(add_user(session, 1), event, "KenRokuen", ClaimMethod.word).status == ClaimStatus.accepted
    error = refused(claim, add_user(session, 2), event, "gyokusen", ClaimMethod.word)
    assert isinstance(error, Invalid) and error.code == "invalid_code"


def test_an_event_without_a_secret_word_takes_no_word(session, claim, event):
    assert refused(claim, add_user(session, 1), event, "anything", ClaimMethod.word).code == "invalid_code"


# ---------------------------------------------------------------------------------------------------- guessing


def test_a_wrong_code_is_invalid_and_counted_for_the_account_and_the_address(session, claim, event):
    attendee = add_user(session, 1)
    error = refused(claim, attendee, event, "guess")
    assert isinstance(error, Invalid) and error.code == "invalid_code"
    session.expire_all()
    assert session.get(GuessThrottle, f"user:{attendee.id}").failures == 1
    assert session.get(GuessThrottle, f"ip:{IP}").failures == 1


def test_a_code_of_another_event_is_a_wrong_code(session, claim, org, event):
    other = add_code(session, add_event(session, org))
    assert refused(claim, add_user(session, 1), event, other).code == "invalid_code"
    assert code_row(session, other).used_at is None


def test_the_tenth_wrong_code_locks_the_account_and_the_eleventh_is_refused_with_retry_after(session, claim, event):
    guesser = add_user(session, 1)
    codes = [refused(claim, guesser, event, f"guess{i}").code for i in range(ACCOUNT.failures)]
    assert codes == ["invalid_code"] * (ACCOUNT.failures - 1) + ["too_many_attempts"]
    error = refused(claim, guesser, event, "guess-again")
    assert error.status == 429 and error.code == "too_many_attempts"
    assert 0 < error.params["retry_after"] <= ACCOUNT.cooldown.total_seconds() + 1
    assert error.headers["Retry-After"] == str(error.params["retry_after"])


def test_a_right_code_after_wrong_guesses_is_refused_only_while_the_account_is_locked(session, claim, event):
    guesser = add_user(session, 1)
    for i in range(ACCOUNT.failures):
        refused(claim, guesser, event, f"guess{i}")
    secret = add_code(session, event)
    assert refused(claim, guesser, event, secret).code == "too_many_attempts"
    assert code_row(session, secret).used_at is None  # the right code is still there for after the cooldown
    session.execute(update(GuessThrottle).values(locked_until=NOW - timedelta(seconds=1)))  # the cooldown is over
    session.commit()
    assert claim(guesser, event, secret).status == ClaimStatus.accepted


def test_people_behind_one_address_do_not_lock_each_other_out(session, claim, event):
    for n in range(ACCOUNT.failures + 2):  # more people than one account's limit, one typing mistake each
        assert refused(claim, add_user(session, n), event, f"typo{n}").code == "invalid_code"
    secret = add_code(session, event)
    assert claim(add_user(session, 99), event, secret).status == ClaimStatus.accepted
    session.expire_all()
    assert session.get(GuessThrottle, f"ip:{IP}").failures == ACCOUNT.failures + 2 < ADDRESS.failures


def lock_the_address(session, claim, event) -> None:
    """Enough people behind IP guess wrong, each within their account's limit, that the address locks."""
    people = ADDRESS.failures // ACCOUNT.failures
    for n in range(people):
        guesser = add_user(session, 1000 + n)
        for i in range(ACCOUNT.failures):
            refused(claim, guesser, event, f"guess{n}-{i}")
    session.expire_all()
    assert session.get(GuessThrottle, f"ip:{IP}").locked_until > NOW


def test_a_right_code_from_an_address_that_guessed_wrong_too_often_is_still_accepted(session, claim, event):
    lock_the_address(session, claim, event)
    secret = add_code(session, event)
    assert claim(add_user(session, 1), event, secret).status == ClaimStatus.accepted  # no lock-out of the venue


def test_a_wrong_guess_from_a_locked_address_is_refused_and_its_account_soon_locked(session, claim, event):
    lock_the_address(session, claim, event)
    guesser = add_user(session, 1)
    errors = [refused(claim, guesser, event, f"more{i}") for i in range(ACCOUNT_AT_LOCKED_ADDRESS.failures)]
    assert {(e.status, e.code) for e in errors} == {(429, "too_many_attempts")}
    secret = add_code(session, event)
    # its few guesses spent, the account is locked like any other: not even a right code now
    assert refused(claim, guesser, event, secret).code == "too_many_attempts"
    assert code_row(session, secret).used_at is None
    assert claim(add_user(session, 2), event, secret).status == ClaimStatus.accepted


# ---------------------------------------------------------------------------------------------------- refused


def test_a_spent_code_is_gone(session, claim, event):
    secret = add_code(session, event, used=True)
    error = refused(claim, add_user(session, 1), event, secret)
    assert isinstance(error, Gone) and error.code == "code_already_used"
    assert claims_of_event(session, event) == []


def test_one_code_sent_by_two_phones_at_once_gives_one_claim(session, engine, writes, org, event):
    secret = add_code(session, event)
    sessions = session_factory(engine)

    async def both():
        return await asyncio.gather(*(
            service.accept_claim(session=sessions(), writes=writes, user=add_user(session, n), event_id=event.id,
                                 method=ClaimMethod.code, secret=secret, client_ip=IP, explorer_tx_url=EXPLORER)
            for n in (1, 2)), return_exceptions=True)

    outcomes = asyncio.run(both())
    assert sorted(type(o).__name__ for o in outcomes) == ["ClaimPublic", "Gone"], outcomes
    assert [o.code for o in outcomes if isinstance(o, Gone)] == ["code_already_used"]
    assert len(claims_of_event(session, event)) == 1
    assert reserved(session, org) == GAS_PER_CLAIM_ESTIMATE  # the refused claim keeps no reservation


def test_a_claim_outside_the_window_is_forbidden_with_the_window(session, claim, org):
    event = add_event(session, org, opens_in=timedelta(days=2))
    secret = add_code(session, event)
    error = refused(claim, add_user(session, 1), event, secret)
    assert isinstance(error, Forbidden) and error.code == "claim_window_closed"
    assert error.params == {"claim_start": event.claim_start.isoformat(), "claim_end": event.claim_end.isoformat()}
    assert code_row(session, secret).used_at is None


def test_a_claim_beyond_the_capacity_is_a_conflict(session, claim, org):
    event = add_event(session, org, capacity=1)
    first, second = add_code(session, event, "code-1"), add_code(session, event, "code-2")
    claim(add_user(session, 1), event, first)
    error = refused(claim, add_user(session, 2), event, second)
    assert isinstance(error, Conflict) and error.code == "event_full"
    assert code_row(session, second).used_at is None and len(claims_of_event(session, event)) == 1


def test_a_failed_claim_does_not_count_against_the_capacity(session, claim, org):
    event = add_event(session, org, capacity=1)
    other = add_user(session, 1)
    session.add(Claim(user_id=other.id, event_id=event.id, recipient=other.wallet_address, method=ClaimMethod.code,
                      status=ClaimStatus.failed))
    session.commit()
    assert claim(add_user(session, 2), event, add_code(session, event)).status == ClaimStatus.accepted


def test_an_exhausted_gas_budget_is_payment_required_and_leaves_the_code_unspent(session, claim, org, event):
    session.execute(update(Organization).where(Organization.id == org.id)
                    .values(gas_budget=GAS_PER_CLAIM_ESTIMATE - 1))
    session.commit()
    secret = add_code(session, event)
    error = refused(claim, add_user(session, 1), event, secret)
    assert isinstance(error, PaymentRequired) and error.code == "gas_budget_exhausted"
    assert code_row(session, secret).used_at is None
    assert claims_of_event(session, event) == [] and reserved(session, org) == 0


def test_a_second_claim_of_the_same_event_is_a_conflict_naming_the_first(session, claim, event):
    attendee = add_user(session, 1)
    first = claim(attendee, event, add_code(session, event, "code-1"))
    second = add_code(session, event, "code-2")
    error = refused(claim, attendee, event, second)
    assert isinstance(error, Conflict) and error.code == "already_claimed" and error.params == {"claim_id": first.id}
    assert code_row(session, second).used_at is None


def test_a_claim_that_failed_for_good_may_be_made_again(session, claim, event):
    attendee = add_user(session, 1)
    session.add(Claim(user_id=attendee.id, event_id=event.id, recipient=attendee.wallet_address,
                      method=ClaimMethod.code, status=ClaimStatus.failed, failure="reverted"))
    session.commit()
    again = claim(attendee, event, add_code(session, event))
    (stored,) = claims_of_event(session, event)
    assert stored.id == again.id and stored.status == ClaimStatus.accepted and stored.failure is None


def test_no_claim_while_the_wallet_moves(session, claim, event):
    attendee = add_user(session, 1)
    session.add(WalletExport(user_id=attendee.id, from_address=attendee.wallet_address, to_address=f"0x{'ab' * 20}",
                             deadline=0, signature=b"signed", status=ExportStatus.submitted))
    session.commit()
    error = refused(claim, attendee, event, add_code(session, event))
    assert isinstance(error, Conflict) and error.code == "wallet_moving" and error.headers["Retry-After"] == "30"


def test_a_claim_of_an_unknown_event_is_404(session, claim):
    ghost = Event(id=999)
    error = refused(claim, add_user(session, 1), ghost, "code")
    assert isinstance(error, NotFound) and error.code == "event_not_found"


# ---------------------------------------------------------------------------------------------------- reading


def test_a_member_reads_their_own_claims_newest_first_and_no_one_else_s(session, claim, org, event):
    attendee, other = add_user(session, 1), add_user(session, 2)
    first = claim(attendee, event, add_code(session, event, "code-1"))
    second_event = add_event(session, org)
    second = claim(attendee, second_event, add_code(session, second_event, "code-2"))
    assert [c.id for c in service.claims_of(session=session, user=attendee, explorer_tx_url=EXPLORER)] == \
        [second.id, first.id]
    assert service.read_claim(session=session, user=attendee, claim_id=first.id, explorer_tx_url=EXPLORER) == first
    error = refused(service.read_claim, session=session, user=other, claim_id=first.id, explorer_tx_url=EXPLORER)
    assert isinstance(error, NotFound) and error.code == "claim_not_found"
