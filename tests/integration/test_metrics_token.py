"""The metrics token (docs/API.md, "Metrics token") through the real stack: nginx passes the
Authorization header on, pts-cgi checks it.

- metrics_token is a secret setting: 16-128 printable ASCII, masked {"set": bool}, "" removes;
- with a dashboard password set, GET /api/metrics answers a scraper's
  "Authorization: Bearer <token>" without a login; a wrong, malformed or missing token gets
  401 as before, and the token opens no other route;
- the token reaches no log: not nginx's access or error log, not the service's log output,
  not the log table.
"""
import base64
import glob
import os
import unittest

from stack import Stack

STACK = None
PASSWORD = "correct horse 1"
TOKEN = "scrape-Me_0123456789~abc"   # 24 printable characters
METRICS_CTYPE = "text/plain; version=0.0.4"


def setUpModule():
    global STACK
    STACK = Stack().start()


def tearDownModule():
    STACK.stop()
    STACK.cleanup()


def bearer(token):
    return {"Authorization": "Bearer " + token}


class TestMetricsToken(unittest.TestCase):
    def tearDown(self):
        conn = STACK.db()
        try:
            conn.execute("DELETE FROM settings WHERE key IN ('dashboard_password',"
                         " 'metrics_token')")
            conn.execute("DELETE FROM sessions")
            conn.execute("DELETE FROM login_attempts")
            conn.commit()
        finally:
            conn.close()

    def put(self, body, headers=None):
        return STACK.api("PUT", "/api/settings", body, headers=headers)

    def set_token_and_password(self):
        st, body, _ = self.put({"metrics_token": TOKEN})
        self.assertEqual(st, 200, body)
        st, body, _ = self.put({"dashboard_password": PASSWORD})
        self.assertEqual(st, 200, body)

    def metrics(self, headers=None):
        return STACK.request("GET", "/api/metrics", headers=headers)

    def test_setting_is_validated_and_masked(self):
        st, body, _ = STACK.api("GET", "/api/settings")
        self.assertEqual(st, 200, body)
        self.assertEqual(body["metrics_token"], {"set": False})
        for bad in ("x" * 15, "y" * 129, "tab\tinside-0123456", "caf\u00e9-0123456789abc", 12345):
            st, body, _ = self.put({"metrics_token": bad})
            self.assertEqual(st, 400, (bad, body))
            self.assertIn("metrics_token", body["error"]["fields"], bad)
        self.assertEqual(STACK.query("SELECT value FROM settings WHERE key = 'metrics_token'"), [])
        for good in ("z" * 16, "w" * 128, TOKEN):
            st, body, _ = self.put({"metrics_token": good})
            self.assertEqual(st, 200, (good, body))
        st, raw_hdrs, raw = STACK.request("GET", "/api/settings")
        self.assertEqual(st, 200, raw)
        self.assertNotIn(TOKEN.encode(), raw)
        st, body, _ = STACK.api("GET", "/api/settings")
        self.assertEqual(body["metrics_token"], {"set": True})
        # The mask echoed back keeps it; "" removes it.
        st, body, _ = self.put({"metrics_token": {"set": True}})
        self.assertEqual(st, 200, body)
        self.assertEqual(STACK.api("GET", "/api/settings")[1]["metrics_token"], {"set": True})
        st, body, _ = self.put({"metrics_token": ""})
        self.assertEqual(st, 200, body)
        self.assertEqual(STACK.api("GET", "/api/settings")[1]["metrics_token"], {"set": False})

    def test_bearer_answers_without_login_once_a_password_is_set(self):
        self.set_token_and_password()
        st, hdrs, raw = self.metrics()
        self.assertEqual(st, 401, raw)
        st, hdrs, raw = self.metrics(bearer(TOKEN))
        self.assertEqual(st, 200, raw)
        self.assertTrue(hdrs["content-type"].startswith(METRICS_CTYPE), hdrs)
        self.assertIn(b"# TYPE pts_runs_total counter", raw)
        self.assertIn(b"pts_worker_up ", raw)
        # The scheme's case does not matter (RFC 6750).
        self.assertEqual(self.metrics({"Authorization": "bearer " + TOKEN})[0], 200)

    def test_wrong_or_malformed_token_is_401(self):
        self.set_token_and_password()
        for hdrs in (bearer(TOKEN[:-1]), bearer(TOKEN + "x"), bearer(TOKEN.upper()),
                     bearer("x" * 200), {"Authorization": "Basic " + TOKEN},
                     {"Authorization": TOKEN}, {"Authorization": "Bearer " + TOKEN + " x"},
                     {"Authorization": "Bearer"}):
            st, _, raw = self.metrics(hdrs)
            self.assertEqual(st, 401, (hdrs, raw))
            self.assertIn(b'"unauthorized"', raw)

    def test_token_opens_no_other_route(self):
        self.set_token_and_password()
        for method, path in (("GET", "/api/settings"), ("GET", "/api/status"),
                             ("GET", "/api/runs"), ("POST", "/api/sync")):
            st, body, _ = STACK.api(method, path, headers=bearer(TOKEN))
            self.assertEqual(st, 401, (path, body))

    def test_removed_token_no_longer_answers(self):
        self.set_token_and_password()
        self.assertEqual(self.metrics(bearer(TOKEN))[0], 200)
        st, body, hdrs = STACK.api("POST", "/api/login", {"password": PASSWORD})
        self.assertEqual(st, 200, body)
        cookie = {"Cookie": hdrs["set-cookie"].split(";")[0]}
        st, body, _ = self.put({"metrics_token": ""}, headers=cookie)
        self.assertEqual(st, 200, body)
        self.assertEqual(self.metrics(bearer(TOKEN))[0], 401)
        # The login still reads it.
        self.assertEqual(self.metrics(cookie)[0], 200)

    def test_without_a_password_a_token_changes_nothing(self):
        st, body, _ = self.put({"metrics_token": TOKEN})
        self.assertEqual(st, 200, body)
        self.assertEqual(self.metrics()[0], 200)
        self.assertEqual(self.metrics(bearer("wrong-token-0123456789"))[0], 200)
        self.assertEqual(self.metrics(bearer(TOKEN))[0], 200)

    def test_zz_token_reaches_no_log(self):
        self.set_token_and_password()
        self.assertEqual(self.metrics(bearer(TOKEN))[0], 200)
        self.assertEqual(self.metrics(bearer(TOKEN + "-wrong"))[0], 401)
        # A scraper set up for Basic instead: the user part must not reach the access log.
        basic = base64.b64encode((TOKEN + ":x").encode()).decode()
        self.assertEqual(self.metrics({"Authorization": "Basic " + basic})[0], 401)
        logs = glob.glob(os.path.join(STACK.data, "nginx", "logs", "*")) + [STACK.log_path]
        self.assertTrue(any(p.endswith("access.log") for p in logs), logs)
        for path in logs:
            with open(path, "rb") as f:
                self.assertNotIn(TOKEN.encode(), f.read(), path)
        with open(os.path.join(STACK.data, "nginx", "logs", "access.log"), "rb") as f:
            self.assertIn(b"GET /api/metrics", f.read())
        lines = STACK.query("SELECT message FROM log")
        self.assertFalse([m for m in lines if TOKEN in m["message"]])
        self.assertTrue([m for m in lines if "not the metrics token" in m["message"]] or
                        b"not the metrics token" in open(STACK.log_path, "rb").read())


if __name__ == "__main__":
    unittest.main()
