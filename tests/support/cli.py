"""Running the ``liqmap`` command line in this process, as a user runs it, only faster: settings
from a clean environment (and ``.env`` in ``cwd``), output captured, exchanges and Telegram
retried and paced as in the other tests, ``run`` and ``record`` stopped without a signal."""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import TracebackType
from typing import IO

import pytest

from liqmap.cli.main import main
from liqmap.cli.tuning import Stop, Tuning
from liqmap.policies.retry import RetryPolicy
from tests.support.fast import FAST_CCXT, FAST_RETRY

LIQMAP = str(Path(sys.executable).with_name("liqmap"))
"""The console script of the environment running the tests (for the few tests of the process
itself: its exit status, its signals)."""
ROOT = Path(__file__).resolve().parents[2]
"""The repository, where a process of its own imports ``tests`` from."""

FAST = Tuning(
    exchange_retry=FAST_RETRY,
    ccxt_config=FAST_CCXT,
    telegram_start_retry=RetryPolicy(attempts=None, first_delay=0.01, max_delay=0.05),
    telegram_poll_timeout=1,
)
"""Quick retries, no request spacing, short timeouts and long polls; the wall clock."""

SETTINGS = ("LIQMAP_", "TELEGRAM_")
"""The prefixes of the environment variables liqmap reads its settings from."""


def clean_environ() -> dict[str, str]:
    """The test process's environment without any liqmap or Telegram setting."""
    return {k: v for k, v in os.environ.items() if not k.startswith(SETTINGS)}


def fast_process(
    args: Sequence[str], cwd: Path, env: Mapping[str, str], output: IO[str] | int = subprocess.PIPE
) -> subprocess.Popen[str]:
    """``liqmap ARGS`` as a process of its own, stopped by signals as the console script is,
    with the fast tuning; stdout and stderr together into ``output`` (a pipe by default)."""
    code = (
        "import sys\n"
        "from liqmap.cli.main import main\n"
        "from tests.support.cli import FAST\n"
        f"sys.exit(main({list(args)!r}, FAST))\n"
    )
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return subprocess.Popen(
        [sys.executable, "-c", code], cwd=cwd, env=clean_environ() | {**env, "PYTHONPATH": path},
        stdout=output, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


@dataclass(frozen=True)
class Result:
    """What a finished command left: its exit status and what it wrote."""

    returncode: int
    stdout: str
    stderr: str


def run(
    args: Sequence[str],
    cwd: Path,
    env: Mapping[str, str] | None = None,
    tuning: Tuning = FAST,
    within: float = 180.0,
) -> Result:
    """``liqmap ARGS`` in ``cwd`` with the settings ``env``, to its end."""
    with Liqmap(args, cwd, env, tuning) as liqmap:
        return liqmap.wait(within)


class Liqmap:
    """``liqmap ARGS`` in a thread of this process (so that async tests may call it too),
    from ``start`` until it ends (``wait``) or is stopped as SIGTERM would (``stop``).

    While it runs, the process's environment holds only the liqmap and Telegram settings of
    ``env``, the working directory is ``cwd``, and ``sys.stdout`` and ``sys.stderr`` are its
    own; all put back when it ends.
    """

    def __init__(
        self,
        args: Sequence[str],
        cwd: Path,
        env: Mapping[str, str] | None = None,
        tuning: Tuning = FAST,
    ) -> None:
        self.args = list(args)
        self._cwd = cwd
        self._env = dict(env or {})
        self._tuning = replace(tuning, on_start=self._on_start)
        self._stdout, self._stderr = io.StringIO(), io.StringIO()
        self._thread = threading.Thread(target=self._main, name="liqmap", daemon=True)
        self._stop: Stop | None = None
        self._stoppable = threading.Event()
        self._code: int | None = None
        self._error: BaseException | None = None
        self._patch = pytest.MonkeyPatch()
        self._redirects = contextlib.ExitStack()

    def __enter__(self) -> Liqmap:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            if self._thread.is_alive():
                self.stop()
        except AssertionError:
            if kind is None:
                raise
        finally:
            self._restore()

    def start(self) -> None:
        for name in [name for name in os.environ if name.startswith(SETTINGS)]:
            self._patch.delenv(name)
        for name, value in self._env.items():
            self._patch.setenv(name, value)
        self._patch.chdir(self._cwd)
        self._redirects.enter_context(contextlib.redirect_stdout(self._stdout))
        self._redirects.enter_context(contextlib.redirect_stderr(self._stderr))
        self._thread.start()

    def running(self) -> bool:
        return self._thread.is_alive()

    def output(self) -> str:
        """What it wrote so far: stdout, then stderr (where the log goes)."""
        return self._stdout.getvalue() + self._stderr.getvalue()

    def until(self, condition: Callable[[], bool], what: str, within: float = 60.0) -> None:
        """Wait for ``condition`` while it runs; fail if it ends first, or after ``within``."""
        deadline = time.monotonic() + within
        while not condition():
            if not self.running():
                raise AssertionError(f"liqmap ended before {what}:\n{self.output()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}:\n{self.output()}")
            time.sleep(0.02)

    def wait(self, within: float = 180.0) -> Result:
        """Its result once it has ended by itself."""
        self._thread.join(within)
        if self._thread.is_alive():
            raise AssertionError(f"liqmap {self.args} still runs after {within:g} s:\n"
                                 f"{self.output()}")  # fmt: skip
        self._restore()
        if self._error is not None:
            raise self._error
        assert self._code is not None
        return Result(self._code, self._stdout.getvalue(), self._stderr.getvalue())

    def stop(self, within: float = 30.0) -> Result:
        """Stop it as SIGTERM does (or let it end, if it is ending anyway); its result."""
        if not self._stoppable.wait(within):
            raise AssertionError(f"liqmap {self.args} never got going:\n{self.output()}")
        if self._stop is not None and self._thread.is_alive():
            with contextlib.suppress(RuntimeError):  # its loop closed as it ended by itself
                self._stop()
        return self.wait(within)

    def _main(self) -> None:
        try:
            self._code = main(self.args, self._tuning)
        except BaseException as exc:  # raised in the test's thread by ``wait``
            self._error = exc
        finally:
            self._stoppable.set()

    def _on_start(self, stop: Stop) -> None:
        self._stop = stop
        self._stoppable.set()

    def _restore(self) -> None:
        self._redirects.close()
        self._patch.undo()


class Gate:
    """Stands in for ``asyncio.sleep`` where a command waits out a time (``record --for``):
    the wait ends when the test opens the gate, whatever the seconds asked, which it keeps."""

    def __init__(self) -> None:
        self.asked: list[float] = []
        self._lock = threading.Lock()
        self._open = False
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []

    async def __call__(self, seconds: float) -> None:
        self.asked.append(seconds)
        opened = asyncio.Event()
        with self._lock:
            if self._open:
                return
            self._waiters.append((asyncio.get_running_loop(), opened))
        await opened.wait()

    def open(self) -> None:
        with self._lock:
            self._open = True
            for loop, opened in self._waiters:
                with contextlib.suppress(RuntimeError):  # that command has ended already
                    loop.call_soon_threadsafe(opened.set)
