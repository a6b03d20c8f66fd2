"""The REST endpoints beside the OpenAI ones: search, and the documents of a collection
(list, upload through the ingestion pipeline, delete). ``collection`` defaults to
``RAG_COLLECTION``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from api.errors import error_response
from api.openai_compat import service_of
from application.service import document_id
from application.wire import hit_json

router = APIRouter(prefix="/v1", tags=["Search and documents"])
health = APIRouter(tags=["Operations"])

COLLECTION = Query(None, description="the collection (default: RAG_COLLECTION)")


class SearchRequest(BaseModel):
    query: str = Field(min_length=1, max_length=10_000)
    k: int | None = Field(None, ge=1, le=100, description="hits to return (RAG_TOP_K)")
    mode: str | None = Field(None, description="dense | bm25 | hybrid [+mmr] [+rerank]")
    label: str | None = Field(None, description="only documents so labelled (rag classify)")
    collection: str | None = Field(None, description="the collection (RAG_COLLECTION)")


@health.get("/health", summary="Liveness: the server is up and its model loaded")
def alive() -> dict[str, str]:
    return {"status": "ok"}


@router.post("/search", summary="Ranked passages, as `rag search --json` gives them")
def search(body: SearchRequest, request: Request) -> dict[str, Any]:
    service = service_of(request)
    hits = service.search(
        body.query, collection=body.collection, k=body.k, mode=body.mode, label=body.label
    )
    name = service.settings_for(body.collection).store.collection
    return {"collection": name, "hits": [hit_json(h) for h in hits]}


@router.get("/documents", summary="The documents of a collection")
def list_documents(request: Request, collection: str | None = COLLECTION) -> dict[str, Any]:
    service = service_of(request)
    name = service.settings_for(collection).store.collection
    return {"collection": name, "documents": service.documents(collection)}


@router.post("/documents", status_code=201, summary="Upload and ingest files")
async def upload_documents(
    request: Request,
    file: list[UploadFile] = File(description="PDF, Markdown or text files"),  # noqa: B008
    collection: str | None = COLLECTION,
) -> Any:
    """Each file is checked as the app checks uploads (name, size up to RAG_MAX_UPLOAD_MB,
    type by content): one bad file refuses the request and nothing is stored. The files are
    saved under RAG_STORE_DIR/uploads and ingested through the pipeline, under the store's
    writer lock. 422 when no file could be ingested."""
    service = service_of(request)
    files = [(f.filename or "upload", await f.read()) for f in file]
    report, sources = await run_in_threadpool(service.upload, files, collection=collection)
    ingested = len(report.added) + len(report.updated) + len(report.unchanged)
    if not ingested:
        reasons = "; ".join(f"{Path(e.path).name}: {e.reason}" for e in report.errors)
        return error_response(422, f"No file could be ingested: {reasons}", code="invalid_file")
    name = service.settings_for(collection).store.collection
    documents = [{"id": document_id(s), "name": Path(s).name, "source": s} for s in sources]
    return {"collection": name, "documents": documents, "report": report.as_dict()}


@router.delete("/documents/{doc_id}", summary="Remove a document from the index")
def delete_document(
    doc_id: str, request: Request, collection: str | None = COLLECTION
) -> dict[str, Any]:
    """Its chunks, its manifest row and its BM25 postings go; files on disk stay."""
    service = service_of(request)
    report = service.delete(doc_id, collection=collection)
    name = service.settings_for(collection).store.collection
    return {
        "collection": name,
        "id": doc_id,
        "deleted": True,
        "source": report.removed[0],
        "chunks_deleted": report.chunks_deleted,
    }
