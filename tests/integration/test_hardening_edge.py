"""The request edge's hardening through the real stack (nginx + pts-cgi + pts-worker).

- the Host rule (DNS rebinding): nginx and pts-cgi answer 421 misdirected unless the Host is an
  IP literal, localhost or a name in PTS_ALLOWED_HOSTS, and nothing changes;
- the password rules: 8 characters at least, current_password to change or remove one;
- login throttling for the whole service, without sleeping (and a flood that must not stall
  /api/health);
- PTS_REQUIRE_PASSWORD and PTS_COOKIE_SECURE (a second stack with both set).

Everything listens on 127.0.0.1 only; the other Host names are only sent as headers.
"""
import concurrent.futures
import json
import os
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

from fcgiclient import fcgi_request
from stack import BUILD, Stack

STACK = None
ALLOWED = "media.example"
PASSWORD = "correct horse 1"
# The flood test: parallel wrong logins, and the bound on /api/health's 95th percentile.
FLOOD_LOGINS = 60
FLOOD_P95_MS = 200
THROTTLE_MAX = 5            # cgi/throttle.h THROTTLE_MAX_FAILURES
THROTTLE_WINDOW_MS = 60000  # cgi/throttle.h THROTTLE_WINDOW_MS


def setUpModule():
    global STACK
    STACK = Stack(env={"PTS_ALLOWED_HOSTS": "other.example, " + ALLOWED.upper() + "."}).start()


def tearDownModule():
    STACK.stop()
    STACK.cleanup()


def api(method, path, body=None, headers=None, raw=None):
    return STACK.api(method, path, body, headers, raw)


def sock(stack):
    return os.path.join(stack.data, "run", "pts-cgi.sock")


def login(stack, password):
    """POST /api/login: (status, body, headers)."""
    return stack.api("POST", "/api/login", {"password": password})


def jar_of(hdrs):
    return {"Cookie": hdrs["set-cookie"].split(";")[0]}


class EdgeCase(unittest.TestCase):
    def assertError(self, got, status, code):
        st, body, hdrs = got
        self.assertEqual(st, status, body)
        self.assertTrue(hdrs.get("content-type", "").startswith("application/json"), hdrs)
        self.assertEqual(body["error"]["code"], code, body)
        self.assertIsInstance(body["error"]["message"], str)
        return body["error"]

    def settings_rows(self, stack=None):
        return {r["key"]: r["value"]
                for r in (stack or STACK).query("SELECT key, value FROM settings")}

    def reset_password(self, stack=None):
        conn = (stack or STACK).db()
        try:
            conn.execute("DELETE FROM settings WHERE key = 'dashboard_password'")
            conn.execute("DELETE FROM login_attempts")
            conn.execute("DELETE FROM sessions")
            conn.commit()
        finally:
            conn.close()

    def set_password(self, stack=None):
        st, body, _ = (stack or STACK).api("PUT", "/api/settings",
                                           {"dashboard_password": PASSWORD})
        self.assertEqual(st, 200, body)
        self.addCleanup(self.reset_password, stack)


