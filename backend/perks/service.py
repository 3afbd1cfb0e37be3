"""The rules of perks: what an organization offers holders of certain badges, shown at its counter and redeemed once
per pass.

A member who qualifies (badges on chain, from badge_holdings) asks for a pass: a signed token for the QR code and a
short code to type, valid 60 s. Staff of the offering organization redeem it; the pass is spent and the redemption
stored in one database transaction, and the limits are held by unique sequence numbers (models.PerkRedemption).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from typing import NamedTuple

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.accounts.models import User
from backend.claims.models import Claim
from backend.events.models import Event
from backend.events.service import events_by_ids
from backend.missions.models import Mission
from backend.organizations.models import Organization
from backend.organizations.service import ORGANIZERS, get_organization, membership_of
from backend.perks import passes, rules
from backend.perks.models import Perk, PerkPass, PerkRedemption
from backend.perks.schemas import (
    PerkCreate,
    PerkPassPublic,
    PerkPublic,
    PerkStatusPublic,
    ProgressPublic,
    RedemptionPublic,
    RuleSpec,
)
from backend.platform import throttle
from backend.platform.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Gone,
    Invalid,
    NotFound,
    Unavailable,
    Unprocessable,
)
from backend.platform.orm import utcnow
from backend.platform.paging import DEFAULT_LIMIT, Paged, page_of

LIMIT_RETRIES = 3  # a lost race for a sequence number is counted again, then refused if the limit is reached
SHORT_CODE_DRAWS = 3  # a short code that collides with a stored one is drawn again

REDEMPTIONS_HEADER = ["redemption", "perk", "title_ja", "title_en", "member", "redeemed_at"]


def rule_progress(*, session: Session, address: str, rule: dict | RuleSpec) -> ProgressPublic:
    """How far the badges on chain at `address` are from satisfying `rule` (the rule of a perk or a mission)."""
    return rules.progress(session, address, rule)


def check_rule(*, session: Session, rule: RuleSpec) -> None:
    """Refuses a rule naming events that do not exist (a typo would make a perk nobody can ever use)."""
    missing = rules.unknown_events(session, rule)
    if missing:
        raise Unprocessable("unknown_events", event_ids=missing)


def get_perk(*, session: Session, perk_id: int) -> Perk:
    perk = session.get(Perk, perk_id)
    if perk is None:
        raise NotFound("perk_not_found")
    return perk


def is_active(*, perk: Perk, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return perk.valid_from <= now <= perk.valid_until


def times_used(*, session: Session, perk_id: int, user_id: int | None = None) -> int:
    """Redemptions of the perk (by the member `user_id`, if given)."""
    query = select(func.count()).select_from(PerkRedemption).where(PerkRedemption.perk_id == perk_id)
    if user_id is not None:
        query = query.where(PerkRedemption.user_id == user_id)
    return session.scalar(query)


def create_perk(*, session: Session, user: User, organization_id: int, body: PerkCreate) -> Perk:
    """A perk of the organization (its owners and organizers) for members whose badges satisfy `body.rule`."""
    membership_of(session=session, user=user, organization_id=organization_id, roles=ORGANIZERS)
    check_rule(session=session, rule=body.rule)
    perk = Perk(organization_id=organization_id, **body.model_dump(exclude={"rule"}), rule=body.rule.model_dump())
    session.add(perk)
    session.commit()
    return perk


def list_perks(*, session: Session, limit: int = DEFAULT_LIMIT, offset: int = 0) -> Paged[Perk]:
    """Perks that can be used now, a page of `limit` from `offset`."""
    now = utcnow()
    return page_of(session, select(Perk).where(Perk.valid_from <= now, Perk.valid_until >= now).order_by(Perk.id),
                   limit=limit, offset=offset)


def rule_events(*, session: Session, rules: Iterable[dict]) -> dict[int, Event]:
    """The events that perks' or missions' rules name, by id: their titles make the rules readable."""
    return events_by_ids(session=session, ids={i for rule in rules for i in rule.get("event_ids", [])})


class PerksConsole(NamedTuple):
    """An organization's perks and missions, the latest first, with how often each was used."""

    organization: Organization
    perks: list[Perk]
    missions: list[Mission]
    redemptions: dict[int, int]  # by perk id; a perk never redeemed is left out
    completions: dict[int, int]  # by the mission's badge event id; likewise


