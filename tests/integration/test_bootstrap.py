"""./bootstrap run as a person uses it: one run per data folder, others coexist, clean stop.

Started as root (as the README's quick start is), nothing of ours keeps root: pts-cgi and
pts-worker (and their children) run as plex-trakt-sync, nginx's workers as www-data; the
socket is 0660 with www-data's group; no file another local user can read holds a secret.
"""
import grp
import os
import pwd
import signal
import sqlite3
import subprocess
import tempfile
import time
import unittest

from fakes import multipart
from procs import children_of, ids_of, procs_of_data, user_name
from stack import BUILD, TOP, Stack, wait_for

IS_ROOT = os.geteuid() == 0
SERVICE_USER = "plex-trakt-sync"
WEB_USER = "www-data"
# Local users that are neither root, the service user nor each other's concern.
OTHER_USERS = ("nobody", WEB_USER)


class TestBootstrapRun(unittest.TestCase):
    def test_second_run_on_same_data_folder_refuses(self):
        with Stack() as s:
            env = dict(s.env, PTS_HTTP_PORT=str(s.port + 1 if s.port < 65000 else s.port - 1))
            r = subprocess.run([os.path.join(TOP, "bootstrap"), "run"], env=env,
                               capture_output=True, text=True, timeout=60)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("already running", r.stderr)
            # The first one is unharmed.
            st, body, _ = s.api("GET", "/api/health")
            self.assertEqual(st, 200)
            self.assertIs(body["worker"]["alive"], True)

    def test_two_data_folders_coexist(self):
        with Stack() as a, Stack() as b:
            self.assertNotEqual(a.port, b.port)
            for s in (a, b):
                st, body, _ = s.api("GET", "/api/health")
                self.assertEqual(st, 200)
                self.assertIs(body["ok"], True)
            a.api("PUT", "/api/settings", {"sync_interval_hours": 2})
            self.assertEqual(b.api("GET", "/api/settings")[1]["sync_interval_hours"], 6)

    def test_sigterm_stops_all_three(self):
        s = Stack().start()
        try:
            pids = [int(l.split()[0]) for l in subprocess.run(
                ["ps", "-o", "pid=,args=", "--ppid", str(s.proc.pid)], capture_output=True,
                text=True).stdout.splitlines() if l.strip()]
            self.assertGreaterEqual(len(pids), 3, "nginx, pts-cgi and pts-worker")
            s.proc.send_signal(signal.SIGTERM)
            s.proc.wait(timeout=30)
            time.sleep(0.5)
            for pid in pids:
                self.assertFalse(os.path.exists("/proc/%d" % pid), "pid %d still running" % pid)
            self.assertFalse(os.path.exists(os.path.join(s.data, "run", "pts-cgi.sock")))
        finally:
            s.stop()
            s.cleanup()



def readable_by(user, path):
    """Whether user can open path for reading (the kernel decides: modes, ACLs, folders)."""
    r = subprocess.run(["runuser", "-u", user, "--", "dd", "if=" + path, "of=/dev/null",
                        "bs=1", "count=1", "status=none"], capture_output=True, timeout=30)
    return r.returncode == 0