class TestHostRule(EdgeCase):
    def test_rebinding_put_is_misdirected_and_saves_nothing(self):
        before = self.settings_rows()
        got = api("PUT", "/api/settings", {"sync_interval_hours": 3},
                  headers={"Host": "evil.example:%d" % STACK.port,
                           "Origin": "http://evil.example:%d" % STACK.port})
        self.assertError(got, 421, "misdirected")
        self.assertEqual(self.settings_rows(), before)

    def test_webhook_token_not_handed_to_a_foreign_host(self):
        st, _, raw = STACK.request("GET", "/api/webhooks/plex", headers={"Host": "evil.example"})
        self.assertEqual(st, 421)
        self.assertNotIn(b"token", raw)
        self.assertEqual(json.loads(raw)["error"]["code"], "misdirected")

    def test_webhook_url_with_a_foreign_host(self):
        st, body, _ = api("GET", "/api/webhooks/plex")
        self.assertEqual(st, 200, body)
        path = body["url_path"]
        runs = STACK.query("SELECT COUNT(*) AS n FROM runs")[0]["n"]
        payload = b'--b\r\nContent-Disposition: form-data; name="payload"\r\n\r\n{}\r\n--b--\r\n'
        ctype = "multipart/form-data; boundary=b"
        # nginx answers it, and pts-cgi's own listener refuses it as well.
        st, _, raw = STACK.request("POST", path, raw=payload,
                                   headers={"Host": "evil.example:%d" % STACK.port,
                                            "Content-Type": ctype})
        self.assertEqual(st, 421, raw)
        st, _, raw = fcgi_request(sock(STACK), "POST", path, body=payload,
                                  headers={"Host": "evil.example", "Content-Type": ctype})
        self.assertEqual(st, 421, raw)
        self.assertEqual(json.loads(raw)["error"]["code"], "misdirected")
        self.assertEqual(STACK.query("SELECT COUNT(*) AS n FROM runs")[0]["n"], runs)

    def test_static_files_with_a_foreign_host_answered_by_nginx(self):
        for path in ("/", "/index.html", "/app.js"):
            st, hdrs, raw = STACK.request("GET", path, headers={"Host": "evil.example"})
            self.assertEqual(st, 421, path)
            self.assertTrue(hdrs["content-type"].startswith("application/json"), hdrs)
            self.assertEqual(json.loads(raw)["error"]["code"], "misdirected")
            self.assertNotIn(b"<html", raw)

    def test_pts_cgi_socket_refuses_a_foreign_host(self):
        before = self.settings_rows()
        st, _, raw = fcgi_request(sock(STACK), "PUT", "/api/settings",
                                  body=b'{"sync_interval_hours": 5}',
                                  headers={"Host": "evil.example:8080",
                                           "Origin": "http://evil.example:8080",
                                           "X-Requested-With": "XMLHttpRequest",
                                           "Content-Type": "application/json"})
        self.assertEqual(st, 421, raw)
        self.assertEqual(self.settings_rows(), before)
        st, _, _ = fcgi_request(sock(STACK), "GET", "/api/health", headers={"Host": "name.lan"})
        self.assertEqual(st, 421)

    def test_own_names_work(self):
        hosts = ["127.0.0.1:%d" % STACK.port, "localhost:%d" % STACK.port,
                 "[::1]:%d" % STACK.port, "LocalHost", ALLOWED + ":%d" % STACK.port,
                 ALLOWED.upper(), "other.example."]
        for host in hosts:
            st, body, _ = api("GET", "/api/status", headers={"Host": host})
            self.assertEqual(st, 200, host)
            st, _, _ = STACK.request("GET", "/app.js", headers={"Host": host})
            self.assertEqual(st, 200, host)
            st, body, _ = api("PUT", "/api/settings", {"sync_interval_hours": 6},
                              headers={"Host": host, "Origin": "http://" + host})
            self.assertEqual(st, 200, (host, body))
            st, _, _ = fcgi_request(sock(STACK), "GET", "/api/health", headers={"Host": host})
            self.assertEqual(st, 200, host)


class TestHostRuleFastCgiOnStdin(EdgeCase):
    """The third way pts-cgi runs: its listening socket on standard input (systemd, spawn-fcgi)."""

    def test_foreign_host_refused_allowed_name_answered(self):
        tmp = tempfile.TemporaryDirectory(prefix="pts-hostrule-")
        self.addCleanup(tmp.cleanup)
        # Started as root, pts-cgi becomes plex-trakt-sync: it must pass through, as through a
        # deployment's parent folders.
        os.chmod(tmp.name, 0o711)
        path = os.path.join(tmp.name, "pts-cgi.sock")
        lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        lsock.bind(path)
        lsock.listen(8)
        env = dict(os.environ, PTS_DATA_DIR=os.path.join(tmp.name, "var"),
                   PTS_ALLOWED_HOSTS="nas.lan")
        env.pop("PTS_USER", None)
        log = open(os.path.join(tmp.name, "cgi.log"), "w+")
        self.addCleanup(log.close)
        p = subprocess.Popen([os.path.join(BUILD, "cgi", "pts-cgi")], stdin=lsock.fileno(),
                             stdout=log, stderr=subprocess.STDOUT, env=env)
        lsock.close()

        def stop():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                p.wait(timeout=20)
        self.addCleanup(stop)
        st, _, raw = fcgi_request(path, "GET", "/api/settings", headers={"Host": "evil.example"})
        self.assertEqual(st, 421, raw)
        self.assertEqual(json.loads(raw)["error"]["code"], "misdirected")
        for host in ("NAS.lan:8080", "127.0.0.1", "[::1]:80", "localhost"):
            st, _, raw = fcgi_request(path, "GET", "/api/settings", headers={"Host": host})
            self.assertEqual(st, 200, (host, raw))
        log.seek(0)
        self.assertIn("evil.example", log.read())


