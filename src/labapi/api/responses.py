"""JSON responses rendered with orjson (fast, and exact for datetimes and UUIDs)."""

from typing import Any

import orjson
from starlette.responses import JSONResponse


class ORJSONResponse(JSONResponse):
    """`application/json` rendered by orjson."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


class ProblemResponse(ORJSONResponse):
    """RFC 9457 problem details."""

    media_type = "application/problem+json"
