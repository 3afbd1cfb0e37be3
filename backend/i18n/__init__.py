"""Japanese and English for Kyoso: the language of a request, the gettext catalogs (Babel) with plural rules, dates
and numbers as each language writes them (in Japan time), and the text of each error code.

Pure Babel and the standard library: the web app and the API both use it, neither is imported here. Message ids are
keys (`nav_home`, `points_unit`, an error code); the texts live in locales/<lang>/LC_MESSAGES/messages.po, and
`make i18n-extract i18n-update i18n-compile` keeps them in step with the code (babel.cfg says what is extracted).
"""

from backend.i18n.catalogs import all_texts
from backend.i18n.error_messages import error_message
from backend.i18n.languages import DEFAULT_LANGUAGE, LANG_COOKIE, LANGUAGES, TIMEZONE
from backend.i18n.negotiation import accepted_languages, language_of
from backend.i18n.translator import Translator, translator

__all__ = [
    "DEFAULT_LANGUAGE", "LANG_COOKIE", "LANGUAGES", "TIMEZONE", "Translator", "accepted_languages", "all_texts",
    "error_message", "language_of", "translator",
]
