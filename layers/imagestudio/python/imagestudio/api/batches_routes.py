"""Batches: POST batches (preview with dry_run, run now, or schedule), GET batches, GET batches/{id},
GET batches/{id}/items, POST batches/{id}/pause|resume|cancel, and the CSV templates per operation."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from pydantic import BaseModel, Field
from pydantic.json_schema import SkipJsonSchema

from imagestudio import API_PREFIX, download_path
from imagestudio.api.context import caller, ports
from imagestudio.api.views import Hidden
from imagestudio.batches import service
from imagestudio.batches.rows import column_docs, csv_template, request_models
from imagestudio.models.batches import Batch, BatchRowRecord, RowStatus
from imagestudio.models.records import utcnow
from imagestudio.store.blobs import BlobStore

router = Router()
Id = Annotated[str, Path(max_length=64)]


class BatchLinks(BaseModel):
    self: str
    items: str
    pause: str
    resume: str
    cancel: str


class BatchView(Batch):
    owner: SkipJsonSchema[str | None] = Hidden  # type: ignore[assignment]
    rows_key: SkipJsonSchema[str | None] = Hidden  # type: ignore[assignment]
    manifest_csv_key: SkipJsonSchema[str | None] = Hidden
    manifest_json_key: SkipJsonSchema[str | None] = Hidden
    execution: SkipJsonSchema[str | None] = Hidden
    done: int = 0
    percent: int = 0
    eta_seconds: int | None = Field(None, description="at the pace so far")
    manifest_csv_url: str | None = None
    manifest_json_url: str | None = None
    links: BatchLinks

    @classmethod
    def of(cls, batch: Batch, blobs: BlobStore) -> BatchView:
        done = batch.rows_ended
        eta = None
        if batch.status == "running" and batch.started_at and 0 < done < batch.total:
            elapsed = (utcnow() - batch.started_at).total_seconds()
            eta = int(elapsed / done * (batch.total - done))
        url = f"{API_PREFIX}/batches/{batch.id}"
        return cls(
            **batch.model_dump(),
            done=done,
            percent=int(100 * done / batch.total) if batch.total else 0,
            eta_seconds=eta,
            manifest_csv_url=blobs.download_url(batch.manifest_csv_key) if batch.manifest_csv_key else None,
            manifest_json_url=blobs.download_url(batch.manifest_json_key)
            if batch.manifest_json_key
            else None,
            links=BatchLinks(
                self=url,
                items=f"{url}/items",
                pause=f"{url}/pause",
                resume=f"{url}/resume",
                cancel=f"{url}/cancel",
            ),
        )


class Submitted(BaseModel):
    batch: BatchView | None = Field(None, description="absent for a dry run")
    preview: dict[str, Any]


class BatchPage(BaseModel):
    batches: list[BatchView]
    next_cursor: str | None


class RowView(BatchRowRecord):
    output_urls: list[str] = []


class RowPage(BaseModel):
    items: list[RowView]
    next_cursor: str | None


class Template(BaseModel):
    operation: str
    csv_url: str
    columns: list[dict[str, Any]]


class Templates(BaseModel):
    list_separator: str = "|"
    row_caps: dict[str, int]
    templates: list[Template]


@router.get(
    f"{API_PREFIX}/batches/templates",
    summary="The columns of each batch operation, with a CSV template for each",
    tags=["Batches"],
)
def templates() -> Templates:
    return Templates(
        row_caps=service.ROW_CAPS,
        templates=[
            Template(operation=op, csv_url=f"{API_PREFIX}/batches/templates/{op}", columns=column_docs(op))
            for op in request_models()
        ],
    )


@router.get(
    f"{API_PREFIX}/batches/templates/<operation>",
    summary="Download the CSV template of an operation",
    tags=["Batches"],
    responses={200: {"description": "text/csv", "content": {"text/csv": {}}}},
)
def template_csv(operation: Annotated[str, Path(max_length=40)]) -> Response[str]:
    return Response(
        status_code=200,
        content_type="text/csv; charset=utf-8",
        body=csv_template(operation),
        headers={"Content-Disposition": f'attachment; filename="batch-{operation}.csv"'},
    )


@router.post(
    f"{API_PREFIX}/batches",
    summary="Preview, run or schedule a batch of operations from a CSV or a list of items",
    description="Each row is one operation (column `operation`; the other columns are its request fields, "
    "see GET batches/templates). Every row is validated and priced before anything runs: bad rows are "
    "reported "
    "with their row, column and message (422), unless skip_invalid. dry_run=true answers the cost preview "
    "and whether your plan and balance allow it, charging nothing. Otherwise 202: the batch runs now, at "
    "schedule_at, or on a recurring schedule. Each row is charged only if it succeeds.",
    tags=["Batches"],
    responses={
        200: {"description": "dry run: the preview", "content": {"application/json": {"model": Submitted}}},
        202: {"description": "accepted", "content": {"application/json": {"model": Submitted}}},
    },
)
def submit(body: service.BatchRequest) -> Response[Submitted]:
    p = ports()
    batch, preview = service.submit(p, p.settings, caller(router).user_id, body)
    answer = Submitted(batch=BatchView.of(batch, p.blobs) if batch else None, preview=preview.as_dict())
    if batch is None:
        return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=answer)
    return Response(
        status_code=202,
        content_type=content_types.APPLICATION_JSON,
        body=answer,
        headers={"Location": f"{API_PREFIX}/batches/{batch.id}"},
    )


@router.get(f"{API_PREFIX}/batches", summary="Your batches, newest first", tags=["Batches"])
def list_batches(
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> BatchPage:
    p = ports()
    found, next_cursor = p.batches.page(caller(router).user_id, limit=limit, cursor=cursor)
    return BatchPage(batches=[BatchView.of(b, p.blobs) for b in found], next_cursor=next_cursor)


@router.get(
    f"{API_PREFIX}/batches/<batch_id>",
    summary="A batch: status, counts, ETA and, once ended, its manifest (CSV and JSON)",
    tags=["Batches"],
)
def get_batch(batch_id: Id) -> BatchView:
    p = ports()
    return BatchView.of(p.batches.get(caller(router).user_id, batch_id), p.blobs)


@router.get(
    f"{API_PREFIX}/batches/<batch_id>/items",
    summary="A batch's rows: status, outputs, charges and errors",
    tags=["Batches"],
)
def get_items(
    batch_id: Id,
    status: Annotated[RowStatus | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> RowPage:
    p = ports()
    p.batches.get(caller(router).user_id, batch_id)  # another user's batch is a 404
    rows, next_cursor = p.batches.rows(batch_id, limit=limit, cursor=cursor, status=status)
    return RowPage(
        items=[RowView(**r.model_dump(), output_urls=[download_path(a) for a in r.outputs]) for r in rows],
        next_cursor=next_cursor,
    )


@router.post(
    f"{API_PREFIX}/batches/<batch_id>/pause",
    summary="Pause a scheduled or running batch (rows already running finish)",
    tags=["Batches"],
)
def pause(batch_id: Id) -> BatchView:
    p = ports()
    return BatchView.of(service.pause(p, caller(router).user_id, batch_id), p.blobs)


@router.post(
    f"{API_PREFIX}/batches/<batch_id>/resume",
    summary="Resume a paused batch: its remaining rows run (a schedule waits for its next time)",
    tags=["Batches"],
)
def resume(batch_id: Id) -> BatchView:
    p = ports()
    return BatchView.of(service.resume(p, p.settings, caller(router).user_id, batch_id), p.blobs)


@router.post(
    f"{API_PREFIX}/batches/<batch_id>/cancel",
    summary="Cancel a batch: rows not started never run, running ones are cancelled and refunded",
    tags=["Batches"],
)
def cancel(batch_id: Id) -> BatchView:
    p = ports()
    return BatchView.of(service.cancel(p, p.settings, caller(router).user_id, batch_id), p.blobs)
