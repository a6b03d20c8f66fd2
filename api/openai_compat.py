"""The OpenAI-compatible endpoints: ``/v1/models`` (the collections), ``/v1/chat/completions``
(the project's answer, streamed as SSE or whole) and ``/v1/embeddings`` (the collection's
embedder). The ``model`` field names a collection. An answer's citations also come as data
in an extra ``rag`` field, which OpenAI clients ignore (the Python SDK keeps it in
``model_extra``)."""

from __future__ import annotations

import base64
import json
import logging
import time
import uuid
from collections.abc import Iterator
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from api.errors import SERVER, UNEXPECTED, error_body, problem_for, rag_error_response
from application.service import EmbedKind, Service
from application.wire import answer_json
from rag.answers.answer import AnswerStream
from rag.errors import ConfigError, NotFoundError, RagError
from rag.types import Answer, Turn

log = logging.getLogger(__name__)

router = APIRouter(prefix="/v1", tags=["OpenAI-compatible"])

MAX_INPUTS = 2048  # texts per embeddings request, as OpenAI allows
OWNER = "rag-chat"


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str
    text: str | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: str = Field(description="system, user or assistant (others are ignored)")
    content: str | list[ContentPart] | None = None


class ChatRequest(BaseModel):
    """OpenAI's chat request. Sampling fields (temperature, max_tokens, ...) are accepted and
    ignored: the server's RAG_LLM_* settings apply."""

    model_config = ConfigDict(extra="allow")
    model: str = Field(description="the collection to answer from (GET /v1/models)")
    messages: list[ChatMessage] = Field(
        min_length=1, description="the conversation; the last message is the question"
    )
    stream: bool = Field(False, description="stream the answer as server-sent events")
    label: str | None = Field(None, description="only documents with this label (extension)")


class EmbeddingRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    model: str = Field(description="the collection whose embedder to use (GET /v1/models)")
    input: str | list[str] | list[int] | list[list[int]] = Field(description="text(s) to embed")
    encoding_format: Literal["float", "base64"] = "float"
    dimensions: int | None = Field(None, description="must equal the collection's, if given")
    input_type: Literal["document", "query"] = Field(
        "document",
        description="extension: embed as the index stores passages (document) or as it "
        "searches (query); they differ for models with prefixes (e5, bge, nomic)",
    )


