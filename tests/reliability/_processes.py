"""Start, watch and kill the training subprocesses of the reliability tests."""

import os
import pathlib
import signal
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
HERE = pathlib.Path(__file__).resolve().parent


def child_environment(**extra):
    """The environment for a child Python: quiet TensorFlow, unbuffered output, this checkout importable."""
    environment = dict(os.environ)
    environment.update(PYTHONUNBUFFERED="1", TF_CPP_MIN_LOG_LEVEL="2")
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), environment.get("PYTHONPATH")]))
    environment.update(extra)
    return environment


class Child:
    """A subprocess whose combined output goes to a log file. It leads a new process group, and leaving
    the `with` block kills that group: the child and anything it started, nothing else.

    A failing child raises RuntimeError, not AssertionError, so that a test marked
    `xfail(raises=AssertionError)` errors, rather than fails as expected, when its child fails."""

    def __init__(self, arguments, log_path, environment=None, prefix=()):
        self.log_path = pathlib.Path(log_path)
        self._log = open(self.log_path, "w")  # noqa: SIM115 - closed in __exit__, the child writes to it
        self.process = subprocess.Popen(
            [*prefix, sys.executable, *map(str, arguments)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=environment or child_environment(),
            cwd=ROOT,
            start_new_session=True,
        )

    def output(self):
        return self.log_path.read_text(errors="replace")

    def wait_until(self, condition, timeout, what):
        """Poll `condition()` until it holds; fail (with the log) if the child exits or time runs out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            if self.process.poll() is not None:
                raise RuntimeError(f"child exited (rc={self.process.returncode}) before {what}:\n{self.tail()}")
            time.sleep(0.05)
        raise RuntimeError(f"timed out after {timeout} s waiting for {what}:\n{self.tail()}")

    def kill(self):
        """SIGKILL to the child's process group, the way a preempted or OOM-killed job dies: no handler,
        no cleanup."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:  # the group is already gone
            pass
        self.process.wait(timeout=30)

    def finish(self, timeout):
        """Wait for a normal exit; kill the child and fail if it overruns or fails."""
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise RuntimeError(f"child ran past {timeout} s:\n{self.tail()}") from None
        if self.process.returncode != 0:
            raise RuntimeError(f"child failed (rc={self.process.returncode}):\n{self.tail()}")
        return self.output()

    def tail(self, lines=40):
        return "\n".join(self.output().splitlines()[-lines:])

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.kill()
        self._log.close()
