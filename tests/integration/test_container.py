"""The container image (contrib/container/) built and run with rootful podman.

Builds a local Debian bookworm minbase (cached in podman's store, tests/lib/podman.py) and the
image on it, then runs it as a NAS would: a bind-mounted /data, PTS_* variables, the fakes of
tests/fakes as Plex, plex.tv, Trakt and TMDb. Checked, in order:

- the image: at most IMAGE_MAX_MB, built within BUILD_MAX_S, its HEALTHCHECK kept;
- a first run: healthy within HEALTHY_MAX_S, the Host rule with PTS_ALLOWED_HOSTS, every
  process of ours not root (read from /proc), a full sync through the API against the fakes;
- the metrics token with a dashboard password set (a bad token gets 401);
- `podman stop` during a sync: exit 0 within STOP_MAX_S, the run back in the queue;
- `podman rm` and a new run on the same volume: settings, login and runs kept, the queued run
  finished;
- the hardened run (--user another uid, --read-only, --cap-drop all, no-new-privileges);
- a volume the user cannot write: a clear error; a root start: drops to uid 1000; one
  program dying ends the container with status 1;
- an upgrade: a database at the schema's first step is migrated, its setting and run kept.

The container shares the host's network (--network host) and listens on 127.0.0.1 only, as
every test server here does; the fakes listen there too. Skipped, with the reason, where
rootful podman cannot be used. The image size and the times are printed as TAP comments.
"""
import http.client
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest

import podman
from fakes import Fakes
from stack import TOP, free_port, wait_for

WHY_NOT = podman.unusable()
IMAGE = podman.tree_tag("localhost/plex-trakt-sync", TOP)
# Containers of this source tree's runs: "pts-check-HASH-PID-N" (HASH: the tag's).
PREFIX = "pts-check-%s-" % IMAGE.rsplit("-", 1)[1]
# The targets.
IMAGE_MAX_MB = 120
BUILD_MAX_S = 120
HEALTHY_MAX_S = 3.0
STOP_MAX_S = 2.0
# The image's own user, and another one for the hardened run.
IMAGE_UID = 1000
OTHER_UID = 4321
ALLOWED = "nas.example"
PASSWORD = "correct horse 1"
TOKEN = "prometheus-scrape-0123456789"
ADDED = 17               # a Plex->Trakt sync of the default corpus (tests/fakes/README.md)
SYNC_TIMEOUT_S = 60
# How long a container may take to answer at all (a slow machine), beyond the target.
START_TIMEOUT_S = 30

FAKES = None
TMP = None


def note(msg):
    print("# " + msg, flush=True)


def setUpModule():
    global FAKES, TMP
    if WHY_NOT:
        return
    FAKES = Fakes().start()
    TMP = tempfile.TemporaryDirectory(prefix="pts-container-")
    os.chmod(TMP.name, 0o711)


def tearDownModule():
    if FAKES:
        FAKES.stop()
    if TMP:
        TMP.cleanup()