class TestPasswordRules(EdgeCase):
    def test_at_least_8_characters(self):
        got = api("PUT", "/api/settings", {"dashboard_password": "7 chars"})
        err = self.assertError(got, 400, "invalid_settings")
        self.assertIn("8", err["fields"]["dashboard_password"])
        self.assertNotIn("dashboard_password", self.settings_rows())

    def test_change_needs_the_current_password(self):
        self.set_password()
        st, _, hdrs = login(STACK, PASSWORD)
        self.assertEqual(st, 200)
        jar = jar_of(hdrs)
        stored = self.settings_rows()["dashboard_password"]
        for body in ({"dashboard_password": "another one 2"},
                     {"dashboard_password": "another one 2", "current_password": "wrong pw 3"},
                     {"dashboard_password": ""},
                     {"dashboard_password": {"set": False}},
                     {"dashboard_password": "", "current_password": "wrong pw 3",
                      "sync_interval_hours": 2}):
            got = api("PUT", "/api/settings", body, headers=jar)
            self.assertError(got, 403, "forbidden")
            rows = self.settings_rows()
            self.assertEqual(rows["dashboard_password"], stored, body)
            self.assertNotEqual(rows.get("sync_interval_hours"), "2")
        self.reset_attempts()
        # The other fields are validated first: 400, and no password was checked.
        got = api("PUT", "/api/settings", {"dashboard_password": "short",
                                           "current_password": "wrong pw 3"}, headers=jar)
        self.assertIn("dashboard_password", self.assertError(got, 400, "invalid_settings")["fields"])
        self.assertEqual(STACK.query("SELECT COUNT(*) AS n FROM login_attempts")[0]["n"], 0)
        # A mask echoed back is no change: no current password needed.
        st, body, _ = api("PUT", "/api/settings", {"dashboard_password": {"set": True},
                                                   "sync_interval_hours": 6}, headers=jar)
        self.assertEqual(st, 200, body)
        got = api("PUT", "/api/settings", {"current_password": 5}, headers=jar)
        self.assertEqual(self.assertError(got, 400, "invalid_settings")["fields"],
                         {"current_password": "must be a string"})
        st, body, _ = api("PUT", "/api/settings", {"dashboard_password": "another one 2",
                                                   "current_password": PASSWORD}, headers=jar)
        self.assertEqual(st, 200, body)
        self.assertNotIn("current_password", body)
        self.assertEqual(login(STACK, PASSWORD)[0], 401)
        self.assertEqual(login(STACK, "another one 2")[0], 200)
        self.reset_attempts()
        st, body, _ = api("PUT", "/api/settings", {"dashboard_password": "",
                                                   "current_password": "another one 2"},
                          headers=jar)
        self.assertEqual(st, 200, body)
        self.assertNotIn("dashboard_password", self.settings_rows())

    def test_current_password_is_ignored_when_none_is_set(self):
        st, body, _ = api("PUT", "/api/settings", {"sync_interval_hours": 6,
                                                   "current_password": "anything"})
        self.assertEqual(st, 200, body)

    def reset_attempts(self):
        conn = STACK.db()
        try:
            conn.execute("DELETE FROM login_attempts")
            conn.commit()
        finally:
            conn.close()


class TestLoginThrottle(EdgeCase):
    def test_five_wrong_then_429_even_for_the_right_one(self):
        self.set_password()
        for i in range(THROTTLE_MAX):
            t0 = time.monotonic()
            self.assertError(login(STACK, "wrong %d" % i), 401, "unauthorized")
            # No sleep inside a responder any more (it used to wait 300 ms).
            self.assertLess(time.monotonic() - t0, 0.28)
        err = self.assertError(login(STACK, "wrong again"), 429, "rate_limited")
        self.assertIn("minute", err["message"])
        got = login(STACK, PASSWORD)
        self.assertError(got, 429, "rate_limited")
        retry = int(got[2]["retry-after"])
        self.assertTrue(1 <= retry <= 60, retry)
        # The count is the service's, not the connection's: pts-cgi's own socket agrees.
        st, _, raw = fcgi_request(sock(STACK), "POST", "/api/login",
                                  body=json.dumps({"password": PASSWORD}).encode(),
                                  headers={"X-Requested-With": "XMLHttpRequest",
                                           "Content-Type": "application/json"})
        self.assertEqual(st, 429, raw)
        # The minute passes (the stored attempts are moved back in time).
        conn = STACK.db()
        try:
            conn.execute("UPDATE login_attempts SET at_ms = at_ms - ?", (THROTTLE_WINDOW_MS,))
            conn.commit()
        finally:
            conn.close()
        st, body, hdrs = login(STACK, PASSWORD)
        self.assertEqual(st, 200, body)
        self.assertIn("pts_session=", hdrs["set-cookie"])

    def test_a_right_password_does_not_count(self):
        self.set_password()
        for _ in range(THROTTLE_MAX + 2):
            self.assertEqual(login(STACK, PASSWORD)[0], 200)
        self.assertEqual(STACK.query("SELECT COUNT(*) AS n FROM login_attempts")[0]["n"], 0)

    def test_flood_of_wrong_logins_does_not_stall_health(self):
        self.set_password()
        stop = threading.Event()
        times, statuses = [], []

        def health():
            while not stop.is_set():
                t0 = time.monotonic()
                st, _, _ = STACK.request("GET", "/api/health")
                times.append((time.monotonic() - t0) * 1000)
                statuses.append(st)

        def wrong(i):
            return login(STACK, "guess %d" % i)[0]

        timer = threading.Thread(target=health)
        timer.start()
        try:
            time.sleep(0.2)
            with concurrent.futures.ThreadPoolExecutor(FLOOD_LOGINS) as pool:
                codes = list(pool.map(wrong, range(FLOOD_LOGINS)))
            time.sleep(0.2)
        finally:
            stop.set()
            timer.join(timeout=30)
        self.assertEqual(set(statuses), {200})
        self.assertEqual(codes.count(401), THROTTLE_MAX, codes)
        self.assertEqual(codes.count(429), FLOOD_LOGINS - THROTTLE_MAX, codes)
        times.sort()
        self.assertGreaterEqual(len(times), 10)
        p95 = times[int(len(times) * 0.95) - 1]
        self.assertLess(p95, FLOOD_P95_MS, "health p95 %.0f ms over %d calls" % (p95, len(times)))


