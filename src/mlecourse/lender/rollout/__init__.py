"""Rollout: putting a new version in front of traffic safely (canary, blue-green, shadow) and A/B statistics.

Uses ``serving``, ``modeling`` and ``data``.
"""
