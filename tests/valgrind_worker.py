#!/usr/bin/env python3
"""pts-worker under valgrind against the fakes (called by tests/valgrind-check.sh).

    python3 tests/valgrind_worker.py BUILD_DIR LOG_DIR VALGRIND_ARGS...

Two runs, each judged by valgrind's own logs (one per process, forked job children
included: with --quiet a clean process leaves an empty log) and the exit status:
  worker-once      a full Plex->Trakt sync of the default corpus (pts-worker --once)
  worker-daemon    the daemon running two webhook_scrobble jobs (a movie, and an episode
                   whose show ids come from Plex), then stopped with SIGTERM
Prints one "ok"/"FAIL" line per run; exit status 1 when one failed.
"""
import glob
import json
import os
import signal
import subprocess
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD, LOGS, VG = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2]), sys.argv[3:]
os.environ["PTS_BUILD_DIR"] = BUILD
os.environ["PTS_TOP"] = TOP
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
from fakes import Fakes  # noqa: E402
from syncenv import SyncEnv, WORKER  # noqa: E402

# valgrind slows the worker tenfold and more.
TIMEOUT_S = 600
# Run as root, the worker becomes this user (the default), and valgrind in its forked job
# children writes their logs as that user.
SERVICE_USER = "plex-trakt-sync"
if os.geteuid() == 0:
    import pwd  # noqa: E402
    _pw = pwd.getpwnam(SERVICE_USER)
    os.chown(LOGS, _pw.pw_uid, _pw.pw_gid)


def judge(name, rc, pattern):
    bad = [p for p in glob.glob(os.path.join(LOGS, pattern)) if os.path.getsize(p) > 0]
    if rc == 0 and not bad:
        print("ok   " + name, flush=True)
        return True
    print("FAIL %s: exit %s%s" % (name, rc, "; valgrind reported errors in " + ", ".join(bad)
                                  if bad else ""), flush=True)
    return False


def webhook_job(s, meta):
    conn = s.db()
    try:
        now = int(time.time())
        args = json.dumps({"received_at": now, "dry_run": False, "metadata": meta})
        job = conn.execute("INSERT INTO jobs(kind, args, created_at) VALUES('webhook_scrobble',"
                           " ?, ?)", (args, now)).lastrowid
        run = conn.execute("INSERT INTO runs(job_id, trigger, status, created_at, started_at)"
                           " VALUES(?, 'webhook', 'queued', ?, ?)", (job, now, now)).lastrowid
        conn.execute("UPDATE jobs SET run_id = ? WHERE id = ?", (run, job))
        conn.commit()
        return job
    finally:
        conn.close()


def main():
    for old in glob.glob(os.path.join(LOGS, "worker-*.log")):
        os.unlink(old)
    ok = True
    with Fakes() as f:
        s = SyncEnv(f)
        try:
            r = subprocess.run(VG + ["--log-file=" + os.path.join(LOGS, "worker-once.%p.log"),
                                     WORKER, "--once"], env=s.env, capture_output=True,
                               text=True, timeout=TIMEOUT_S)
            ok &= judge("pts-worker --once (a full sync)", r.returncode, "worker-once.*.log")
            jobs = [webhook_job(s, {"ratingKey": "102", "type": "movie", "title": "The Dark Knight",
                                    "guid": "plex://movie/5d77680000000000000c533a",
                                    "Guid": [{"id": "imdb://tt0468569"}],
                                    "lastViewedAt": int(time.time())}),
                    webhook_job(s, {"ratingKey": "323", "type": "episode", "title": "Cancer Man",
                                    "grandparentTitle": "Breaking Bad",
                                    "grandparentRatingKey": "300",
                                    "grandparentGuid": "plex://show/5d7768000000000000244014",
                                    "parentIndex": 1, "index": 4,
                                    "lastViewedAt": int(time.time())})]
            log = open(os.path.join(LOGS, "worker-daemon.out"), "w")
            p = subprocess.Popen(VG + ["--log-file=" + os.path.join(LOGS, "worker-daemon.%p.log"),
                                       WORKER], env=s.env, stdout=log, stderr=subprocess.STDOUT)
            end = time.monotonic() + TIMEOUT_S
            while time.monotonic() < end:
                states = [s.rows("SELECT state FROM jobs WHERE id = ?", j)[0]["state"]
                          for j in jobs]
                if all(st in ("done", "failed", "cancelled") for st in states):
                    break
                time.sleep(0.5)
            p.send_signal(signal.SIGTERM)
            try:
                rc = p.wait(timeout=120)
            except subprocess.TimeoutExpired:
                p.kill()
                rc = p.wait()
            log.close()
            if states != ["done", "done"]:
                print("FAIL pts-worker daemon: webhook jobs ended %s" % states, flush=True)
                ok = False
            ok &= judge("pts-worker daemon (two webhook jobs, SIGTERM)", rc,
                        "worker-daemon.*.log")
        finally:
            s.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
