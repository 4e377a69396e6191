"""Core handles on the catalog's tables, for the bulk statements and the reports.

The typed models in `models.py` describe the schema; writes and reports work on these
`Table` objects through SQLAlchemy Core, so they share one set of names.
"""

from __future__ import annotations

from aisync.db.models import (
    Model,
    ModelEvent,
    ModelOverride,
    ModelVersion,
    ProviderStat,
    ProviderSync,
    SyncRun,
)

runs = SyncRun.__table__
provider_syncs = ProviderSync.__table__
models = Model.__table__
versions = ModelVersion.__table__
events = ModelEvent.__table__
stats = ProviderStat.__table__
overrides = ModelOverride.__table__
