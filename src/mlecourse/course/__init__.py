"""The course's own machinery: the book build, the workbooks, the learner's
command line, the environment check, the benchmarks and the course plan.

None of it is part of the lender's system, and none of it imports the
chapters' teaching helpers.
"""
