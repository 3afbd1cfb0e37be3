"""Eligibility rules of perks and missions, evaluated against badge_holdings: what the indexer saw on chain, never a
claim that is still on its way."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.claims.models import BadgeHolding
from backend.events.models import Event
from backend.missions.models import Mission
from backend.perks.schemas import ProgressPublic, RuleSpec


def progress(session: Session, address: str, rule: dict | RuleSpec) -> ProgressPublic:
    spec = rule if isinstance(rule, RuleSpec) else RuleSpec.model_validate(rule)
    held = (select(Event.id, Event.organization_id)
            .join(BadgeHolding, BadgeHolding.token_id == Event.token_id).where(BadgeHolding.holder == address))
    if spec.kind == "category":
        # a mission badge is not a participation: counting it would let one mission complete the next
        held = held.where(Event.category == spec.category, Event.id.not_in(select(Mission.event_id)))
        needed = spec.min_badges
    else:
        held = held.where(Event.id.in_(spec.event_ids))
        needed = len(spec.event_ids) if spec.kind == "all_events" else spec.min_badges
    rows = session.execute(held).all()
    badges, organizations = len(rows), len({org for _, org in rows})
    return ProgressPublic(eligible=badges >= needed and organizations >= spec.min_organizations, badges=badges,
                          badges_needed=needed, organizations=organizations,
                          organizations_needed=spec.min_organizations)


def unknown_events(session: Session, spec: RuleSpec) -> list[int]:
    """Event ids of the rule that do not exist (a typo would make a perk nobody can ever use)."""
    if not spec.event_ids:
        return []
    known = set(session.scalars(select(Event.id).where(Event.id.in_(spec.event_ids))).all())
    return [i for i in spec.event_ids if i not in known]
