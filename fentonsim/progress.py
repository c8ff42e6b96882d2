"""Progress bars for jobs that can run for more than a few seconds (ensembles, sweeps, comparisons).

One rule everywhere: ``progress=None`` shows a tqdm bar (with rate and ETA) only when stderr is a terminal,
so logs, pipes, notebooks run headless and CI stay clean; ``True``/``False`` force it on or off; the CLI's
``--quiet`` passes False. A bar draws on stderr, never stdout, so piped results stay parseable.
"""
from __future__ import annotations

import sys


def wanted(progress) -> bool:
    """Whether to draw a bar for ``progress`` (None: only when stderr is a terminal)."""
    if progress is None:
        stream = sys.stderr
        return bool(getattr(stream, "isatty", lambda: False)())
    return bool(progress)


def bar(total: int, progress, *, unit: str, desc: str):
    """A tqdm bar over ``total`` units, disabled unless :func:`wanted`; close it when done."""
    from tqdm.auto import tqdm

    return tqdm(total=total, disable=not wanted(progress), unit=unit, desc=desc, leave=False,
                file=sys.stderr, dynamic_ncols=True)


class Steps:
    """A job of ``total`` unequal steps (compare: one batched solve per catalyst, then its uncertainty
    samples, ...) announced one at a time.

    ``progress`` is None/True/False as for :func:`bar`, or a callable taking the one-line description of
    each step (the API's message hook). :meth:`start` ends the previous step and describes the next; the
    bar's ETA assumes steps of similar length, which is the best a job with unequal steps can promise.
    """

    def __init__(self, total: int, progress, desc: str):
        self._callback = progress if callable(progress) else None
        self._bar = None if self._callback is not None else bar(total, progress, unit="step", desc=desc)
        self._open = False

    def start(self, message: str) -> None:
        if self._callback is not None:
            self._callback(message)
            return
        if self._open:
            self._bar.update(1)
        self._bar.set_postfix_str(message, refresh=True)
        self._open = True

    def close(self) -> None:
        if self._bar is not None:
            if self._open:
                self._bar.update(1)
            self._bar.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
