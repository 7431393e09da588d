"""Least privilege: started as root, pts-worker and pts-cgi become the --user they are given,
or the dedicated user plex-trakt-sync without one; root itself is refused.

Runs only as root (else every test is a TAP SKIP). The user is `nobody`: the kernel's view
(/proc/<pid>/status Uid/Gid/Groups) must show it for every process, parents and children,
and the programs must still work as it: the API answers through pts-cgi's socket (a small
FastCGI client, tests/lib/fcgiclient.py), settings are written, the worker runs a job in a
child. Also through ./bootstrap run with PTS_USER=nobody (nginx in front).
"""
import grp
import json
import os
import pwd
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import time
import unittest

from fcgiclient import fcgi_request
from procs import children_of, ids_of, procs_of_data
from stack import BUILD, Stack, wait_for

WORKER = os.path.join(BUILD, "worker", "pts-worker")
CGI = os.path.join(BUILD, "cgi", "pts-cgi")
USER = "nobody"
# The user root's programs become when none is named (./bootstrap check creates it).
DEFAULT_USER = "plex-trakt-sync"
IS_ROOT = os.geteuid() == 0
CSRF = {"X-Requested-With": "XMLHttpRequest"}
# The web server's group that may connect to pts-cgi's socket.
WEB_GROUP = "www-data"


@unittest.skipUnless(IS_ROOT, "needs root (privilege drop)")
class PrivCase(unittest.TestCase):
    def setUp(self):
        self.pw = pwd.getpwnam(USER)
        self.tmp = tempfile.TemporaryDirectory(prefix="pts-priv-")
        # nobody must be able to pass through to its data folder.
        os.chmod(self.tmp.name, 0o711)
        self.data = os.path.join(self.tmp.name, "var")
        self.env = dict(os.environ, PTS_DATA_DIR=self.data)
        self.env.pop("PTS_USER", None)
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
            p.logfile.close()
        self.tmp.cleanup()

    def spawn(self, *argv, env=None):
        log = open(os.path.join(self.tmp.name, "proc-%d.log" % len(self.procs)), "w+")
        p = subprocess.Popen(list(argv), env=env or self.env, stdout=log,
                             stderr=subprocess.STDOUT)
        p.logfile = log
        self.procs.append(p)
        return p

    def output(self, p):
        p.logfile.flush()
        p.logfile.seek(0)
        return p.logfile.read()

    def assert_nobody(self, pid):
        uids, gids, groups = ids_of(pid)
        self.assertEqual(uids, [self.pw.pw_uid] * 4, "Uid of %d" % pid)
        self.assertEqual(gids, [self.pw.pw_gid] * 4, "Gid of %d" % pid)
        self.assertNotIn(0, groups, "supplementary groups of %d" % pid)

    def db_one(self, sql, *params):
        conn = sqlite3.connect(os.path.join(self.data, "pts.db"), timeout=10)
        try:
            row = conn.execute(sql, params).fetchone()
        finally:
            conn.close()
        return row[0] if row else None

    def heartbeat_seen(self):
        """The worker's heartbeat row is there (the file may exist before its schema does)."""
        try:
            return (os.path.exists(os.path.join(self.data, "pts.db")) and
                    self.db_one("SELECT COUNT(*) FROM heartbeat") == 1)
        except sqlite3.OperationalError:
            return False


