"""The case-study data: load it, regenerate it, and prove it is the right file.

``load_loans()`` is the one call the chapters make. It checks the file's
SHA-256 against ``data/SHA256SUMS`` first, so a learner with a damaged or
edited copy is told so, and how to restore it, instead of getting strange
numbers three chapters later.

The raw data is raw on purpose: it has missing values, impossible ages,
typos, duplicates and a broken month (``data/README.md`` lists them all).
Cleaning it is the learners' work in the data chapter, so this module never
cleans anything. Types are set explicitly, not guessed:

- ``application_date``, ``outcome_known_date`` and ``early_delinquency_known_date``
  are ``datetime64[us]``;
- ids and categorical columns are text (pandas' ``str`` dtype), not
  ``category``: a raw file's categories are not known in advance (the region
  column has typos), and making categories is a cleaning step;
- counts are ``int64``; amounts, rates and ``credit_score`` are ``float64``
  (with NaN where missing).

The capstone's data, ``data/capstone/loans.csv.gz`` (:data:`CAPSTONE_FILE`), is
made by the same generator from another scenario (``loans.CAPSTONE``) and
has its own ``SHA256SUMS`` beside it, so ``load_loans(CAPSTONE_FILE)``
checks it the same way; ``data/SHA256SUMS`` lists it too.

Command line::

    python -m mlecourse.lender.data generate   # rewrite both loans files and every SHA256SUMS
    python -m mlecourse.lender.data verify     # list any problem with the data files (exit 1 if any)
    python -m mlecourse.lender.data checksums  # rewrite data/SHA256SUMS from the files as they are
"""
from __future__ import annotations

import argparse
import zlib
from pathlib import Path

import pandas as pd

from mlecourse.lender.data.fingerprints import file_sha256
from mlecourse.paths import DATA_DIR

LOANS_FILE = "loans.csv.gz"
CHECKSUMS_FILE = "SHA256SUMS"
CAPSTONE_FILE = DATA_DIR / "capstone" / LOANS_FILE
# The generated files, by path under data/, and the scenario of the generator that makes each.
GENERATED = {LOANS_FILE: "history", f"capstone/{LOANS_FILE}": "capstone"}
TEXT_COLUMNS = ("application_id", "customer_id", "employment_type", "home_ownership", "region",
                "neighbourhood", "channel", "loan_purpose", "ethnicity")
DATE_COLUMNS = ("application_date", "outcome_known_date", "early_delinquency_known_date")
DTYPES = {**{c: "str" for c in TEXT_COLUMNS},
          **{c: "int64" for c in ("age", "loan_term_months", "num_credit_lines",
                                  "previous_defaults", "defaulted", "early_delinquency")},
          **{c: "float64" for c in ("annual_income", "employment_years", "loan_amount",
                                    "interest_rate", "monthly_debt", "credit_score")}}
RESTORE = ("restore it with `git checkout -- {name}` or regenerate it with "
           "`python -m mlecourse.lender.data generate`")
REWRITE = "if you changed it on purpose, run `python -m mlecourse.lender.data checksums`"


class DataFileError(FileNotFoundError, ValueError):
    """A data file is missing, changed or unreadable; the message says how to restore it."""


def _shown(path: Path) -> str:
    """How a data file is named in messages: as the course's ``data/...``, from the
    nearest folder called ``data`` above it (a copy of the folder elsewhere says the same)."""
    path = Path(path)
    base = next((parent for parent in path.parents if parent.name == "data"), path.parent)
    return "data/" + path.relative_to(base).as_posix()


def _advice(name: str) -> str:
    if name.removeprefix("data/") in GENERATED:
        return RESTORE.format(name=name)
    return f"restore it with `git checkout -- {name}`"


def data_files(data_dir: Path = DATA_DIR) -> list[Path]:
    """Every file under ``data_dir`` that the checksums cover, sorted.

    That is every file except the datasheets (README.md), SHA256SUMS itself and
    hidden files (.DS_Store, .gitkeep, .ipynb_checkpoints/...).
    """
    return sorted(path for path in Path(data_dir).rglob("*")
                  if path.is_file() and path.name not in ("README.md", CHECKSUMS_FILE)
                  and not any(part.startswith(".") for part in path.relative_to(data_dir).parts))