def console_overview(*, session: Session, user: User, organization_id: int) -> PerksConsole:
    """What the organizer's perks page shows of the organization (its members only). The missions are read here, not
    in backend/missions/service.py, which imports this module for the rules."""
    org = get_organization(session=session, user=user, organization_id=organization_id)
    org_perks = list(session.scalars(select(Perk).where(Perk.organization_id == org.id)
                                     .order_by(Perk.id.desc())).all())
    org_missions = list(session.scalars(select(Mission).where(Mission.organization_id == org.id)
                                        .order_by(Mission.id.desc())).all())
    used = dict(session.execute(select(PerkRedemption.perk_id, func.count()).group_by(PerkRedemption.perk_id)
                                .where(PerkRedemption.perk_id.in_([p.id for p in org_perks]))).all())
    done = dict(session.execute(select(Claim.event_id, func.count()).where(
        Claim.event_id.in_([m.event_id for m in org_missions])).group_by(Claim.event_id)).all())
    return PerksConsole(org, org_perks, org_missions, used, done)


def perk_status(*, session: Session, perk: Perk, user: User) -> PerkStatusPublic:
    """Whether the member's badges qualify for the perk, how close they are, and how often they used it."""
    used = times_used(session=session, perk_id=perk.id, user_id=user.id)
    remaining = None if perk.limit_per_member is None else max(0, perk.limit_per_member - used)
    return PerkStatusPublic(perk=PerkPublic.model_validate(perk),
                            progress=rules.progress(session, user.wallet_address, perk.rule),
                            redeemed=used, remaining=remaining)


def perk_statuses(*, session: Session, user: User, limit: int = DEFAULT_LIMIT,
                  offset: int = 0) -> Paged[PerkStatusPublic]:
    """The perks that can be used now (a page of them), with the member's status."""
    return list_perks(session=session, limit=limit, offset=offset).map(
        lambda perk: perk_status(session=session, perk=perk, user=user))


def _usable(session: Session, perk: Perk, user: User) -> tuple[int, int]:
    """Raises the reason the member cannot use the perk now: outside its period, not eligible, or limit reached.
    Returns the member's and everyone's uses so far, the very counts the limits were checked against: the next
    redemption's sequence numbers must come from them, or a use committed in between would slip past the limit."""
    if not is_active(perk=perk):
        raise Gone("perk_not_active")
    if not rules.progress(session, user.wallet_address, perk.rule).eligible:
        raise Forbidden("not_eligible")
    used = times_used(session=session, perk_id=perk.id, user_id=user.id)
    total = times_used(session=session, perk_id=perk.id)
    if perk.limit_per_member is not None and used >= perk.limit_per_member:
        raise Conflict("perk_limit_reached")
    if perk.limit_total is not None and total >= perk.limit_total:
        raise Conflict("perk_sold_out")
    return used, total


def pass_refusal(*, session: Session, perk: Perk, user: User) -> str | None:
    """The error code create_pass would refuse the member with now (outside the period, not eligible, a limit
    reached), or None: what the perk's page says instead of the button, without writing anything."""
    try:
        _usable(session, perk, user)
    except DomainError as exc:
        return exc.code
    return None


def create_pass(*, session: Session, user: User, perk_id: int, secret_key: str, base_url: str) -> PerkPassPublic:
    """A 60-second pass to show at the counter (QR code and short code), for a member who qualifies now."""
    perk = get_perk(session=session, perk_id=perk_id)
    _usable(session, perk, user)
    expires = int(utcnow().timestamp()) + passes.PASS_TTL_S
    for _ in range(SHORT_CODE_DRAWS):
        short_code = passes.new_short_code()
        row = PerkPass(id=passes.new_pass_id(), perk_id=perk.id, user_id=user.id,
                       code_hash=passes.short_code_hash(short_code),
                       expires_at=datetime.fromtimestamp(expires, timezone.utc))
        session.add(row)
        try:
            session.commit()
            break
        except IntegrityError:
            session.rollback()
    else:
        raise Unavailable("try_again")
    token = passes.sign(passes.pass_key(secret_key), passes.PassClaims(row.id, perk.id, user.id, expires))
    return PerkPassPublic(perk_id=perk.id, token=token, redeem_url=f"{base_url}/console/redeem#p={token}",
                          short_code=short_code, expires_at=row.expires_at,
                          valid_for_s=max(0, expires - int(utcnow().timestamp())))


# An expired pass is kept this long before it is deleted: a pass scanned or typed a little late is still answered
# "pass_expired" (show a new one), not "invalid_code", which would also count as a guess against the staff's account.
PASS_KEPT_AFTER_EXPIRY = timedelta(hours=1)


