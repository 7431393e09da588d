#!/bin/sh
# test_run_tests.sh - tests/run-tests' counting: a suite's TAP lines are read from its
# standard output only (its standard error, written in the middle of a line, goes to the log
# without hiding the line), a plan that differs from the results read is a failure, and a
# non-zero exit without a failed line is one. Drives run_suite() on small shell suites.
# Prints TAP. Usage: tests/unit/test_run_tests.sh [BUILD_DIR]   (the build is not needed)
set -u
exec python3 - "$(cd "$(dirname "$0")/../.." && pwd)" <<'PY'
import contextlib, importlib.machinery, importlib.util, io, os, sys, tempfile

top = sys.argv[1]
loader = importlib.machinery.SourceFileLoader("run_tests", os.path.join(top, "tests", "run-tests"))
spec = importlib.util.spec_from_loader("run_tests", loader)
rt = importlib.util.module_from_spec(spec)
loader.exec_module(rt)
n = failed = 0


def ok(cond, what, detail=""):
    global n, failed
    n += 1
    print("%sok %d - %s" % ("" if cond else "not ", n, what))
    if not cond:
        failed += 1
        for line in str(detail).splitlines():
            print("#   " + line)


def suite(script):
    """run_suite on a shell script: (passed, failed, what it printed, the log)."""
    with tempfile.TemporaryDirectory() as d:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            p, f = rt.run_suite("unit/t", ["sh", "-c", script], dict(os.environ), d)
        with open(os.path.join(d, "unit_t.log")) as log:
            return p, f, out.getvalue(), log.read()


# A TAP line cut in two by a line on standard error (stdout unbuffered here, as a C
# program's full buffer may flush mid-line).
p, f, out, log = suite("printf 'ok 1 - one\\no'; echo 'a log line' >&2; "
                       "printf 'k 2 - two\\n1..2\\n'")
ok((p, f) == (2, 0), "a line on stderr in the middle of a TAP line hides nothing", (p, f, out))
ok("a log line" in log and "ok 2 - two" in log, "stdout and stderr both land in the log", log)

p, f, out, log = suite("echo 'ok 1 - one'; echo '1..3'")
ok((p, f) == (1, 1), "a plan of 3 with one result read is a failure", (p, f, out))
ok("1..3" in out and "1 results" in out, "and it says so", out)

p, f, out, log = suite("echo 'ok 1 - one'; echo 'not ok 2 - two'; echo '1..2'; exit 1")
ok((p, f) == (1, 1), "a failed line and its exit status count once", (p, f, out))

p, f, out, log = suite("echo 'ok 1 - one'; echo '1..1'; exit 3")
ok((p, f) == (1, 1) and "status 3" in out, "an exit status without a failed line is a failure",
   (p, f, out))

p, f, out, log = suite("echo '1..0 # SKIP nothing to do here'")
ok((p, f) == (0, 0), "a plan of 1..0 (skipped) is no failure", (p, f, out))

p, f, out, log = suite("echo 'ok 1 - one'; echo 'ok 2 - two # SKIP later'; echo '1..2'")
ok((p, f) == (2, 0), "a skipped line counts as passed, the plan holds", (p, f, out))

print("1..%d" % n)
sys.exit(1 if failed else 0)
PY
