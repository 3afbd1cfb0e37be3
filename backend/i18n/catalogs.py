"""The compiled gettext catalogs (locales/<lang>/LC_MESSAGES/messages.mo, built by `make i18n-compile`).

A runtime without `make` still works: a catalog whose .mo is missing or older than its .po is compiled from the .po
in memory when first used."""

from __future__ import annotations

import functools
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALES_DIR = Path(__file__).parent / "locales"
DOMAIN = "messages"
TEMPLATE = Path(__file__).parent / "messages.pot"


def po_path(lang: str) -> Path:
    return LOCALES_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalog(lang: str) -> Catalog:
    with po_path(lang).open("rb") as po:
        return read_po(po, locale=lang, domain=DOMAIN)


@functools.cache
def translations(lang: str) -> Translations:
    po, mo = po_path(lang), po_path(lang).with_suffix(".mo")
    if mo.is_file() and mo.stat().st_mtime >= po.stat().st_mtime:
        return Translations.load(LOCALES_DIR, [lang], DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, read_catalog(lang))
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def all_texts(lang: str) -> dict[str, str]:
    """Every message of the language by id (a plural message: its last form), e.g. for a test that looks for the
    interface's strings on a page."""
    texts = {}
    for message in read_catalog(lang):
        if message.id:
            key = message.id if isinstance(message.id, str) else message.id[0]
            texts[key] = message.string if isinstance(message.string, str) else message.string[-1]
    return texts