def purge_expired_passes(*, session: Session, now: datetime, batch: int) -> int:
    """Deletes up to `batch` passes never used that expired more than PASS_KEPT_AFTER_EXPIRY ago: a member makes one
    a minute while a perk's page is open, and each is a row. A used pass stays: its redemption refers to it. Returns
    how many it deleted (backend/relayer/housekeeping.py calls it again while a batch comes back full)."""
    expired = (select(PerkPass.id).where(PerkPass.used_at.is_(None), PerkPass.expires_at < now - PASS_KEPT_AFTER_EXPIRY)
               .limit(batch))
    deleted = session.execute(delete(PerkPass).where(PerkPass.id.in_(expired))
                              .execution_options(synchronize_session=False)).rowcount
    session.commit()
    return deleted


def _find_pass(session: Session, secret_key: str, staff: User, token: str | None, short_code: str | None) -> PerkPass:
    wrong = Invalid("invalid_code")
    if token is not None:
        claims = passes.verify(passes.pass_key(secret_key), token)
        row = session.get(PerkPass, claims.pass_id) if claims else None
        if row is None or row.perk_id != claims.perk_id or row.user_id != claims.user_id:
            raise wrong
        return row
    # a short code is 40 bits: guesses are throttled per staff account, like claim codes
    limits = {f"redeem:{staff.id}": throttle.ACCOUNT}
    throttle.refuse_if_locked(session, limits)
    code = passes.normalize_short_code(short_code or "")
    row = session.scalar(select(PerkPass).where(PerkPass.code_hash == passes.short_code_hash(code))) if code else None
    if row is None:
        throttle.count_failure(session, limits, wrong)
    return row


def redeem(*, session: Session, staff: User, secret_key: str, token: str | None = None,
           short_code: str | None = None) -> RedemptionPublic:
    """Staff of the offering organization redeem a member's pass (the scanned `token` or the typed `short_code`):
    once; refused for a pass used before, after its 60 s, for other organizations' staff, for a member who does not
    qualify (any more), and when a limit is reached."""
    row = _find_pass(session, secret_key, staff, token, short_code)
    perk = get_perk(session=session, perk_id=row.perk_id)
    try:
        membership_of(session=session, user=staff, organization_id=perk.organization_id)
    except (Forbidden, NotFound):
        raise Forbidden("not_offering_organization") from None
    if row.used_at is not None:
        raise Conflict("already_redeemed")
    if row.expires_at < utcnow():
        raise Gone("pass_expired")
    member = session.get(User, row.user_id)
    for _ in range(LIMIT_RETRIES):
        used, total = _usable(session, perk, member)
        spent = session.execute(update(PerkPass).where(PerkPass.id == row.id, PerkPass.used_at.is_(None))
                                .values(used_at=utcnow()))
        if spent.rowcount != 1:
            session.rollback()
            raise Conflict("already_redeemed")
        redemption = PerkRedemption(
            perk_id=perk.id, user_id=member.id, pass_id=row.id, staff_user_id=staff.id,
            member_seq=used + 1 if perk.limit_per_member is not None else None,
            total_seq=total + 1 if perk.limit_total is not None else None)
        session.add(redemption)
        try:
            session.commit()  # the pass is spent and the redemption stored together, or neither
        except IntegrityError:
            session.rollback()  # another counter took this sequence number (or this pass) at the same moment
            session.refresh(row)
            if row.used_at is not None:
                raise Conflict("already_redeemed") from None
            continue
        used += 1
        return RedemptionPublic(id=redemption.id, perk_id=perk.id, title_ja=perk.title_ja, title_en=perk.title_en,
                                redeemed=used,
                                remaining=None if perk.limit_per_member is None else perk.limit_per_member - used,
                                created_at=redemption.created_at)
    raise Conflict("perk_limit_reached")


def redemption_rows(*, session: Session, user: User, organization_id: int) -> list[list]:
    """The organization's redemptions as rows under REDEMPTIONS_HEADER, for its own records (its staff only; no
    member data beyond a pseudonymous member number)."""
    membership_of(session=session, user=user, organization_id=organization_id)
    rows = session.execute(select(PerkRedemption, Perk).join(Perk, Perk.id == PerkRedemption.perk_id)
                           .where(Perk.organization_id == organization_id).order_by(PerkRedemption.id)).all()
    return [[r.id, p.id, p.title_ja, p.title_en, "" if r.user_id is None else r.user_id, r.created_at.isoformat()]
            for r, p in rows]
