"""tests/python/check.py — a tiny check counter for the Python tests: each check prints one
line "PASS name" or "FAIL name: why", and `summary()` ends with the line scripts/test.sh's
callers count ("N passed, N failed")."""

import sys
import traceback


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.skipped = 0

    def run(self, name, fn):
        """Runs fn(); it passes unless it raises (an AssertionError says why)."""
        try:
            fn()
        except Exception as e:  # a crash is a failure of that check, not of the script
            self.failed += 1
            print("FAIL %s: %s" % (name, e if isinstance(e, AssertionError) else traceback.format_exc().strip()))
        else:
            self.passed += 1
            print("PASS %s" % name)
        sys.stdout.flush()

    def summary(self):
        if self.skipped:
            print("%d skipped" % self.skipped)
        print("%d passed, %d failed" % (self.passed, self.failed))
        return 1 if self.failed else 0
