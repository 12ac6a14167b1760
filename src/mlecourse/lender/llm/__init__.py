"""LLM systems: a small open model served offline, with retrieval, evaluation, versioned prompts, guardrails and monitoring.

May use ``paths`` and the lender's own modules (``reasons`` for refusal letters, ``gates`` for the rule shape); nothing of the course.
"""
