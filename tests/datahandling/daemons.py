"""Starting ``bk`` daemons as real processes for the tests, and stopping only those."""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

BK = str(Path(sys.executable).parent / "bk")


class _Output:
    """A daemon's output, read as it comes by a thread of its own: a daemon that logs more
    than a pipe holds (64 KiB) between two waits must not block on its writes."""

    def __init__(self, process: subprocess.Popen[str], name: str) -> None:
        self.name = name
        self.lines: list[str] = []
        self.read_to = 0  # lines before this were seen by wait_for_line
        self.ended = False
        self.changed = threading.Condition()
        self._thread = threading.Thread(target=self._read, args=(process,), daemon=True)
        self._thread.start()

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            with self.changed:
                self.lines.append(line)
                self.changed.notify_all()
        with self.changed:
            self.ended = True
            self.changed.notify_all()

    def finish(self, timeout: float) -> str:
        self._thread.join(timeout)
        with self.changed:
            return "".join(self.lines)


_OUTPUTS: dict[int, _Output] = {}


def start(arguments: Sequence[str], *, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [BK, *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **(env or {})},
    )
    _OUTPUTS[process.pid] = _Output(process, " ".join(["bk", *arguments]))
    return process


def wait_for_line(process: subprocess.Popen[str], pattern: str, timeout: float = 60.0) -> str:
    """The first line of the process's output, after those an earlier wait saw, matching
    ``pattern`` (its output so far in the error when it exits or the time runs out)."""
    output = _OUTPUTS[process.pid]
    deadline = time.monotonic() + timeout
    with output.changed:
        while True:
            while output.read_to < len(output.lines):
                line = output.lines[output.read_to]
                output.read_to += 1
                if re.search(pattern, line):
                    return line
            left = deadline - time.monotonic()
            if output.ended or left <= 0:
                break
            output.changed.wait(left)
        seen = "".join(output.lines)
    raise AssertionError(f"no line matching {pattern!r} from {output.name}: {seen}")


def stop(process: subprocess.Popen[str], sig: int = signal.SIGTERM, timeout: float = 60) -> int:
    if process.poll() is None:
        process.send_signal(sig)
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait(timeout=timeout)
    finally:
        output = _OUTPUTS.pop(process.pid, None)
        if output is not None:
            # What it said goes to the test's captured output, shown when the test fails.
            print(f"--- output of {output.name}:")
            print(output.finish(timeout))
        if process.stdout is not None:
            process.stdout.close()


# The recall clients every test daemon knows: the tests' own (acting on behalf of the
# owners the tests name, as the web UI does), and one that asks only for itself.
TEST_TOKEN = "tests-" + secrets.token_hex(16)
ALICE_TOKEN = "alice-" + secrets.token_hex(16)
CLIENTS = (
    f'[datahandling.recall_clients.tests]\ntoken = "{TEST_TOKEN}"\non_behalf = true\n'
    f'[datahandling.recall_clients.alice]\ntoken = "{ALICE_TOKEN}"\n'
)


@contextmanager
def recall_daemon(
    url: str,
    backend: str,
    *,
    name: str = "recall-test",
    interval: float = 0.2,
    env: dict[str, str] | None = None,
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """A recall daemon on a free port, knowing the clients of ``CLIENTS`` (added to the
    settings file ``env`` names in ``BK_CONFIG``, if any); yields (process, its http URL).
    Clients made meanwhile send ``TEST_TOKEN`` (``BK_RECALL_TOKEN``)."""
    env = dict(env or {})
    with tempfile.TemporaryDirectory(prefix="bk-recall-") as folder:
        config = Path(folder) / "bk.toml"
        given = Path(env["BK_CONFIG"]).read_text() if env.get("BK_CONFIG") else ""
        config.write_text(given + "\n" + CLIENTS)
        env["BK_CONFIG"] = str(config)
        process = start(
            ["recall", "serve", "--db", url, "--backend", backend, "--port", "0",
             "--name", name, "--interval", str(interval)],
            env=env,
        )  # fmt: skip
        before = os.environ.get("BK_RECALL_TOKEN")
        os.environ["BK_RECALL_TOKEN"] = TEST_TOKEN
        try:
            line = wait_for_line(process, r"listening on http://")
            yield process, line.rsplit(" ", 1)[-1].strip()
        finally:
            if before is None:
                os.environ.pop("BK_RECALL_TOKEN", None)
            else:
                os.environ["BK_RECALL_TOKEN"] = before
            stop(process)