def service_of(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


def check_model(service: Service, model: str) -> JSONResponse | None:
    """None when ``model`` names a collection, else the 404 OpenAI gives for a model."""
    try:
        service.existing(model)
    except NotFoundError as exc:
        return rag_error_response(exc, code="model_not_found", param="model")
    return None


@router.get("/models", summary="The collections, as models")
def list_models(request: Request) -> dict[str, Any]:
    names = service_of(request).collections()
    return {"object": "list", "data": [model_json(n) for n in names]}


@router.get("/models/{model}", summary="One collection, as a model")
def get_model(model: str, request: Request) -> Any:
    return check_model(service_of(request), model) or model_json(model)


def model_json(name: str) -> dict[str, Any]:
    return {"id": name, "object": "model", "created": 0, "owned_by": OWNER}


@router.post("/chat/completions", summary="Answer the last message from a collection")
def chat_completions(body: ChatRequest, request: Request) -> Any:
    """The project's answer (an LLM's or extractive, with its citations, abstaining and the
    label filter), with the earlier messages used as the app uses its chat history. The
    citations are also in the extra field ``rag`` (of the last chunk, when streaming)."""
    service = service_of(request)
    refused = check_model(service, body.model)
    if refused is not None:
        return refused
    question, history = conversation(body.messages)
    stream = service.ask(question, history=history, collection=body.model, label=body.label)
    reply = Reply(body.model)
    if not body.stream:
        return reply.whole(stream.answer)
    first = next(stream, None)  # a failure before the first words is still a status code
    return StreamingResponse(
        reply.events(stream, first),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.post("/embeddings", summary="Embed text as a collection does")
def embeddings(body: EmbeddingRequest, request: Request) -> Any:
    service = service_of(request)
    refused = check_model(service, body.model)
    if refused is not None:
        return refused
    texts = [body.input] if isinstance(body.input, str) else body.input
    if not texts or not all(isinstance(t, str) for t in texts):
        raise ConfigError("'input' must be a string or a non-empty list of strings.")
    if len(texts) > MAX_INPUTS:
        raise ConfigError(f"At most {MAX_INPUTS} inputs per request; got {len(texts)}.")
    kind: EmbedKind = body.input_type
    vectors, tokens = service.embed([str(t) for t in texts], collection=body.model, kind=kind)
    if body.dimensions is not None and body.dimensions != vectors.shape[1]:
        raise ConfigError(
            f"Collection '{body.model}' has {vectors.shape[1]}-dimensional vectors; omit "
            f"'dimensions' or set it to {vectors.shape[1]}."
        )
    data = []
    for i, vector in enumerate(vectors):
        if body.encoding_format == "base64":
            value: Any = base64.b64encode(vector.astype("<f4").tobytes()).decode("ascii")
        else:
            value = [float(x) for x in vector]
        data.append({"object": "embedding", "index": i, "embedding": value})
    usage = {"prompt_tokens": tokens, "total_tokens": tokens}
    return {"object": "list", "data": data, "model": body.model, "usage": usage}


# -- the conversation and the reply --------------------------------------------------------


def text_of(message: ChatMessage) -> str:
    if message.content is None:
        return ""
    if isinstance(message.content, str):
        return message.content
    texts = []
    for part in message.content:
        if part.type != "text":
            raise ConfigError(
                f"Message content of type {part.type!r} is not supported: send text only."
            )
        texts.append(part.text or "")
    return "\n".join(texts)


def conversation(messages: list[ChatMessage]) -> tuple[str, list[Turn]]:
    """The question (the last message, the user's) and the turns before it. System and
    tool messages are ignored: the server writes its own prompt."""
    last = messages[-1]
    if last.role != "user":
        raise ConfigError(
            f"The last message must be the user's question (role 'user'), not {last.role!r}."
        )
    question = text_of(last).strip()
    if not question:
        raise ConfigError("The question (the last message) is empty.")
    history = [
        Turn(role="user" if m.role == "user" else "assistant", text=text_of(m))
        for m in messages[:-1]
        if m.role in ("user", "assistant") and text_of(m).strip()
    ]
    return question, history


def rag_extra(answer: Answer, collection: str) -> dict[str, Any]:
    """The answer's provenance as data: ``rag ask --json``'s fields, and more metadata."""
    data = answer_json(answer)
    del data["answer"]
    extra = {"collection": collection, **data}
    for key in ("abstained", "notice", "condensed_query", "label"):
        if key in answer.metadata:
            extra[key] = answer.metadata[key]
    return extra


class Reply:
    """One chat completion's envelope, whole or as SSE chunks."""

    def __init__(self, collection: str) -> None:
        self.collection = collection
        self.id = f"chatcmpl-{uuid.uuid4().hex}"
        self.created = int(time.time())

    def whole(self, answer: Answer) -> dict[str, Any]:
        message = {"role": "assistant", "content": answer.text}
        return {
            **self._head("chat.completion"),
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "rag": rag_extra(answer, self.collection),
        }

    def events(self, stream: AnswerStream, first: str | None) -> Iterator[str]:
        try:
            yield self._chunk({"role": "assistant", "content": ""})
            if first is not None:
                yield self._chunk({"content": first})
            for delta in stream:
                yield self._chunk({"content": delta})
            extra = rag_extra(stream.answer, self.collection)
            yield self._chunk({}, finish="stop", extra=extra)
            yield "data: [DONE]\n\n"
        except RagError as exc:  # mid-stream: an error event, as OpenAI sends
            problem = problem_for(exc)
            log.warning("answer failed while streaming: %s", exc)
            yield _data(error_body(str(exc), type=problem.type, code=problem.code))
        except Exception:
            log.exception("answer failed while streaming")
            yield _data(error_body(UNEXPECTED, type=SERVER, code="internal_error"))
        finally:
            stream.close()

    def _head(self, kind: str) -> dict[str, Any]:
        return {"id": self.id, "object": kind, "created": self.created, "model": self.collection}

    def _chunk(self, delta: dict[str, str], *, finish: str | None = None, extra: Any = None) -> str:
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        body: dict[str, Any] = {**self._head("chat.completion.chunk"), "choices": [choice]}
        if extra is not None:
            body["rag"] = extra
        return _data(body)


def _data(body: dict[str, Any]) -> str:
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"
