"""Perks: what an organization offers holders of certain badges, shown at its counter and redeemed once per pass.

A member who qualifies (badges on chain, from badge_holdings) asks for a pass: a signed token for the QR code and a
short code to type, valid 60 s. Staff of the offering organization redeem it; the pass is spent and the redemption
stored in one database transaction, and the limits are held by unique sequence numbers (models.PerkRedemption).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from fastapi import APIRouter, HTTPException, status
from fastapi.responses import Response
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.api.errors import errors
from backend.api.routes.organizations import membership_of
from backend.api.routes.treasury import _csv
from backend.platform import throttle
from backend.api.deps import CurrentUser, DbId, SessionDep, SettingsDep
from backend.accounts.models import User
from backend.organizations.models import Role
from backend.perks.models import Perk, PerkPass, PerkRedemption
from backend.platform.orm import utcnow
from backend.perks import passes
from backend.perks.rules import progress, unknown_events
from backend.perks.schemas import PerkCreate, PerkPassPublic, PerkPublic, PerkStatusPublic, RedemptionCreate, RedemptionPublic, RuleSpec

router = APIRouter(tags=["perks"])

LIMIT_RETRIES = 3  # a lost race for a sequence number is counted again, then refused if the limit is reached


def _error(code: int, error: str, english: str, japanese: str) -> HTTPException:
    return HTTPException(code, {"error": error, "message": f"{english} / {japanese}"})


def check_rule(session: Session, rule: RuleSpec) -> None:
    missing = unknown_events(session, rule)
    if missing:
        raise HTTPException(422, {"error": "unknown_events",
                                  "message": f"No such events: {', '.join(map(str, missing))}. / "
                                             "存在しないイベントが指定されています。", "event_ids": missing})


def get_perk(session: Session, perk_id: int) -> Perk:
    perk = session.get(Perk, perk_id)
    if perk is None:
        raise _error(404, "perk_not_found", "No such perk.", "特典が見つかりません。")
    return perk


def is_active(perk: Perk, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return perk.valid_from <= now <= perk.valid_until


def times_used(session: Session, perk_id: int, user_id: int | None = None) -> int:
    query = select(func.count()).select_from(PerkRedemption).where(PerkRedemption.perk_id == perk_id)
    if user_id is not None:
        query = query.where(PerkRedemption.user_id == user_id)
    return session.scalar(query)


def perk_status(session: Session, perk: Perk, user: User) -> PerkStatusPublic:
    used = times_used(session, perk.id, user.id)
    remaining = None if perk.limit_per_member is None else max(0, perk.limit_per_member - used)
    return PerkStatusPublic(perk=PerkPublic.model_validate(perk), progress=progress(session, user.wallet_address,
                                                                                    perk.rule),
                            redeemed=used, remaining=remaining)


@router.post("/organizations/{organization_id}/perks", response_model=PerkPublic, status_code=status.HTTP_201_CREATED,
             responses=errors(403))
def create_perk(organization_id: DbId, body: PerkCreate, session: SessionDep, user: CurrentUser):
    """A perk of the organization (its owners and organizers) for members whose badges satisfy `rule`."""
    membership_of(session, user, organization_id, Role.owner, Role.organizer)
    check_rule(session, body.rule)
    perk = Perk(organization_id=organization_id, **body.model_dump(exclude={"rule"}), rule=body.rule.model_dump())
    session.add(perk)
    session.commit()
    return perk


@router.get("/perks", response_model=list[PerkPublic])
def list_perks(session: SessionDep):
    """Perks that can be used now."""
    now = utcnow()
    return session.scalars(select(Perk).where(Perk.valid_from <= now, Perk.valid_until >= now)
                           .order_by(Perk.id)).all()


@router.get("/perks/{perk_id}", response_model=PerkPublic)
def read_perk(perk_id: DbId, session: SessionDep):
    return get_perk(session, perk_id)


@router.get("/me/perks", response_model=list[PerkStatusPublic])
def my_perks(session: SessionDep, user: CurrentUser):
    """Every perk that can be used now, with whether the caller's badges qualify and how close they are."""
    return [perk_status(session, perk, user) for perk in list_perks(session)]


def _usable(session: Session, perk: Perk, user: User) -> tuple[int, int]:
    """Raises the reason the member cannot use the perk now: outside its period, not eligible, or limit reached.
    Returns the member's and everyone's uses so far, the very counts the limits were checked against: the next
    redemption's sequence numbers must come from them, or a use committed in between would slip past the limit."""
    if not is_active(perk):
        raise _error(410, "perk_not_active", "This perk is not valid at the moment.", "この特典は現在ご利用いただけません。")
    if not progress(session, user.wallet_address, perk.rule).eligible:
        raise _error(403, "not_eligible", "The member's badges do not qualify for this perk.",
                     "この特典の対象となるバッジをお持ちではありません。")
    used, total = times_used(session, perk.id, user.id), times_used(session, perk.id)
    if perk.limit_per_member is not None and used >= perk.limit_per_member:
        raise _error(409, "perk_limit_reached", "This member has already used this perk as often as allowed.",
                     "この特典の利用回数の上限に達しています。")
    if perk.limit_total is not None and total >= perk.limit_total:
        raise _error(409, "perk_sold_out", "This perk has been used up.", "この特典は終了しました（上限に達しました）。")
    return used, total


