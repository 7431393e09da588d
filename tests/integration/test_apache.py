"""pts-cgi as a plain CGI program under Debian's real Apache httpd (the LAMP-host set-up).

Starts /usr/sbin/apache2 as an ordinary foreground process with a minimal configuration of
its own (loopback, a free port, pid/logs/sockets in a temporary folder) that includes the
project's contrib/apache/pts-apache.conf.in with this build's paths, and talks HTTP to it.
A pts-worker runs on the same data folder as the same user, as the README tells. Started
as root, Apache's children and the worker run as www-data and the data folder is theirs.
Skipped (TAP "ok # SKIP") only when apache2 is not installed (./bootstrap check installs it).
"""
import http.client
import json
import os
import pwd
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import time
import unittest

from stack import BUILD, TOP, free_port, wait_for

APACHE = shutil.which("apache2") or "/usr/sbin/apache2"
MODULES = "/usr/lib/apache2/modules"
WORKER = os.path.join(BUILD, "worker", "pts-worker")
CGI = os.path.join(BUILD, "cgi", "pts-cgi")
IS_ROOT = os.geteuid() == 0
RUN_AS = "www-data"
# Above pts-cgi's 64 KiB limit, below Apache's own LimitRequestBody in the snippet.
BIG_BODY = 70 * 1024
START_TIMEOUT_S = 30

CONF = """
ServerRoot "{tmp}"
Listen 127.0.0.1:{port}
ServerName 127.0.0.1
PidFile "{tmp}/run/apache.pid"
DefaultRuntimeDir "{tmp}/run"
Mutex file:{tmp}/run default
ErrorLog "{tmp}/error.log"
LogLevel warn
LoadModule mpm_prefork_module {mods}/mod_mpm_prefork.so
LoadModule authz_core_module {mods}/mod_authz_core.so
LoadModule mime_module {mods}/mod_mime.so
LoadModule dir_module {mods}/mod_dir.so
LoadModule alias_module {mods}/mod_alias.so
LoadModule env_module {mods}/mod_env.so
LoadModule headers_module {mods}/mod_headers.so
LoadModule filter_module {mods}/mod_filter.so
LoadModule deflate_module {mods}/mod_deflate.so
LoadModule cgid_module {mods}/mod_cgid.so
ScriptSock "{tmp}/run/cgid.sock"
TypesConfig /etc/mime.types
StartServers 1
MinSpareServers 1
MaxSpareServers 3
MaxRequestWorkers 10
{user}
<VirtualHost 127.0.0.1:{port}>
    Include "{tmp}/pts-apache.conf"
</VirtualHost>
"""


@unittest.skipUnless(os.path.exists(APACHE) and os.path.isdir(MODULES),
                     "apache2 is not installed")
