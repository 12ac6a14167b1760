"""Monitoring: the prediction log, replaying months through the service, drift, performance without labels, alerts.

Uses the stages up to ``rollout``; independent of ``responsible``.
"""
