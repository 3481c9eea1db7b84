from __future__ import annotations

import math

from fastapi import APIRouter, HTTPException, Query, Request

from ..deps import (check_query, get_state, json_response, run_guarded, tenant_of,
                    validation_error)
from ..models import CalculateResponse, ErrorDetail
from .execute import COMMON_ERRORS

router = APIRouter(tags=["calculate"])

# each operation is an ML program over the context variables a and b
OPERATIONS = {
    "add": "result = a + b;",
    "subtract": "result = a - b;",
    "multiply": "result = a * b;",
    "divide": "result = a / b;",
    "power": "import math;\nresult = math.pow(a, b);",
}


@router.get("/calculate", response_model=CalculateResponse,
            responses={**COMMON_ERRORS,
                       400: {"model": ErrorDetail, "description": "unknown operation, or the "
                                                                  "ML code failed (e.g. division "
                                                                  "by zero)"}},
            summary="A predefined operation on a and b, computed by ML code")
async def calculate(
    request: Request,
    operation: str = Query(..., description="add, subtract, multiply, divide or power "
                                            "(anything else: 400)",
                           examples=["add"], json_schema_extra={"enum": list(OPERATIONS)}),
    a: int | float = Query(..., description="first operand", examples=[10]),
    b: int | float = Query(..., description="second operand", examples=[5]),
):
    state = get_state(request)
    check_query(request, {"operation", "a", "b"})
    for name, value in (("a", a), ("b", b)):
        if isinstance(value, float) and not math.isfinite(value):
            raise validation_error(("query", name), "must be a finite number", str(value),
                                   "finite_number")
    code = OPERATIONS.get(operation)
    if code is None:
        raise HTTPException(400, f"Unknown operation '{operation}'. Supported operations: "
                                 f"{', '.join(OPERATIONS)}")
    executor = state.executor
    result = await run_guarded(state, "calculate", lambda: executor.execute(
        code, timeout=5.0, context={"a": a, "b": b}), tenant=tenant_of(request),
        request=request)
    value = result.value
    if result.success and isinstance(value, float) and not math.isfinite(value):
        state.record_execution("calculate", "unserialisable", result.execution_time)
        kind = "not a number (nan)" if math.isnan(value) else f"{value} (it overflowed)"
        raise HTTPException(400, f"{operation}({a}, {b}) is {kind}: a JSON reply cannot "
                                 f"carry a number that is not finite")
    body = await state.render("calculate", result)
    if not body["success"]:
        raise HTTPException(400, body["error"])
    return json_response({"operation": operation, "a": a, "b": b, "result": body["value"],
                          "execution_time_ms": round(body["execution_time"] * 1000, 3)})
