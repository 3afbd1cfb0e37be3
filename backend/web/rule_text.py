"""A perk's or mission's eligibility rule as a sentence in the page's language."""

from __future__ import annotations

from backend.events.models import Event
from backend.i18n import Translator
from backend.perks.schemas import RuleSpec


def describe_rule(texts: Translator, rule: dict, titles: dict[int, Event]) -> str:
    """`titles`: the events the rule names (perks.service.rule_events); one that no longer exists is left out."""
    spec = RuleSpec.model_validate(rule)
    if spec.kind == "category":
        text = texts("rule_category", n=spec.min_badges, category=texts.category(spec.category))
    else:
        names = "、".join if texts.lang == "ja" else ", ".join
        events_named = names(texts.pick(titles[i].title_ja, titles[i].title_en) for i in spec.event_ids if i in titles)
        text = (texts("rule_all", events=events_named) if spec.kind == "all_events"
                else texts("rule_any", n=spec.min_badges, events=events_named))
    return text + (texts("rule_orgs", m=spec.min_organizations) if spec.min_organizations > 1 else "")