@unittest.skipIf(WHY_NOT, WHY_NOT or "")
class TestContainer(unittest.TestCase):
    """One life of a container installation: each step builds on the one before."""

    @classmethod
    def setUpClass(cls):
        cls.port = free_port()
        cls.names = []
        # Containers an interrupted run of this tree's test left stopped (never a running
        # one, never another tree's).
        left = podman.podman("ps", "-a", "-q", "--filter", "name=^" + PREFIX,
                             "--filter", "status=exited", "--filter", "status=created").stdout
        for cid in left.split():
            podman.podman("rm", cid)
        cls.vol = os.path.join(TMP.name, "data")
        os.mkdir(cls.vol, 0o700)
        os.chown(cls.vol, IMAGE_UID, IMAGE_UID)
        cls.cookie = None
        cls.build_log = open(os.path.join(TMP.name, "build.log"), "w")
        t0 = time.monotonic()
        base, made = podman.base_image(log=cls.build_log)
        note("base image %s: %s in %.1f s" % (base, "made" if made else "cached",
                                              time.monotonic() - t0))
        t0 = time.monotonic()
        try:
            podman.build_image(TOP, IMAGE, base, log=cls.build_log)
        except subprocess.CalledProcessError:
            cls.build_log.flush()
            with open(cls.build_log.name) as f:
                sys.stderr.write(f.read()[-6000:])
            raise
        cls.build_s = time.monotonic() - t0
        cls.size = podman.image_size(IMAGE)
        note("image %s: %.1f MB, built in %.1f s" % (IMAGE, cls.size / 1e6, cls.build_s))

    @classmethod
    def tearDownClass(cls):
        for name in cls.names:
            podman.podman("rm", "-f", "-t", "0", name)
        cls.build_log.close()

    # ---- helpers ----
    def run_container(self, *opts, env=None, wait=True):
        """podman run -d on the volume; returns (name, seconds until healthy)."""
        name = "%s%d-%d" % (PREFIX, os.getpid(), len(self.names))
        self.names.append(name)
        e = dict(FAKES.env(), PTS_HTTP_ADDR="127.0.0.1", PTS_HTTP_PORT=str(self.port),
                 PTS_ALLOWED_HOSTS=ALLOWED)
        e.update(env or {})
        args = ["run", "-d", "--name", name, "--network", "host", "-v", self.vol + ":/data"]
        for k, v in sorted(e.items()):
            args += ["-e", "%s=%s" % (k, v)]
        t0 = time.monotonic()
        r = podman.podman(*(args + list(opts) + [IMAGE]))
        self.assertEqual(r.returncode, 0, r.stderr)
        if not wait:
            return name, None
        end = t0 + START_TIMEOUT_S
        while True:
            try:
                st, body, _ = self.api("GET", "/api/health", timeout=2)
                if st == 200 and body["worker"]["alive"]:
                    break
            except OSError:
                pass
            if time.monotonic() > end:
                self.fail("not healthy within %d s:\n%s" % (START_TIMEOUT_S, self.logs(name)))
            time.sleep(0.05)
        return name, time.monotonic() - t0

    def logs(self, name):
        r = podman.podman("logs", name)
        return (r.stdout + r.stderr)[-4000:]

    def request(self, method, path, body=None, headers=None, timeout=15):
        h = {"Host": "127.0.0.1:%d" % self.port}
        if method in ("POST", "PUT", "DELETE"):
            h["X-Requested-With"] = "XMLHttpRequest"
        raw = None
        if body is not None:
            raw = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        if self.cookie:
            h["Cookie"] = self.cookie
        h.update(headers or {})
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=raw, headers={k: v for k, v in h.items() if v})
            r = conn.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            conn.close()

    def api(self, method, path, body=None, headers=None, timeout=15):
        st, hdrs, raw = self.request(method, path, body, headers, timeout)
        try:
            return st, json.loads(raw) if raw else None, hdrs
        except ValueError:
            return st, None, hdrs

    def ok(self, method, path, body=None, status=(200, 202)):
        st, got, _ = self.api(method, path, body)
        self.assertIn(st, status, "%s %s: %s %r" % (method, path, st, got))
        return got

    def login(self):
        type(self).cookie = None
        st, body, hdrs = self.api("POST", "/api/login", {"password": PASSWORD})
        self.assertEqual(st, 200, body)
        type(self).cookie = hdrs["set-cookie"].split(";")[0]

    def stop(self, name):
        """podman stop: (exit status of podman stop, seconds, the container's exit code)."""
        t0 = time.monotonic()
        r = podman.podman("stop", "-t", "10", name)
        took = time.monotonic() - t0
        code = podman.podman("inspect", "--format", "{{.State.ExitCode}}", name).stdout.strip()
        return r.returncode, took, code

    def assert_not_root(self, name, uid):
        procs = {}
        for pid in podman.container_pids(name):
            st = podman.proc_status(pid)
            if st is not None:
                procs[pid] = st
        names = sorted({p["Name"] for p in procs.values()})
        for want in ("nginx", "pts-cgi", "pts-worker"):
            self.assertIn(want, names)
        for pid, st in procs.items():
            self.assertEqual(st["Uid"], [str(uid)] * 4, "%s (%d) runs as %s" % (
                st["Name"], pid, st["Uid"]))
            self.assertNotIn("0", st["Gid"], st["Name"])
        return names

    def db_rows(self, sql, *params):
        conn = sqlite3.connect("file:%s?mode=ro" % os.path.join(self.vol, "pts.db"), uri=True,
                               timeout=10)
        try:
            conn.row_factory = sqlite3.Row
            return [dict(r) for r in conn.execute(sql, params)]
        finally:
            conn.close()

    def run_row(self, run_id):
        runs = self.ok("GET", "/api/runs")["runs"]
        return next(r for r in runs if r["id"] == run_id)

    def wait_run(self, run_id):
        wait_for(lambda: self.run_row(run_id)["status"] not in ("running", "queued"),
                 timeout=SYNC_TIMEOUT_S, step=0.1, what="run %d" % run_id)
        return self.run_row(run_id)

    # ---- the steps ----
    def test_1_image(self):
        self.assertLessEqual(self.size, IMAGE_MAX_MB * 1000 * 1000,
                             "image is %.1f MB" % (self.size / 1e6))
        self.assertLessEqual(self.build_s, BUILD_MAX_S)
        r = podman.podman("image", "inspect", IMAGE, check=True)
        image = json.loads(r.stdout)[0]
        config = image["Config"]
        # Kept by --format docker (an OCI image has no place for it).
        self.assertIn("/usr/local/bin/pts-healthcheck", " ".join(image["Healthcheck"]["Test"]))
        self.assertNotIn(config.get("User", ""), ("", "0", "root", "0:0"))
        self.assertEqual(config["ExposedPorts"], {"8080/tcp": {}})

    def test_2_first_run(self):
        name, healthy_s = self.run_container()
        type(self).first = name
        note("healthy %.2f s after podman run" % healthy_s)
        self.assertLessEqual(healthy_s, HEALTHY_MAX_S)
        r = podman.podman("healthcheck", "run", name)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        names = self.assert_not_root(name, IMAGE_UID)
        note("processes (uid %d): %s" % (IMAGE_UID, ", ".join(names)))
        # The Host rule: the NAS's name in PTS_ALLOWED_HOSTS answers, another name does not.
        st, _, _ = self.api("GET", "/api/status", headers={"Host": "%s:%d" % (ALLOWED, self.port)})
        self.assertEqual(st, 200)
        st, body, _ = self.api("GET", "/api/status", headers={"Host": "evil.example"})
        self.assertEqual((st, body["error"]["code"]), (421, "misdirected"))
        st, _, raw = self.request("GET", "/", headers={"Host": ALLOWED})
        self.assertEqual(st, 200)
        self.assertIn(b"<html", raw.lower())
        # Everything it wrote is on the volume, as the volume's owner.
        for f in ("pts.db", "nginx/nginx.conf", "nginx/logs/access.log"):
            self.assertEqual(os.stat(os.path.join(self.vol, f)).st_uid, IMAGE_UID, f)

    def test_3_full_sync(self):
        self.ok("PUT", "/api/settings", FAKES.settings())
        self.ok("POST", "/api/auth/plex")
        wait_for(lambda: self.ok("GET", "/api/auth/plex")["code"], timeout=15, what="PIN")
        FAKES.post("plextv", "/_control/pins/link_latest")
        wait_for(lambda: self.ok("GET", "/api/auth/plex")["state"] == "authorized", timeout=15,
                 what="Plex authorized")
        self.ok("POST", "/api/auth/trakt")
        code = wait_for(lambda: self.ok("GET", "/api/auth/trakt")["user_code"], timeout=15,
                        what="device code")
        FAKES.post("trakt", "/_control/device/approve", {"user_code": code})
        wait_for(lambda: self.ok("GET", "/api/auth/trakt")["state"] == "authorized",
                 timeout=20, what="Trakt authorized")
        self.ok("POST", "/api/libraries/refresh")
        libs = wait_for(lambda: self.ok("GET", "/api/libraries")["libraries"], timeout=15,
                        what="libraries")
        self.ok("PUT", "/api/libraries", {"selected": [l["key"] for l in libs]})
        before = FAKES.get("trakt", "/_control/history")["count"]
        run = self.wait_run(self.ok("POST", "/api/sync")["run_id"])
        self.assertEqual(run["status"], "ok", run)
        self.assertEqual(run["added_to_trakt"], ADDED, run)
        self.assertEqual(FAKES.get("trakt", "/_control/history")["count"], before + ADDED)
        type(self).synced_run = run["id"]

    def test_4_metrics_token(self):
        self.ok("PUT", "/api/settings", {"metrics_token": TOKEN,
                                         "dashboard_password": PASSWORD})
        self.assertEqual(self.request("GET", "/api/metrics")[0], 401)
        st, hdrs, raw = self.request("GET", "/api/metrics",
                                     headers={"Authorization": "Bearer " + TOKEN})
        self.assertEqual(st, 200, raw)
        self.assertTrue(hdrs["content-type"].startswith("text/plain"), hdrs)
        self.assertIn(b'pts_runs_total{status="ok"} 1', raw)
        st, _, _ = self.request("GET", "/api/metrics",
                                headers={"Authorization": "Bearer " + TOKEN[:-1] + "x"})
        self.assertEqual(st, 401)
        with open(os.path.join(self.vol, "nginx", "logs", "access.log"), "rb") as f:
            self.assertNotIn(TOKEN.encode(), f.read())
        self.assertNotIn(TOKEN, self.logs(self.first))
        self.login()
        self.assertEqual(self.ok("GET", "/api/settings")["metrics_token"], {"set": True})

    def test_5_stop_during_a_sync(self):
        # A slow Plex keeps the sync running while the container is stopped.
        FAKES.post("plex", "/_control/faults", {"latency_ms": 300})
        try:
            run_id = self.ok("POST", "/api/sync", {"dry_run": False})["run_id"]
            wait_for(lambda: self.ok("GET", "/api/progress")["state"] == "running", timeout=15,
                     step=0.05, what="the sync running")
            rc, took, code = self.stop(self.first)
        finally:
            FAKES.post("plex", "/_control/faults/reset")
        note("podman stop during a sync: %.2f s, exit code %s" % (took, code))
        self.assertEqual(rc, 0)
        self.assertEqual(code, "0", self.logs(self.first))
        self.assertLessEqual(took, STOP_MAX_S)
        logs = self.logs(self.first)
        self.assertIn("worker stopped", logs)
        # Nothing lost: the run waits in the queue for the next start, the database is whole.
        row = self.db_rows("SELECT status FROM runs WHERE id = ?", run_id)[0]
        self.assertIn(row["status"], ("queued", "running"), row)
        self.assertEqual(self.db_rows("PRAGMA integrity_check")[0]["integrity_check"], "ok")
        type(self).stopped_run = run_id

    def test_6_new_container_keeps_everything(self):
        self.assertEqual(podman.podman("rm", self.first).returncode, 0)
        name, healthy_s = self.run_container()
        type(self).second = name
        note("second container healthy %.2f s after podman run" % healthy_s)
        self.assertEqual(self.request("GET", "/api/settings", headers={"Cookie": ""})[0], 401)
        self.login()
        got = self.ok("GET", "/api/settings")
        self.assertEqual(got["plex_url"], FAKES.settings()["plex_url"])
        self.assertEqual(got["metrics_token"], {"set": True})
        # The run the stop interrupted is taken up again and finishes.
        run = self.wait_run(self.stopped_run)
        self.assertEqual(run["status"], "ok", run)
        ids = [r["id"] for r in self.ok("GET", "/api/runs")["runs"]]
        self.assertIn(self.synced_run, ids)
        self.assertEqual(self.ok("GET", "/api/auth/trakt")["state"], "authorized")
        rc, took, code = self.stop(name)
        self.assertEqual((rc, code), (0, "0"))
        self.assertLessEqual(took, STOP_MAX_S)

    def test_7_hardened_run(self):
        # Another uid owns the volume now (README: chown -R UID:GID the folder).
        for root, dirs, files in os.walk(self.vol):
            for p in dirs + files:
                os.lchown(os.path.join(root, p), OTHER_UID, OTHER_UID)
        os.chown(self.vol, OTHER_UID, OTHER_UID)
        name, healthy_s = self.run_container(
            "--user", "%d:%d" % (OTHER_UID, OTHER_UID), "--read-only",
            "--read-only-tmpfs=false", "--cap-drop", "all",
            "--security-opt", "no-new-privileges")
        note("hardened container healthy %.2f s after podman run" % healthy_s)
        self.assert_not_root(name, OTHER_UID)
        r = podman.podman("exec", name, "grep", "-E", "^(CapEff|NoNewPrivs)", "/proc/1/status")
        self.assertIn("CapEff:\t0000000000000000", r.stdout)
        self.assertIn("NoNewPrivs:\t1", r.stdout)
        self.assertNotEqual(podman.podman("exec", name, "touch", "/etc/x").returncode, 0)
        self.login()
        run = self.wait_run(self.ok("POST", "/api/sync")["run_id"])
        self.assertEqual((run["status"], run["added_to_trakt"]), ("ok", 0), run)
        st, _, raw = self.request("GET", "/api/metrics", headers={
            "Cookie": "", "Authorization": "Bearer " + TOKEN})
        self.assertEqual(st, 200, raw)
        self.assertEqual(self.request("GET", "/api/metrics", headers={
            "Cookie": "", "Authorization": "Bearer nope-" + TOKEN})[0], 401)
        rc, took, code = self.stop(name)
        note("hardened podman stop: %.2f s, exit code %s" % (took, code))
        self.assertEqual((rc, code), (0, "0"))
        self.assertLessEqual(took, STOP_MAX_S)

    def test_8_volume_of_another_user_is_refused_clearly(self):
        # The volume is OTHER_UID's: the image's own user may not write there.
        name, _ = self.run_container(wait=False)
        wait_for(lambda: podman.podman("inspect", "--format", "{{.State.Running}}",
                                       name).stdout.strip() == "false",
                 timeout=START_TIMEOUT_S, what="the container to give up")
        code = podman.podman("inspect", "--format", "{{.State.ExitCode}}", name).stdout.strip()
        self.assertEqual(code, "1")
        logs = self.logs(name)
        self.assertIn("not writable", logs)
        self.assertIn("chown %d:%d" % (IMAGE_UID, IMAGE_UID), logs)

    def test_9_root_start_becomes_the_image_user(self):
        fresh = os.path.join(TMP.name, "fresh")
        os.mkdir(fresh, 0o755)
        type(self).vol, old = fresh, self.vol
        try:
            name, _ = self.run_container("--user", "0:0")
            self.assert_not_root(name, IMAGE_UID)
            self.assertEqual(os.stat(os.path.join(fresh, "pts.db")).st_uid, IMAGE_UID)
            # One program dying ends the container with status 1 (its restart policy acts).
            worker = [pid for pid in podman.container_pids(name)
                      if (podman.proc_status(pid) or {}).get("Name") == "pts-worker"]
            self.assertTrue(worker)
            os.kill(min(worker), signal.SIGKILL)
            wait_for(lambda: podman.podman("inspect", "--format", "{{.State.Running}}",
                                           name).stdout.strip() == "false",
                     timeout=10, what="the container to end")
            code = podman.podman("inspect", "--format", "{{.State.ExitCode}}",
                                 name).stdout.strip()
            self.assertEqual(code, "1")
            self.assertIn("a service ended", self.logs(name))
        finally:
            type(self).vol = old

    def test_a_upgrade_migrates_the_volume(self):
        # The database an older image left: only the schema's first step, with a setting and
        # a finished run. The image migrates it on start and keeps both.
        steps = schema_steps()
        vol = os.path.join(TMP.name, "upgrade")
        os.mkdir(vol, 0o700)
        conn = sqlite3.connect(os.path.join(vol, "pts.db"))
        try:
            conn.executescript(steps[0])
            conn.execute("PRAGMA user_version = 1")
            conn.execute("INSERT INTO settings(key, value) VALUES('sync_interval_hours', '0')")
            conn.execute("INSERT INTO runs(trigger, status, created_at, started_at, finished_at,"
                         " items_scanned, added_to_trakt) VALUES('manual', 'ok', 1700000000,"
                         " 1700000000, 1700000060, 49, 17)")
            conn.commit()
        finally:
            conn.close()
        for root, dirs, files in os.walk(vol):
            for p in [root] + [os.path.join(root, f) for f in files]:
                os.lchown(p, IMAGE_UID, IMAGE_UID)
        type(self).vol, old = vol, self.vol
        type(self).cookie = None
        try:
            name, _ = self.run_container()
            version = self.db_rows("PRAGMA user_version")[0]["user_version"]
            self.assertEqual(version, len(steps), "every step ran")
            # 0 (the schedule off, not the default 6): nothing else runs meanwhile.
            self.assertEqual(self.ok("GET", "/api/settings")["sync_interval_hours"], 0)
            runs = self.ok("GET", "/api/runs")["runs"]
            self.assertEqual([(r["id"], r["status"], r["items_scanned"], r["added_to_trakt"])
                              for r in runs], [(1, "ok", 49, 17)])
            rc, _, code = self.stop(name)
            self.assertEqual((rc, code), (0, "0"))
        finally:
            type(self).vol = old


