"""The fake upstream servers (tests/fakes/fakeup.py) for tests: start, control, read.

    with Fakes() as f:                    # default corpus; Fakes(generate="movies=1000")
        f.env()                           # PTS_* variables pointing the programs at them
        f.post("trakt", "/_control/faults", {"rate_5xx": 0.2})
        f.get("trakt", "/_control/history")
"""
import collections
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid

TOP = os.environ.get("PTS_TOP") or os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
FAKEUP = os.path.join(TOP, "tests", "fakes", "fakeup.py")
# The fakes stop by themselves after this long, whatever happens to the test.
FAKES_MAX_SECONDS = 1800


class Fakes:
    def __init__(self, corpus=None, generate=None):
        self.tmp = tempfile.TemporaryDirectory(prefix="pts-fakes-")
        self.ready = os.path.join(self.tmp.name, "ready.json")
        self.args = [sys.executable, FAKEUP, "--ready-file", self.ready, "--max-seconds",
                     str(FAKES_MAX_SECONDS), "--watch-parent"]
        if corpus:
            self.args += ["--corpus", corpus]
        if generate:
            self.args += ["--generate", generate]
        self.proc = None
        self.urls = {}

    def start(self):
        self.log = open(os.path.join(self.tmp.name, "fakes.log"), "w")
        self.proc = subprocess.Popen(self.args, stdout=self.log, stderr=subprocess.STDOUT)
        end = time.monotonic() + 60
        while not os.path.exists(self.ready):
            if self.proc.poll() is not None or time.monotonic() > end:
                raise RuntimeError("fakes did not start")
            time.sleep(0.05)
        with open(self.ready) as f:
            self.urls = json.load(f)
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        self.tmp.cleanup()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def env(self):
        return {"PTS_PLEX_TV_URL": self.urls["plextv"], "PTS_TRAKT_API_URL": self.urls["trakt"],
                "PTS_TRAKT_AUTH_URL": self.urls["trakt"], "PTS_TMDB_API_URL": self.urls["tmdb"],
                "PTS_PLEX_DISCOVER_URL": self.urls["plexdisc"],
                "PTS_PLEX_METADATA_URL": self.urls["plexdisc"],
                "PTS_HTTP_BACKOFF_MS": "50"}

    def settings(self):
        """The settings a service needs to use these fakes (for PUT /api/settings)."""
        return {"plex_url": self.urls["plex"], "trakt_client_id": self.urls["trakt_client_id"],
                "trakt_client_secret": self.urls["trakt_client_secret"],
                "tmdb_api_key": self.urls["tmdb_api_key"]}

    # ---- control API ----
    def call(self, svc, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.urls[svc] + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            raw = r.read()
        return json.loads(raw) if raw else None

    def get(self, svc, path):
        return self.call(svc, "GET", path)

    def trakt_as(self, token, path, body, tries=10):
        """POST body to the fake Trakt's own API (not its control API) as the user of token,
        as another app would; waits out its one-write-a-second pacing (429 + Retry-After).
        The answer, parsed."""
        data = json.dumps(body).encode()
        for _ in range(tries):
            req = urllib.request.Request(self.urls["trakt"] + path, data=data, method="POST",
                                         headers={"Content-Type": "application/json",
                                                  "Authorization": "Bearer " + token,
                                                  "trakt-api-key": self.urls["trakt_client_id"],
                                                  "trakt-api-version": "2"})
            try:
                with urllib.request.urlopen(req, timeout=30) as r:
                    raw = r.read()
                return json.loads(raw) if raw else None
            except urllib.error.HTTPError as e:
                if e.code != 429:
                    raise
                time.sleep(float(e.headers.get("Retry-After") or 1))
        raise AssertionError("the fake Trakt kept answering 429 to " + path)

    def post(self, svc, path, body=None):
        return self.call(svc, "POST", path, body if body is not None else {})

    def reset(self):
        for svc in ("plex", "plextv", "trakt", "tmdb", "plexdisc"):
            self.post(svc, "/_control/reset")

    def calls(self, svc):
        return self.get(svc, "/_control/calls")

    def history(self):
        return self.get("trakt", "/_control/history")["history"]

    def plays(self):
        """Trakt's history as a multiset of play_key()s: a duplicate counts twice."""
        return collections.Counter(play_key(p) for p in self.history())

    # ---- the fake Trakt's state ----
    def trakt_state(self, key):
        """One part of the fake Trakt's state: "ratings", "watchlist", "playback", ..."""
        return self.get("trakt", "/_control/state?keys=" + key)[key]

    def trakt_ratings(self):
        """{trakt id: rating} of the rated movies."""
        return {r["movie"]["ids"]["trakt"]: r["rating"] for r in self.trakt_state("ratings")
                if r["type"] == "movie"}

    def trakt_watchlist(self):
        """The watchlist as sorted (type, trakt id) pairs."""
        return sorted((w["type"], (w.get("movie") or w.get("show"))["ids"]["trakt"])
                      for w in self.trakt_state("watchlist"))

    def machine_id(self):
        """The fake Plex server's machineIdentifier (/identity): plays "on our server"."""
        req = urllib.request.Request(self.urls["plex"] + "/identity", headers={
            "Accept": "application/json", "X-Plex-Token": "plex-token-1"})
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read())["MediaContainer"]["machineIdentifier"]


def next_second():
    """Wait into the next wall-clock second. Plex stamps seconds, and a sync counts Plex's
    changes from just after its own last write: a change made in that same second is left to
    the next full read (worker/sync/engine.c), so a test that changes Plex right after a sync
    that wrote to it steps past that second first."""
    time.sleep(1.02 - time.time() % 1)


def play_key(p):
    """A play's identity: the item and the minute (Trakt stores minutes)."""
    t = p["watched_at"][:16]
    if p["type"] == "movie":
        return ("movie", p["movie"]["ids"]["trakt"], t)
    return ("episode", p["show"]["ids"]["trakt"], p["episode"]["season"],
            p["episode"]["number"], t)


def multipart(payload, thumb=0, boundary=None, raw_payload=None):
    """A webhook body shaped as Plex sends it: the payload part, then maybe a JPEG thumb part."""
    b = boundary or "----PlexWebhook" + uuid.uuid4().hex[:16]
    data = raw_payload if raw_payload is not None else json.dumps(payload).encode()
    out = (b"--" + b.encode() + b"\r\nContent-Disposition: form-data; name=\"payload\"\r\n"
           b"Content-Type: application/json\r\n\r\n" + data + b"\r\n")
    if thumb:
        out += (b"--" + b.encode() + b"\r\nContent-Disposition: form-data; name=\"thumb\";"
                b" filename=\"image.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n" +
                (b"\xff\xd8\xff" + os.urandom(thumb)) + b"\r\n")
    out += b"--" + b.encode() + b"--\r\n"
    return out, "multipart/form-data; boundary=" + b
