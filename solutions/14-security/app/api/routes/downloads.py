from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

from app.api.errors import problems
from app.core.config import settings
from app.core.security import secure

router = APIRouter(tags=["downloads"])

# The folder, resolved once: symlinks and .. gone, so paths compare by their components.
BASE = settings.DOWNLOADS_DIR.resolve()


@router.get(
    "/downloads/{name:path}",
    response_class=FileResponse,
    responses={200: {"content": {"application/octet-stream": {}}}, **problems(404)},
)
def download(name: str) -> FileResponse:
    """A file under the downloads folder: `ebooks/welcome.txt`, `invoices/...`."""
    # Resolve first (.., symlinks, an absolute name), then check where we landed: inside
    # BASE by whole path components (files_private/ is not inside files/).
    try:
        path = (BASE / name).resolve()
        found = path.is_relative_to(BASE) and path.is_file()
    except (OSError, ValueError):  # a NUL byte, a name too long
        found = False
    if not found:
        raise HTTPException(404, detail="No such file.")
    return secure(FileResponse(path))