class TestPrivDrop(PrivCase):
    def test_worker_and_cgi_run_as_the_user(self):
        os.mkdir(self.data, 0o700)
        os.chown(self.data, self.pw.pw_uid, self.pw.pw_gid)
        # The socket's folder is the user's (as systemd's RuntimeDirectory= makes it):
        # pts-cgi creates the socket there as the user, not as root.
        run = os.path.join(self.tmp.name, "run")
        os.mkdir(run, 0o755)
        os.chown(run, self.pw.pw_uid, self.pw.pw_gid)
        sock = os.path.join(run, "pts-cgi.sock")
        worker = self.spawn(WORKER, "--user", USER)
        wait_for(self.heartbeat_seen, timeout=20, what="worker heartbeat")
        env = dict(self.env, PTS_USER=USER)    # the environment variable works as well
        cgi = self.spawn(CGI, "--socket", sock, "--children", "2", env=env)
        wait_for(lambda: os.path.exists(sock) and len(children_of(cgi.pid)) == 2, timeout=20,
                 what="pts-cgi children")

        # The kernel's view: nobody everywhere, no root group left.
        for pid in [worker.pid, cgi.pid] + children_of(cgi.pid):
            self.assert_nobody(pid)
        st = os.stat(sock)
        self.assertEqual((st.st_uid, st.st_gid), (self.pw.pw_uid, self.pw.pw_gid))
        self.assertEqual(st.st_mode & 0o777, 0o660, "the default mode, set before bind")

        # And it works as nobody: reads, writes, and a worker job in a forked child.
        status, _, body = fcgi_request(sock, "GET", "/api/health")
        self.assertEqual(status, 200, body)
        self.assertTrue(json.loads(body)["worker"]["alive"])
        status, _, body = fcgi_request(sock, "PUT", "/api/settings",
                                       json.dumps({"sync_interval_hours": 0}).encode(),
                                       dict(CSRF, **{"Content-Type": "application/json"}))
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body)["sync_interval_hours"], 0)
        status, _, body = fcgi_request(sock, "POST", "/api/libraries/refresh", b"", CSRF)
        self.assertEqual(status, 202, body)
        job = json.loads(body)["job_id"]
        kid_ids = []

        def job_ended():
            for k in children_of(worker.pid):   # the job's child, while it lives
                try:
                    kid_ids.append((k, ids_of(k)))
                except OSError:
                    pass
            return self.db_one("SELECT state FROM jobs WHERE id = ?", job) in (
                "done", "failed")
        wait_for(job_ended, timeout=30, step=0.01, what="the job to end")
        for k, (uids, gids, _) in kid_ids:
            self.assertEqual(uids, [self.pw.pw_uid] * 4, "job child %d" % k)
        # No plex_url set: the job fails for that reason, in its first child, not for a
        # database the child cannot open (that would be a re-queue and a second attempt).
        self.assertEqual(self.db_one("SELECT attempts FROM jobs WHERE id = ?", job), 1)
        self.assertEqual(self.db_one("SELECT error FROM jobs WHERE id = ?", job),
                         "failed: see the log")
        msgs = " ".join(r for r, in sqlite3.connect(os.path.join(self.data, "pts.db")).execute(
            "SELECT message FROM log"))
        self.assertNotIn("unable to open", msgs)
        self.assertNotIn("readonly", msgs)

        # Everything in the data folder belongs to nobody (the WAL files included).
        for name in os.listdir(self.data):
            st = os.stat(os.path.join(self.data, name))
            self.assertEqual(st.st_uid, self.pw.pw_uid, name)

        for p in (cgi, worker):
            p.send_signal(signal.SIGTERM)
            self.assertEqual(p.wait(timeout=30), 0, self.output(p))
        self.assertIn("running as user nobody", self.output(worker))

    def test_missing_data_folder_is_made_for_the_user(self):
        r = subprocess.run([WORKER, "--cron", "--user", USER], env=self.env, capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        for path in [self.data] + [os.path.join(self.data, n) for n in os.listdir(self.data)]:
            self.assertEqual(os.stat(path).st_uid, self.pw.pw_uid, path)
        self.assertEqual(os.stat(self.data).st_mode & 0o777, 0o700)

    def test_folder_of_another_user_is_refused(self):
        os.mkdir(self.data, 0o700)      # root's
        for argv in ([WORKER, "--cron", "--user", USER],
                     [CGI, "--socket", os.path.join(self.tmp.name, "s.sock"), "--user", USER]):
            r = subprocess.run(argv, env=self.env, capture_output=True, text=True, timeout=60)
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertIn("must belong to user nobody", r.stderr)
            self.assertIn("chown", r.stderr)
        self.assertEqual(os.listdir(self.data), [], "nothing created in a refused folder")

    def test_symlink_in_the_folder_is_not_followed(self):
        os.mkdir(self.data, 0o700)
        os.chown(self.data, self.pw.pw_uid, self.pw.pw_gid)
        target = os.path.join(self.tmp.name, "precious")
        with open(target, "w") as f:
            f.write("root's\n")
        os.symlink(target, os.path.join(self.data, "pts.db"))
        r = subprocess.run([WORKER, "--cron", "--user", USER], env=self.env, capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(r.returncode, 1)
        self.assertIn("symbolic link", r.stderr)
        self.assertEqual(os.stat(target).st_uid, 0, "root's file must stay root's")

    def test_unknown_user(self):
        for argv in ([WORKER, "--cron", "--user", "no-such-user-pts"],
                     [CGI, "--socket", os.path.join(self.tmp.name, "s.sock"),
                      "--user", "no-such-user-pts"]):
            r = subprocess.run(argv, env=self.env, capture_output=True, text=True, timeout=60)
            self.assertEqual(r.returncode, 1)
            self.assertIn("unknown user 'no-such-user-pts'", r.stderr)

    def reachable(self, program):
        """A copy of program that nobody can run: the checkout may sit in a folder only root
        (and the service users, by ACL) can pass, such as a clone under mktemp -d."""
        bindir = os.path.join(self.tmp.name, "bin")
        os.makedirs(bindir, 0o755, exist_ok=True)
        copy = os.path.join(bindir, os.path.basename(program))
        shutil.copy2(program, copy)
        os.chmod(copy, 0o755)
        return copy

    def test_not_root_asking_for_another_user(self):
        os.mkdir(self.data, 0o700)
        os.chown(self.data, self.pw.pw_uid, self.pw.pw_gid)
        worker, cgi = self.reachable(WORKER), self.reachable(CGI)
        for argv in ([worker, "--cron", "--user", "root"],
                     [cgi, "--socket", os.path.join(self.data, "s.sock"), "--user", "root"]):
            r = subprocess.run(["runuser", "-u", USER, "--"] + argv, env=self.env,
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertIn("--user root needs root", r.stderr)
        # Naming yourself is fine: nothing to drop.
        r = subprocess.run(["runuser", "-u", USER, "--", worker, "--cron", "--user", USER],
                           env=self.env, capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)


class TestSocketOnStdin(unittest.TestCase):
    """pts-cgi with its listening socket on standard input, as systemd's pts-cgi.socket
    (StandardInput=socket) or spawn-fcgi hand it over; as root also with --user."""

    def serve(self, user):
        tmp = tempfile.TemporaryDirectory(prefix="pts-stdin-")
        self.addCleanup(tmp.cleanup)
        os.chmod(tmp.name, 0o711)
        data = os.path.join(tmp.name, "var")
        path = os.path.join(tmp.name, "pts-cgi.sock")
        lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        lsock.bind(path)
        os.chmod(path, 0o666)
        lsock.listen(16)
        env = dict(os.environ, PTS_DATA_DIR=data)
        env.pop("PTS_USER", None)
        argv = [CGI] + (["--user", user] if user else [])
        log = open(os.path.join(tmp.name, "cgi.log"), "w+")
        self.addCleanup(log.close)
        p = subprocess.Popen(argv, stdin=lsock.fileno(), stdout=log, stderr=subprocess.STDOUT,
                             env=env)
        lsock.close()

        def stop():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                p.wait(timeout=20)
        self.addCleanup(stop)
        status, _, body = fcgi_request(path, "GET", "/api/health")
        self.assertEqual(status, 200, body)
        self.assertTrue(json.loads(body)["ok"])
        status, _, body = fcgi_request(path, "PUT", "/api/settings",
                                       json.dumps({"sync_interval_hours": 3}).encode(),
                                       dict(CSRF, **{"Content-Type": "application/json"}))
        self.assertEqual(status, 200, body)
        return p, data

    def test_socket_on_stdin(self):
        p, data = self.serve(None)
        # Run as root without a user, it becomes the dedicated one.
        owner = pwd.getpwnam(DEFAULT_USER).pw_uid if IS_ROOT else os.geteuid()
        self.assertEqual(os.stat(os.path.join(data, "pts.db")).st_uid, owner)

    @unittest.skipUnless(IS_ROOT, "needs root (privilege drop)")
    def test_socket_on_stdin_with_user(self):
        pw = pwd.getpwnam(USER)
        p, data = self.serve(USER)
        uids, gids, _ = ids_of(p.pid)
        self.assertEqual(uids, [pw.pw_uid] * 4)
        self.assertEqual(gids, [pw.pw_gid] * 4)
        self.assertEqual(os.stat(os.path.join(data, "pts.db")).st_uid, pw.pw_uid)


class TestBootstrapUser(PrivCase):
    def test_bootstrap_run_with_pts_user(self):
        os.mkdir(self.data, 0o700)      # root's: bootstrap shares the folder with PTS_USER
        with Stack(env={"PTS_USER": USER}, data_dir=self.data) as s:
            pids = procs_of_data(self.data)
            self.assertEqual(sorted(set(pids.values())), ["pts-cgi", "pts-worker"], pids)
            for pid in pids:
                self.assert_nobody(pid)
            st, body, _ = s.api("GET", "/api/health")
            self.assertEqual(st, 200, body)
            self.assertTrue(body["worker"]["alive"])
            st, body, _ = s.api("PUT", "/api/settings", {"sync_interval_hours": 0})
            self.assertEqual(st, 200, body)
            self.assertEqual(os.stat(os.path.join(self.data, "pts.db")).st_uid, self.pw.pw_uid)



class TestDefaultUser(PrivCase):
    """Started as root without --user or PTS_USER: the dedicated user, never root."""

    def setUp(self):
        super().setUp()
        self.dpw = pwd.getpwnam(DEFAULT_USER)

    def test_without_a_user_both_become_the_default_user(self):
        run = os.path.join(self.tmp.name, "run")
        os.mkdir(run, 0o750)
        os.chown(run, self.dpw.pw_uid, grp.getgrnam(WEB_GROUP).gr_gid)
        sock = os.path.join(run, "pts-cgi.sock")
        worker = self.spawn(WORKER)
        wait_for(self.heartbeat_seen, timeout=20, what="worker heartbeat")
        cgi = self.spawn(CGI, "--socket", sock, "--children", "2", "--group", WEB_GROUP)
        wait_for(lambda: os.path.exists(sock) and len(children_of(cgi.pid)) == 2, timeout=20,
                 what="pts-cgi children")
        for pid in [worker.pid, cgi.pid] + children_of(cgi.pid):
            uids, gids, groups = ids_of(pid)
            self.assertEqual(uids, [self.dpw.pw_uid] * 4, "Uid of %d" % pid)
            self.assertEqual(gids, [self.dpw.pw_gid] * 4, "Gid of %d" % pid)
            self.assertNotIn(0, groups)
        # The socket: 0660, the user's, the web server's group; made so before bind.
        st = os.lstat(sock)
        self.assertEqual(st.st_mode & 0o7777, 0o660)
        self.assertEqual((st.st_uid, st.st_gid),
                         (self.dpw.pw_uid, grp.getgrnam(WEB_GROUP).gr_gid))
        # The web server's user gets through; another local user does not.
        r = subprocess.run(["runuser", "-u", WEB_GROUP, "--", "python3", "-c",
                            "import socket; socket.socket(socket.AF_UNIX)"
                            ".connect(%r)" % sock], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        r = subprocess.run(["runuser", "-u", USER, "--", "python3", "-c",
                            "import socket; socket.socket(socket.AF_UNIX)"
                            ".connect(%r)" % sock], capture_output=True, text=True, timeout=30)
        self.assertNotEqual(r.returncode, 0, "nobody must not reach the socket")
        status, _, body = fcgi_request(sock, "GET", "/api/health")
        self.assertEqual(status, 200, body)
        self.assertTrue(json.loads(body)["worker"]["alive"])
        self.assertEqual(os.stat(os.path.join(self.data, "pts.db")).st_uid, self.dpw.pw_uid)
        for p in (cgi, worker):
            p.send_signal(signal.SIGTERM)
            self.assertEqual(p.wait(timeout=30), 0, self.output(p))
        self.assertFalse(os.path.exists(sock), "the user removes its socket on stop")

    def test_root_is_refused(self):
        os.mkdir(self.data, 0o700)
        env = dict(self.env, PTS_USER="root")
        for argv, e in (([WORKER, "--cron", "--user", "root"], self.env),
                        ([WORKER, "--cron"], env),
                        ([CGI, "--socket", os.path.join(self.tmp.name, "s.sock"), "--user",
                          "root"], self.env),
                        ([CGI, "--socket", os.path.join(self.tmp.name, "s.sock")], env)):
            r = subprocess.run(argv, env=e, capture_output=True, text=True, timeout=60)
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertIn("refusing to run as root", r.stderr)
        self.assertEqual(os.listdir(self.data), [], "nothing made for root")
        self.assertFalse(os.path.exists(os.path.join(self.tmp.name, "s.sock")))

    def test_symlink_where_the_database_goes(self):
        """Root without --user, and the user itself: a link at pts.db is refused, its target
        left exactly as it was."""
        os.mkdir(self.data, 0o700)
        os.chown(self.data, self.dpw.pw_uid, self.dpw.pw_gid)
        target = os.path.join(self.tmp.name, "precious")
        with open(target, "w") as f:
            f.write("root's\n")
        os.chmod(target, 0o644)
        before = os.stat(target)
        os.symlink(target, os.path.join(self.data, "pts.db"))
        runs = [[WORKER, "--cron"],
                [CGI, "--socket", os.path.join(self.tmp.name, "s.sock")],
                # As the user itself (no root involved): the database open refuses it too.
                ["runuser", "-u", DEFAULT_USER, "--", WORKER, "--cron"]]
        for argv in runs:
            r = subprocess.run(argv, env=self.env, capture_output=True, text=True, timeout=60)
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertIn("symbolic link", r.stderr)
            after = os.stat(target)
            self.assertEqual((after.st_uid, after.st_gid, after.st_mode, after.st_size),
                             (before.st_uid, before.st_gid, before.st_mode, before.st_size),
                             " ".join(argv))
            with open(target) as f:
                self.assertEqual(f.read(), "root's\n")
        self.assertTrue(os.path.islink(os.path.join(self.data, "pts.db")))

    def test_cgi_program_run_as_root_drops_too(self):
        """A web server that runs the CGI program as root: it becomes the default user
        before the request is read (the data folder and database it makes are that user's)."""
        env = dict(self.env, GATEWAY_INTERFACE="CGI/1.1", REQUEST_METHOD="GET",
                   REQUEST_URI="/api/health", QUERY_STRING="", HTTP_HOST="127.0.0.1")
        r = subprocess.run([CGI], env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("Status: 200", r.stdout)
        self.assertIn("running as user %s" % DEFAULT_USER, r.stderr)
        for path in [self.data] + [os.path.join(self.data, n) for n in os.listdir(self.data)]:
            self.assertEqual(os.stat(path).st_uid, self.dpw.pw_uid, path)
        r = subprocess.run([CGI], env=dict(env, PTS_USER="root"), capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(r.returncode, 1)
        self.assertIn("refusing to run as root", r.stderr)

    def test_unreachable_data_folder_is_named(self):
        """A data folder below a folder the user cannot pass (a home, 0700): refused with the
        fix, not worked around with root."""
        private = os.path.join(self.tmp.name, "home")
        os.mkdir(private, 0o700)
        data = os.path.join(private, "var")
        r = subprocess.run([WORKER, "--cron"], env=dict(self.env, PTS_DATA_DIR=data),
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("user %s cannot use the data folder %s" % (DEFAULT_USER, data), r.stderr)
        self.assertIn("setfacl -m u:%s:--x" % DEFAULT_USER, r.stderr)

    def test_usage_names_the_default_user_and_group(self):
        r = subprocess.run([WORKER, "--help"], capture_output=True, text=True, timeout=30)
        self.assertIn(DEFAULT_USER, r.stdout)
        r = subprocess.run([CGI, "--help"], capture_output=True, text=True, timeout=30)
        self.assertIn(DEFAULT_USER, r.stdout)
        self.assertIn("--group", r.stdout)


if __name__ == "__main__":
    unittest.main()
