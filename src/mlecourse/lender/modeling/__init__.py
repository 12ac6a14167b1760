"""Modeling: estimators, honest evaluation, experiments, behavioural tests, and the saved artifact.

Uses ``data`` (and the shared vocabulary); nothing that serves, monitors or deploys.
"""