def read_checksums(data_dir: Path = DATA_DIR) -> dict[str, str]:
    """``SHA256SUMS`` as {path relative to data_dir: hex digest}."""
    sums = {}
    for line in (Path(data_dir) / CHECKSUMS_FILE).read_text().splitlines():
        parts = line.split(maxsplit=1)
        if len(parts) == 2:  # a damaged line lists nothing, so its file shows as unlisted
            digest, name = parts
            sums[name.strip().lstrip("*")] = digest
    return sums


def write_checksums(data_dir: Path = DATA_DIR) -> Path:
    """Write ``SHA256SUMS`` in ``sha256sum`` format, so `cd data && sha256sum -c SHA256SUMS` works."""
    data_dir = Path(data_dir)
    lines = [f"{file_sha256(path)}  {path.relative_to(data_dir).as_posix()}\n"
             for path in data_files(data_dir)]
    target = data_dir / CHECKSUMS_FILE
    target.write_text("".join(lines), newline="\n")
    return target


def verify_checksums(data_dir: Path = DATA_DIR) -> list[str]:
    """Every problem with the data files, in words; an empty list when all is well.

    ``data/SHA256SUMS`` lists every file; a folder with a ``SHA256SUMS`` of its
    own (``data/capstone/``) must agree with it too.
    """
    data_dir = Path(data_dir)
    problems = _verify_folder(data_dir, data_dir)
    named = {problem.split(" ", 1)[0] for problem in problems}  # one line per file
    for nested in sorted(data_dir.rglob(f"*/{CHECKSUMS_FILE}")):
        problems += [problem for problem in _verify_folder(nested.parent, data_dir)
                     if problem.split(" ", 1)[0] not in named]
    return problems


def _verify_folder(folder: Path, data_dir: Path) -> list[str]:
    """The problems of the files the ``SHA256SUMS`` of ``folder`` covers, named from ``data/``."""
    here = folder.relative_to(data_dir).as_posix()
    prefix = "data/" if here == "." else f"data/{here}/"
    sums = f"{prefix}{CHECKSUMS_FILE}"
    if not (folder / CHECKSUMS_FILE).is_file():
        return [f"{sums} is missing; restore it with `git checkout -- {sums}` "
                f"or rebuild it with `python -m mlecourse.lender.data checksums`"]
    expected = read_checksums(folder)
    problems = []
    for relative, digest in expected.items():
        path, name = folder / relative, f"{prefix}{relative}"
        if not path.is_file():
            problems.append(f"{name} is missing; {_advice(name)}")
        elif file_sha256(path) != digest:
            problems.append(f"{name} has changed (its SHA-256 does not match {sums}); "
                            f"{_advice(name)}; {REWRITE}")
    for path in data_files(folder):
        relative = path.relative_to(folder).as_posix()
        if relative not in expected:
            problems.append(f"{prefix}{relative} is not listed in {sums}; "
                            f"if it belongs to the course, run `python -m mlecourse.lender.data checksums`, "
                            f"otherwise remove it")
    return problems


def _check_loans_file(path: Path) -> str:
    """The file's SHA-256; raise DataFileError unless it is the one SHA256SUMS beside it lists."""
    name = _shown(path)
    if not path.is_file():
        raise DataFileError(f"{name} is missing; {_advice(name)}")
    sums_file = path.parent / CHECKSUMS_FILE
    sums = _shown(sums_file)
    if not sums_file.is_file():
        raise DataFileError(f"{sums} is missing, so {name} cannot be checked; "
                            f"restore it with `git checkout -- {sums}`")
    expected = read_checksums(path.parent).get(path.name)
    if expected is None:
        raise DataFileError(f"{name} is not listed in {sums}; "
                            f"restore both with `git checkout -- {sums.rsplit('/', 1)[0]}/`")
    if file_sha256(path) != expected:
        raise DataFileError(f"{name} has changed or is corrupt (its SHA-256 does not match "
                            f"{sums}); {_advice(name)}")
    return expected


# Parsed frames, by file and content: a process parses each file once (a chapter,
# its checks and a test process all call load_loans, often many times).
_PARSED: dict[tuple[str, str], pd.DataFrame] = {}


