"""./bootstrap demo: the whole service against the fakes, for a newcomer without accounts.

Starts the real command (with PTS_BUILD_DIR, so nothing is built) on a free port and a
temporary data folder, then does what the printed instructions say through the API: the
settings are already there, Plex authorizes itself, Trakt is approved on the fake's /activate
page, a sync adds plays. SIGTERM (and Ctrl-C, a SIGINT to the terminal's process group) must
stop every process it started.
"""
import json
import os
import signal
import subprocess
import time
import unittest
import urllib.parse
import urllib.request

from stack import TOP, Stack, wait_for

# Start-up: the fakes generate their corpus, then nginx, pts-cgi and pts-worker start.
DEMO_START_S = 60
FLOW_TIMEOUT_S = 30
SYNC_TIMEOUT_S = 120
STOP_TIMEOUT_S = 30


def pids_in_group(pgid):
    """Every live process whose process group is pgid (from /proc)."""
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if fields[0] != "Z" and int(fields[2]) == pgid:
            out.append(int(name))
    return out


class Demo(Stack):
    """A Stack that runs `./bootstrap demo` instead of `run`."""

    def start(self):
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([os.path.join(TOP, "bootstrap"), "demo"], env=self.env,
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        end = time.monotonic() + DEMO_START_S
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError("demo exited early:\n" + self.read_log())
            # Ready once the settings are pre-filled: that is the last step before the text.
            try:
                st, body, _ = self.api("GET", "/api/settings")
                if st == 200 and body.get("plex_url"):
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("demo did not come up:\n" + self.read_log())

    def ready(self):
        with open(os.path.join(self.data, "fakes", "ready.json")) as f:
            return json.load(f)


class TestDemo(unittest.TestCase):
    def setUp(self):
        env = {"PTS_DEMO_CORPUS": "movies=60,shows=4,episodes=80,watched=0.5,seed=3"}
        # The demo must not see the test harness's own fakes or upstream settings.
        for k in ("PTS_PLEX_TV_URL", "PTS_TRAKT_API_URL", "PTS_TRAKT_AUTH_URL",
                  "PTS_TMDB_API_URL", "PTS_PLEX_DISCOVER_URL", "PTS_PLEX_METADATA_URL",
                  "PTS_USER"):
            env[k] = ""
        self.demo = Demo(env=env)

    def tearDown(self):
        self.demo.stop()
        self.demo.cleanup()

    def get(self, path):
        st, body, _ = self.demo.api("GET", path)
        self.assertEqual(st, 200, body)
        return body

    def post(self, path, body=None):
        st, got, _ = self.demo.api("POST", path, body)
        self.assertIn(st, (200, 202), got)
        return got

    def stop_and_check(self, sig):
        d = self.demo
        pgid = d.proc.pid
        fakes_pid = d.ready()["pid"]
        self.assertTrue(pids_in_group(pgid), "the demo's processes")
        if sig == signal.SIGINT:
            os.killpg(pgid, sig)        # what Ctrl-C in a terminal does
        else:
            d.proc.send_signal(sig)
        d.proc.wait(timeout=STOP_TIMEOUT_S)
        left = wait_for(lambda: not pids_in_group(pgid) and not os.path.exists(
            "/proc/%d" % fakes_pid) and "gone", timeout=10, what="every demo process to end")
        self.assertEqual(left, "gone")
        log = d.read_log()
        self.assertIn("stopped", log)
        self.assertNotIn("AddressSanitizer", log)
        self.assertNotIn("runtime error", log)

    def test_demo_end_to_end(self):
        d = self.demo.start()
        r = d.ready()
        health = self.get("/api/health")
        self.assertTrue(health["ok"])
        self.assertTrue(health["worker"]["alive"])

        # Pre-filled: the newcomer only presses buttons.
        s = self.get("/api/settings")
        self.assertEqual(s["plex_url"], r["plex"])
        self.assertEqual(s["trakt_client_id"], r["trakt_client_id"])
        self.assertEqual(s["trakt_client_secret"], {"set": True})
        self.assertEqual(s["tmdb_api_key"], {"set": True})
        # The instructions are printed once the service answers: wait for them.
        log = wait_for(lambda: (lambda t: t if "Ctrl-C" in t else None)(d.read_log()),
                       timeout=30, what="demo instructions")
        self.assertIn("http://127.0.0.1:%d/" % d.port, log)
        self.assertIn(r["trakt"] + "/activate", log)
        self.assertIn("Ctrl-C", log)

        # Plex: the fake plex.tv links the PIN by itself; nobody touches a control API.
        self.post("/api/auth/plex")
        wait_for(lambda: self.get("/api/auth/plex")["state"] == "authorized",
                 timeout=FLOW_TIMEOUT_S, step=0.3, what="Plex authorized by itself")
        self.assertEqual(self.get("/api/auth/plex")["user"], "plexuser")

        # Trakt: the person types the code on the fake's /activate page.
        self.post("/api/auth/trakt")
        got = wait_for(lambda: (lambda a: a if a.get("user_code") else None)(
            self.get("/api/auth/trakt")), timeout=FLOW_TIMEOUT_S, step=0.3,
            what="a Trakt code")
        self.assertEqual(got["verification_url"], r["trakt"] + "/activate")
        form = urllib.parse.urlencode({"user_code": got["user_code"]}).encode()
        with urllib.request.urlopen(got["verification_url"], data=form, timeout=10) as resp:
            page = resp.read().decode()
        self.assertIn("Approved", page)
        # The user name is read after the tokens are stored: wait for both.
        got = wait_for(lambda: (lambda a: a if a["state"] == "authorized" and a["user"] else None)(
            self.get("/api/auth/trakt")), timeout=FLOW_TIMEOUT_S, step=0.3,
            what="Trakt authorized with a user")
        self.assertEqual(got["user"], "traktuser")

        # A sync: the fakes are slowed down so the progress moves while it runs.
        run_id = self.post("/api/sync")["run_id"]
        seen = set()

        def finished():
            p = self.get("/api/progress")
            seen.add(p.get("state"))
            if p.get("state") == "idle" and p.get("last_run", {}).get("id") == run_id:
                return p["last_run"]
            return None
        last = wait_for(finished, timeout=SYNC_TIMEOUT_S, step=0.2, what="the demo sync")
        self.assertEqual(last["status"], "ok", last)
        self.assertGreater(last["added_to_trakt"], 0)
        self.assertGreater(last["items_scanned"], 100)
        self.assertIn("running", seen, "progress was visible while the sync ran")
        plays = json.load(urllib.request.urlopen(r["trakt"] + "/_control/history", timeout=10))
        self.assertGreaterEqual(plays["count"], last["added_to_trakt"])

        self.stop_and_check(signal.SIGTERM)

    def test_ctrl_c_stops_everything(self):
        self.demo.start()
        self.assertTrue(self.get("/api/health")["ok"])
        self.stop_and_check(signal.SIGINT)


if __name__ == "__main__":
    unittest.main()
