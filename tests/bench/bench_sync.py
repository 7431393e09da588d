#!/usr/bin/env python3
"""The sync benchmark (make bench): a big synthetic library against the fakes.

    python3 tests/bench/bench_sync.py --build BUILD_DIR [--corpus SPEC] [--latency-ms N]

Starts the fakes with a generated corpus (default 10,000 movies, 800 shows with 40,000
episodes, 20 % watched), adds latency to every upstream request, and runs `pts-worker --once`
twice on one data folder: a first sync, then a resync with nothing changed. For each it prints
the upstream calls per service and per endpoint, the wall time, the worker's CPU time and
peak RSS, then one PASS/FAIL line per target (tests/bench/README.md). Exit status: 0 when
every target passes, 1 when one fails, 2 when the benchmark could not run.

Python 3 standard library only. Use a build without sanitizers (ASan inflates memory and CPU):
the script refuses one unless --allow-sanitizers is given (figures then mean little).
"""
import argparse
import json
import math
import os
import shlex
import subprocess
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))

DEFAULT_CORPUS = "movies=10000,shows=800,episodes=40000,watched=0.2,seed=1"
DEFAULT_LATENCY_MS = 20
SERVICES = ("plex", "plextv", "trakt", "tmdb", "plexdisc")

# Targets (the issue): upstream reads of a first sync, history POSTs per new play, memory,
# and the cost of a resync with nothing to do.
TARGET_READS = 100
TARGET_PLAYS_PER_POST = 100
TARGET_RSS_BYTES = 30 * 1000 * 1000
TARGET_RESYNC_CALLS = 5
# A resync with every kind on (ratings, watchlist, playback too), nothing changed.
TARGET_RESYNC_EVERY_KIND_CALLS = 8
EVERY_KIND = ("sync_ratings", "sync_watchlist", "sync_playback")

# The worker's pacing relaxed for the benchmark (calls are still counted): no spacing between
# history POSTs and a GET budget that never makes it wait.
WORKER_ENV = {"PTS_TRAKT_POST_INTERVAL_MS": "0", "PTS_TRAKT_GET_BUDGET": "10000/1"}
# The Trakt fake's matching checks: no 1 write/s rule, no GET budget.
TRAKT_STATE = {"enforce_post_rate": False, "get_limit": 0}

# Runs the worker and reports its resource usage as JSON: `python3 -S -c LAUNCHER LOG ARGV...`.
# Why a launcher and not getrusage(RUSAGE_CHILDREN) here: Linux carries the RSS high-water mark
# of the process that forks across exec, so every child of this (big) Python process reports
# at least this process's RSS, and RUSAGE_CHILDREN's ru_maxrss is a maximum over all children,
# not a sum a delta could be taken of. A small launcher (python -S, ~9 MB) keeps that floor
# low, and wait4() gives the usage of exactly one run (with any job child it reaped). "floor"
# is the launcher's own RSS: a max RSS equal to it means "at most this much".
LAUNCHER = r"""
import os, sys, time
log, argv = sys.argv[1], sys.argv[2:]
fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
with open("/proc/self/status") as f:
    floor = [int(l.split()[1]) for l in f if l.startswith("VmHWM:")][0]
t0 = time.monotonic()
pid = os.posix_spawnp(argv[0], argv, os.environ, file_actions=[
    (os.POSIX_SPAWN_DUP2, fd, 1), (os.POSIX_SPAWN_DUP2, fd, 2)])
_, status, ru = os.wait4(pid, 0)
wall = time.monotonic() - t0
print('{"rc": %d, "wall": %.6f, "utime": %.6f, "stime": %.6f, "maxrss": %d, "floor": %d}' % (
    os.waitstatus_to_exitcode(status), wall, ru.ru_utime, ru.ru_stime, ru.ru_maxrss, floor))
"""


def die(msg):
    print("bench: " + msg, file=sys.stderr)
    sys.exit(2)


