"""The fuzz run takes minutes: it is collected only when asked for (`make fuzz` sets FUZZ_EXAMPLES), not
by a plain `pytest`."""

import os

collect_ignore_glob = [] if os.environ.get("FUZZ_EXAMPLES") else ["test_*.py"]
