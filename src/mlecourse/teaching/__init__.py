"""Helpers that exist for one chapter's argument, not for the lender's system.

- chapter 1: ``market`` (salary figures), ``roi``, ``handoff``, ``risk_bands``;
- chapters 1 and 9: ``report`` (the source report's figures as tables);
- chapter 3: ``leakage`` (the leaking warehouse extract);
- chapter 4: ``footprint`` (training time, latency and size of a model);
- chapter 8: ``wording`` (words glued from the numbers they describe);
- chapter 10: ``career`` (the skills, the tool map and learning plans).
"""