class TestApacheCgi(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="pts-apache-")
        t = cls.tmp.name
        os.chmod(t, 0o711)                 # Apache's user passes through to its files
        cls.port = free_port()
        cls.data = os.path.join(t, "var")
        # Copies Apache's user can surely reach (the tree may sit in a private home).
        os.makedirs(os.path.join(t, "bin"))
        shutil.copy2(CGI, os.path.join(t, "bin", "pts-cgi"))
        shutil.copytree(os.path.join(TOP, "static"), os.path.join(t, "static"))
        os.makedirs(os.path.join(t, "run"), mode=0o755)
        with open(os.path.join(TOP, "contrib", "apache", "pts-apache.conf.in")) as f:
            snippet = f.read()
        snippet = (snippet.replace("@pkgdatadir@/static", os.path.join(t, "static"))
                   .replace("@bindir@", os.path.join(t, "bin"))
                   .replace("@ptsdatadir@", cls.data))
        with open(os.path.join(t, "pts-apache.conf"), "w") as f:
            f.write(snippet)
        user = ""
        env = dict(os.environ, PTS_DATA_DIR=cls.data)
        env.pop("PTS_USER", None)
        worker = [WORKER]
        if IS_ROOT:
            # Apache refuses to serve as root; the worker drops to the same user and makes
            # the data folder that user's.
            user = "User %s\nGroup %s" % (RUN_AS, RUN_AS)
            worker += ["--user", RUN_AS]
        with open(os.path.join(t, "httpd.conf"), "w") as f:
            f.write(CONF.format(tmp=t, port=cls.port, mods=MODULES, user=user))
        cls.worker_log = open(os.path.join(t, "worker.log"), "w")
        cls.worker = subprocess.Popen(worker, env=env, stdout=cls.worker_log,
                                      stderr=subprocess.STDOUT)
        wait_for(lambda: os.path.exists(os.path.join(cls.data, "pts.db")), timeout=20,
                 what="worker database")
        cls.apache_log = open(os.path.join(t, "apache.out"), "w")
        cls.apache = subprocess.Popen([APACHE, "-f", os.path.join(t, "httpd.conf"),
                                       "-DFOREGROUND"], stdout=cls.apache_log,
                                      stderr=subprocess.STDOUT, start_new_session=True)
        end = time.monotonic() + START_TIMEOUT_S
        while True:
            if cls.apache.poll() is not None:
                raise RuntimeError("apache2 exited:\n" + cls.logs())
            try:
                if cls.request("GET", "/index.html")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > end:
                raise RuntimeError("apache2 did not answer:\n" + cls.logs())
            time.sleep(0.1)

    @classmethod
    def tearDownClass(cls):
        for p in (getattr(cls, "apache", None), getattr(cls, "worker", None)):
            if p is not None and p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        for f in ("apache_log", "worker_log"):
            if getattr(cls, f, None):
                getattr(cls, f).close()
        cls.tmp.cleanup()

    @classmethod
    def logs(cls):
        out = ""
        for name in ("error.log", "apache.out", "worker.log"):
            try:
                with open(os.path.join(cls.tmp.name, name)) as f:
                    out += "--- %s\n%s" % (name, f.read()[-4000:])
            except OSError:
                pass
        return out

    @classmethod
    def request(cls, method, path, body=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", cls.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            conn.close()

    def api(self, method, path, body=None, headers=None):
        st, hdrs, data = self.request(method, path, body, headers)
        self.assertTrue(hdrs.get("content-type", "").startswith("application/json"),
                        "%s %s: %s %r\n%s" % (method, path, st, data[:200], self.logs()))
        return st, hdrs, json.loads(data)

    def test_health(self):
        st, hdrs, body = self.api("GET", "/api/health")
        self.assertEqual(st, 200, body)
        self.assertTrue(body["ok"])
        self.assertEqual(body["db"], "ok")
        wait_for(lambda: self.api("GET", "/api/health")[2]["worker"]["alive"], timeout=15,
                 what="the worker seen alive through Apache")
        self.assertEqual(hdrs.get("cache-control"), "no-store")
        self.assertIn("default-src 'self'", hdrs.get("content-security-policy", ""))

    def test_dashboard_is_served(self):
        st, hdrs, body = self.request("GET", "/")
        self.assertEqual(st, 200)
        self.assertIn(b"Plex-Trakt Sync", body)
        self.assertEqual(hdrs.get("x-frame-options"), "DENY")

    def test_posters_are_served_from_the_data_folder(self):
        # As pts-worker leaves them: 0644 files of Apache's user in the data folder's posters/.
        d = os.path.join(self.data, "posters")
        os.makedirs(d, mode=0o750, exist_ok=True)
        img = b"\x89PNG\r\n\x1a\n" + b"\0" * 40
        for name in ("p0Ster_-1.png", ".tmp-1-0-p0Ster_-1.png", "x.gif"):
            with open(os.path.join(d, name), "wb") as f:
                f.write(img)
            os.chmod(os.path.join(d, name), 0o644)
        if not os.path.lexists(os.path.join(d, "lnk.png")):
            os.symlink("p0Ster_-1.png", os.path.join(d, "lnk.png"))
        if IS_ROOT:
            pw = pwd.getpwnam(RUN_AS)
            for name in (".", "p0Ster_-1.png", ".tmp-1-0-p0Ster_-1.png", "x.gif"):
                os.chown(os.path.join(d, name), pw.pw_uid, pw.pw_gid)
        st, hdrs, body = self.request("GET", "/posters/p0Ster_-1.png")
        self.assertEqual((st, body), (200, img), self.logs())
        self.assertEqual(hdrs.get("content-type"), "image/png")
        self.assertIn("max-age=2592000", hdrs.get("cache-control", ""))
        self.assertNotIn("https:", hdrs.get("content-security-policy", ""))
        self.assertIn("img-src 'self' data:;", hdrs.get("content-security-policy", ""))
        for path in ("/posters/", "/posters/.tmp-1-0-p0Ster_-1.png", "/posters/x.gif",
                     "/posters/lnk.png", "/posters/missing.png", "/posters/../pts.db"):
            st, _, body = self.request("GET", path)
            self.assertIn(st, (400, 403, 404), path)
            self.assertNotEqual(body, img, path)

    def test_dashboard_files_compressed_and_revalidated(self):
        st, hdrs, body = self.request("GET", "/app.js", headers={"Accept-Encoding": "gzip"})
        self.assertEqual(st, 200)
        self.assertEqual(hdrs.get("content-encoding"), "gzip")
        self.assertEqual(hdrs.get("cache-control"), "no-cache")
        self.assertIn("default-src 'self'", hdrs.get("content-security-policy", ""))
        st, hdrs, body = self.request("GET", "/app.css")
        self.assertEqual(st, 200)
        self.assertIsNone(hdrs.get("content-encoding"), "no gzip unless asked")
        self.assertTrue(hdrs.get("etag") and hdrs.get("last-modified"), hdrs)
        st, _, body = self.request("GET", "/app.css", headers={"If-None-Match": hdrs["etag"]})
        self.assertEqual(st, 304, "a revalidation of an unchanged file")
        self.assertEqual(body, b"")

    def test_settings_put_with_csrf_header(self):
        st, _, body = self.api("PUT", "/api/settings", json.dumps({"sync_interval_hours": 12}),
                               {"Content-Type": "application/json",
                                "X-Requested-With": "XMLHttpRequest",
                                "Origin": "http://127.0.0.1:%d" % self.port})
        self.assertEqual(st, 200, body)
        self.assertEqual(body["sync_interval_hours"], 12)
        st, _, body = self.api("GET", "/api/settings")
        self.assertEqual(body["sync_interval_hours"], 12)
        if IS_ROOT:
            uid = pwd.getpwnam(RUN_AS).pw_uid
            self.assertEqual(os.stat(os.path.join(self.data, "pts.db")).st_uid, uid)

    def test_missing_csrf_header_is_403(self):
        st, _, body = self.api("PUT", "/api/settings", json.dumps({"sync_interval_hours": 1}),
                               {"Content-Type": "application/json"})
        self.assertEqual(st, 403)
        self.assertEqual(body["error"]["code"], "forbidden")

    def test_large_body_is_413(self):
        big = json.dumps({"plex_url": "x" * BIG_BODY})
        st, _, body = self.api("PUT", "/api/settings", big,
                               {"Content-Type": "application/json",
                                "X-Requested-With": "XMLHttpRequest"})
        self.assertEqual(st, 413, body)
        self.assertEqual(body["error"]["code"], "too_large")
        # And Apache is still fine afterwards.
        self.assertEqual(self.api("GET", "/api/health")[0], 200)

    def test_status_and_unknown_route(self):
        st, _, body = self.api("GET", "/api/status")
        self.assertEqual(st, 200, body)
        self.assertIn(body["sync"]["state"], ("idle", "queued", "running"))
        self.assertIn("plex", body["auth"])
        st, _, body = self.api("GET", "/api/no-such-thing")
        self.assertEqual(st, 404)
        self.assertEqual(body["error"]["code"], "not_found")

    def test_sync_request_reaches_the_worker(self):
        st, _, body = self.api("POST", "/api/sync", None, {"X-Requested-With": "XMLHttpRequest"})
        self.assertIn(st, (202, 409), body)
        run_id = body.get("run_id")
        self.assertTrue(run_id)
        # No Plex configured: the run ends (failed), which shows the worker picked it up.
        wait_for(lambda: self.api("GET", "/api/progress")[2].get("state") == "idle",
                 timeout=30, what="the worker to take the run")
        st, _, body = self.api("GET", "/api/runs")
        self.assertIn(run_id, [r["id"] for r in body["runs"]])

    def test_zy_metrics_token_reaches_the_program(self):
        # CGIPassAuth On in the configuration: without it Apache drops Authorization.
        token = "apache-scraper-0123456789"
        hdrs = {"Content-Type": "application/json", "X-Requested-With": "XMLHttpRequest"}
        for body in ({"metrics_token": token}, {"dashboard_password": "correct horse 1"}):
            st, _, got = self.api("PUT", "/api/settings", json.dumps(body), hdrs)
            self.assertEqual(st, 200, got)
        try:
            self.assertEqual(self.request("GET", "/api/metrics")[0], 401)
            st, _, raw = self.request("GET", "/api/metrics",
                                      headers={"Authorization": "Bearer " + token})
            self.assertEqual(st, 200, raw)
            self.assertIn(b"pts_runs_total", raw)
            st, _, _ = self.request("GET", "/api/metrics",
                                    headers={"Authorization": "Bearer " + token + "x"})
            self.assertEqual(st, 401)
        finally:
            conn = sqlite3.connect(os.path.join(self.data, "pts.db"), timeout=10)
            try:
                conn.execute("DELETE FROM settings WHERE key IN ('dashboard_password',"
                             " 'metrics_token')")
                conn.commit()
            finally:
                conn.close()

    def test_zz_no_sanitizer_reports(self):
        with open(os.path.join(self.tmp.name, "error.log")) as f:
            log = f.read()
        self.assertNotIn("Sanitizer", log)
        self.assertNotIn("runtime error", log)


if __name__ == "__main__":
    unittest.main()
