"""A data folder wired to the fakes, for tests and benchmarks that drive pts-worker directly.

    with Fakes() as f:
        s = SyncEnv(f)                       # temp data folder, schema, settings, tokens
        r = s.once()                         # pts-worker --once; returns CompletedProcess
        s.run_row()                          # the last run's row

    class MyCase(SyncEnvCase):               # tests making SyncEnvs on shared fakes
        SETTINGS = {"sync_direction": "both"}   # (MyCase.fakes = f in setUpModule)
        def test_x(self): run = self.sync(self.env(sync_watched=False))

    stack = fakes_stack(f)                   # the real stack (tests/lib/stack.py) on the fakes
    stack.exec(*sign_in_sql(tok), *clear_sql("runs", "jobs"))
"""
import os
import signal
import sqlite3
import subprocess
import tempfile
import time
import unittest

from fakes import Fakes
from stack import BUILD, Stack

WORKER = os.path.join(BUILD, "worker", "pts-worker")


def settings_sql(values):
    """The statements storing the settings values ({key: value}; a bool as "1" or "0")."""
    return [("INSERT OR REPLACE INTO settings(key, value) VALUES(?, ?)", k,
             ("1" if v else "0") if isinstance(v, bool) else str(v)) for k, v in values.items()]


def plex_sign_in_sql(plex_token="plex-token-1"):
    """The statements signing Plex in with plex_token as 'plexuser'."""
    return [("UPDATE auth SET state = 'authorized', access_token = ?, user = 'plexuser'"
             " WHERE service = 'plex'", plex_token)]


def sign_in_sql(tok, plex_token="plex-token-1"):
    """The statements signing both services in: Trakt with tok, the fake Trakt's answer to
    POST /_control/token, as 'traktuser'; Plex with plex_token as 'plexuser'."""
    return [("UPDATE auth SET state = 'authorized', access_token = ?, refresh_token = ?,"
             " token_expires_at = ?, user = 'traktuser' WHERE service = 'trakt'",
             tok["access_token"], tok["refresh_token"], tok["created_at"] + tok["expires_in"])] \
        + plex_sign_in_sql(plex_token)


def clear_sql(*tables):
    """The statements emptying tables."""
    return ["DELETE FROM " + t for t in tables]


def fakes_stack(fakes, env=None):
    """The real stack started with its programs pointed at fakes (plus env) and the fakes'
    settings stored; the caller stops and cleans it up."""
    stack = Stack(env=dict(fakes.env(), **(env or {}))).start()
    stack.exec(*settings_sql(fakes.settings()))
    return stack


