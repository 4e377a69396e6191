"""One sync run, step by step: discovery, fetch, normalize, enrich, diff, write, report.

The steps run in that order under `Syncer` (engine.py); each module holds one of them.
"""
