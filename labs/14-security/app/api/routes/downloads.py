import os

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

from app.api.errors import problems
from app.core.config import settings
from app.core.security import secure

router = APIRouter(tags=["downloads"])


@router.get(
    "/downloads/{name:path}",
    response_class=FileResponse,
    responses={200: {"content": {"application/octet-stream": {}}}, **problems(404)},
)
def download(name: str) -> FileResponse:
    """A file under the downloads folder: `ebooks/welcome.txt`, `invoices/...`."""
    # TODO: a name with ../ in it (or an absolute path) reaches files outside the
    # downloads folder: staff documents, the service's own code and secrets.
    path = os.path.join(settings.DOWNLOADS_DIR, name)
    if not os.path.isfile(path):
        raise HTTPException(404, detail="No such file.")
    return secure(FileResponse(path))
