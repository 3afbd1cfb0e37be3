"""Rows the service tests start from, made directly with the models (what the other domains' services or the indexer
would have stored)."""

from __future__ import annotations

import itertools
import os
from datetime import timedelta

from sqlalchemy.orm import Session

from backend.accounts.models import User, WalletKind
from backend.claims.models import BadgeHolding
from backend.events.models import Event
from backend.organizations.models import Membership, Organization, OrganizationStatus, Role
from backend.platform.orm import utcnow

_numbers = itertools.count(1)


def make_user(session: Session, *, email: str | None = "", organization: Organization | None = None,
              role: Role = Role.organizer, verified: bool = True, sponsor: bool = False) -> User:
    """A custodial member (a unique e-mail unless one is given; None: no e-mail), a member of `organization`; its
    address confirmed unless `verified` is False; one of the sponsor's accounts if `sponsor`."""
    n = next(_numbers)
    email = f"u{n}@example.org" if email == "" else email
    row = User(email=email, wallet_address=f"0x{n:040x}", wallet_kind=WalletKind.custodial, is_sponsor=sponsor,
               email_verified_at=utcnow() if verified and email is not None else None)
    session.add(row)
    session.flush()
    if organization is not None:
        session.add(Membership(organization_id=organization.id, user_id=row.id, role=role))
    session.commit()
    return row


def make_organization(session: Session, *,
                      status: OrganizationStatus = OrganizationStatus.approved) -> Organization:
    """An organization a steward approved (by default): its badges can be claimed."""
    n = next(_numbers)
    row = Organization(name_ja=f"団体{n}", name_en=f"Org {n}", issuer_address=f"0x{n:040x}", issuer_key=b"sealed",
                       status=status)
    session.add(row)
    session.commit()
    return row


def make_event(session: Session, organization: Organization, *, category: str = "festival") -> Event:
    """An event on chain (it has a token id) whose claim window is open for two hours."""
    now = utcnow()
    row = Event(organization_id=organization.id, title_ja="祭り", title_en="Festival", category=category,
                starts_at=now, ends_at=now + timedelta(hours=2), claim_start=now, claim_end=now + timedelta(hours=2),
                points=10, token_id=next(_numbers), kiosk_seed=os.urandom(32))
    session.add(row)
    session.commit()
    return row


def give_badges(session: Session, member: User, *events: Event) -> None:
    """The indexer saw the member's badges of `events` on chain."""
    for event in events:
        session.add(BadgeHolding(holder=member.wallet_address, token_id=event.token_id, block_number=1,
                                 tx_hash="0x00"))
    session.commit()
