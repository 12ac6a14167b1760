"""MLOps: tracking, the registry, the promotion gate, the pipeline and its orchestration, retraining triggers.

Uses every stage before it (``monitoring`` for triggers, ``responsible`` for the gate's fairness rule).
"""
