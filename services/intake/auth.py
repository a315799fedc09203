"""intake's context for route handlers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from services.intake.context import Intake


async def _intake(request: Request) -> Intake:
    intake: Intake = request.app.state.intake
    return intake


IntakeContext = Annotated[Intake, Depends(_intake)]
