"""Publicity to residents' groups (filled in with the notify service)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["notices"])