def sanitizer_reason(build, worker):
    """Why this build is a sanitizer build, or None."""
    flags = os.path.join(build, ".configure-flags")
    if os.path.exists(flags):
        with open(flags) as f:
            if "sanitizers" in f.read():
                return "%s names --enable-sanitizers" % flags
    log = os.path.join(build, "config.log")
    if os.path.exists(log):
        with open(log, errors="replace") as f:
            head = f.read(4096)
        for line in head.splitlines():
            if line.strip().startswith("$") and "--enable-sanitizers" in line:
                return "configured with --enable-sanitizers (config.log)"
    with open(worker, "rb") as f:
        blob = f.read()
    for sym in (b"__asan_init", b"__ubsan_handle", b"__tsan_init", b"__msan_init"):
        if sym in blob:
            return "the binary references %s" % sym.decode()
    return None


def mb(kib):
    return kib * 1024 / 1e6


class Bench:
    def __init__(self, args):
        self.args = args
        self.build = os.path.abspath(args.build)
        self.worker = os.path.join(self.build, "worker", "pts-worker")
        # tests/lib/stack.py reads the build folder when it is first imported.
        os.environ["PTS_BUILD_DIR"] = self.build
        from fakes import Fakes
        from syncenv import SyncEnv
        self.fakes = Fakes(generate=args.corpus)
        self.SyncEnv = SyncEnv
        self.env = None
        self.started = False

    def reset_calls(self):
        for svc in SERVICES:
            self.fakes.post(svc, "/_control/calls/reset")

    def calls(self):
        return {svc: self.fakes.calls(svc)["calls"] for svc in SERVICES}

    def history_count(self):
        return self.fakes.get("trakt", "/_control/state?keys=counts")["counts"]["history"]

    def set_latency(self, ms):
        for svc in SERVICES:
            self.fakes.post(svc, "/_control/faults", {"latency_ms": ms})

    def run_worker(self, label):
        """pts-worker --once through LAUNCHER: wall time, CPU time and peak RSS of that run."""
        self.reset_calls()
        hist0 = self.history_count()
        env = dict(self.env.env)
        env.update(WORKER_ENV)
        log_path = os.path.join(self.env.tmp.name, "worker-%s.log" % label.replace(" ", "-"))
        argv = shlex.split(self.args.wrap or "") + [self.worker, "--once"]
        p = subprocess.run([sys.executable, "-S", "-c", LAUNCHER, log_path] + argv, env=env,
                           stdout=subprocess.PIPE, text=True)
        if p.returncode != 0:
            die("the launcher failed (exit %d) for the %s" % (p.returncode, label))
        m = json.loads(p.stdout)
        calls = self.calls()
        hist1 = self.history_count()
        run = self.env.run_row()
        with open(log_path, errors="replace") as f:
            tail = f.read()[-2000:]
        return {"label": label, "rc": m["rc"], "wall": m["wall"],
                "cpu": m["utime"] + m["stime"], "utime": m["utime"], "stime": m["stime"],
                "maxrss_kib": m["maxrss"], "floor_kib": m["floor"], "calls": calls,
                "new_plays": hist1 - hist0, "run": run, "log_tail": tail}

    def preflight(self):
        """Refuse a missing binary or a sanitizer build (before anything starts)."""
        if not os.access(self.worker, os.X_OK):
            die("no %s: build it first (see tests/bench/README.md)" % self.worker)
        why = sanitizer_reason(self.build, self.worker)
        if why:
            if not self.args.allow_sanitizers:
                die("%s is a sanitizer build (%s): its CPU and memory figures are meaningless."
                    " Configure a plain build (tests/bench/README.md) or pass"
                    " --allow-sanitizers." % (self.build, why))
            print("WARNING: sanitizer build (%s): CPU and RSS figures are inflated" % why)

    def start(self):
        t0 = time.monotonic()
        self.fakes.start()
        self.started = True
        self.env = self.SyncEnv(self.fakes)
        for svc in SERVICES:
            self.fakes.post(svc, "/_control/faults/reset")
        self.fakes.post("trakt", "/_control/state", TRAKT_STATE)
        self.set_latency(self.args.latency_ms)
        summary = self.fakes.get("plex", "/_control/summary")
        return time.monotonic() - t0, summary

    def stop(self):
        if self.env is not None:
            self.env.close()
        if self.started:
            self.fakes.stop()


