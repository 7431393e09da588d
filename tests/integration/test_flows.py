"""End-to-end network jobs through the HTTP API: nginx + pts-cgi + pts-worker against the fakes.

Every step goes through /api/ the way the dashboard does it; the fakes' /_control/ API plays
the person (linking a PIN, approving a device code) and the upstream services' faults. The
database is read only to check what the API must not show (tokens, scrubbed job args).

The corpus is the default one (tests/fakes/README.md) with one change: the Trakt-only movie
"<script>alert('trakt')</script>" gets tmdb id 9990010, a multiple of 19, so the fake TMDb
has no poster for it (the default corpus has no such id). The movie is not in Plex, so every
sync number of the corpus table stays as it is: a Plex->Trakt sync of all libraries adds 17
plays, 3 are not found on Trakt, 5 items are unmatched, 49 items are scanned.

One fake set for the module, one stack per class; classes that need a clean upstream reset
the fakes. Every API answer is recorded, and each class ends by checking that no secret
(client secret, TMDb key, any token the fakes issued) appears in an answer, in the log
table or in the stack's own output.
"""
import calendar
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

from fakes import FAKEUP, Fakes
from stack import ApiChecks, Stack, wait_for

FAKES = None
CORPUS_DIR = None
# Every secret or token seen during the module: none may leave the service.
SECRETS = set()
ADDED = 17
NOT_FOUND = 3
UNMATCHED = 5
PLEX_ITEMS = 49
NO_POSTER_TMDB = 9990010
# How long a sign-in flow may take to reach a state (the worker polls every 1 s).
FLOW_TIMEOUT = 15
SYNC_TIMEOUT = 40


def setUpModule():
    global FAKES, CORPUS_DIR
    CORPUS_DIR = tempfile.TemporaryDirectory(prefix="pts-flows-")
    path = os.path.join(CORPUS_DIR.name, "corpus.json")
    subprocess.run([sys.executable, FAKEUP, "--dump-corpus", path], check=True, timeout=60)
    with open(path) as f:
        corpus = json.load(f)
    hostile = [m for m in corpus["trakt"]["movies"] if m["ids"].get("tmdb") == 9990002]
    assert len(hostile) == 1, "the default corpus changed: see the module's docstring"
    hostile[0]["ids"]["tmdb"] = NO_POSTER_TMDB
    with open(path, "w") as f:
        json.dump(corpus, f)
    FAKES = Fakes(corpus=path).start()
    SECRETS.update({FAKES.urls["trakt_client_secret"], FAKES.urls["tmdb_api_key"],
                    FAKES.urls["plex_token"]})


def tearDownModule():
    if FAKES is not None:
        FAKES.stop()
    if CORPUS_DIR is not None:
        CORPUS_DIR.cleanup()


def harvest_tokens():
    """Remember every token the fakes issued so far (before a reset forgets them)."""
    toks = FAKES.get("trakt", "/_control/state?keys=tokens")["tokens"]
    for access, t in toks.items():
        SECRETS.add(access)
        if t.get("refresh_token"):
            SECRETS.add(t["refresh_token"])
    st = FAKES.get("plextv", "/_control/state")
    SECRETS.update(t for t in st.get("tokens", []) if t)


def reset_fakes():
    harvest_tokens()
    FAKES.reset()
    FAKES.post("trakt", "/_control/state", {"device_interval": 1})


