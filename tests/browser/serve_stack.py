#!/usr/bin/env python3
"""The fakes and the real stack, for the browser tests (started by tests/browser/lib.mjs).

    python3 tests/browser/serve_stack.py [--name NAME] [--generate SPEC | --corpus FILE]
                                         [--no-settings] [--env NAME=VALUE ...]

Starts the fake upstream servers (tests/fakes/fakeup.py), then nginx + pts-cgi + pts-worker
(tests/lib/stack.py, build from PTS_BUILD_DIR) with the upstream URLs pointing at the fakes,
puts plex_url and the Trakt and TMDb credentials the fakes expect into the settings through
the API, and prints ONE JSON line on stdout:

    {"url": "http://127.0.0.1:PORT", "fakes": {...the fakes' ready file...}, "settings": bool}

or {"error": "..."} when something could not start. It serves until stdin closes or it gets
SIGTERM/SIGINT, then stops everything; the stack's log is kept as
tests/artifacts/browser-NAME.stack.log.
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
os.environ.setdefault("PTS_BUILD_DIR", os.path.join(TOP, "build-check"))

from stack import Stack  # noqa: E402

# How long the fakes may take to write their ready file.
FAKES_START_S = 20
# The fakes stop by themselves after this long, in case nothing stops them.
FAKES_MAX_S = 1200


def say(msg):
    sys.stderr.write("serve_stack: %s\n" % msg)
    sys.stderr.flush()


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def start_fakes(tmp, args):
    ready = os.path.join(tmp, "fakes.json")
    argv = [sys.executable, os.path.join(TOP, "tests", "fakes", "fakeup.py"),
            "--ready-file", ready, "--watch-parent", "--max-seconds", str(FAKES_MAX_S)]
    if args.generate:
        argv += ["--generate", args.generate]
    if args.corpus:
        argv += ["--corpus", args.corpus]
    log = open(os.path.join(tmp, "fakes.log"), "w")
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    end = time.monotonic() + FAKES_START_S
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError("fakeup exited with %s" % proc.returncode)
        try:
            with open(ready, encoding="utf-8") as fh:
                return proc, json.load(fh)
        except (OSError, ValueError):
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("fakeup did not get ready")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--name", default="stack")
    src = ap.add_mutually_exclusive_group()
    src.add_argument("--generate")
    src.add_argument("--corpus")
    ap.add_argument("--no-settings", action="store_true")
    ap.add_argument("--env", action="append", default=[],
                    help="NAME=VALUE for the stack's environment (PTS_REQUIRE_PASSWORD=1)")
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="pts-browser-")
    # Run as root, pts-cgi and pts-worker are plex-trakt-sync and nginx's workers www-data:
    # they must be able to pass through to the data folder (mkdtemp makes 0700 folders).
    os.chmod(tmp, 0o711)
    fakes_proc, stack = None, None
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    signal.signal(signal.SIGINT, lambda *a: stop.set())
    try:
        fakes_proc, fakes = start_fakes(tmp, args)
        env = {"PTS_PLEX_TV_URL": fakes["plextv"], "PTS_TRAKT_API_URL": fakes["trakt"],
               "PTS_TRAKT_AUTH_URL": fakes["trakt"], "PTS_TMDB_API_URL": fakes["tmdb"]}
        env.update(kv.split("=", 1) for kv in args.env)
        os.makedirs(os.path.join(tmp, "var"))
        stack = Stack(env=env, data_dir=os.path.join(tmp, "var"))
        stack.start()
        settings_ok = False
        if not args.no_settings:
            st, body, _ = stack.api("PUT", "/api/settings", {
                "plex_url": fakes["plex"],
                "trakt_client_id": fakes["trakt_client_id"],
                "trakt_client_secret": fakes["trakt_client_secret"],
                "tmdb_api_key": fakes["tmdb_api_key"]})
            settings_ok = st == 200
            if not settings_ok:
                say("PUT /api/settings answered %s: %s" % (st, body))
        emit({"url": "http://127.0.0.1:%d" % stack.port, "fakes": fakes,
              "settings": settings_ok, "data": stack.data})
    except Exception as exc:  # report, then clean up below
        emit({"error": "%s: %s" % (type(exc).__name__, exc)})
        if stack is not None:
            say(stack.read_log())
        stop.set()

    # Serve until stdin closes (the node test ended, even by a crash) or a signal.
    def watch_stdin():
        try:
            while sys.stdin.buffer.read(4096):
                pass
        except OSError:
            pass
        stop.set()
    threading.Thread(target=watch_stdin, daemon=True).start()
    while not stop.wait(0.5):
        pass

    if stack is not None:
        stack.stop()
        try:
            art = os.path.join(TOP, "tests", "artifacts")
            os.makedirs(art, exist_ok=True)
            shutil.copyfile(stack.log_path, os.path.join(art, "browser-%s.stack.log" % args.name))
        except OSError:
            pass
    if fakes_proc is not None and fakes_proc.poll() is None:
        fakes_proc.terminate()
        try:
            fakes_proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            fakes_proc.kill()
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # the stdin reader thread may still be blocked in read()