def schema_steps():
    """The migration steps of common/schema.sql.h as SQL texts (step 1 first)."""
    with open(os.path.join(TOP, "common", "schema.sql.h")) as f:
        text = f.read()
    body = text[text.index("pts_schema_steps[] = {"):]
    body = body[body.index("{") + 1:body.index("};")]
    body = re.sub(r"/\*.*?\*/", "", body, flags=re.S)
    steps, cur = [], []
    for lit, comma in re.findall(r'"([^"]*)"|(,)', body):
        if comma:
            steps.append("".join(cur))
            cur = []
        else:
            cur.append(lit)
    if cur:
        steps.append("".join(cur))
    return steps


try:
    import yaml
except ImportError:  # PyYAML is not a dependency of the project's tests
    yaml = None


@unittest.skipIf(yaml is None, "PyYAML is not installed: compose.yaml is not parsed")
class TestComposeFile(unittest.TestCase):
    """compose.yaml builds this Containerfile and runs it as the README says."""

    def test_compose_matches_the_image(self):
        with open(os.path.join(TOP, "compose.yaml")) as f:
            doc = yaml.safe_load(f)
        (svc,) = doc["services"].values()
        build = svc["build"]
        self.assertTrue(os.path.isfile(os.path.join(TOP, build["context"], build["dockerfile"])))
        self.assertRegex(svc["user"], r"^[1-9][0-9]*:[0-9]+$")
        self.assertIs(svc["read_only"], True)
        self.assertEqual(svc["cap_drop"], ["ALL"])
        self.assertIn("no-new-privileges:true", svc["security_opt"])
        self.assertIn("./data:/data", svc["volumes"])
        self.assertTrue(any(str(p).endswith(":8080") for p in svc["ports"]), svc["ports"])
        with open(os.path.join(TOP, "README.md")) as f:
            readme = f.read()
        section = readme[readme.index("## Run in a container"):]
        section = section[:section.index("\n## ", 5)]
        for k in svc["environment"]:
            self.assertIn("`%s`" % k, section, "README's container section names " + k)


if __name__ == "__main__":
    unittest.main()
