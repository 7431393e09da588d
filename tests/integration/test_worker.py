"""pts-worker on its own: single instance, job pickup, recovery, schedule, stop, SIGTERM.

Runs the real binary against a temporary data folder and reads the database it writes.
"""
import json
import os
import signal
import sqlite3
import subprocess
import tempfile
import time
import unittest

from stack import BUILD, wait_for

WORKER = os.path.join(BUILD, "worker", "pts-worker")


class WorkerCase(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="pts-worker-")
        os.chmod(self.tmp.name, 0o711)      # run as root, the worker's user passes through
        self.data = os.path.join(self.tmp.name, "var")
        self.env = dict(os.environ, PTS_DATA_DIR=self.data)
        self.procs = []
        # Create the database, then switch the watched sync off: these tests are about the
        # worker's machinery (queue, recovery, schedule), so a sync has nothing to do.
        subprocess.run([WORKER, "--once", "--dry-run"], env=self.env, capture_output=True,
                       timeout=60)
        for table in ("runs", "jobs", "log", "meta"):
            self.exec("DELETE FROM %s" % table)
        self.exec("INSERT INTO settings(key, value) VALUES('sync_watched', '0')")

    def tearDown(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        self.tmp.cleanup()

    def start(self, *args):
        # Output goes to a file: a pipe nobody reads could fill up and block the worker.
        log = open(os.path.join(self.tmp.name, "worker-%d.log" % len(self.procs)), "w+")
        p = subprocess.Popen([WORKER, *args], env=self.env, stdout=log, stderr=subprocess.STDOUT,
                             text=True)
        p.logfile = log
        self.procs.append(p)
        if not args:
            wait_for(lambda: os.path.exists(os.path.join(self.data, "pts.db")) and
                     self.one("SELECT COUNT(*) FROM heartbeat") == 1, what="worker heartbeat")
        return p

    def db(self):
        return sqlite3.connect(os.path.join(self.data, "pts.db"), timeout=10)

    def one(self, sql, *params):
        try:
            conn = self.db()
            try:
                row = conn.execute(sql, params).fetchone()
            finally:
                conn.close()
        except sqlite3.OperationalError:
            return None
        return row[0] if row else None

    def exec(self, sql, *params):
        conn = self.db()
        try:
            cur = conn.execute(sql, params)
            conn.commit()
            return cur.lastrowid
        finally:
            conn.close()

    def queue_sync(self, cancel=0):
        job = self.exec("INSERT INTO jobs(kind, args, created_at, cancel) VALUES('sync', '{}', ?, ?)",
                        int(time.time()), cancel)
        run = self.exec("INSERT INTO runs(job_id, trigger, created_at) VALUES(?, 'manual', ?)",
                        job, int(time.time()))
        self.exec("UPDATE jobs SET run_id = ? WHERE id = ?", run, job)
        return job, run

    def stop(self, p):
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=30)
        p.logfile.seek(0)
        out = p.logfile.read()
        p.logfile.close()
        return p.returncode, out


