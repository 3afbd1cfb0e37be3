"""The catalogs are complete: every message the code uses (extracted as `make i18n-extract` does) has a Japanese and
an English text, and the runtime reads them compiled or, without `make`, straight from the .po files.

No compiled catalogs are needed to run these tests: backend/i18n compiles a .po in memory when its .mo is missing or
older (catalogs.translations); one test compiles with pybabel itself into a temporary directory."""

from __future__ import annotations

import string
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po
from babel.support import Translations

from backend.i18n import LANGUAGES, catalogs

ROOT = Path(__file__).resolve().parents[2]
I18N = ROOT / "backend" / "i18n"


def pybabel(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "-q", *args], cwd=ROOT, check=True)


def key(message) -> str:
    return message.id if isinstance(message.id, str) else message.id[0]


def untranslated(template_path: Path) -> dict[str, list[str]]:
    """For each language, the msgids of the template that its catalog lacks, leaves empty or marks fuzzy."""
    with template_path.open("rb") as pot:
        wanted = {key(m) for m in read_po(pot) if m.id}
    missing = {}
    for lang in LANGUAGES:
        catalog = catalogs.read_catalog(lang)
        problems = []
        for msgid in sorted(wanted):
            message = catalog.get(msgid)
            forms = (message.string,) if message is not None and isinstance(message.string, str) else (
                message.string if message is not None else ())
            if message is None or message.fuzzy or not forms or not all(forms):
                problems.append(msgid)
        missing[lang] = problems
    return missing


def test_every_message_of_the_template_is_translated_in_both_languages():
    assert untranslated(I18N / "messages.pot") == {lang: [] for lang in LANGUAGES}


def test_the_check_catches_a_missing_translation(tmp_path, monkeypatch):
    """The test above would fail: a template message that one catalog lacks is reported."""
    template = tmp_path / "messages.pot"
    template.write_bytes((I18N / "messages.pot").read_bytes() + b'\nmsgid "no_such_text_yet"\nmsgstr ""\n')
    assert untranslated(template) == {lang: ["no_such_text_yet"] for lang in LANGUAGES}


def test_every_message_the_code_uses_is_in_both_catalogs(tmp_path):
    """Extraction as `make i18n-extract` runs it (babel.cfg): a new t("x") in a template, tn("x", n), texts("x") in the
    web routes, or a new error code raised as DomainError("x") fails here until both catalogs have its text."""
    extracted = tmp_path / "messages.pot"
    pybabel("extract", "-F", str(I18N / "babel.cfg"), "--no-location", "-o", str(extracted), "backend")
    with extracted.open("rb") as pot:
        assert len([m for m in read_po(pot) if m.id]) > 250  # the templates, the routes and the error codes were read
    assert untranslated(extracted) == {lang: [] for lang in LANGUAGES}


def test_plural_messages_are_plural_in_both_catalogs_and_japanese_has_one_form():
    ja, en = catalogs.read_catalog("ja"), catalogs.read_catalog("en")
    assert (ja.num_plurals, en.num_plurals) == (1, 2)
    assert ja.plural_expr == "0"
    plural_ids = {key(m) for m in en if m.pluralizable}
    assert plural_ids >= {"points_unit", "perk_used", "perk_remaining", "claims_count"}
    assert plural_ids == {key(m) for m in ja if m.pluralizable}
    assert all(len(ja[msgid].string) == 1 and len(en[msgid].string) == 2 for msgid in plural_ids)


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_both_languages_fill_the_same_fields():
    """Message ids are keys, so Babel cannot flag `{name}` fields (python-brace-format) from them: this does instead.
    An English singular may leave its count out ("used once")."""
    ja, en = catalogs.read_catalog("ja"), catalogs.read_catalog("en")
    for message in en:
        if not message.id:
            continue
        english = message.string if isinstance(message.string, tuple) else (message.string,)
        japanese = ja[key(message)].string
        japanese = japanese if isinstance(japanese, tuple) else (japanese,)
        assert set().union(*map(fields, japanese)) == set().union(*map(fields, english)), key(message)


def test_the_compiled_catalogs_give_the_texts_of_the_po_files(tmp_path):
    for lang in LANGUAGES:
        compiled = tmp_path / lang / "LC_MESSAGES" / "messages.mo"
        compiled.parent.mkdir(parents=True)
        pybabel("compile", "-i", str(catalogs.po_path(lang)), "-o", str(compiled), "-l", lang)
        from_mo = Translations.load(tmp_path, [lang], "messages")
        from_po = catalogs.translations.__wrapped__(lang)
        assert from_mo.gettext("nav_home") == from_po.gettext("nav_home") != "nav_home"
        assert from_mo.ngettext("points_unit", "points_unit", 2) == from_po.ngettext("points_unit", "points_unit", 2)


def test_without_compiled_catalogs_the_po_files_are_read(tmp_path, monkeypatch):
    for lang in LANGUAGES:
        copy = tmp_path / lang / "LC_MESSAGES" / "messages.po"
        copy.parent.mkdir(parents=True)
        copy.write_bytes(catalogs.po_path(lang).read_bytes())
    monkeypatch.setattr(catalogs, "LOCALES_DIR", tmp_path)
    assert catalogs.translations.__wrapped__("ja").gettext("nav_home") == "イベント"
    assert catalogs.translations.__wrapped__("en").ngettext("points_unit", "points_unit", 1) == "{n} point"


def test_all_texts_gives_each_language_by_message_id():
    ja, en = catalogs.all_texts("ja"), catalogs.all_texts("en")
    assert set(ja) == set(en)
    assert (ja["nav_home"], en["nav_home"]) == ("イベント", "Events")
    assert en["points_unit"] == "{n} points"


def test_the_package_needs_neither_the_web_framework_nor_the_rest_of_the_backend():
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, backend.i18n; print(' '.join(sorted(sys.modules)))"],
        cwd=ROOT, check=True, capture_output=True, text=True).stdout.split()
    assert not [name for name in loaded if name.split(".")[0] in ("fastapi", "starlette", "sqlalchemy")]
    assert [name for name in loaded if name.startswith("backend.") and not name.startswith("backend.i18n")] == []
