from typing import Annotated
from uuid import uuid4

from fastapi import APIRouter, HTTPException, Path, Request, Response
from fastapi.responses import PlainTextResponse
from rq.job import Job, JobStatus

from app import jobs
from app.api.errors import problems
from app.core import queues
from app.models import ReportRequest, ReportStatus

router = APIRouter(prefix="/reports", tags=["reports"])

# What an id can be: rq refuses to look up a job id with other characters.
ReportId = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


@router.post("", status_code=202, response_model=ReportStatus, responses=problems())
def start_report(report_in: ReportRequest, request: Request, response: Response):
    """Start an export; the answer says where to follow its progress."""
    report_id = uuid4().hex
    # TODO: the status link of a new report answers 404.
    queues.reports.enqueue(jobs.build_report, report_in.month, result_ttl=3600)
    status_url = str(request.url_for("report_status", report_id=report_id))
    response.headers["Location"] = status_url
    return ReportStatus(id=report_id, status="queued", status_url=status_url)


def _job(report_id: str) -> Job:
    job = queues.reports.fetch_job(report_id)
    if job is None:
        raise HTTPException(status_code=404, detail=f"No report {report_id}.")
    return job


@router.get(
    "/{report_id}", name="report_status", response_model=ReportStatus, responses=problems(404)
)
def report_status(report_id: ReportId, request: Request):
    job = _job(report_id)
    status = job.get_status()
    body = ReportStatus(
        id=report_id,
        status=status.value if status else "unknown",
        status_url=str(request.url_for("report_status", report_id=report_id)),
    )
    if status == JobStatus.FINISHED:
        body.result_url = str(request.url_for("report_csv", report_id=report_id))
    elif status == JobStatus.FAILED:
        result = job.latest_result()
        trace = result.exc_string if result and result.exc_string else ""
        body.error = trace.strip().splitlines()[-1] if trace.strip() else "the job failed"
    return body


@router.get(
    "/{report_id}/csv",
    name="report_csv",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/csv": {}}}, **problems(404, 409)},
)
def report_csv(report_id: ReportId) -> PlainTextResponse:
    job = _job(report_id)
    if job.get_status() != JobStatus.FINISHED:
        raise HTTPException(status_code=409, detail="The report is not ready yet.")
    return PlainTextResponse(job.return_value() or "", media_type="text/csv")
