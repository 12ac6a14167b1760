"""``python -m mlecourse.lender.data generate | verify | checksums``: the data files' command (see ``loading``)."""
from mlecourse.lender.data.loading import main

raise SystemExit(main())
