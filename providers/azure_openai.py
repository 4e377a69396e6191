"""The `azure-openai` provider: the deployments of one Azure OpenAI resource.

An instance is one resource: its base URL is the resource endpoint
(`https://NAME.openai.azure.com`, from `AZURE_OPENAI_ENDPOINT` or `base_url`), its key goes in
the `api-key` header (`AZURE_OPENAI_API_KEY` or `api_key`), and the `api_version` option
(`[providers.NAME] options = {api_version = "..."}`) picks the data-plane version, by default
`2022-12-01`: the GA version whose specification documents both listings used here (later
versions answer 404 to `/openai/deployments`). The default instance is discovered only when
both the endpoint and the key variables are set; any instance syncs when named.

Two requests, shapes as in Azure/azure-rest-api-specs
`specification/cognitiveservices/data-plane/AzureOpenAI/authoring/stable/2022-12-01/examples/`
(`get_deployments.json`, `get_models.json`) and `.../stable/2024-10-21/examples/get_models.json`:

- `GET {endpoint}/openai/deployments?api-version=V` lists the deployments. They are the
  catalog's models, since a deployment's `id` is what a request names. A deployment whose
  `status` is not `succeeded` (still creating, failed, deleted) cannot be called and is left
  out. The deployment's base model is its `model` field; the answer carries no model version.
- `GET {endpoint}/openai/models?api-version=V` lists what the resource can deploy: `id`,
  `capabilities` (`chat_completion`, `completion`, `embeddings`, `fine_tune` booleans),
  `lifecycle_status` and `deprecation` (`inference`/`fine_tune` epoch seconds). One base model
  appears once per version, all under the same `id`. A 404 here only loses the enrichment.

ModelRecord has no base-model field, so each record's `raw` is the deployment object plus
`base_model_entries`: the `/openai/models` entries whose `id` is the deployment's `model`.
Tools matching on the base model read `raw["model"]` (enrichment keys on the deployment
name, which is the user's own). As the deployment does not say which version it runs, a
value is taken from those entries only where they all agree: capabilities every version
has, and `deprecation.inference` as the deprecation date when every version gives the same.
`lifecycle_status` (`preview`, `generally-available`) stays in `raw`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from aisync import hookimpl
from aisync.errors import BadResponse, ProviderError
from aisync.fields import epoch_date
from aisync.jsontext import json_body
from aisync.records import ModelRecord, Provider, ProviderInfo
from aisync.settings import Settings
from aisync_providers.openai_style import in_vocabulary_order

if TYPE_CHECKING:
    # Annotations only: loading a plugin loads no httpx (a run may fetch nothing).
    import httpx

KEY_VARIABLE = "AZURE_OPENAI_API_KEY"
ENDPOINT_VARIABLE = "AZURE_OPENAI_ENDPOINT"

INFO = ProviderInfo(
    name="azure-openai",
    display_name="Azure OpenAI",
    api_key_env_vars=(KEY_VARIABLE,),
    base_url_env_vars=(ENDPOINT_VARIABLE,),
    discovered_by_key=False,
    listed_unconfigured=False,
)

DEFAULT_API_VERSION = "2022-12-01"
#: `capabilities` flags of `/openai/models` -> the vocabulary's words.
CAPABILITY_FLAGS = {
    "chat_completion": "chat",
    "completion": "completion",
    "embeddings": "embedding",
    "fine_tune": "fine_tuning",
}


@hookimpl
def discover_providers(settings: Settings) -> list[ProviderInfo]:
    """The type, discovered by its variables only when both the key and the endpoint are
    set: a key alone names no resource to ask."""
    both = all(settings.environ.get(v) for v in (KEY_VARIABLE, ENDPOINT_VARIABLE))
    return [dataclasses.replace(INFO, discovered_by_key=both)]


@hookimpl
def fetch_models(
    provider: Provider, client: httpx.Client, settings: Settings
) -> list[ModelRecord] | None:
    if provider.type != INFO.name:
        return None
    if not provider.base_url:
        raise ProviderError(
            f"No resource endpoint: set {ENDPOINT_VARIABLE} or base_url "
            "(https://NAME.openai.azure.com)"
        )
    base = f"{provider.base_url.rstrip('/')}/openai"
    params = {"api-version": api_version(provider.options)}
    headers = {"api-key": provider.api_key} if provider.api_key else {}
    deployments = _entries(_deployments(client, f"{base}/deployments", params, headers))
    models = _base_models(client, f"{base}/models", params, headers)
    return [
        _record(d, models.get(d.get("model"), []))
        for d in deployments
        if d.get("status", "succeeded") == "succeeded"
    ]


def api_version(options: Mapping[str, Any]) -> str:
    version = options.get("api_version", DEFAULT_API_VERSION)
    if not isinstance(version, str) or not version.strip():
        raise ProviderError("The api_version option must be text such as '2022-12-01'")
    return version.strip()


def _deployments(
    client: httpx.Client, url: str, params: dict[str, str], headers: dict[str, str]
) -> Any:
    """The deployments listing; a 404 to another api-version than the default names it,
    the usual cause (later versions dropped this listing)."""
    try:
        return json_body(client.get(url, params=params, headers=headers))
    except ProviderError as error:
        if error.status != 404 or params["api-version"] == DEFAULT_API_VERSION:
            raise
        raise ProviderError(
            f"{error} (api-version {params['api-version']} may not list deployments; "
            f"{DEFAULT_API_VERSION} does)",
            status=404,
        ) from error


def _base_models(
    client: httpx.Client, url: str, params: dict[str, str], headers: dict[str, str]
) -> dict[str, list[dict[str, Any]]]:
    """The deployable models by id (one entry per version); none when the resource does not
    answer the listing (404), which only loses dates and capabilities."""
    try:
        body = json_body(client.get(url, params=params, headers=headers))
    except ProviderError as error:
        if error.status == 404:
            return {}
        raise
    found: dict[str, list[dict[str, Any]]] = {}
    for entry in _entries(body):
        found.setdefault(entry["id"], []).append(entry)
    return found


def _entries(body: Any) -> list[dict[str, Any]]:
    """The `data` objects with a string `id`; others cannot be named and are skipped."""
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        raise BadResponse("Azure OpenAI listing has no 'data' array")
    return [e for e in body["data"] if isinstance(e, dict) and isinstance(e.get("id"), str)]


def _record(deployment: dict[str, Any], versions: list[dict[str, Any]]) -> ModelRecord:
    return ModelRecord(
        model_id=deployment["id"],
        capabilities=_shared_capabilities(versions),
        deprecation_date=_shared_deprecation(versions),
        raw={**deployment, "base_model_entries": versions},
    )


def _shared_capabilities(versions: list[dict[str, Any]]) -> tuple[str, ...]:
    """The words every version of the base model has (none when none is listed)."""
    if not versions:
        return ()
    flags = [
        v.get("capabilities") if isinstance(v.get("capabilities"), dict) else {} for v in versions
    ]
    return in_vocabulary_order(
        word for flag, word in CAPABILITY_FLAGS.items() if all(f.get(flag) is True for f in flags)
    )


def _shared_deprecation(versions: list[dict[str, Any]]) -> date | None:
    """`deprecation.inference` when every version gives the same date, else None."""
    dates = {
        epoch_date(v["deprecation"].get("inference"))
        if isinstance(v.get("deprecation"), dict)
        else None
        for v in versions
    }
    return dates.pop() if len(dates) == 1 else None
