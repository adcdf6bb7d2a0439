"""Checks of the message catalogues in src/fengqiao/locale.

zh_CN is the default language and must translate every message of the template;
English is the message id itself, so the ``en`` catalogue stays untranslated.
The compiled .mo files are committed and must match their .po files.
"""

from __future__ import annotations

import gettext
import string
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).resolve().parent.parent / "src" / "fengqiao" / "locale"
DOMAIN = "messages"
TEMPLATE = LOCALE_DIR / f"{DOMAIN}.pot"
LANGUAGES = ["zh_CN", "en"]

Placeholder = tuple[str, str, str | None]  # field name, format spec, conversion


def _po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def _mo_path(lang: str) -> Path:
    return _po_path(lang).with_suffix(".mo")


def _read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as f:
        return read_po(f, locale=locale)


def _ids(catalog: Catalog) -> set[str]:
    return {m.id for m in catalog if m.id}


def _placeholders(text: str) -> set[Placeholder]:
    return {
        (field, spec or "", conversion)
        for _literal, field, spec, conversion in string.Formatter().parse(text)
        if field is not None
    }


@pytest.fixture(scope="module")
def template_ids() -> set[str]:
    ids = _ids(_read(TEMPLATE))
    assert ids, f"{TEMPLATE} holds no messages"
    return ids


@pytest.fixture(scope="module")
def zh_cn() -> Catalog:
    return _read(_po_path("zh_CN"), "zh_CN")


def test_zh_cn_translates_every_template_message(template_ids: set[str], zh_cn: Catalog) -> None:
    assert not zh_cn.fuzzy, "the zh_CN catalogue header is marked fuzzy"
    missing = sorted(template_ids - _ids(zh_cn))
    assert not missing, f"not in zh_CN/messages.po (run pybabel update): {missing}"
    untranslated = sorted(i for i in template_ids if not zh_cn[i].string)
    assert not untranslated, f"no zh_CN translation: {untranslated}"
    fuzzy = sorted(i for i in template_ids if zh_cn[i].fuzzy)
    assert not fuzzy, f"fuzzy zh_CN entries: {fuzzy}"
    obsolete = sorted(zh_cn.obsolete)
    assert not obsolete, f"obsolete zh_CN entries left in the .po: {obsolete}"


def test_en_catalogue_follows_template_and_falls_back_to_msgid(template_ids: set[str]) -> None:
    en = _read(_po_path("en"), "en")
    assert _ids(en) == template_ids, "en/messages.po is out of step with messages.pot"
    translated = sorted(m.id for m in en if m.id and m.string)
    assert not translated, f"en msgstr must stay empty (the msgid is the English): {translated}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_translations_keep_the_placeholders(lang: str) -> None:
    wrong = []
    for message in _read(_po_path(lang), lang):
        if not message.id or not message.string:
            continue
        assert isinstance(message.id, str), f"unexpected plural entry {message.id!r}"
        try:
            expected = _placeholders(message.id)
            actual = _placeholders(str(message.string))
        except ValueError as exc:  # unbalanced braces and the like
            wrong.append(f"{message.id!r}: {exc}")
            continue
        if actual != expected:
            wrong.append(
                f"{message.id!r} -> {message.string!r}: "
                f"missing {sorted(expected - actual, key=str)}, "
                f"extra {sorted(actual - expected, key=str)}"
            )
    assert not wrong, "placeholders differ:\n" + "\n".join(wrong)


def test_placeholder_parser_sees_spec_and_conversion() -> None:
    assert _placeholders("{value!r} at {pct:.0f} %, {n}") == {
        ("value", "", "r"),
        ("pct", ".0f", None),
        ("n", "", None),
    }
    assert _placeholders("{pct} %") != _placeholders("{pct:.0f} %")


def _mo_messages(path: Path) -> tuple[dict[object, str], dict[str, str]]:
    with path.open("rb") as f:
        translations = gettext.GNUTranslations(f)
    catalog = dict(translations._catalog)  # the messages GNUTranslations looks up
    header = catalog.pop("", "")
    info = {k: v for k, v in translations.info().items() if k != "generated-by"}
    assert header, f"{path} has no header entry"
    return catalog, info


@pytest.mark.parametrize("lang", LANGUAGES)
def test_committed_mo_is_up_to_date(lang: str, tmp_path: Path) -> None:
    committed = _mo_path(lang)
    assert committed.is_file(), f"{committed} missing: run pybabel compile"
    fresh = tmp_path / f"{DOMAIN}.mo"
    with fresh.open("wb") as f:
        write_mo(f, _read(_po_path(lang), lang))
    fresh_messages, fresh_info = _mo_messages(fresh)
    committed_messages, committed_info = _mo_messages(committed)
    stale = sorted(
        str(k)
        for k in fresh_messages.keys() | committed_messages.keys()
        if fresh_messages.get(k) != committed_messages.get(k)
    )
    assert not stale, (
        f"{committed} is stale for {len(stale)} message(s), e.g. {stale[:5]}; "
        "run: pybabel compile -d src/fengqiao/locale -D messages"
    )
    assert committed_info == fresh_info, f"{committed} header differs from its .po"


def test_gettext_reads_the_zh_cn_catalogue() -> None:
    zh = gettext.translation(DOMAIN, localedir=LOCALE_DIR, languages=["zh_CN"])
    assert zh.gettext("Log in") == "登录"
    assert zh.gettext("Police grids") == "警格"
    en = gettext.translation(DOMAIN, localedir=LOCALE_DIR, languages=["en"])
    assert en.gettext("Log in") == "Log in"