def load_loans(path: Path | str | None = None, verify: bool = True) -> pd.DataFrame:
    """The raw case-study data, one row per funded loan application (duplicates included).

    ``path`` defaults to ``data/loans.csv.gz``. With ``verify`` (the default)
    the file must match its checksum in the ``SHA256SUMS`` beside it.
    """
    path = Path(path) if path is not None else DATA_DIR / LOANS_FILE
    # The content is checked on every call (a few milliseconds); only the parse is reused,
    # and every caller gets its own copy to change as it likes.
    content = _check_loans_file(path) if verify else _file_state(path)
    key = (str(path.resolve()), content)
    if key not in _PARSED:
        if len(_PARSED) >= 4:
            _PARSED.clear()
        _PARSED[key] = _parse(path)
    return _PARSED[key].copy()


def _file_state(path: Path) -> str:
    try:
        state = path.stat()
    except FileNotFoundError:
        name = _shown(path)
        raise DataFileError(f"{name} is missing; {_advice(name)}") from None
    return f"{state.st_size}:{state.st_mtime_ns}"


def _parse(path: Path) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path, dtype=DTYPES, parse_dates=list(DATE_COLUMNS))
    except FileNotFoundError:
        name = _shown(path)
        raise DataFileError(f"{name} is missing; {_advice(name)}") from None
    except (OSError, EOFError, zlib.error, UnicodeDecodeError, ValueError, pd.errors.ParserError) as error:
        # gzip.BadGzipFile is an OSError; a bad number or date is a ValueError
        name = _shown(path)
        raise DataFileError(f"{name} cannot be read ({type(error).__name__}: {error}); "
                            f"{_advice(name)}") from error
    for column in DATE_COLUMNS:
        frame[column] = frame[column].astype("datetime64[us]")
    return frame


def labels_known_at(frame: pd.DataFrame, date) -> pd.DataFrame:
    """The rows whose outcome was known on ``date`` (label delay: see ``outcome_known_date``).

    A model monitored on ``date`` can be graded only on these rows; the others
    were applied for less than ``LABEL_DELAY_MONTHS`` earlier.
    """
    return frame[frame["outcome_known_date"] <= pd.Timestamp(date)]


def write_loans(frame: pd.DataFrame, path: Path | str) -> Path:
    """Write ``frame`` as the course writes loans.csv.gz: same frame, same bytes.

    ``mtime=0`` keeps the time out of the gzip header; the floats were rounded
    by the generator, so their text is the same on every machine.
    """
    path = Path(path)
    frame.to_csv(path, index=False, lineterminator="\n",
                 compression={"method": "gzip", "mtime": 0})
    return path


def write_data(data_dir: Path = DATA_DIR) -> list[Path]:
    """Regenerate each loans file from its scenario's seed, then rewrite every ``SHA256SUMS``:
    the one beside each file, and ``data/SHA256SUMS`` over all of them."""
    from mlecourse.lender.data.loans import generate_loans

    data_dir, written = Path(data_dir), []
    for relative, scenario in GENERATED.items():
        path = data_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        written.append(write_loans(generate_loans(scenario=scenario), path))
        if path.parent != data_dir:
            written.append(write_checksums(path.parent))
    return [*written, write_checksums(data_dir)]


def write_all_checksums(data_dir: Path = DATA_DIR) -> list[Path]:
    """Rewrite every ``SHA256SUMS``: each folder's that has one, then ``data/SHA256SUMS``."""
    data_dir = Path(data_dir)
    nested = [write_checksums(sums.parent) for sums in sorted(data_dir.rglob(f"*/{CHECKSUMS_FILE}"))]
    return [*nested, write_checksums(data_dir)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mlecourse.lender.data", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["generate", "verify", "checksums"])
    command = parser.parse_args(argv).command
    if command == "generate":
        for path in write_data():
            print(f"wrote {_shown(path)}")
    elif command == "checksums":
        for path in write_all_checksums():
            print(f"wrote {_shown(path)}")
    else:
        problems = verify_checksums()
        for problem in problems:
            print(problem)
        if problems:
            return 1
        print(f"all {len(read_checksums())} data files match data/{CHECKSUMS_FILE}")
    return 0