class SyncEnv:
    def __init__(self, fakes, settings=None, env=None, authorize=True):
        self.fakes = fakes
        self.tmp = tempfile.TemporaryDirectory(prefix="pts-sync-")
        # Run as root, the worker becomes the service user, which must pass through to its
        # data folder (mkdtemp makes 0700 folders).
        os.chmod(self.tmp.name, 0o711)
        self.data = os.path.join(self.tmp.name, "var")
        self.env = dict(os.environ, PTS_DATA_DIR=self.data, **fakes.env())
        self.env.update(env or {})
        self.daemon = None
        # The worker creates the data folder (its user's, when run as root) and the schema on
        # its first start; --help does not open the db.
        subprocess.run([WORKER, "--once", "--dry-run"], env=self.env, capture_output=True,
                       timeout=60)
        self.exec("DELETE FROM runs")
        self.exec("DELETE FROM jobs")
        self.exec("DELETE FROM log")
        vals = dict(fakes.settings())
        vals.update(settings or {})
        for st in settings_sql(vals):
            self.exec(*st)
        if authorize:
            self.authorize()

    def authorize(self):
        for st in sign_in_sql(self.fakes.post("trakt", "/_control/token", {})):
            self.exec(*st)

    def close(self):
        self.stop_daemon(kill=True)
        self.tmp.cleanup()

    # ---- database ----
    def db(self):
        conn = sqlite3.connect(os.path.join(self.data, "pts.db"), timeout=10)
        conn.row_factory = sqlite3.Row
        return conn

    def exec(self, sql, *params):
        conn = self.db()
        try:
            conn.execute(sql, params)
            conn.commit()
        finally:
            conn.close()

    def rows(self, sql, *params):
        conn = self.db()
        try:
            return [dict(r) for r in conn.execute(sql, params).fetchall()]
        finally:
            conn.close()

    def run_row(self, run_id=None):
        if run_id is None:
            return self.rows("SELECT * FROM runs ORDER BY id DESC LIMIT 1")[0]
        return self.rows("SELECT * FROM runs WHERE id = ?", run_id)[0]

    def set(self, key, value):
        self.exec(*settings_sql({key: value})[0])

    # ---- the worker ----
    def once(self, *args, env=None, timeout=600):
        e = dict(self.env)
        e.update(env or {})
        return subprocess.run([WORKER, "--once", *args], env=e, capture_output=True, text=True,
                              timeout=timeout)

    def start_daemon(self, env=None):
        e = dict(self.env)
        e.update(env or {})
        self.daemon_log = open(os.path.join(self.tmp.name, "worker.log"), "a")
        self.daemon = subprocess.Popen([WORKER], env=e, stdout=self.daemon_log,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        return self.daemon

    def stop_daemon(self, kill=False):
        if self.daemon is None:
            return
        if self.daemon.poll() is None:
            if kill:
                os.killpg(self.daemon.pid, signal.SIGKILL)
            else:
                self.daemon.send_signal(signal.SIGTERM)
            try:
                self.daemon.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.daemon.pid, signal.SIGKILL)
                self.daemon.wait()
        if kill:
            # The whole group: a job child must die with its parent, as in a crash.
            try:
                os.killpg(self.daemon.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.daemon_log.close()
        self.daemon = None

    def queue_sync(self, dry_run=False, full=False):
        """Queue a sync the way POST /api/sync does (job + run in one transaction)."""
        conn = self.db()
        try:
            cur = conn.execute("INSERT INTO jobs(kind, args, created_at) VALUES('sync', ?, ?)",
                               ('{"dry_run": %s, "full": %s}' % (
                                   "true" if dry_run else "false", "true" if full else "false"),
                                int(time.time())))
            job = cur.lastrowid
            cur = conn.execute("INSERT INTO runs(job_id, trigger, created_at, started_at,"
                               " dry_run, full) VALUES(?, 'manual', ?, ?, ?, ?)",
                               (job, int(time.time()), int(time.time()), int(dry_run),
                                int(full)))
            run = cur.lastrowid
            conn.execute("UPDATE jobs SET run_id = ? WHERE id = ?", (run, job))
            conn.commit()
            return run
        finally:
            conn.close()


class FakesStackCase(unittest.TestCase):
    """Tests sharing one real stack (fakes_stack) on the Fakes of their module (set cls.fakes
    in setUpModule), started before the class's first test and stopped after its last."""

    fakes = None

    @classmethod
    def setUpClass(cls):
        cls.stack = fakes_stack(cls.fakes)

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop()
        cls.stack.cleanup()


class OwnStackCase(unittest.TestCase):
    """Tests whose class has fakes and a real stack of its own (started before its first test,
    stopped after its last), the stack's programs pointed at those fakes plus stack_env. The
    fakes' settings are not stored: each test's set-up says what it needs."""

    stack_env = {}

    @classmethod
    def setUpClass(cls):
        cls.fakes = Fakes().start()
        try:
            cls.stack = Stack(env=dict(cls.fakes.env(), **cls.stack_env)).start()
        except BaseException:
            cls.fakes.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop()
        cls.stack.cleanup()
        cls.fakes.stop()


class SyncEnvCase(unittest.TestCase):
    """Tests that each make SyncEnvs on one Fakes shared by their module (set cls.fakes in
    setUpModule): before each test the fakes are reset and the fake Trakt takes writes as fast
    as they come; after it every SyncEnv it made with env() is closed."""

    fakes = None
    # env()'s settings, under the test's own.
    SETTINGS = {}
    # The worker's environment for sync(): no pause between Trakt writes.
    FAST = {"PTS_TRAKT_POST_INTERVAL_MS": "0"}

    def setUp(self):
        self.fakes.reset()
        self.fakes.post("trakt", "/_control/state", {"enforce_post_rate": False})
        self.envs = []

    def tearDown(self):
        for s in self.envs:
            s.close()

    def env(self, **settings):
        vals = dict(self.SETTINGS)
        vals.update(settings)
        s = SyncEnv(self.fakes, settings=vals)
        self.envs.append(s)
        return s

    def sync(self, s, *args, errors=0):
        """pts-worker --once ARGS on s; its run, which must end ok with errors errors."""
        r = s.once(*args, env=self.FAST)
        self.assertEqual(r.returncode, 0, r.stderr[-3000:])
        run = s.run_row()
        self.assertEqual((run["status"], run["errors"]), ("ok", errors), r.stderr[-3000:])
        return run