def split_calls(calls):
    """(reads, writes) over every service: GET/HEAD are reads, anything else a write."""
    reads = writes = 0
    for per in calls.values():
        for ep, n in per.items():
            if ep.split(" ", 1)[0] in ("GET", "HEAD"):
                reads += n
            else:
                writes += n
    return reads, writes


def print_calls(r):
    print("  upstream calls:")
    for svc in SERVICES:
        per = r["calls"][svc]
        total = sum(per.values())
        print("    %-8s %6d" % (svc, total))
        for ep in sorted(per, key=lambda k: (-per[k], k)):
            print("      %6d  %s" % (per[ep], ep))
    reads, writes = split_calls(r["calls"])
    print("    %-8s %6d   (reads %d, writes %d)" % ("total", reads + writes, reads, writes))


def print_run(r):
    run = r["run"]
    print("")
    print("== %s ==" % r["label"])
    print("  exit %d, run status %s; added to Trakt %s, not found %s, unmatched %s,"
          " items scanned %s" % (r["rc"], run.get("status"), run.get("added_to_trakt"),
                                 run.get("not_found"), run.get("unmatched"),
                                 run.get("items_scanned")))
    print("  new plays on Trakt (history growth): %d" % r["new_plays"])
    print("  wall time      %8.2f s" % r["wall"])
    print("  worker CPU     %8.2f s   (user %.2f, system %.2f)" % (r["cpu"], r["utime"],
                                                                  r["stime"]))
    print("  worker max RSS %8.1f MB  (%d KiB%s)" % (
        mb(r["maxrss_kib"]), r["maxrss_kib"],
        "; at most: the launcher's floor" if r["maxrss_kib"] <= r["floor_kib"] else ""))
    print_calls(r)


