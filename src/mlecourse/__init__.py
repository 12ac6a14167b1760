"""Becoming a Machine Learning Engineer: the course's own package.

``mlecourse.data`` loads the case-study data, ``mlecourse.checks`` checks the
workbooks' answers, and the other modules are the production side of what the
chapters teach.
"""
__version__ = "0.1.0"
