"""The `bedrock` provider: Amazon Bedrock's foundation models and inference profiles.

One instance per region: the region is the `region` option
(`[providers.bedrock-eu] type = "bedrock"` with `options = {region = "eu-west-1"}`), else
`AWS_REGION` or `AWS_DEFAULT_REGION`; the base URL is `https://bedrock.{region}.amazonaws.com`
unless `base_url` names another. AWS variables are set for many reasons, so Bedrock is never
discovered by them: it syncs only when named (`--provider bedrock`, a `[providers.X]` table,
`AISYNC_BEDROCK_ENABLED=true`).

Requests go through the run's own httpx client, signed with SigV4 by botocore
(`botocore.auth.SigV4Auth`, service `bedrock`) with the credentials of botocore's usual chain
(variables, shared files, SSO, container or instance roles). botocore is the optional extra
`pip install 'aisync[bedrock]'`; boto3 and its HTTP stack are never used.

Two operations of botocore's service model (boto/botocore
`botocore/data/bedrock/2023-04-20/service-2.json`: shapes `FoundationModelSummary`,
`InferenceProfileSummary`, `FoundationModelLifecycle`):

- `GET /foundation-models` (ListFoundationModels, one page): `modelId`, `modelName`,
  `providerName`, `inputModalities`/`outputModalities` (TEXT, IMAGE, EMBEDDING; VIDEO for
  video models), `responseStreamingSupported`, `customizationsSupported` (FINE_TUNING ...),
  `inferenceTypesSupported` (ON_DEMAND, PROVISIONED) and `modelLifecycle` (`status` ACTIVE or
  LEGACY, newer answers add `endOfLifeTime`).
- `GET /inference-profiles?maxResults=1000` (ListInferenceProfiles), paged with `nextToken`:
  the cross-region profiles (`us.anthropic...`) many models must be called through, each
  naming its foundation models by ARN (`models[].modelArn`).

Capabilities: output TEXT -> chat, IMAGE -> image_generation, EMBEDDING -> embedding, VIDEO ->
video_generation; input IMAGE with text output -> vision; FINE_TUNING -> fine_tuning. A
profile has the capabilities of the foundation model its first ARN names. `endOfLifeTime`
is the deprecation date. LEGACY (deprecated, still callable) has no field of its own: it
stays in `raw["modelLifecycle"]["status"]`, as do `responseStreamingSupported` and
`inferenceTypesSupported` (a PROVISIONED-only model cannot be called on demand).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from aisync import hookimpl
from aisync.errors import BadResponse, ProviderError
from aisync.fields import iso_date
from aisync.jsontext import json_body
from aisync.records import ModelRecord, Provider, ProviderInfo
from aisync.settings import Settings
from aisync_providers.openai_style import in_vocabulary_order

if TYPE_CHECKING:
    # Annotations only: loading a plugin loads no httpx (a run may fetch nothing).
    import httpx

INFO = ProviderInfo(
    name="bedrock",
    display_name="Amazon Bedrock",
    requires_api_key=False,
    discovered_by_key=False,
    listed_unconfigured=False,
)

INSTALL_HINT = "Bedrock needs botocore: pip install 'aisync[bedrock]'"
REGION_VARIABLES = ("AWS_REGION", "AWS_DEFAULT_REGION")
#: Profiles asked for per page (the API's maximum).
PAGE_SIZE = 1000
#: More pages than this means the API is looping: give up rather than request forever.
MAX_PAGES = 100

#: `outputModalities` -> the vocabulary's words.
OUTPUTS = {
    "TEXT": "chat",
    "IMAGE": "image_generation",
    "EMBEDDING": "embedding",
    "VIDEO": "video_generation",
}


@hookimpl
def discover_providers(settings: Settings) -> list[ProviderInfo]:
    return [INFO]


@hookimpl
def fetch_models(
    provider: Provider, client: httpx.Client, settings: Settings
) -> Iterator[ModelRecord] | None:
    if provider.type != INFO.name:
        return None
    region = _region(provider, settings)
    auth = SigV4(region)
    base = (provider.base_url or f"https://bedrock.{region}.amazonaws.com").rstrip("/")
    return _listing(client, base, auth)


def _region(provider: Provider, settings: Settings) -> str:
    region = provider.options.get("region") or next(
        (settings.environ[v] for v in REGION_VARIABLES if settings.environ.get(v)), None
    )
    if not isinstance(region, str) or not region.strip():
        raise ProviderError(
            "No AWS region: set the region option, AWS_REGION or AWS_DEFAULT_REGION"
        )
    return region.strip()


class SigV4:
    """Signs each request with botocore's SigV4 for the `bedrock` service of `region`, with
    credentials read once from botocore's chain (refreshable ones frozen per request).

    An httpx function auth (a callable taking and returning the request), not an
    `httpx.Auth` subclass: loading the plugin then needs no httpx."""

    def __init__(self, region: str) -> None:
        try:
            from botocore.session import get_session
        except ImportError:
            raise ProviderError(INSTALL_HINT) from None
        credentials = get_session().get_credentials()
        if credentials is None:
            raise ProviderError(
                "No AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
                "AWS_PROFILE or any source the AWS CLI reads"
            )
        self.region = region
        self._credentials = credentials

    def __repr__(self) -> str:
        return f"SigV4(region={self.region!r})"

    def __call__(self, request: httpx.Request) -> httpx.Request:
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        signed = AWSRequest(method=request.method, url=str(request.url), data=request.content)
        SigV4Auth(self._credentials.get_frozen_credentials(), "bedrock", self.region).add_auth(
            signed
        )
        for name in ("Authorization", "X-Amz-Date", "X-Amz-Security-Token"):
            if name in signed.headers:
                request.headers[name] = signed.headers[name]
        return request


def _listing(client: httpx.Client, base: str, auth: SigV4) -> Iterator[ModelRecord]:
    """Foundation models first, then every page of inference profiles with the
    capabilities of the models they route to."""
    models = _array(json_body(client.get(f"{base}/foundation-models", auth=auth)), "modelSummaries")
    by_id = {m["modelId"]: m for m in models}
    yield from (_model_record(m) for m in models)
    params: dict[str, str | int] = {"maxResults": PAGE_SIZE}
    for _ in range(MAX_PAGES):
        body = json_body(client.get(f"{base}/inference-profiles", params=params, auth=auth))
        for profile in _array(body, "inferenceProfileSummaries", "inferenceProfileId"):
            yield _profile_record(profile, by_id)
        token = body.get("nextToken")
        if not isinstance(token, str) or not token:
            return
        params = {"maxResults": PAGE_SIZE, "nextToken": token}
    raise BadResponse(f"Bedrock inference profile list has more than {MAX_PAGES} pages")


def _array(body: Any, key: str, id_key: str = "modelId") -> list[dict[str, Any]]:
    """The objects of `key` with a string id; others cannot be named and are skipped."""
    if not isinstance(body, dict) or not isinstance(body.get(key), list):
        raise BadResponse(f"Bedrock answer has no '{key}' array")
    return [e for e in body[key] if isinstance(e, dict) and isinstance(e.get(id_key), str)]


def _model_record(model: dict[str, Any]) -> ModelRecord:
    lifecycle = model.get("modelLifecycle")
    return ModelRecord(
        model_id=model["modelId"],
        display_name=_text(model.get("modelName")),
        capabilities=capabilities_for(model),
        deprecation_date=iso_date(lifecycle.get("endOfLifeTime"))
        if isinstance(lifecycle, dict)
        else None,
        raw=model,
    )


def _profile_record(profile: dict[str, Any], models: dict[str, dict[str, Any]]) -> ModelRecord:
    target = models.get(_model_id_of(profile.get("models")) or "")
    return ModelRecord(
        model_id=profile["inferenceProfileId"],
        display_name=_text(profile.get("inferenceProfileName")),
        capabilities=capabilities_for(target) if target else (),
        raw=profile,
    )


def _model_id_of(targets: Any) -> str | None:
    """The foundation model id the first `models[].modelArn` names
    (`arn:aws:bedrock:REGION::foundation-model/ID`)."""
    if not isinstance(targets, list) or not targets or not isinstance(targets[0], dict):
        return None
    arn = targets[0].get("modelArn")
    return arn.rsplit("/", 1)[-1] if isinstance(arn, str) and "/" in arn else None


def capabilities_for(model: dict[str, Any]) -> tuple[str, ...]:
    outputs, inputs = (
        _strings(model.get("outputModalities")),
        _strings(model.get("inputModalities")),
    )
    words = [OUTPUTS[o] for o in outputs if o in OUTPUTS]
    if "IMAGE" in inputs and "TEXT" in outputs:
        words.append("vision")
    if "FINE_TUNING" in _strings(model.get("customizationsSupported")):
        words.append("fine_tuning")
    return in_vocabulary_order(words)


def _strings(value: Any) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
