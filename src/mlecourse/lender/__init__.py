"""The case-study lender's ML system: the production code the chapters teach.

Read it as a team's repository, stage by stage, in the order a loan
application meets it (each folder's ``__init__`` says what the stage does):

* ``business`` and ``features``: the shared vocabulary (costs, the feature schema);
* ``data``: the history, how it was made, its checksum, validation (chapters 2-3);
* ``modeling``: estimators, evaluation, experiments, the saved artifact (chapter 4);
* ``serving``: the API behind one guard, its metrics, load and batch scoring (chapter 5);
* ``rollout``: canary, blue-green, shadow, A/B statistics (chapter 5);
* ``monitoring``: the prediction log, replay, drift, performance, alerts (chapter 6);
* ``responsible``: fairness, mitigation, explanations and reason codes, the model card (chapter 8);
* ``mlops``: tracking, the registry, the gate, the pipeline, retraining (chapters 6-7);
* ``llm``: LLM systems on the same lender (chapter 9);
* ``service``: the deployed service, put together from the stages.

A stage uses only the stages before it (an import-linter contract). Nothing
here imports the course's machinery, its checks or its teaching helpers.
"""
