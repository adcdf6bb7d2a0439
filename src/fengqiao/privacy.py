"""Masking of personal numbers for display. Unmasked values never reach a page by default."""

from __future__ import annotations


def mask_phone(phone: str | None) -> str:
    """``13812345678`` → ``138****5678``."""
    if not phone:
        return ""
    if len(phone) >= 11:
        return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
    # Landlines and short numbers: at most the last quarter stays visible.
    keep = len(phone) // 4
    return "*" * (len(phone) - keep) + (phone[-keep:] if keep else "")


def mask_name(name: str | None) -> str:
    """``张三丰`` → ``张**``: the family name stays, the given name is hidden."""
    if not name:
        return ""
    return name[0] + "*" * (len(name) - 1)


def mask_id_number(number: str | None) -> str:
    """``420102199001011234`` → ``420***********1234``: region class and last four only."""
    if not number:
        return ""
    if len(number) <= 7:
        return "*" * len(number)
    return number[:3] + "*" * (len(number) - 7) + number[-4:]
