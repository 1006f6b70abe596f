"""A step run every few seconds on a daemon thread of the offline stack (the scheduler's tick, the
state snapshot): a step that fails is logged and the next one still runs."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class Periodic:
    def __init__(self, name: str, step: Callable[[], object]) -> None:
        self.name = name
        self._step = step
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, interval: float) -> None:
        def loop() -> None:
            while not self._stop.wait(interval):
                try:
                    self._step()
                except Exception:
                    log.exception("%s failed", self.name)

        self._thread = threading.Thread(target=loop, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, wait: float = 0.0) -> None:
        """No more steps; with `wait`, up to that many seconds for one in progress to end."""
        self._stop.set()
        if wait and self._thread is not None:
            self._thread.join(timeout=wait)
