"""Shared bits of the public API routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from cronium_app.api.deps import CurrentUser, current_user, settings_dep
from cronium_app.settings import Settings

UserDep = Annotated[CurrentUser, Depends(current_user)]
SettingsDep = Annotated[Settings, Depends(settings_dep)]

MAX_PAGE = 200
