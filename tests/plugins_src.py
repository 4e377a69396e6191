"""Source code of test plugins, installed through real entry points by the tests."""

FAKEAI = """
from aisync import hookimpl
from aisync.http import json_body
from aisync.records import ModelRecord, ProviderInfo

INFO = ProviderInfo(
    name="fakeai",
    display_name="Fake AI",
    default_base_url="http://127.0.0.1:9",
    api_key_env_vars=("FAKEAI_API_KEY",),
)


@hookimpl
def discover_providers(settings):
    return [INFO]


@hookimpl
def fetch_models(provider, client, settings):
    if provider.type != "fakeai":
        return None
    response = client.get(
        provider.base_url + "/models", headers={"Authorization": f"Bearer {provider.api_key}"}
    )
    return [
        ModelRecord(model_id=entry["id"], capabilities=("chat",), raw=entry)
        for entry in json_body(response)["data"]
    ]


@hookimpl
def compute_stats(provider, models):
    if provider.type == "fakeai":
        return {"Fake family": sum(1 for m in models if m.model_id.startswith("fake-"))}
    return None
"""

BROKEN_DISCOVERY = """
from aisync import hookimpl


@hookimpl
def discover_providers(settings):
    raise RuntimeError("cannot reach the plugin's registry")
"""

BROKEN_IMPORT = """
raise ImportError("this plugin needs a missing dependency")
"""
