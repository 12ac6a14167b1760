"""The first cell of every notebook, identical everywhere (a test checks it).

In a clone with ``make setup`` it does nothing. Opened on Colab, where the
course is not installed, it fetches the course so that imports and data paths
work as they do locally. The site hides it (tag ``remove-cell``).
"""
REPOSITORY = "https://github.com/mlecourse/becoming-an-mle"

SETUP_CELL = f'''# Setup: makes the course's package importable wherever this notebook runs.
import importlib.util, subprocess, sys
if importlib.util.find_spec("mlecourse") is None:  # e.g. opened on Colab
    subprocess.run(["git", "clone", "--depth=1", "{REPOSITORY}", "course"], check=True)
    sys.path.insert(0, "course/src")'''
