"""The case-study lender's ML system: the production code the chapters teach.

Read it as a team's repository, in the order a loan application meets it:
``data`` and ``loans`` (the history and how it was made), ``features`` and
``validation`` (chapter 3), ``business``, ``modeling``, ``evaluation`` and
``experiments`` (chapter 4), ``artifact``, ``serving``, ``rollout``,
``abtest`` and ``loadtest`` (chapter 5). Nothing here imports the course's
machinery, its checks or its teaching helpers.
"""