@router.post("/perks/{perk_id}/passes", response_model=PerkPassPublic, status_code=status.HTTP_201_CREATED,
             responses=errors(403, 409, 410, 503))
def create_pass(perk_id: DbId, session: SessionDep, settings: SettingsDep, user: CurrentUser):
    """A 60-second pass to show at the counter (QR code and short code), for a member who qualifies."""
    perk = get_perk(session, perk_id)
    _usable(session, perk, user)
    expires = int(utcnow().timestamp()) + passes.PASS_TTL_S
    for _ in range(3):  # a short code that collides with a stored one is drawn again
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
        raise _error(503, "try_again", "Please try again.", "もう一度お試しください。")
    token = passes.sign(passes.pass_key(settings.secret_key.get_secret_value()),
                        passes.PassClaims(row.id, perk.id, user.id, expires))
    return PerkPassPublic(perk_id=perk.id, token=token, redeem_url=f"{settings.public_base_url}/console/redeem#p={token}",
                          short_code=short_code, expires_at=row.expires_at,
                          valid_for_s=max(0, expires - int(utcnow().timestamp())))


def _find_pass(session: Session, settings, body: RedemptionCreate, staff: User) -> PerkPass:
    wrong = _error(400, "invalid_code", "This code is not valid.", "このコードは無効です。")
    if body.token is not None:
        claims = passes.verify(passes.pass_key(settings.secret_key.get_secret_value()), body.token)
        row = session.get(PerkPass, claims.pass_id) if claims else None
        if row is None or row.perk_id != claims.perk_id or row.user_id != claims.user_id:
            raise wrong
        return row
    # a short code is 40 bits: guesses are throttled per staff account, like claim codes
    limits = {f"redeem:{staff.id}": throttle.ACCOUNT}
    throttle.refuse_if_locked(session, limits)
    code = passes.normalize_short_code(body.short_code)
    row = session.scalar(select(PerkPass).where(PerkPass.code_hash == passes.short_code_hash(code))) if code else None
    if row is None:
        throttle.count_failure(session, limits, wrong)
    return row


@router.post("/redemptions", response_model=RedemptionPublic, status_code=status.HTTP_201_CREATED,
             responses=errors(400, 403, 404, 409, 410, 429))
def redeem(body: RedemptionCreate, session: SessionDep, settings: SettingsDep, staff: CurrentUser):
    """Staff of the offering organization redeem a member's pass (scanned token or typed short code): 201 once;
    409 already_redeemed for a pass used before, 410 pass_expired after its 60 s, 403 for other organizations'
    staff or a member who does not qualify, 409 when a limit is reached."""
    row = _find_pass(session, settings, body, staff)
    perk = get_perk(session, row.perk_id)
    try:
        membership_of(session, staff, perk.organization_id)
    except HTTPException:
        raise _error(403, "not_offering_organization", "Only staff of the organization offering this perk can "
                     "redeem it.", "この特典を提供する団体のスタッフのみ利用を受け付けられます。") from None
    if row.used_at is not None:
        raise _error(409, "already_redeemed", "This pass has already been used.", "このコードは使用済みです。")
    if row.expires_at < utcnow():
        raise _error(410, "pass_expired", "This pass has expired: ask the member to show the perk again.",
                     "コードの有効期限が切れました。もう一度表示してもらってください。")
    member = session.get(User, row.user_id)
    for _ in range(LIMIT_RETRIES):
        used, total = _usable(session, perk, member)
        spent = session.execute(update(PerkPass).where(PerkPass.id == row.id, PerkPass.used_at.is_(None))
                                .values(used_at=utcnow()))
        if spent.rowcount != 1:
            session.rollback()
            raise _error(409, "already_redeemed", "This pass has already been used.", "このコードは使用済みです。")
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
                raise _error(409, "already_redeemed", "This pass has already been used.",
                             "このコードは使用済みです。") from None
            continue
        used += 1
        return RedemptionPublic(id=redemption.id, perk_id=perk.id, title_ja=perk.title_ja, title_en=perk.title_en,
                                redeemed=used,
                                remaining=None if perk.limit_per_member is None else perk.limit_per_member - used,
                                created_at=redemption.created_at)
    raise _error(409, "perk_limit_reached", "This perk's limit was reached.", "この特典の利用上限に達しました。")


@router.get("/organizations/{organization_id}/reports/redemptions.csv", response_class=Response,
            responses={200: {"content": {"text/csv": {}}, "description": "CSV, UTF-8 with BOM"}, **errors(403)})
def redemptions_csv(organization_id: DbId, session: SessionDep, user: CurrentUser):
    """The organization's redemptions, for its own records (no member data beyond a pseudonymous member number)."""
    membership_of(session, user, organization_id)
    rows = session.execute(select(PerkRedemption, Perk).join(Perk, Perk.id == PerkRedemption.perk_id)
                           .where(Perk.organization_id == organization_id).order_by(PerkRedemption.id)).all()
    return _csv(f"organization-{organization_id}-redemptions",
                ["redemption", "perk", "title_ja", "title_en", "member", "redeemed_at"],
                [[r.id, p.id, p.title_ja, p.title_en, "" if r.user_id is None else r.user_id,
                  r.created_at.isoformat()] for r, p in rows])