def trakt_oauth(path, body):
    """A call to the fake Trakt's OAuth endpoints out of band (another device)."""
    req = urllib.request.Request(FAKES.urls["trakt"] + path, data=json.dumps(body).encode(),
                                 method="POST", headers={
                                     "Content-Type": "application/json",
                                     "trakt-api-key": FAKES.urls["trakt_client_id"],
                                     "trakt-api-version": "2"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def iso(epoch):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def parse_iso(s):
    return calendar.timegm(time.strptime(s[:19], "%Y-%m-%dT%H:%M:%S"))


class FlowCase(ApiChecks, unittest.TestCase):
    """A stack wired to the fakes, with the fakes' settings PUT through the API."""

    @classmethod
    def setUpClass(cls):
        reset_fakes()
        cls.responses = []
        cls.stack = Stack(env=FAKES.env()).start()
        body = dict(FAKES.settings())
        body["sync_interval_hours"] = 0   # no scheduled run in the middle of a test
        st, got, _ = cls.call("PUT", "/api/settings", body)
        if st != 200:
            cls.tearDownClass()
            raise RuntimeError("PUT /api/settings: %d %r" % (st, got))

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop()
        cls.stack.cleanup()

    # ---- the API, recorded ----
    @classmethod
    def call(cls, method, path, body=None, headers=None):
        st, hdrs, raw = cls.stack.request(method, path, body, headers)
        cls.responses.append((method, path, st, hdrs, raw))
        try:
            js = json.loads(raw) if raw else None
        except ValueError:
            js = None
        return st, js, hdrs

    def api(self, method, path, body=None, headers=None):
        return self.call(method, path, body, headers)

    # ---- waiting ----
    def wait_auth(self, service, pred, timeout=FLOW_TIMEOUT, what=None):
        last = {}

        def check():
            last["body"] = self.get("/api/auth/" + service)
            return last["body"] if pred(last["body"]) else None
        try:
            return wait_for(check, timeout=timeout, step=0.1, what=what or service)
        except AssertionError:
            raise AssertionError("%s: last answer %r" % (what or service, last.get("body")))

    def wait_state(self, service, state, timeout=FLOW_TIMEOUT):
        return self.wait_auth(service, lambda b: b["state"] == state, timeout,
                              "%s state %s" % (service, state))

    def wait_code(self, service):
        key = "code" if service == "plex" else "user_code"
        return self.wait_auth(service, lambda b: b["state"] == "pending" and b[key],
                              what=service + " code")

    def wait_job(self, job_id, timeout=SYNC_TIMEOUT):
        def done():
            rows = self.stack.query("SELECT state, error FROM jobs WHERE id = ?", job_id)
            return rows and rows[0]["state"] not in ("queued", "running") and rows[0]
        return wait_for(done, timeout=timeout, step=0.1, what="job %d" % job_id)

    def run_row(self, run_id):
        runs = self.get("/api/runs")["runs"]
        return next(r for r in runs if r["id"] == run_id)

    def sync(self, timeout=SYNC_TIMEOUT):
        run_id = self.post("/api/sync")["run_id"]
        wait_for(lambda: self.run_row(run_id)["status"] != "running", timeout=timeout,
                 step=0.1, what="run %d" % run_id)
        return self.run_row(run_id)

    # ---- sign-ins through the API ----
    def sign_in_plex(self):
        self.post("/api/auth/plex")
        self.wait_code("plex")
        tok = FAKES.post("plextv", "/_control/pins/link_latest")["authToken"]
        SECRETS.add(tok)
        got = self.wait_state("plex", "authorized")
        self.assertEqual(got["user"], "plexuser")
        return tok

    def sign_in_trakt(self):
        self.post("/api/auth/trakt")
        code = self.wait_code("trakt")["user_code"]
        FAKES.post("trakt", "/_control/device/approve", {"user_code": code})
        got = self.wait_auth("trakt", lambda b: b["state"] == "authorized" and b["user"],
                             what="trakt authorized with a user")
        harvest_tokens()
        return got

    def trakt_tokens(self):
        return FAKES.get("trakt", "/_control/state?keys=tokens")["tokens"]


class LeakCheck:
    """The check every class ends with (a mixin: FlowCase itself has no tests)."""

    def test_zz_no_secret_leaks(self):
        harvest_tokens()
        secrets = {s for s in SECRETS if s and len(s) >= 6}
        self.assertTrue(secrets)
        # The settings answer masks them.
        got = self.get("/api/settings")
        for k in ("trakt_client_secret", "tmdb_api_key"):
            self.assertIsInstance(got[k], dict, k)
        self.assertGreater(len(self.responses), 5)
        for method, path, st, hdrs, raw in self.responses:
            text = raw.decode("utf-8", "replace") + json.dumps(hdrs)
            for s in secrets:
                self.assertNotIn(s, text, "%s %s answered a secret" % (method, path))
        for row in self.stack.query("SELECT message FROM log"):
            for s in secrets:
                self.assertNotIn(s, row["message"], "a secret in the log table")
        self.assertTrue(self.stack.query("SELECT COUNT(*) AS n FROM log")[0]["n"] > 0)
        with open(self.stack.log_path, errors="replace") as f:
            out = f.read()
        for s in secrets:
            self.assertNotIn(s, out, "a secret in the stack's output")


class TestPlexSignIn(LeakCheck, FlowCase):
    def setUp(self):
        harvest_tokens()
        FAKES.post("plextv", "/_control/reset")

    def test_pin_flow_authorizes(self):
        job = self.post("/api/auth/plex")["job_id"]
        self.assertIsInstance(job, int)
        got = self.wait_code("plex")
        code = got["code"]
        pins = FAKES.get("plextv", "/_control/pins")["pins"]
        self.assertEqual(pins[-1]["code"], code)
        client = self.stack.query("SELECT value FROM meta WHERE key = 'plex_client_id'")
        self.assertEqual(got["auth_url"], "https://app.plex.tv/auth#?clientID=%s&code=%s&"
                         "context%%5Bdevice%%5D%%5Bproduct%%5D=Plex-Trakt%%20Sync"
                         % (client[0]["value"], code))
        left = parse_iso(got["expires_at"]) - time.time()
        self.assertTrue(850 < left <= 901, got["expires_at"])
        self.assertIsNone(got["user"])
        self.assertNotIn("error", got)
        st = self.get("/api/status")["auth"]["plex"]
        self.assertEqual((st["authorized"], st["state"]), (False, "pending"))

        tok = FAKES.post("plextv", "/_control/pins/link_latest")["authToken"]
        SECRETS.add(tok)
        got = self.wait_state("plex", "authorized")
        self.assertEqual(got["user"], "plexuser")
        self.assertIsNone(got["code"])
        self.assertIsNone(got["auth_url"])
        self.assertIsNone(got["expires_at"], "Plex tokens do not expire")
        self.assertNotIn("error", got)
        st = self.get("/api/status")["auth"]["plex"]
        self.assertEqual(st, {"authorized": True, "state": "authorized", "user": "plexuser"})
        self.assertEqual(self.wait_job(job)["state"], "done")
        # The token works: a library refresh reads the fake PMS with it.
        self.post("/api/libraries/refresh")
        wait_for(lambda: self.get("/api/libraries")["fetched_at"], timeout=15, what="libraries")

        # Sign out: the row forgets everything.
        st, body, _ = self.api("DELETE", "/api/auth/plex")
        self.assertEqual((st, body), (200, {"state": "none"}))
        got = self.get("/api/auth/plex")
        self.assertEqual(got, {"state": "none", "code": None, "auth_url": None,
                               "expires_at": None, "user": None})
        st = self.get("/api/status")["auth"]["plex"]
        self.assertEqual(st, {"authorized": False, "state": "none", "user": None})
        row = self.stack.query("SELECT access_token, user FROM auth WHERE service = 'plex'")[0]
        self.assertEqual(row, {"access_token": None, "user": None})
        # Signed out: reading Continue Watching queues no refresh.
        n = self.stack.query("SELECT COUNT(*) AS n FROM jobs")[0]["n"]
        self.assertIs(self.get("/api/plex/in-progress")["refreshing"], False)
        self.assertEqual(self.stack.query("SELECT COUNT(*) AS n FROM jobs")[0]["n"], n)

    def test_sign_out_while_pending(self):
        job = self.post("/api/auth/plex")["job_id"]
        self.wait_code("plex")
        st, body, _ = self.api("DELETE", "/api/auth/plex")
        self.assertEqual((st, body), (200, {"state": "none"}))
        self.assertEqual(self.wait_job(job)["state"], "cancelled")
        SECRETS.add(FAKES.post("plextv", "/_control/pins/link_latest")["authToken"])
        time.sleep(1.2)
        self.assertEqual(self.get("/api/auth/plex")["state"], "none")
        self.assertIsNone(self.stack.query("SELECT access_token FROM auth"
                                           " WHERE service = 'plex'")[0]["access_token"])

    def test_plextv_errors_while_polling(self):
        # plex.tv fails a few checks (5xx): the flow keeps polling and still signs in.
        FAKES.post("plextv", "/_control/faults", {"only": ["GET /api/v2/pins/"],
                                                  "fail_next": [503, 502, 500, 503]})
        try:
            self.sign_in_plex()
        finally:
            FAKES.post("plextv", "/_control/faults/reset")
        self.api("DELETE", "/api/auth/plex")

    def test_pin_expired_by_plextv(self):
        self.post("/api/auth/plex")
        code = self.wait_code("plex")["code"]
        pin = next(p for p in FAKES.get("plextv", "/_control/pins")["pins"] if p["code"] == code)
        FAKES.post("plextv", "/_control/pins/%d/expire" % pin["id"])
        got = self.wait_state("plex", "expired")
        self.assertIsNone(got["code"])
        self.assertIsNone(got["expires_at"])
        self.assertIn("expired", got["error"])
        self.assertIs(self.get("/api/status")["auth"]["plex"]["authorized"], False)

    def test_pin_lifetime_runs_out(self):
        FAKES.post("plextv", "/_control/state", {"pin_expires_in": 2})
        self.post("/api/auth/plex")
        got = self.wait_code("plex")
        self.assertLessEqual(parse_iso(got["expires_at"]) - time.time(), 3)
        got = self.wait_state("plex", "expired", timeout=10)
        self.assertTrue(got["error"])
        # Nothing was linked, and a link now comes too late.
        self.assertEqual(FAKES.get("plextv", "/_control/state").get("tokens", []), [])

    def test_second_post_restarts_the_flow(self):
        first = self.post("/api/auth/plex")["job_id"]
        code1 = self.wait_code("plex")["code"]
        second = self.post("/api/auth/plex")["job_id"]
        self.assertNotEqual(first, second)
        # Right after the POST the row is pending without a code until the worker has one.
        got = self.wait_auth("plex", lambda b: b["state"] == "pending" and b["code"]
                             and b["code"] != code1, what="a new code")
        code2 = got["code"]
        self.assertEqual(self.wait_job(first)["state"], "cancelled")
        pins = {p["code"]: p for p in FAKES.get("plextv", "/_control/pins")["pins"]}
        # Approving the abandoned PIN signs nothing in.
        tok = FAKES.post("plextv", "/_control/pins/%d/link" % pins[code1]["id"])["authToken"]
        SECRETS.add(tok)
        time.sleep(1.5)
        got = self.get("/api/auth/plex")
        self.assertEqual((got["state"], got["code"]), ("pending", code2))
        tok = FAKES.post("plextv", "/_control/pins/%d/link" % pins[code2]["id"])["authToken"]
        SECRETS.add(tok)
        self.wait_state("plex", "authorized")
        row = self.stack.query("SELECT access_token FROM auth WHERE service = 'plex'")[0]
        self.assertEqual(row["access_token"], tok)
        self.api("DELETE", "/api/auth/plex")


class TestTraktSignIn(LeakCheck, FlowCase):
    def setUp(self):
        reset_fakes()

    def test_device_flow_authorizes(self):
        job = self.post("/api/auth/trakt")["job_id"]
        got = self.wait_code("trakt")
        code = got["user_code"]
        self.assertEqual(got["verification_url"], FAKES.urls["trakt"] + "/activate")
        left = parse_iso(got["expires_at"]) - time.time()
        self.assertTrue(550 < left <= 601, got["expires_at"])
        self.assertIsNone(got["user"])
        dev = FAKES.get("trakt", "/_control/device")["device_codes"]
        self.assertEqual([d["user_code"] for d in dev], [code])
        st = self.get("/api/status")["auth"]["trakt"]
        self.assertEqual((st["authorized"], st["state"]), (False, "pending"))

        FAKES.post("trakt", "/_control/device/approve", {"user_code": code})
        got = self.wait_auth("trakt", lambda b: b["state"] == "authorized" and b["user"],
                             what="trakt authorized")
        self.assertEqual(got["user"], "traktuser")
        self.assertIsNone(got["user_code"])
        self.assertIsNone(got["verification_url"])
        self.assertNotIn("error", got)
        toks = self.trakt_tokens()
        harvest_tokens()
        self.assertEqual(len(toks), 1)
        tok = next(iter(toks.values()))
        self.assertEqual(got["expires_at"], iso(tok["created_at"] + tok["expires_in"]))
        st = self.get("/api/status")["auth"]["trakt"]
        self.assertEqual(st, {"authorized": True, "state": "authorized", "user": "traktuser",
                              "expires_at": got["expires_at"]})
        self.assertEqual(self.wait_job(job)["state"], "done")
        # The pacing asked for was kept: no slow-down answer.
        self.assertEqual(FAKES.get("trakt", "/_control/device")["device_codes"][0]["status"],
                         "used")

    def test_denied(self):
        self.post("/api/auth/trakt")
        code = self.wait_code("trakt")["user_code"]
        FAKES.post("trakt", "/_control/device/deny", {"user_code": code})
        got = self.wait_state("trakt", "error")
        self.assertIn("declined", got["error"])
        self.assertIsNone(got["user_code"])
        self.assertIsNone(got["user"])
        self.assertIs(self.get("/api/status")["auth"]["trakt"]["authorized"], False)
        self.assertEqual(self.trakt_tokens(), {})

    def test_code_expires(self):
        FAKES.post("trakt", "/_control/state", {"device_expires_in": 2})
        self.post("/api/auth/trakt")
        got = self.wait_code("trakt")
        self.assertLessEqual(parse_iso(got["expires_at"]) - time.time(), 3)
        got = self.wait_state("trakt", "expired", timeout=10)
        self.assertIn("expired", got["error"])
        self.assertIsNone(got["expires_at"])
        self.assertEqual(self.trakt_tokens(), {})

    def test_missing_client_secret(self):
        st, body, _ = self.api("PUT", "/api/settings", {"trakt_client_secret": ""})
        self.assertEqual(st, 200, body)
        try:
            job = self.post("/api/auth/trakt")["job_id"]
            got = self.wait_state("trakt", "error")
            self.assertIn("client secret", got["error"])
            self.assertEqual(self.wait_job(job)["state"], "failed")
            self.assertEqual(FAKES.calls("trakt")["total"], 0, "nothing to ask Trakt")
            logs = self.get("/api/log?level=error")["entries"]
            self.assertTrue(any("trakt_client_secret" in e["message"] for e in logs), logs)
        finally:
            self.api("PUT", "/api/settings",
                     {"trakt_client_secret": FAKES.urls["trakt_client_secret"]})

    def test_second_post_restarts_the_flow(self):
        first = self.post("/api/auth/trakt")["job_id"]
        code1 = self.wait_code("trakt")["user_code"]
        self.post("/api/auth/trakt")
        got = self.wait_auth("trakt", lambda b: b["state"] == "pending" and b["user_code"]
                             and b["user_code"] != code1, what="a new code")
        self.assertEqual(self.wait_job(first)["state"], "cancelled")
        FAKES.post("trakt", "/_control/device/approve", {"user_code": code1})
        time.sleep(1.5)
        self.assertEqual(self.get("/api/auth/trakt")["user_code"], got["user_code"])
        self.assertEqual(self.trakt_tokens(), {}, "the abandoned code is not redeemed")
        FAKES.post("trakt", "/_control/device/approve", {"user_code": got["user_code"]})
        got = self.wait_auth("trakt", lambda b: b["state"] == "authorized" and b["user"],
                             what="trakt authorized")
        self.assertEqual(len(self.trakt_tokens()), 1)

    def test_wrong_client_id(self):
        st, body, _ = self.api("PUT", "/api/settings", {"trakt_client_id": "not-the-client"})
        self.assertEqual(st, 200, body)
        try:
            self.post("/api/auth/trakt")
            got = self.wait_state("trakt", "error")
            self.assertIn("client id", got["error"])
            self.assertEqual(self.trakt_tokens(), {})
        finally:
            self.api("PUT", "/api/settings", {"trakt_client_id": FAKES.urls["trakt_client_id"]})

    def signouts(self):
        return self.stack.query("SELECT COUNT(*) AS n FROM jobs"
                                " WHERE kind = 'signout_trakt'")[0]["n"]

    def test_sign_out_while_pending(self):
        n = self.signouts()
        job = self.post("/api/auth/trakt")["job_id"]
        code = self.wait_code("trakt")["user_code"]
        st, body, _ = self.api("DELETE", "/api/auth/trakt")
        self.assertEqual((st, body), (200, {"state": "none"}))
        self.assertEqual(self.wait_job(job)["state"], "cancelled")
        FAKES.post("trakt", "/_control/device/approve", {"user_code": code})
        time.sleep(1.5)
        self.assertEqual(self.get("/api/auth/trakt")["state"], "none")
        self.assertEqual(self.trakt_tokens(), {}, "the approved code was never redeemed")
        # Nothing to revoke: no sign-out job.
        self.assertEqual(self.signouts(), n)

    def test_sign_out_revokes(self):
        self.sign_in_trakt()
        access = self.stack.query("SELECT access_token FROM auth WHERE service = 'trakt'")[0]
        access = access["access_token"]
        self.assertIn(access, self.trakt_tokens())
        st, body, _ = self.api("DELETE", "/api/auth/trakt")
        self.assertEqual((st, body), (200, {"state": "none"}))
        got = self.get("/api/auth/trakt")
        self.assertEqual(got, {"state": "none", "user_code": None, "verification_url": None,
                               "expires_at": None, "user": None})
        st = self.get("/api/status")["auth"]["trakt"]
        self.assertEqual(st, {"authorized": False, "state": "none", "user": None,
                              "expires_at": None})
        wait_for(lambda: FAKES.calls("trakt")["calls"].get("POST /oauth/revoke"), timeout=10,
                 what="the revoke call")
        tok = self.trakt_tokens()[access]
        self.assertFalse(tok["valid"])
        self.assertTrue(tok["revoked"])
        job = wait_for(lambda: [j for j in self.stack.query(
            "SELECT state, args FROM jobs WHERE kind = 'signout_trakt'") if j["state"] == "done"],
            timeout=10, what="signout job done")
        self.assertEqual(job, [{"state": "done", "args": "{}"}])
        row = self.stack.query("SELECT access_token, refresh_token FROM auth"
                               " WHERE service = 'trakt'")[0]
        self.assertEqual(row, {"access_token": None, "refresh_token": None})


class TestTokenRefresh(LeakCheck, FlowCase):
    def setUp(self):
        reset_fakes()

    def test_expired_token_refreshed_before_use(self):
        # A pair that expires in 2 s: once it has, the next job refreshes it before any call.
        FAKES.post("trakt", "/_control/state", {"token_lifetime": 2})
        self.sign_in_trakt()
        FAKES.post("trakt", "/_control/state", {"token_lifetime": 604800})
        old = self.stack.query("SELECT access_token FROM auth WHERE service = 'trakt'")[0]
        time.sleep(2.2)
        FAKES.post("trakt", "/_control/calls/reset")
        job = self.post("/api/trakt/history/refresh")["job_id"]
        self.assertEqual(self.wait_job(job)["state"], "done")
        calls = FAKES.calls("trakt")["calls"]
        self.assertEqual(calls, {"POST /oauth/token": 1, "GET /sync/history": 1})
        new = self.stack.query("SELECT access_token, token_expires_at FROM auth"
                               " WHERE service = 'trakt'")[0]
        harvest_tokens()
        self.assertNotEqual(new["access_token"], old["access_token"])
        got = self.get("/api/auth/trakt")
        self.assertEqual((got["state"], got["expires_at"]),
                         ("authorized", iso(new["token_expires_at"])))
        self.assertGreater(new["token_expires_at"], time.time() + 600000)

    def test_refresh_then_invalid_grant(self):
        self.sign_in_plex()
        self.sign_in_trakt()
        old = self.stack.query("SELECT access_token, refresh_token FROM auth"
                               " WHERE service = 'trakt'")[0]
        FAKES.post("trakt", "/_control/calls/reset")
        self.assertEqual(len(FAKES.post("trakt", "/_control/expire_token")["expired"]), 1)

        # 401 -> refresh -> retry: the sync succeeds with the new pair.
        run = self.sync()
        self.assertEqual(run["status"], "ok", run)
        self.assertEqual(run["added_to_trakt"], ADDED)
        self.assertEqual(FAKES.calls("trakt")["calls"].get("POST /oauth/token"), 1)
        new = self.stack.query("SELECT access_token, refresh_token, token_expires_at FROM auth"
                               " WHERE service = 'trakt'")[0]
        harvest_tokens()
        self.assertNotEqual(new["access_token"], old["access_token"])
        self.assertNotEqual(new["refresh_token"], old["refresh_token"])
        toks = self.trakt_tokens()
        self.assertTrue(toks[new["access_token"]]["valid"])
        got = self.get("/api/auth/trakt")
        self.assertEqual(got["state"], "authorized")
        self.assertEqual(got["expires_at"], iso(new["token_expires_at"]))
        logs = self.get("/api/log")["entries"]
        self.assertTrue(any("refreshed" in e["message"] for e in logs))

        # Another device uses the refresh token: ours is dead (and so is our access token).
        st, tok = trakt_oauth("/oauth/token", {
            "grant_type": "refresh_token", "refresh_token": new["refresh_token"],
            "client_id": FAKES.urls["trakt_client_id"],
            "client_secret": FAKES.urls["trakt_client_secret"],
            "redirect_uri": "urn:ietf:wg:oauth:2.0:oob"})
        self.assertEqual(st, 200, tok)
        SECRETS.update({tok["access_token"], tok["refresh_token"]})
        FAKES.post("trakt", "/_control/expire_token")
        FAKES.post("trakt", "/_control/calls/reset")
        run = self.sync()
        self.assertEqual(run["status"], "failed", run)
        self.assertEqual(run["added_to_trakt"], 0)
        self.assertEqual(FAKES.calls("trakt")["calls"].get("POST /oauth/token"), 1,
                         "one refresh attempt, no loop")
        got = self.get("/api/auth/trakt")
        self.assertEqual(got["state"], "expired", got)
        self.assertTrue(got["error"])
        self.assertIsNone(got["expires_at"])
        st = self.get("/api/status")["auth"]["trakt"]
        self.assertEqual((st["authorized"], st["state"]), (False, "expired"))
        row = self.stack.query("SELECT access_token, refresh_token FROM auth"
                               " WHERE service = 'trakt'")[0]
        self.assertEqual(row, {"access_token": None, "refresh_token": None})
        # The dashboard can sign in again from there.
        self.sign_in_trakt()


class TestCaches(LeakCheck, FlowCase):
    def setUp(self):
        if self.get("/api/status")["auth"]["plex"]["authorized"] is False:
            self.sign_in_plex()
        if self.get("/api/status")["auth"]["trakt"]["authorized"] is False:
            self.sign_in_trakt()

    def test_libraries(self):
        got = self.get("/api/libraries")
        if got["fetched_at"] is None:
            self.assertEqual(got["libraries"], [])
        else:
            self.api("PUT", "/api/libraries", {"selected": []})
            time.sleep(1.0)   # fetched_at has second resolution
        first = got["fetched_at"]
        job = self.post("/api/libraries/refresh")["job_id"]
        self.assertIsInstance(job, int)
        got = wait_for(lambda: (lambda b: b["fetched_at"] != first and b)(
            self.get("/api/libraries")), timeout=15, what="libraries fetched")
        self.assertEqual(self.wait_job(job)["state"], "done")
        self.assertTrue(abs(parse_iso(got["fetched_at"]) - time.time()) < 30)
        state = FAKES.get("plex", "/_control/state")
        items = state["items"]

        def count(key, kind):
            return len([i for i in items if str(i["librarySectionID"]) == key and
                        i["type"] == kind])
        want = [{"key": "1", "title": "Movies", "type": "movie", "count": count("1", "movie"),
                 "selected": False},
                {"key": "2", "title": "TV Shows", "type": "show",
                 "count": count("2", "episode"), "selected": False},
                {"key": "3", "title": "4K Movies", "type": "movie",
                 "count": count("3", "movie"), "selected": False}]
        self.assertEqual(got["libraries"], want, "the Music (artist) library is skipped")
        self.assertIn("artist", [s["type"] for s in state["sections"]])
        self.assertGreater(want[1]["count"], 10, "shows count in episodes")

        st, body, _ = self.api("PUT", "/api/libraries", {"selected": ["1", "2"]})
        self.assertEqual(st, 200, body)
        self.assertEqual([l["selected"] for l in body["libraries"]], [True, True, False])
        st, body, _ = self.api("PUT", "/api/libraries", {"selected": ["4"]})
        self.assertEqual(st, 400, body)
        self.assertEqual(body["error"]["code"], "bad_request")

        # A refresh keeps the choice, and follows a library that went away.
        sections = [s for s in state["sections"] if s["key"] != "3"]
        FAKES.post("plex", "/_control/state", {"sections": sections,
                                               "items": [i for i in items if
                                                         str(i["librarySectionID"]) != "3"]})
        try:
            first = got["fetched_at"]
            time.sleep(1.0)   # fetched_at has second resolution
            self.post("/api/libraries/refresh")
            got = wait_for(lambda: (lambda b: b["fetched_at"] != first and b)(
                self.get("/api/libraries")), timeout=15, what="second refresh")
            self.assertEqual([(l["key"], l["selected"]) for l in got["libraries"]],
                             [("1", True), ("2", True)])
        finally:
            FAKES.post("plex", "/_control/reset")

    def test_libraries_refresh_failure_keeps_the_list(self):
        job = self.post("/api/libraries/refresh")["job_id"]
        self.assertEqual(self.wait_job(job)["state"], "done")
        before = self.get("/api/libraries")
        self.assertEqual(len(before["libraries"]), 3)
        time.sleep(1.0)
        FAKES.post("plex", "/_control/faults", {"only": ["GET /library/sections"],
                                                "fail_next": [503] * 8})
        try:
            job = self.post("/api/libraries/refresh")["job_id"]
            self.assertEqual(self.wait_job(job)["state"], "failed")
        finally:
            FAKES.post("plex", "/_control/faults/reset")
        self.assertEqual(self.get("/api/libraries"), before)
        logs = self.get("/api/log?level=error")["entries"]
        self.assertTrue(any("library list not refreshed" in e["message"] for e in logs), logs)

    def expected_history(self):
        """The fake's plays, newest first (watched_at, then id)."""
        hist = FAKES.history()
        return sorted(hist, key=lambda p: (p["watched_at"], p["id"]), reverse=True)

    def refresh_history(self):
        before = self.get("/api/trakt/history")["fetched_at"]
        if before:
            time.sleep(1.0)
        job = self.post("/api/trakt/history/refresh")["job_id"]
        self.assertEqual(self.wait_job(job)["state"], "done")
        got = self.get("/api/trakt/history")
        self.assertTrue(got["fetched_at"])
        self.assertNotEqual(got["fetched_at"], before)
        return got

    def test_trakt_history_with_posters(self):
        FAKES.post("tmdb", "/_control/calls/reset")
        got = self.refresh_history()
        want = self.expected_history()
        self.assertEqual(len(got["items"]), len(want))
        self.assertEqual(len(want), 15)
        tmdb = FAKES.get("tmdb", "/_control/state?full=1")
        posters = {}
        for kind in ("movies", "tv"):
            for rec in (tmdb[kind] if isinstance(tmdb[kind], list) else []):
                posters[(kind, rec["id"])] = rec.get("poster_path")
        self.assertTrue(posters, tmdb.keys())
        null_seen = 0
        for it, p in zip(got["items"], want):
            self.assertEqual(it["watched_at"], p["watched_at"][:19] + "Z")
            self.assertEqual(it["type"], p["type"])
            if p["type"] == "movie":
                self.assertEqual(it["title"], p["movie"]["title"])
                self.assertEqual(it["year"], p["movie"]["year"])
                self.assertIsNone(it["show"])
                self.assertIsNone(it["season"])
                self.assertIsNone(it["episode"])
                self.assertEqual(it["ids"]["trakt"], p["movie"]["ids"]["trakt"])
                key = ("movies", p["movie"]["ids"]["tmdb"])
            else:
                self.assertEqual(it["title"], p["episode"]["title"])
                self.assertEqual(it["show"], p["show"]["title"])
                self.assertEqual(it["season"], p["episode"]["season"])
                self.assertEqual(it["episode"], p["episode"]["number"])
                self.assertEqual(it["year"], p["show"]["year"])
                self.assertEqual(it["ids"]["trakt"], p["episode"]["ids"]["trakt"])
                key = ("tv", p["show"]["ids"]["tmdb"])
            path = posters.get(key)
            if path:
                self.assert_poster_served(it["poster"], path)
            else:
                self.assertIsNone(it["poster"], it)
                null_seen += 1
        self.assertEqual(null_seen, 1, "the movie whose tmdb id has no poster")
        nop = [i for i in got["items"] if i["ids"].get("tmdb") == NO_POSTER_TMDB]
        self.assertEqual(len(nop), 1)
        self.assertIsNone(nop[0]["poster"])
        # Hostile titles come back as data.
        self.assertIn("<script>alert('trakt')</script>", [i["title"] for i in got["items"]])
        self.assertGreater(FAKES.calls("tmdb")["total"], 0)
        # limit
        got5 = self.get("/api/trakt/history?limit=5")
        self.assertEqual(got5["items"], got["items"][:5])

        # A second refresh asks TMDb nothing again (the posters and their images are kept).
        FAKES.post("tmdb", "/_control/calls/reset")
        again = self.refresh_history()
        self.assertEqual(again["items"], got["items"])
        self.assertEqual(FAKES.calls("tmdb")["total"], 0)

    def assert_poster_served(self, url, tmdb_path):
        """A poster is a same-origin path whose image nginx serves from the data folder:
        the fake TMDb's image of that path (w342), fetched by the worker, never the browser."""
        stem = tmdb_path[1:].rsplit(".", 1)[0]
        self.assertEqual(url, "/posters/%s.png" % stem, tmdb_path)
        st, hdrs, body = self.stack.request("GET", url)
        self.assertEqual(st, 200, url)
        self.assertEqual(hdrs.get("content-type"), "image/png")
        self.assertIn("max-age=", hdrs.get("cache-control", ""))
        with urllib.request.urlopen(FAKES.urls["tmdb"] + "/t/p/w342" + tmdb_path,
                                    timeout=10) as r:
            self.assertEqual(body, r.read())
        f = os.stat(os.path.join(self.stack.data, "posters", url.split("/")[-1]))
        self.assertEqual(f.st_mode & 0o7777, 0o644)

    def test_trakt_history_keeps_100_newest(self):
        refs = []
        for i in range(130):
            day = 1 + i % 28
            refs.append({"watched_at": "2022-%02d-%02dT%02d:%02d:00.000Z" % (
                1 + i // 28, day, i % 24, i % 60), "action": "watch", "type": "movie",
                "movie": {"ids": {"tmdb": 155 if i % 2 else 272}}})
        saved = FAKES.get("trakt", "/_control/state?keys=history")["history"]
        FAKES.post("trakt", "/_control/state", {"history": refs})
        try:
            got = self.refresh_history()
            want = self.expected_history()[:100]
            self.assertEqual(len(got["items"]), 100)
            self.assertEqual([i["watched_at"] for i in got["items"]],
                             [p["watched_at"][:19] + "Z" for p in want])
            stamps = [i["watched_at"] for i in got["items"]]
            self.assertEqual(stamps, sorted(stamps, reverse=True))
        finally:
            FAKES.post("trakt", "/_control/state", {"history": saved})

    def test_trakt_history_without_tmdb_key(self):
        st, body, _ = self.api("PUT", "/api/settings", {"tmdb_api_key": ""})
        self.assertEqual(st, 200, body)
        self.assertEqual(body["tmdb_api_key"], {"set": False})
        try:
            FAKES.post("tmdb", "/_control/calls/reset")
            got = self.refresh_history()
            self.assertTrue(got["items"])
            self.assertEqual([i["poster"] for i in got["items"]], [None] * len(got["items"]))
            self.assertEqual(FAKES.calls("tmdb")["total"], 0)
        finally:
            self.api("PUT", "/api/settings", {"tmdb_api_key": FAKES.urls["tmdb_api_key"]})

    def in_progress_jobs(self):
        return self.stack.query("SELECT id, state FROM jobs WHERE kind ="
                                " 'plex_in_progress_refresh' ORDER BY id")

    def test_in_progress(self):
        n0 = len(self.in_progress_jobs())
        got = self.get("/api/plex/in-progress")
        fetched0 = got["fetched_at"]
        if fetched0 is None:
            self.assertEqual(got["items"], [])
            self.assertIs(got["refreshing"], True)
            self.assertEqual(len(self.in_progress_jobs()), n0 + 1)
        got = wait_for(lambda: (lambda b: b["fetched_at"] and b)(
            self.get("/api/plex/in-progress")), timeout=15, what="in-progress fetched")
        wait_for(lambda: all(j["state"] == "done" for j in self.in_progress_jobs()),
                 timeout=15, what="refresh jobs done")
        got = self.get("/api/plex/in-progress")
        self.assertIs(got["refreshing"], False)
        items = FAKES.get("plex", "/_control/state")["items"]
        want = {i["ratingKey"]: i for i in items
                if i.get("viewOffset") and i["viewOffset"] < i.get("duration", 0)}
        self.assertEqual(len(got["items"]), len(want))
        by_title = {i["title"]: i for i in got["items"]}
        for rk, src in want.items():
            it = by_title[src["title"]]
            self.assertEqual(it["type"], src["type"])
            self.assertAlmostEqual(it["progress_percent"],
                                   round(src["viewOffset"] * 100.0 / src["duration"], 1))
            if src.get("lastViewedAt"):
                self.assertEqual(it["last_viewed_at"], iso(src["lastViewedAt"]))
            else:
                self.assertIsNone(it["last_viewed_at"])
            self.assertIn("last_viewed_at", it)
            if src["type"] == "episode":
                self.assertEqual(it["show"], src["grandparentTitle"])
                self.assertEqual(it["season"], src["parentIndex"])
                self.assertEqual(it["episode"], src["index"])
            else:
                self.assertIsNone(it["show"])
                self.assertEqual(it["year"], src["year"])
            self.assertRegex(it["poster"] or "", r"^/posters/[A-Za-z0-9_-]+\.png$", it)
            st, hdrs, _ = self.stack.request("GET", it["poster"])
            self.assertEqual((st, hdrs.get("content-type")), (200, "image/png"), it)
        # A second read within 30 s serves the cache and queues nothing.
        n1 = len(self.in_progress_jobs())
        for _ in range(3):
            got = self.get("/api/plex/in-progress")
            self.assertIs(got["refreshing"], False)
        self.assertEqual(len(self.in_progress_jobs()), n1)

    def test_in_progress_read_while_refreshing_queues_once(self):
        # A stale cache read while a refresh is running must not pile up refresh jobs.
        conn = self.stack.db()
        try:
            conn.execute("DELETE FROM meta WHERE key = 'plex_in_progress_fetched_at'")
            conn.commit()
        finally:
            conn.close()
        FAKES.post("plex", "/_control/faults", {"latency_ms": 1500,
                                                "only": ["/hubs/", "/library/onDeck"]})
        try:
            n0 = len(self.in_progress_jobs())
            self.assertIs(self.get("/api/plex/in-progress")["refreshing"], True)
            wait_for(lambda: any(j["state"] == "running" for j in self.in_progress_jobs()),
                     timeout=10, what="refresh running")
            for _ in range(3):
                got = self.get("/api/plex/in-progress")
                self.assertIs(got["refreshing"], True)
            self.assertEqual(len(self.in_progress_jobs()), n0 + 1)
            wait_for(lambda: self.get("/api/plex/in-progress")["fetched_at"], timeout=15,
                     what="fetched")
        finally:
            FAKES.post("plex", "/_control/faults/reset")


class TestFullSync(LeakCheck, FlowCase):
    def test_full_sync_through_the_api(self):
        self.sign_in_plex()
        self.sign_in_trakt()
        self.post("/api/libraries/refresh")
        libs = wait_for(lambda: self.get("/api/libraries")["libraries"], timeout=15,
                        what="libraries")
        keys = [l["key"] for l in libs]
        self.assertEqual(keys, ["1", "2", "3"])
        st, body, _ = self.api("PUT", "/api/libraries", {"selected": keys})
        self.assertEqual(st, 200, body)
        before = FAKES.get("trakt", "/_control/history")["count"]
        self.assertEqual(self.get("/api/progress")["state"], "idle")

        # Slow Plex down a little so the run can be watched while it goes.
        FAKES.post("plex", "/_control/faults", {"latency_ms": 150})
        try:
            run_id = self.post("/api/sync")["run_id"]
            st, body, _ = self.api("POST", "/api/sync")
            self.assertEqual(st, 409, body)
            self.assertEqual(body["run_id"], run_id)
            seen = []
            end = time.monotonic() + SYNC_TIMEOUT
            while time.monotonic() < end:
                p = self.get("/api/progress")
                seen.append(p)
                if p["state"] == "idle":
                    break
                time.sleep(0.05)
        finally:
            FAKES.post("plex", "/_control/faults/reset")
        self.assertEqual(seen[-1]["state"], "idle", seen[-1])
        self.assertEqual(seen[-1]["last_run"]["id"], run_id)
        running = [p for p in seen if p["state"] == "running"]
        self.assertTrue(running, [p["state"] for p in seen])
        for p in running:
            self.assertEqual(p["run_id"], run_id)
            self.assertIsInstance(p["phase"], str)
            self.assertEqual(set(p["library"]), {"title", "done", "total"})
            self.assertEqual(set(p["overall"]), {"done", "total", "percent"})
            o = p["overall"]
            self.assertLessEqual(o["done"], o["total"] or o["done"])
            if o["total"]:
                self.assertAlmostEqual(o["percent"], round(o["done"] * 100.0 / o["total"], 1))
            self.assertIsInstance(p["samples"], list)
            for s in p["samples"]:
                self.assertEqual(set(s), {"t", "rate"})
        self.assertTrue(any(p["library"]["title"] for p in running), running[-1])
        titles = {p["library"]["title"] for p in running} - {None}
        self.assertLessEqual(titles, {"Movies", "TV Shows", "4K Movies"})
        last = running[-1]
        self.assertEqual(last["overall"]["total"], PLEX_ITEMS)

        run = self.run_row(run_id)
        self.assertEqual(run["status"], "ok", run)
        self.assertEqual(run["trigger"], "manual")
        self.assertIs(run["dry_run"], False)
        self.assertEqual(run["added_to_trakt"], ADDED)
        self.assertEqual(run["not_found"], NOT_FOUND)
        self.assertEqual(run["unmatched"], UNMATCHED)
        self.assertEqual(run["items_scanned"], PLEX_ITEMS)
        self.assertEqual(run["errors"], 0)
        self.assertTrue(run["finished_at"].endswith("Z"))
        self.assertIsInstance(run["duration_s"], int)
        self.assertEqual(FAKES.get("trakt", "/_control/history")["count"], before + ADDED)

        ch = self.get("/api/runs/%d/changes" % run_id)
        self.assertEqual(ch["run_id"], run_id)
        adds = [c for c in ch["changes"] if c["action"] == "add_play_trakt"]
        self.assertEqual(len([c for c in adds if c["result"] == "done"]), ADDED)
        self.assertEqual(len([c for c in adds if c["result"] == "not_found"]), NOT_FOUND)
        self.assertEqual({c["result"] for c in adds}, {"done", "not_found"})
        for c in adds:
            # (later additions to a change are allowed: the contract's members must be there)
            self.assertLessEqual({"action", "type", "title", "show", "season", "episode",
                                  "year", "watched_at", "result"}, set(c))
            self.assertIn(c["type"], ("movie", "episode"))
            self.assertTrue(c["watched_at"].endswith("Z"))
            if c["type"] == "episode":
                self.assertIsInstance(c["season"], int)
                self.assertIsInstance(c["episode"], int)
                self.assertTrue(c["show"])
        titles = {c["title"] for c in adds}
        self.assertIn("<img src=x onerror=alert(1)>", titles)
        self.assertIn("Obscure Festival Short", titles)

        # Everything is on Trakt now: a second sync adds nothing.
        run2 = self.sync()
        self.assertEqual(run2["status"], "ok", run2)
        self.assertEqual(run2["added_to_trakt"], 0)
        self.assertEqual(FAKES.get("trakt", "/_control/history")["count"], before + ADDED)
        ch2 = self.get("/api/runs/%d/changes" % run2["id"])
        self.assertEqual([c for c in ch2["changes"] if c["result"] == "done"], [])
        runs = self.get("/api/runs")["runs"]
        self.assertEqual([r["id"] for r in runs[:2]], [run2["id"], run_id])
        self.assertEqual(self.get("/api/status")["sync"], {"state": "idle", "run_id": None})


if __name__ == "__main__":
    unittest.main()
