"""aisync's built-in provider plugins, one module per provider.

Each module is registered through the `aisync` entry-point group exactly like an external
plugin; nothing here is imported by the core directly.
"""
