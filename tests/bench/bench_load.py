#!/usr/bin/env python3
"""The load benchmark (make bench-load): the dashboard's polling API under load while a sync runs.

    python3 tests/bench/bench_load.py --build BUILD_DIR [--duration S] [--connections N]

The real stack (`./bootstrap run` with PTS_BUILD_DIR=BUILD_DIR: nginx + pts-cgi + pts-worker)
syncs a generated library against the fakes (tests/fakes/) with latency on every upstream
call and Trakt's one-write-a-second pace, so the sync runs for minutes. Meanwhile wrk
(Debian package wrk; installed with apt-get when missing) hammers, through one bench nginx
on loopback:

    /noop           tests/bench/noop_fcgi: a FastCGI responder that answers {} and nothing else,
                    preforked like pts-cgi (3 children)
    /api/status     pts-cgi: the dashboard's status poll (SQLite reads)
    /api/progress   pts-cgi: the progress poll (SQLite reads of the row the worker writes)

The bench nginx is the stack's own generated configuration (its pts-snippet.conf, so /api/
goes to the stack's pts-cgi socket with the same FastCGI parameters) plus `location = /noop`;
both kinds of request pass the same nginx, worker process and keep-alive. Each wrk run is
`wrk -t2 -c16 -d10s --latency`; /noop runs before and after the API runs and its mean is the
yardstick. Printed per path: requests/s, p50 and p99 latency, errors (socket errors and
non-2xx), and for the API paths the ratio to /noop. Target: ratio >= 0.60 and no errors.

Exit status: 0 when the targets are met, 1 when not, 2 when it could not run. Use a build
without sanitizers (the script refuses a sanitizer build unless --allow-sanitizers).
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))

# A library big enough that Trakt's 1 write/s keeps the sync busy for minutes.
DEFAULT_CORPUS = "movies=20000,shows=200,episodes=20000,watched=0.5,seed=3"
DEFAULT_LATENCY_MS = 20
TARGET_RATIO = 0.60
WRK_THREADS = 2
NOOP_CHILDREN = 3       # as pts-cgi --children in ./bootstrap run
API_PATHS = ("/api/status", "/api/progress")

BENCH_NGINX = """
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    default_type application/octet-stream;
    access_log off;
    keepalive_timeout 30s;
    keepalive_requests 100000;
    client_body_temp_path {tmp}/body;
    fastcgi_temp_path {tmp}/fastcgi;
    proxy_temp_path {tmp}/proxy;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    server {{
        listen 127.0.0.1:{port};
        server_name _;
        root {data}/www;
        include {data}/nginx/pts-snippet.conf;
        location = /noop {{
            fastcgi_pass unix:{tmp}/noop.sock;
            fastcgi_param REQUEST_METHOD    $request_method;
            fastcgi_param REQUEST_URI       $request_uri;
            fastcgi_param DOCUMENT_URI      $document_uri;
            fastcgi_param SCRIPT_NAME       $fastcgi_script_name;
            fastcgi_param QUERY_STRING      $query_string;
            fastcgi_param CONTENT_TYPE      $content_type;
            fastcgi_param CONTENT_LENGTH    $content_length;
            fastcgi_param SERVER_PROTOCOL   $server_protocol;
            fastcgi_param SERVER_NAME       $server_name;
            fastcgi_param SERVER_PORT       $server_port;
            fastcgi_param REMOTE_ADDR       $remote_addr;
            fastcgi_param GATEWAY_INTERFACE CGI/1.1;
        }}
    }}
}}
"""


def die(msg):
    print("bench-load: " + msg, file=sys.stderr)
    sys.exit(2)


def is_sanitizer_build(build):
    flags = os.path.join(build, ".configure-flags")
    mk = os.path.join(build, "Makefile")
    for path in (flags, mk):
        if os.path.exists(path):
            with open(path) as f:
                text = f.read()
            if "enable-sanitizers" in text or re.search(r"^SAN_CFLAGS = .*fsanitize", text, re.M):
                return True
    return False


def ensure_wrk():
    if shutil.which("wrk"):
        return shutil.which("wrk")
    print("bench-load: wrk not found: apt-get install wrk", flush=True)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    cmd = ["apt-get", "install", "-y", "-q", "wrk"]
    if subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env, stdout=subprocess.DEVNULL)
        if subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL).returncode != 0:
            die("cannot install wrk (apt-get install wrk)")
    return shutil.which("wrk") or die("wrk still not found after installing it")


def to_ms(v, unit):
    return float(v) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def parse_wrk(out):
    """req/s, p50/p99 in ms, and errors from wrk --latency output."""
    r = {"rps": 0.0, "p50": None, "p99": None, "errors": 0, "requests": 0}
    m = re.search(r"^Requests/sec:\s+([\d.]+)", out, re.M)
    if m:
        r["rps"] = float(m.group(1))
    for pct, key in (("50", "p50"), ("99", "p99")):
        m = re.search(r"^\s+%s(?:\.000)?%%\s+([\d.]+)(us|ms|s|m)\b" % pct, out, re.M)
        if m:
            r[key] = to_ms(m.group(1), m.group(2))
    m = re.search(r"(\d+) requests in", out)
    if m:
        r["requests"] = int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        r["errors"] += sum(int(x) for x in m.groups())
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if m:
        r["errors"] += int(m.group(1))
    return r


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(TOP, "build-bench"))
    ap.add_argument("--corpus", default=DEFAULT_CORPUS)
    ap.add_argument("--latency-ms", type=int, default=DEFAULT_LATENCY_MS)
    ap.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--allow-sanitizers", action="store_true")
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    noop = os.path.join(build, "tests", "bench", "noop_fcgi")
    for exe in ("cgi/pts-cgi", "worker/pts-worker"):
        if not os.access(os.path.join(build, exe), os.X_OK):
            die("%s not built in %s (make)" % (exe, build))
    if not os.access(noop, os.X_OK):
        die("%s not built (make tests/bench/noop_fcgi, or make bench-load)" % noop)
    if is_sanitizer_build(build) and not args.allow_sanitizers:
        die("%s is a sanitizer build: figures would be meaningless (--allow-sanitizers)" % build)
    wrk = ensure_wrk()
    os.environ["PTS_BUILD_DIR"] = build
    os.environ["PTS_TOP"] = TOP
    from fakes import Fakes
    from stack import Stack, free_port, wait_for

    tmp = tempfile.TemporaryDirectory(prefix="pts-bench-load-")
    procs = []
    results = {}
    try:
        print("bench-load: fakes with %s, %d ms latency" % (args.corpus, args.latency_ms),
              flush=True)
        fakes = Fakes(generate=args.corpus).start()
        for svc in ("plex", "trakt"):
            fakes.post(svc, "/_control/faults", {"latency_ms": args.latency_ms})
        stack = Stack(env=dict(fakes.env(), PTS_HTTP_BACKOFF_MS="200")).start()
        conn = stack.db()
        tok = fakes.post("trakt", "/_control/token", {})
        for k, v in fakes.settings().items():
            conn.execute("INSERT OR REPLACE INTO settings(key, value) VALUES(?, ?)", (k, v))
        conn.execute("UPDATE auth SET state = 'authorized', access_token = ?, refresh_token = ?,"
                     " token_expires_at = ?, user = 'traktuser' WHERE service = 'trakt'",
                     (tok["access_token"], tok["refresh_token"],
                      tok["created_at"] + tok["expires_in"]))
        conn.execute("UPDATE auth SET state = 'authorized', access_token = 'plex-token-1',"
                     " user = 'plexuser' WHERE service = 'plex'")
        conn.commit()
        conn.close()

        # The no-op responder and the bench nginx (the stack's snippet + /noop).
        sock = os.path.join(tmp.name, "noop.sock")
        procs.append(subprocess.Popen([noop, "--socket", sock, "--children",
                                       str(NOOP_CHILDREN)]))
        wait_for(lambda: os.path.exists(sock), timeout=10, what="noop socket")
        port = free_port()
        for d in ("body", "fastcgi", "proxy", "uwsgi", "scgi"):
            os.makedirs(os.path.join(tmp.name, d))
        conf = os.path.join(tmp.name, "nginx.conf")
        with open(conf, "w") as f:
            f.write(BENCH_NGINX.format(tmp=tmp.name, data=stack.data, port=port))
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        # As ./bootstrap run does: started as root, nginx's workers are www-data, never root
        # (the stack's socket is 0660 with group www-data; the no-op one is 0666).
        user = ["-g", "user www-data www-data;"] if os.geteuid() == 0 else []
        procs.append(subprocess.Popen([nginx, "-p", tmp.name, "-e", os.path.join(tmp.name,
                                       "error.log"), "-c", conf, "-g", "daemon off;"] + user))
        base = "http://127.0.0.1:%d" % port


        wait_for(lambda: subprocess.run(["curl", "-fsS", "-o", "/dev/null", base + "/noop"])
                 .returncode == 0, timeout=10, what="bench nginx")

        st, body, _ = stack.api("POST", "/api/sync", {"full": True})
        if st != 202:
            die("POST /api/sync answered %d: %s" % (st, body))
        run_id = body["run_id"]
        # Wait for the sync to be well under way: scanning or writing, not just queued.
        wait_for(lambda: stack.api("GET", "/api/progress")[1].get("phase") in
                 ("scanning", "writing"), timeout=120, step=0.5, what="sync under way")

        def sync_state():
            b = stack.api("GET", "/api/progress")[1]
            return "%s/%s" % (b.get("state"), b.get("phase", "-"))

        def bench(path):
            before = sync_state()
            out = subprocess.run([wrk, "-t%d" % WRK_THREADS, "-c%d" % args.connections,
                                  "-d%ds" % args.duration, "--latency", base + path],
                                 capture_output=True, text=True, timeout=args.duration + 60)
            r = parse_wrk(out.stdout)
            r["sync"] = before + " -> " + sync_state()
            if out.returncode != 0 or r["requests"] == 0:
                print(out.stdout + out.stderr)
                die("wrk failed on " + path)
            print("  %-14s %9.0f req/s  p50 %6.2f ms  p99 %6.2f ms  errors %d  (sync %s)" % (
                path, r["rps"], r["p50"] or -1, r["p99"] or -1, r["errors"], r["sync"]),
                flush=True)
            return r

        print("bench-load: wrk -t%d -c%d -d%ds against %s while sync run %d goes" % (
            WRK_THREADS, args.connections, args.duration, base, run_id), flush=True)
        results["noop_before"] = bench("/noop")
        for p in API_PATHS:
            results[p] = bench(p)
        results["noop_after"] = bench("/noop")
        still = stack.api("GET", "/api/progress")[1].get("state")

        noop_rps = (results["noop_before"]["rps"] + results["noop_after"]["rps"]) / 2
        ok = True
        print("\nbench-load results (no-op yardstick: %.0f req/s, mean of the two runs)" %
              noop_rps)
        print("  %-14s %10s %10s %10s %8s %8s" % ("path", "req/s", "p99 ms", "ratio", "errors",
                                               "target"))
        for key in ("noop_before", "noop_after") + API_PATHS:
            r = results[key]
            ratio = r["rps"] / noop_rps if noop_rps else 0
            met = key.startswith("noop") or (ratio >= TARGET_RATIO and r["errors"] == 0)
            met = met and r["errors"] == 0
            ok = ok and met
            print("  %-14s %10.0f %10.2f %10.2f %8d %8s" % (
                "/noop" if key.startswith("noop") else key, r["rps"], r["p99"] or -1, ratio,
                r["errors"], "PASS" if met else "FAIL"))
        if still not in ("running", "stopping", "queued"):
            print("bench-load: note: the sync ended before the last wrk run (state %s)" % still)
        print("bench-load: %s (target: API req/s >= %.0f%% of the no-op handler's, no errors)" %
              ("PASS" if ok else "FAIL", TARGET_RATIO * 100))
        print("BENCH_LOAD_JSON " + json.dumps({k: {kk: vv for kk, vv in v.items()}
                                              for k, v in results.items()}))
        # Stop the sync so the stack shuts down promptly.
        stack.api("POST", "/api/sync/stop")
        return 0 if ok else 1
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
        if "stack" in locals():
            stack.stop()
            stack.cleanup()
        if "fakes" in locals():
            fakes.stop()
        tmp.cleanup()


if __name__ == "__main__":
    sys.exit(main())
