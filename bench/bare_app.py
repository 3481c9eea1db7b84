"""The baseline of bench/server.py: a bare FastAPI endpoint with the same pydantic request body as
the real `POST /execute` and no ML, so a ratio against it shows what mlpy itself costs.

    uvicorn bench.bare_app:app
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, Field

app = FastAPI()


class ExecuteBody(BaseModel):
    code: str = Field(min_length=1, max_length=100_000)
    timeout: float = Field(5.0, gt=0, le=30)
    context: dict[str, Any] | None = None


@app.post("/execute")
async def execute(body: ExecuteBody) -> dict[str, Any]:
    return {"success": True, "value": 4, "stdout": "", "error": None,
            "execution_time": 0.0}


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}
