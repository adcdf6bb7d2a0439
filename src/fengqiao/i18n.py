"""Message catalogues (gettext, compiled with Babel) and the current language.

Message ids are English; ``zh_CN`` is the default language. The current language
is held in a context variable so that services, templates and the CLI share it.
"""

from __future__ import annotations

import gettext as _gettext
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path

from fengqiao.config import LANGUAGES, Language

LOCALE_DIR = Path(__file__).parent / "locale"
DEFAULT_LANGUAGE: Language = "zh_CN"
_current: ContextVar[Language] = ContextVar("fengqiao_language", default=DEFAULT_LANGUAGE)


@cache
def translations(language: Language) -> _gettext.NullTranslations:
    return _gettext.translation(
        "messages", localedir=str(LOCALE_DIR), languages=[language], fallback=True
    )


def current_language() -> Language:
    return _current.get()


def set_language(language: Language) -> None:
    _current.set(language)


@contextmanager
def language(lang: Language) -> Iterator[None]:
    token = _current.set(lang)
    try:
        yield
    finally:
        _current.reset(token)


def parse_language(value: str | None) -> Language | None:
    if not value:
        return None
    value = value.replace("-", "_")
    for lang in LANGUAGES:
        if value.lower() == lang.lower() or value.lower().startswith(lang.split("_")[0].lower()):
            return lang
    return None


def gettext(message: str) -> str:
    return translations(current_language()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current_language()).ngettext(singular, plural, n)


_ = gettext


def N_(message: str) -> str:  # gettext's conventional name for "mark only"
    """Mark a string for extraction; it is translated later, where it is shown."""
    return message
