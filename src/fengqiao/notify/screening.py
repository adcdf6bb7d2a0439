"""Screening of notice text for personal data: messages to resident groups carry none.

Looks for identity-card numbers (any 18 characters of 17 digits and a digit or X,
whether the check digit fits or not: a mistyped number is still someone's), mobile
numbers (1[3-9] and nine digits, also written 138-1234-5678 or with +86) and landlines
with their area code (0731-8888 8888 style). Short service numbers such as the
anti-fraud hotline 96110, 110 or 12381 are not personal and pass. Full-width digits
(typed with a Chinese input method) are read as digits.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from fengqiao.i18n import _
from fengqiao.privacy import mask_id_number, mask_phone

_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])[0-9]{17}[0-9Xx](?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<![0-9])(?:\+?86[- ]?)?(1[3-9][0-9][- ]?[0-9]{4}[- ]?[0-9]{4})(?![0-9])")
_LANDLINE = re.compile(
    r"(?<![0-9])(?:[(（]0[0-9]{2,3}[)）]|0[0-9]{2,3})[- ]?([2-9][0-9]{2,3}[- ]?[0-9]{4})(?![0-9])"
)


@dataclass(frozen=True)
class Finding:
    kind: str  # "id_number", "mobile" or "landline"
    masked: str  # the number as it may be shown (masked)

    def describe(self) -> str:
        if self.kind == "id_number":
            return _("an ID-card number ({number})").format(number=self.masked)
        if self.kind == "mobile":
            return _("a mobile number ({number})").format(number=self.masked)
        return _("a landline number ({number})").format(number=self.masked)


def _digits(text: str) -> str:
    return re.sub(r"[^0-9Xx]", "", text)


def find_personal_data(text: str) -> list[Finding]:
    """Personal numbers found in ``text``, in order of kind; each shown masked."""
    plain = unicodedata.normalize("NFKC", text)
    found: list[Finding] = []
    for match in _ID_NUMBER.finditer(plain):
        found.append(Finding("id_number", mask_id_number(match.group(0).upper())))
    # Blank out ID numbers so that their digits are not read again as phone numbers.
    rest = _ID_NUMBER.sub(" ", plain)
    for match in _MOBILE.finditer(rest):
        found.append(Finding("mobile", mask_phone(_digits(match.group(1)))))
    rest = _MOBILE.sub(" ", rest)
    for match in _LANDLINE.finditer(rest):
        found.append(Finding("landline", mask_phone(_digits(match.group(0)))))
    return found


def personal_data_message(findings: list[Finding]) -> str:
    """The refusal naming what was found."""
    return _(
        "Messages to resident groups carry no personal data. Remove {found} and publish again."
    ).format(found="; ".join(f.describe() for f in findings))
