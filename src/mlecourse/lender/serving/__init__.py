"""Serving: the model behind an HTTP API, one guard for every route, its metrics, load and batch scoring.

Uses ``modeling`` and ``data``; routes from later stages are handed to it (``api.create_app(routers=...)``).
"""