class TestRequirePasswordAndSecureCookie(EdgeCase):
    """PTS_REQUIRE_PASSWORD=1 (as on a wide listener) and PTS_COOKIE_SECURE=1."""

    @classmethod
    def setUpClass(cls):
        cls.s = Stack(env={"PTS_REQUIRE_PASSWORD": "1", "PTS_COOKIE_SECURE": "1"}).start()

    @classmethod
    def tearDownClass(cls):
        cls.s.stop()
        cls.s.cleanup()

    def test_everything_but_setup_waits_for_a_password(self):
        s = self.s
        before = self.settings_rows(s)
        jobs = s.query("SELECT COUNT(*) AS n FROM jobs")[0]["n"]
        for method, path, body in (("GET", "/api/settings", None), ("GET", "/api/runs", None),
                                   ("POST", "/api/sync", {}), ("POST", "/api/auth/plex", {}),
                                   ("GET", "/api/webhooks/plex", None),
                                   ("PUT", "/api/settings", {"sync_interval_hours": 2}),
                                   ("PUT", "/api/settings", {"dashboard_password": ""}),
                                   ("PUT", "/api/settings", {"dashboard_password": {"set": True},
                                                             "dry_run": True})):
            self.assertError(s.api(method, path, body), 403, "password_required")
        self.assertEqual(self.settings_rows(s), before)
        self.assertEqual(s.query("SELECT COUNT(*) AS n FROM jobs")[0]["n"], jobs)
        self.assertEqual(s.api("GET", "/api/health")[0], 200)
        self.assertEqual(s.api("GET", "/api/status")[0], 200)
        self.assertEqual(s.api("POST", "/api/login", {"password": "x"})[0], 200)
        # Setting one goes through the usual rules, then everything answers again (after a
        # login, since there is a password now).
        self.assertError(s.api("PUT", "/api/settings", {"dashboard_password": "short"}), 400,
                         "invalid_settings")
        st, body, _ = s.api("PUT", "/api/settings", {"dashboard_password": PASSWORD,
                                                     "sync_interval_hours": 4})
        self.assertEqual(st, 200, body)
        self.addCleanup(self.reset_password, s)
        self.assertEqual(self.settings_rows(s)["sync_interval_hours"], "4")
        self.assertError(s.api("GET", "/api/settings"), 401, "unauthorized")
        st, _, hdrs = login(s, PASSWORD)
        self.assertEqual(st, 200)
        self.assertEqual(s.api("GET", "/api/settings", headers=jar_of(hdrs))[0], 200)

    def test_cookie_secure_over_plain_http(self):
        self.set_password(self.s)
        st, _, hdrs = login(self.s, PASSWORD)
        self.assertEqual(st, 200)
        attrs = [a.strip() for a in hdrs["set-cookie"].split(";")]
        self.assertIn("Secure", attrs)
        self.assertIn("HttpOnly", attrs)
        st, _, hdrs = self.s.api("POST", "/api/logout", headers=jar_of(hdrs))
        self.assertEqual(st, 200)
        self.assertIn("Secure", [a.strip() for a in hdrs["set-cookie"].split(";")])

    def test_cookie_not_secure_by_default_over_plain_http(self):
        self.set_password()
        st, _, hdrs = login(STACK, PASSWORD)
        self.assertEqual(st, 200)
        self.assertNotIn("Secure", [a.strip() for a in hdrs["set-cookie"].split(";")])


if __name__ == "__main__":
    unittest.main()