@unittest.skipUnless(IS_ROOT, "needs root (the quick start's way)")
class TestNoRoot(unittest.TestCase):
    def test_nothing_of_ours_runs_as_root(self):
        with Stack() as s:
            svc = pwd.getpwnam(SERVICE_USER)
            web = pwd.getpwnam(WEB_USER)
            pids = procs_of_data(s.data)
            self.assertEqual(sorted(set(pids.values())), ["pts-cgi", "pts-worker"], pids)
            cgi_parents = [p for p, n in pids.items() if n == "pts-cgi"
                           and children_of(p)]
            self.assertEqual(len(cgi_parents), 1, pids)
            self.assertGreaterEqual(len(children_of(cgi_parents[0])), 1)
            worker = [p for p, n in pids.items() if n == "pts-worker"][0]
            for pid in pids:
                uids, gids, groups = ids_of(pid)
                self.assertEqual(uids, [svc.pw_uid] * 4, "%s %d" % (pids[pid], pid))
                self.assertEqual(gids, [svc.pw_gid] * 4, "%s %d" % (pids[pid], pid))
                self.assertNotIn(0, groups)
            # A job runs in a child of the worker: sample its ids while it lives.
            st, body, _ = s.api("POST", "/api/libraries/refresh")
            self.assertEqual(st, 202, body)
            seen = []

            def job_ended():
                for k in children_of(worker):
                    try:
                        seen.append(ids_of(k)[0])
                    except OSError:
                        pass
                return s.query("SELECT state FROM jobs WHERE id = ?", body["job_id"])[0][
                    "state"] in ("done", "failed")
            wait_for(job_ended, timeout=30, step=0.005, what="the job to end")
            for uids in seen:
                self.assertEqual(uids, [svc.pw_uid] * 4, "a job child")
            # nginx: the master alone is root (it binds the port); every worker is www-data.
            nginx_pid = int(open(os.path.join(s.data, "nginx", "nginx.pid")).read())
            workers = children_of(nginx_pid)
            self.assertGreaterEqual(len(workers), 1)
            for k in workers:
                uids, gids, _ = ids_of(k)
                self.assertEqual(uids, [web.pw_uid] * 4, "nginx worker %d runs as %s" % (
                    k, user_name(uids[0])))
            # The socket: 0660, the service user's, www-data's group.
            sock = os.lstat(os.path.join(s.data, "run", "pts-cgi.sock"))
            self.assertEqual(sock.st_mode & 0o7777, 0o660)
            self.assertEqual((sock.st_uid, sock.st_gid),
                             (svc.pw_uid, grp.getgrnam(WEB_USER).gr_gid))

    def test_no_secret_in_a_file_others_can_read(self):
        with Stack() as s:
            st, body, _ = s.api("GET", "/api/webhooks/plex")
            self.assertEqual(st, 200, body)
            token = body["token"]
            raw, ct = multipart(None, raw_payload=b'{"event": "media.play"}')
            st, _, data = s.request("POST", body["url_path"], raw=raw,
                                    headers={"Content-Type": ct})
            self.assertEqual(st, 200, data)
            # A later request is in the access log: the webhook's line would be there too.
            st, _, _ = s.request("GET", "/api/health?probe=" + token[:8])
            self.assertEqual(st, 200)

            def access_log():
                for root, _, files in os.walk(s.data):
                    if "access.log" in files:
                        path = os.path.join(root, "access.log")
                        with open(path, "rb") as f:
                            if b"GET /api/health" in f.read():
                                return path
            log = wait_for(access_log, timeout=10, what="the access log line")
            found = []
            for root, dirs, files in os.walk(s.data):
                for name in files:
                    path = os.path.join(root, name)
                    if os.path.islink(path) or not os.path.isfile(path):
                        continue
                    with open(path, "rb") as f:
                        if token.encode() not in f.read():
                            continue
                    found.append(path)
                    for user in OTHER_USERS:
                        self.assertFalse(readable_by(user, path),
                                         "%s can read %s, which holds the token" % (user, path))
            self.assertNotIn(log, found, "the access log keeps no query string")
            with open(log, "rb") as f:
                self.assertNotIn(b"probe=", f.read())
            self.assertEqual(log, os.path.join(s.data, "nginx", "logs", "access.log"))
            # The logs: 0600 in a 0700 folder of root's.
            logs = os.path.dirname(log)
            self.assertEqual(os.stat(logs).st_mode & 0o777, 0o700)
            self.assertEqual(os.stat(logs).st_uid, 0)
            for name in os.listdir(logs):
                self.assertEqual(os.stat(os.path.join(logs, name)).st_mode & 0o777, 0o600, name)
            # Root's files stay out of the service user's reach: the data folder is sticky.
            st_data = os.stat(s.data)
            self.assertEqual((st_data.st_uid, st_data.st_mode & 0o7777), (0, 0o1771))
            r = subprocess.run(["runuser", "-u", SERVICE_USER, "--", "mv",
                                os.path.join(s.data, "nginx"), os.path.join(s.data, "x")],
                               capture_output=True, timeout=30)
            self.assertNotEqual(r.returncode, 0, "the service user moved root's nginx folder")

    def test_private_parent_folder_gets_traverse_only(self):
        """The quick start from a checkout under /root (0700): bootstrap lets the two users
        pass through the parent, and says so, instead of running anything as root."""
        tmp = tempfile.TemporaryDirectory(prefix="pts-home-")
        self.addCleanup(tmp.cleanup)
        self.assertEqual(os.stat(tmp.name).st_mode & 0o777, 0o700)
        # /root/checkout/var: the checkout itself is open (0755), the home above it is not.
        checkout = os.path.join(tmp.name, "checkout")
        os.mkdir(checkout, 0o755)
        data = os.path.join(checkout, "var")
        os.mkdir(data)
        with Stack(data_dir=data) as s:
            st, body, _ = s.api("GET", "/", None)
            self.assertEqual(st, 200)
            st, body, _ = s.api("GET", "/api/health")
            self.assertEqual(st, 200, body)
            self.assertTrue(body["worker"]["alive"])
            log = s.read_log()
            for user in (SERVICE_USER, WEB_USER):
                self.assertIn("granted %s passage through %s " % (user, tmp.name), log)
                self.assertNotIn("passage through %s " % checkout, log)
            acl = subprocess.run(["getfacl", "-cp", tmp.name], capture_output=True,
                                 text=True).stdout
            self.assertIn("user:%s:--x" % SERVICE_USER, acl)
            self.assertIn("user:%s:--x" % WEB_USER, acl)
            # Traverse only: the users cannot list the private folder.
            r = subprocess.run(["runuser", "-u", WEB_USER, "--", "ls", tmp.name],
                               capture_output=True, timeout=30)
            self.assertNotEqual(r.returncode, 0)

    def test_earlier_root_run_folder_keeps_working(self):
        """A data folder an earlier version made as root (everything root's, a world-readable
        access log) is handed over: the database keeps its content, the old log is closed."""
        tmp = tempfile.TemporaryDirectory(prefix="pts-old-")
        self.addCleanup(tmp.cleanup)
        os.chmod(tmp.name, 0o711)
        data = os.path.join(tmp.name, "var")
        os.makedirs(os.path.join(data, "nginx"), 0o755)
        os.makedirs(os.path.join(data, "run"), 0o755)
        os.chmod(data, 0o711)
        old_log = os.path.join(data, "nginx", "access.log")
        with open(old_log, "w") as f:
            f.write('127.0.0.1 - - "POST /api/webhooks/plex?token=0123abcd HTTP/1.1" 202\n')
        os.chmod(old_log, 0o644)
        conn = sqlite3.connect(os.path.join(data, "pts.db"))
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("CREATE TABLE earlier(v TEXT)")
        conn.execute("INSERT INTO earlier VALUES('kept')")
        conn.commit()
        conn.close()
        open(os.path.join(data, "worker.lock"), "w").close()
        with Stack(data_dir=data) as s:
            svc = pwd.getpwnam(SERVICE_USER)
            st, body, _ = s.api("PUT", "/api/settings", {"sync_interval_hours": 0})
            self.assertEqual(st, 200, body)
            self.assertEqual(s.query("SELECT v FROM earlier"), [{"v": "kept"}])
            for name in ("pts.db", "worker.lock"):
                self.assertEqual(os.stat(os.path.join(data, name)).st_uid, svc.pw_uid, name)
            self.assertFalse(os.path.exists(old_log))
            moved = os.path.join(data, "nginx", "logs", "access.log.old")
            self.assertEqual(os.stat(moved).st_mode & 0o777, 0o600)
            for user in OTHER_USERS:
                self.assertFalse(readable_by(user, moved))

    def test_pts_user_root_is_refused(self):
        tmp = tempfile.TemporaryDirectory(prefix="pts-rootuser-")
        self.addCleanup(tmp.cleanup)
        env = dict(os.environ, PTS_USER="root", PTS_BUILD_DIR=BUILD,
                   PTS_DATA_DIR=os.path.join(tmp.name, "var"), PTS_HTTP_PORT="1")
        # Its own session: a bootstrap that serves instead of refusing is stopped whole.
        p = subprocess.Popen([os.path.join(TOP, "bootstrap"), "run"], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                             start_new_session=True)
        try:
            _, err = p.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGTERM)
            p.communicate(timeout=30)
            self.fail("./bootstrap run with PTS_USER=root did not refuse")
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("PTS_USER=root is root", err)


if __name__ == "__main__":
    unittest.main()
