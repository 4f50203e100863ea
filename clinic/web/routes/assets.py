"""The widget's script and style sheet and the demo page's style sheet.

Plain files, no build step; served with ``no-cache`` so browsers revalidate
(ETag) and a new version is picked up at once.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from ..settings import WEB_ROOT

STATIC = WEB_ROOT / "static"
ASSETS = {
    "/widget.js": ("widget.js", "text/javascript; charset=utf-8"),
    "/widget.css": ("widget.css", "text/css; charset=utf-8"),
    "/site.css": ("site.css", "text/css; charset=utf-8"),
    "/staff.css": ("staff.css", "text/css; charset=utf-8"),
}


def _asset(filename: str, media_type: str):
    async def serve(request: Request) -> Response:
        return FileResponse(
            STATIC / filename, media_type=media_type, headers={"Cache-Control": "no-cache"}
        )

    return serve


routes = [
    Route(path, _asset(filename, media_type), name=filename)
    for path, (filename, media_type) in ASSETS.items()
]
