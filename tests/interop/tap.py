"""tap.py - the TAP harness of the Python suites (test_synckeyd.py,
test_adapter.py, tests/adapter/contract.py): one numbered line per
case, a skip with its measured reason, and for a failure its message and
where in the suite it was raised."""
import os
import sys
import traceback


class Skipped(Exception):
    """The server, not the product, kept a case from running (the reason)."""


def expect(cond, msg):
    """Fails the case with msg (a string, or a function giving one)."""
    if not cond:
        raise AssertionError(msg() if callable(msg) else msg)


class Tap:
    """suite: the suite's __file__ (frames from it are shown on failure);
    before(): run before every case (e.g. resynchronise after a failure);
    after_failure(): lines of context printed after a failure."""

    def __init__(self, suite, before=None, after_failure=None):
        self.suite = os.path.abspath(suite)
        self.before = before
        self.after_failure = after_failure
        self.results = []

    def check(self, name, fn, skip=None):
        """Runs fn as case `name`; skip: the reason it cannot hold here, or
        None.  A string fn returns is shown after the line as a note."""
        n = len(self.results) + 1
        if skip:
            self.results.append(True)
            print("ok %d - %s # SKIP %s" % (n, name, skip), flush=True)
            return
        try:
            if self.before is not None:
                self.before()
            note = fn()
            self.results.append(True)
            print("ok %d - %s%s" % (n, name, " # " + note if isinstance(note, str) and note else ""),
                  flush=True)
        except Skipped as e:
            self.results.append(True)
            print("ok %d - %s # SKIP %s" % (n, name, e), flush=True)
        except Exception as e:  # noqa: BLE001 - a failed case is reported, the rest run
            self.results.append(False)
            print("not ok %d - %s" % (n, name))
            for line in ("%s: %s" % (type(e).__name__, e)).splitlines():
                print("# " + line)
            frames = [f for f in traceback.extract_tb(e.__traceback__)[1:]
                      if os.path.abspath(f.filename) == self.suite and f.name != "expect"]
            if frames:
                print("#   at " + " > ".join("%s:%d" % (f.name, f.lineno) for f in frames))
            for line in (self.after_failure() if self.after_failure else []):
                print("# " + line)
            sys.stdout.flush()

    def summary(self):
        """The last line, and the exit code."""
        passed = self.results.count(True)
        print("# %d passed, %d failed" % (passed, len(self.results) - passed), flush=True)
        return 0 if all(self.results) else 1
