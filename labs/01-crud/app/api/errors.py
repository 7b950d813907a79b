from fastapi import Request
from fastapi.responses import JSONResponse


# TODO: clients get errors in several shapes: this one, FastAPI's {"detail": ...} for a
# 404, a list of field errors for a 422. They have to guess which one they are reading.
async def debug_exception_handler(request: Request, exc: Exception) -> JSONResponse:
    # Added so the frontend team can see what went wrong without asking for server logs.
    # TODO: the client sees whatever the exception says, SQL statements included.
    return JSONResponse(
        status_code=500,
        content={"error": type(exc).__name__, "detail": str(exc)},
    )
