"""Becoming a Machine Learning Engineer: the course's own package.

- ``mlecourse.lender``: the case-study lender's ML system (data, features,
  models, the service, rollouts): the production side of what the chapters teach;
- ``mlecourse.checks``: the workbooks' checks, one module per chapter;
- ``mlecourse.teaching``: helpers that exist for one chapter's argument;
- ``mlecourse.course``: the course's machinery (book, workbooks, CLI, doctor, bench);
- ``mlecourse.paths``: where the course's files are (used by all of them).

``ARCHITECTURE.md`` at the top of the repository is the map.
"""
__version__ = "0.1.0"