def verdicts(first, resync, every=None, wrapped=False):
    """[(ok, text)] for every target; ok is None for a target not judged."""
    out = []
    reads, writes = split_calls(first["calls"])
    out.append((first["rc"] == 0 and first["run"].get("status") == "ok",
                "first sync finishes ok (exit %d, status %s)" % (first["rc"],
                                                                first["run"].get("status"))))
    out.append((resync["rc"] == 0 and resync["run"].get("status") == "ok",
                "resync finishes ok (exit %d, status %s)" % (resync["rc"],
                                                            resync["run"].get("status"))))
    out.append((reads <= TARGET_READS,
                "first sync reads %d <= %d" % (reads, TARGET_READS)))
    # Batches hold at most 100 plays (the limit). Plays Trakt does not know cannot be
    # told apart before they are sent, so the bound is over the plays sent: the new ones plus
    # the not-found ones. The bound over new plays alone is printed too, for the record.
    sent = first["new_plays"] + (first["run"].get("not_found") or 0)
    limit = math.ceil(sent / TARGET_PLAYS_PER_POST)
    out.append((writes <= limit,
                "first sync writes %d <= ceil(%d plays sent / %d) = %d" % (
                    writes, sent, TARGET_PLAYS_PER_POST, limit)))
    out.append((None, "first sync writes %d vs ceil(%d new plays / %d) = %d (%d plays sent"
                " were unknown to Trakt)" % (writes, first["new_plays"], TARGET_PLAYS_PER_POST,
                                             math.ceil(first["new_plays"] /
                                                       TARGET_PLAYS_PER_POST),
                                             sent - first["new_plays"])))
    for r in (first, resync):
        rss = r["maxrss_kib"] * 1024
        out.append((None if wrapped else rss <= TARGET_RSS_BYTES,
                    "%s peak RSS %.1f MB <= %.0f MB%s" % (
                        r["label"], rss / 1e6, TARGET_RSS_BYTES / 1e6,
                        " (not judged: the worker ran under --wrap)" if wrapped else "")))
    total = sum(sum(per.values()) for per in resync["calls"].values())
    out.append((total <= TARGET_RESYNC_CALLS,
                "resync calls %d <= %d" % (total, TARGET_RESYNC_CALLS)))
    out.append((resync["new_plays"] == 0,
                "resync adds no play (%d)" % resync["new_plays"]))
    if every is not None:
        total = sum(sum(per.values()) for per in every["calls"].values())
        out.append((every["rc"] == 0 and total <= TARGET_RESYNC_EVERY_KIND_CALLS,
                    "resync with every kind on: calls %d <= %d" % (
                        total, TARGET_RESYNC_EVERY_KIND_CALLS)))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(TOP, "build-bench"),
                    help="build folder holding worker/pts-worker (default: build-bench)")
    ap.add_argument("--corpus", default=DEFAULT_CORPUS,
                    help="fakes --generate spec (default: %s)" % DEFAULT_CORPUS)
    ap.add_argument("--latency-ms", type=int, default=DEFAULT_LATENCY_MS,
                    help="latency added to every upstream request (default: %d)" %
                    DEFAULT_LATENCY_MS)
    ap.add_argument("--allow-sanitizers", action="store_true",
                    help="run on a sanitizer build anyway (figures inflated)")
    ap.add_argument("--wrap", metavar="CMD",
                    help="run the worker under CMD, e.g. \"valgrind --tool=massif"
                    " --massif-out-file=/tmp/m.%%p\" (CPU/RSS are then CMD's; RSS not judged)")
    args = ap.parse_args()

    b = Bench(args)
    b.preflight()
    try:
        setup_s, summary = b.start()
        print("Plex-Trakt Sync benchmark")
        print("  worker   %s" % b.worker)
        print("  corpus   %s" % args.corpus)
        for side in ("plex", "trakt"):
            d = summary.get(side, {})
            print("  %-8s %s" % (side, ", ".join("%s=%s" % (k, d[k]) for k in sorted(d))))
        print("  latency  %d ms per upstream request; Trakt POST pacing off, GET budget off"
              % args.latency_ms)
        print("  setup    %.1f s (fakes + data folder)" % setup_s)
        if args.wrap:
            print("  wrapper  %s (CPU and RSS below are the wrapper's)" % args.wrap)
        first = b.run_worker("first sync")
        print_run(first)
        resync = b.run_worker("resync")
        print_run(resync)
        # Every kind on: one sync that reads the new kinds in full, then a resync.
        for key in EVERY_KIND:
            b.env.set(key, True)
        print_run(b.run_worker("every kind on"))
        every = b.run_worker("every kind on, resync")
        print_run(every)
        res = verdicts(first, resync, every, wrapped=bool(args.wrap))
        print("")
        print("== targets ==")
        for ok, text in res:
            print("%s  %s" % ("SKIP" if ok is None else "PASS" if ok else "FAIL", text))
        failed = [t for ok, t in res if ok is False]
        if first["rc"] != 0 or resync["rc"] != 0 or every["rc"] != 0:
            for r in (first, resync, every):
                if r["rc"] != 0:
                    print("\n-- %s: worker output (tail) --\n%s" % (r["label"], r["log_tail"]))
        print("")
        print("bench: %s (%d of %d targets failed)" % ("FAIL" if failed else "PASS",
                                                     len(failed), len(res)))
        return 1 if failed else 0
    finally:
        b.stop()


if __name__ == "__main__":
    sys.exit(main())
