"""The deployed service: the one place the stages are put together (``python -m mlecourse.lender.service``).

Uses every stage; nothing uses it.
"""