class TestWorker(WorkerCase):
    def test_database_is_private(self):
        p = self.start()
        mode = os.stat(os.path.join(self.data, "pts.db")).st_mode & 0o777
        self.assertEqual(mode, 0o600)
        self.assertEqual(self.one("PRAGMA journal_mode"), "wal")
        self.stop(p)

    def test_second_worker_refuses_same_data_folder(self):
        p = self.start()
        second = subprocess.run([WORKER], env=self.env, capture_output=True, text=True, timeout=30)
        self.assertEqual(second.returncode, 3)
        self.assertIn("already running", second.stderr)
        rc, _ = self.stop(p)
        self.assertEqual(rc, 0)

    def test_job_picked_up_within_a_second(self):
        p = self.start()
        job, run = self.queue_sync()
        t0 = time.monotonic()
        wait_for(lambda: self.one("SELECT state FROM jobs WHERE id = ?", job) != "queued",
                 timeout=5, step=0.02, what="job pickup")
        self.assertLess(time.monotonic() - t0, 1.0)
        wait_for(lambda: self.one("SELECT status FROM runs WHERE id = ?", run) == "ok",
                 what="run ok")
        # The run ends in the job's child; the job row is the runner's once the child is gone.
        wait_for(lambda: self.one("SELECT state FROM jobs WHERE id = ?", job) == "done",
                 what="job done")
        self.assertIsNotNone(self.one("SELECT finished_at FROM runs WHERE id = ?", run))
        msgs = [r[0] for r in self.db().execute("SELECT message FROM log WHERE run_id = ?", (run,))]
        self.assertTrue(any("sync started" in m for m in msgs), msgs)
        self.assertTrue(any("sync ok" in m for m in msgs), msgs)
        self.assertEqual(self.one("SELECT COUNT(*) FROM progress WHERE run_id = ?", run), 1)
        self.stop(p)

    def test_stop_requested_run_ends_cancelled(self):
        p = self.start()
        job, run = self.queue_sync(cancel=1)
        wait_for(lambda: self.one("SELECT status FROM runs WHERE id = ?", run) == "cancelled",
                 what="run cancelled")
        # The job child ends the run; the runner then records the job's end when it reaps it.
        wait_for(lambda: self.one("SELECT state FROM jobs WHERE id = ?", job) == "cancelled",
                 what="job cancelled")
        self.stop(p)

    def test_job_left_running_is_recovered(self):
        p = self.start()
        self.stop(p)
        job, run = self.queue_sync()
        # As if a worker had died mid-sync.
        self.exec("UPDATE jobs SET state = 'running', attempts = 1 WHERE id = ?", job)
        self.exec("UPDATE runs SET status = 'running' WHERE id = ?", run)
        p = self.start()
        wait_for(lambda: self.one("SELECT status FROM runs WHERE id = ?", run) == "ok",
                 what="recovered run finishes")
        self.assertEqual(self.one("SELECT state FROM jobs WHERE id = ?", job), "done")
        self.stop(p)

    def test_job_crashing_too_often_fails(self):
        p = self.start()
        self.stop(p)
        job, run = self.queue_sync()
        self.exec("UPDATE jobs SET state = 'running', attempts = 5 WHERE id = ?", job)
        self.exec("UPDATE runs SET status = 'running' WHERE id = ?", run)
        p = self.start()
        wait_for(lambda: self.one("SELECT state FROM jobs WHERE id = ?", job) == "failed",
                 what="job failed")
        self.assertEqual(self.one("SELECT status FROM runs WHERE id = ?", run), "failed")
        self.stop(p)

    def test_schedule_survives_restart(self):
        p = self.start()
        wait_for(lambda: self.one("SELECT value FROM meta WHERE key = 'next_run_at'"),
                 what="schedule set")
        first = int(self.one("SELECT value FROM meta WHERE key = 'next_run_at'"))
        self.assertAlmostEqual(first, time.time() + 6 * 3600, delta=30)
        self.stop(p)
        time.sleep(1.1)
        p = self.start()
        time.sleep(1.5)
        self.assertEqual(int(self.one("SELECT value FROM meta WHERE key = 'next_run_at'")), first)
        self.stop(p)

    def test_interval_change_and_off(self):
        p = self.start()
        wait_for(lambda: self.one("SELECT value FROM meta WHERE key = 'next_run_at'"),
                 what="schedule set")
        first = int(self.one("SELECT value FROM meta WHERE key = 'next_run_at'"))
        self.exec("INSERT INTO settings(key, value) VALUES('sync_interval_hours', '1')")
        self.exec("INSERT OR REPLACE INTO meta(key, value) VALUES('settings_changed', '1')")
        wait_for(lambda: int(self.one("SELECT value FROM meta WHERE key = 'next_run_at'")) != first,
                 what="interval change applied")
        nxt = int(self.one("SELECT value FROM meta WHERE key = 'next_run_at'"))
        self.assertLessEqual(nxt, time.time() + 3600 + 5)
        self.exec("UPDATE settings SET value = '0' WHERE key = 'sync_interval_hours'")
        self.exec("INSERT OR REPLACE INTO meta(key, value) VALUES('settings_changed', '2')")
        wait_for(lambda: self.one("SELECT value FROM meta WHERE key = 'next_run_at'") is None,
                 what="schedule off")
        self.stop(p)

    def test_due_schedule_queues_a_scheduled_sync(self):
        p = self.start()
        wait_for(lambda: self.one("SELECT value FROM meta WHERE key = 'next_run_at'"),
                 what="schedule set")
        self.exec("UPDATE meta SET value = ? WHERE key = 'next_run_at'", str(int(time.time()) - 1))
        wait_for(lambda: self.one("SELECT status FROM runs WHERE trigger = 'schedule'") == "ok",
                 what="scheduled run")
        nxt = int(self.one("SELECT value FROM meta WHERE key = 'next_run_at'"))
        self.assertGreater(nxt, time.time() + 5 * 3600)
        self.stop(p)

    def test_sigterm_exits_cleanly_and_clears_heartbeat(self):
        p = self.start()
        rc, out = self.stop(p)
        self.assertEqual(rc, 0, out)
        self.assertEqual(self.one("SELECT COUNT(*) FROM heartbeat"), 0)

    def test_once_runs_one_sync(self):
        r = subprocess.run([WORKER, "--once"], env=self.env, capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.one("SELECT status FROM runs ORDER BY id DESC LIMIT 1"), "ok")
        self.assertRegex(r.stderr, r"run \d+: ok")

    def test_bad_option(self):
        r = subprocess.run([WORKER, "--bogus"], env=self.env, capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)


if __name__ == "__main__":
    unittest.main()
