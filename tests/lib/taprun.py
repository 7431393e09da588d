"""Run one unittest module and report each test as a TAP line (ok / not ok).

Usage: python3 tests/lib/taprun.py path/to/test_x.py
Every suite in tests/ is counted the same way by tests/run-tests.
"""
import importlib.util
import os
import sys
import time
import traceback
import unittest


class TapResult(unittest.TestResult):
    def __init__(self):
        super().__init__()
        self.n = 0
        self.t0 = 0.0

    def startTest(self, test):
        super().startTest(test)
        self.t0 = time.monotonic()

    def _line(self, ok, test, extra=""):
        self.n += 1
        took = time.monotonic() - self.t0
        print("%sok %d - %s (%.1fs)%s" % ("" if ok else "not ", self.n, test.id(), took, extra),
              flush=True)

    def addSuccess(self, test):
        super().addSuccess(test)
        self._line(True, test)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._line(False, test)
        self._diag(err)

    def addError(self, test, err):
        super().addError(test, err)
        self._line(False, test)
        self._diag(err)

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self.n += 1
        print("ok %d - %s # SKIP %s" % (self.n, test.id(), reason), flush=True)

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self._line(True, test, " # TODO expected failure")

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._line(False, test, " (unexpected success)")

    @staticmethod
    def _diag(err):
        for line in "".join(traceback.format_exception(*err)).splitlines():
            print("#   " + line, flush=True)


def main():
    path = os.path.abspath(sys.argv[1])
    sys.path.insert(0, os.path.dirname(path))
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    result = TapResult()
    try:
        spec.loader.exec_module(mod)
        suite = unittest.defaultTestLoader.loadTestsFromModule(mod)
    except Exception:  # a module that cannot even load is one failure, not zero tests
        print("not ok 1 - %s failed to load" % name)
        traceback.print_exc(file=sys.stdout)
        print("1..1")
        return 1
    suite.run(result)
    print("1..%d" % result.n)
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
