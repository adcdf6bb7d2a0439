"""API shapes for accounts."""

from __future__ import annotations

from pydantic import BaseModel, Field

from fengqiao.accounts.models import Role


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="Idle seconds before the token expires")


class UserOut(BaseModel):
    id: int
    username: str
    role: Role
    station_id: int | None
    person_id: int | None
    is_active: bool


class MeOut(UserOut):
    scope_station_ids: list[int] | None
    scope_grid_ids: list[int] | None


class UserCreate(BaseModel):
    username: str
    password: str
    role: Role
    station_code: str | None = None
    personnel_no: str | None = None


class PasswordChange(BaseModel):
    current_password: str | None = None
    new_password: str
