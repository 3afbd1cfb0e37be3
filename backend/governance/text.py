"""A proposal's official text: kept off chain in full, bound to the chain by its SHA-256 in the description.

The on-chain description carries the titles, the hash of the canonical text and OpenZeppelin's `#proposer=` suffix
(only that address can submit this description, so nobody can front-run a member's proposal). Anyone can check the
text: take `GET /api/proposals/{id}/text`, hash its `canonical` string with SHA-256 and compare with the description
in the governor's ProposalCreated event.
"""

from __future__ import annotations

import hashlib
import json

HASH_LABEL = "Kyoso-Text-SHA256"


def canonical_text(title_ja: str, title_en: str, body_ja: str, body_en: str) -> str:
    """UTF-8 JSON with sorted keys and no spaces: the same bytes wherever it is recomputed."""
    return json.dumps({"body_en": body_en, "body_ja": body_ja, "title_en": title_en, "title_ja": title_ja},
                      ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def text_sha256(title_ja: str, title_en: str, body_ja: str, body_en: str) -> str:
    return hashlib.sha256(canonical_text(title_ja, title_en, body_ja, body_en).encode()).hexdigest()


def description(title_ja: str, title_en: str, digest: str, proposer: str) -> str:
    # The proposer suffix must end the description exactly (Governor._isValidDescriptionForProposer).
    return f"# {title_ja} / {title_en}\n\n{HASH_LABEL}: {digest}\n\n#proposer={proposer}"


def titles_from_description(text: str) -> tuple[str, str]:
    """Best-effort titles for a proposal made on chain without the API (its first line)."""
    first = text.strip().splitlines()[0] if text.strip() else "(no description)"
    first = first.lstrip("# ").strip()[:200]
    if " / " in first:
        ja, en = first.split(" / ", 1)
        return ja[:200], en[:200]
    return first, first
