"""Responsible AI: fairness audits and mitigation, explanations and reason codes, privacy, the model card.

Uses the stages up to ``rollout``; independent of ``monitoring``.
"""
