"""Checks of personal numbers: identity-card numbers (GB 11643) and phone numbers."""

from __future__ import annotations

import re

from fengqiao.i18n import _

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_ID18 = re.compile(r"^\d{17}[\dX]$")
_ID15 = re.compile(r"^\d{15}$")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}\d{7,8}$")


def check_character(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character of the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def normalise_id_number(value: str) -> str:
    """A valid identity-card number (also HK/Macau/Taiwan residence permits and the 2023
    foreign permanent-resident card, which use the same check), upper-case X; old
    15-digit numbers pass without a check. Raises ValueError with the reason."""
    text = value.strip().replace(" ", "").upper()
    if _ID15.match(text):
        return text
    if not _ID18.match(text):
        raise ValueError(
            _("The identity-card number must have 18 characters (17 digits and a digit or X).")
        )
    birth = text[6:14]
    if not (
        "1900" <= birth[:4] <= "2100" and "01" <= birth[4:6] <= "12" and "01" <= birth[6:] <= "31"
    ):
        raise ValueError(
            _("The identity-card number holds no valid date of birth ({birth}).").format(
                birth=birth
            )
        )
    if check_character(text[:17]) != text[17]:
        raise ValueError(
            _("The identity-card number's check character is wrong: please check each digit.")
        )
    return text


def normalise_phone(value: str) -> str:
    """Digits of a mainland mobile (11 digits) or landline with area code; +86 and
    separators dropped. Raises ValueError with the reason."""
    text = re.sub(r"[\s\-()（）]", "", value.strip())
    if text.startswith("+86"):
        text = text[3:]
    elif text.startswith("0086"):
        text = text[4:]
    if _MOBILE.match(text) or _LANDLINE.match(text):
        return text
    raise ValueError(
        _(
            "“{phone}” is not a phone number: give an 11-digit mobile (e.g. 13812345678) "
            "or a landline with its area code (e.g. 027-82345678)."
        ).format(phone=value.strip())
    )
