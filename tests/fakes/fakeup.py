#!/usr/bin/env python3
"""Start the five fake upstream servers in one process.

    python3 tests/fakes/fakeup.py --ready-file PATH
        [--corpus FILE.json | --generate SPEC] [--max-seconds N]

Servers: plex (PMS), plextv (plex.tv), trakt (API + OAuth), tmdb, plexdisc (plex.tv's
discover + metadata services: the account watchlist).  All bind
127.0.0.1 on a random port (or --ports).  Once all listen, the ready file is
written atomically: {"plex": "http://127.0.0.1:P", "plextv": ..., "trakt": ...,
"tmdb": ..., "pid": N, ...}.  The process stops after --max-seconds, on
SIGTERM/SIGINT, on POST /_control/shutdown to any server, or (with
--watch-parent) when its parent process goes away.  See README.md.
"""

import argparse
import json
import os
import signal
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import corpus as corpus_mod                          # noqa: E402
from common import FakeServer                        # noqa: E402
from fake_plex import FakePlex, PlexAuth             # noqa: E402
from fake_plexdisc import FakePlexDisc               # noqa: E402
from fake_plextv import FakePlexTV                   # noqa: E402
from fake_tmdb import FakeTMDb                       # noqa: E402
from fake_trakt import FakeTrakt                     # noqa: E402

NAMES = ("plex", "plextv", "trakt", "tmdb", "plexdisc")


def parse_ports(text):
    ports = {n: 0 for n in NAMES}
    if not text:
        return ports
    for part in text.split(","):
        name, _, num = part.partition("=")
        if name not in ports or not num.isdigit() or not 0 <= int(num) <= 65535:
            raise ValueError("bad --ports item %r (use plex=N,plextv=N,trakt=N,tmdb=N)" % part)
        ports[name] = int(num)
    return ports


def write_atomic(path, data):
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".fakeup-", dir=d)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1)
            fh.write("\n")
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def build_apps(factory, verbose):
    first = factory()
    summary = corpus_mod.summarize(first)
    auth = PlexAuth()
    # Each app owns its part of the corpus; plex items are mutated in place,
    # the Trakt catalog dicts are shared read-only with the TMDb fake.
    plex = FakePlex(factory, first, auth, verbose)
    plextv = FakePlexTV(factory, first, auth, plex, verbose)
    trakt = FakeTrakt(factory, first, verbose)
    tmdb = FakeTMDb(factory, first, verbose)
    plexdisc = FakePlexDisc(factory, first, auth, verbose)
    apps = {"plex": plex, "plextv": plextv, "trakt": trakt, "tmdb": tmdb, "plexdisc": plexdisc}
    for app in apps.values():
        app.summary = summary
    return apps


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ready-file", help="where to write the URLs JSON once listening")
    src = ap.add_mutually_exclusive_group()
    src.add_argument("--corpus", metavar="FILE.json", help="load this corpus")
    src.add_argument("--generate", metavar="SPEC",
                     help="synthesize: movies=N,shows=N,episodes=N,watched=F,seed=N"
                          "[,on_trakt=F,trakt_only=F,unknown=F]")
    ap.add_argument("--max-seconds", type=float, default=3600,
                    help="stop by itself after this many seconds (default 3600)")
    ap.add_argument("--ports", help="fixed ports, e.g. plex=32400,trakt=8081 (default random)")
    ap.add_argument("--dump-corpus", metavar="FILE.json",
                    help="write the selected corpus as JSON and exit")
    ap.add_argument("--watch-parent", action="store_true",
                    help="exit when the parent process goes away")
    ap.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = ap.parse_args(argv)

    try:
        factory = corpus_mod.make_factory(args.corpus, args.generate)
        ports = parse_ports(args.ports)
    except (OSError, ValueError) as exc:
        print("fakeup: %s" % exc, file=sys.stderr)
        return 2
    if args.dump_corpus:
        try:
            write_atomic(args.dump_corpus, factory())
        except (OSError, ValueError) as exc:
            print("fakeup: %s" % exc, file=sys.stderr)
            return 2
        return 0
    if not args.ready_file:
        ap.error("--ready-file is required")
    if args.max_seconds <= 0:
        ap.error("--max-seconds must be > 0")

    try:
        apps = build_apps(factory, args.verbose)
    except Exception as exc:   # any corpus problem: say so, exit 2
        detail = getattr(exc, "body", None) or exc
        print("fakeup: bad corpus: %s" % (detail,), file=sys.stderr)
        return 2

    stop = threading.Event()
    servers, threads = [], []
    try:
        for name in NAMES:
            app = apps[name]
            srv = FakeServer(app, ports[name])
            app.base_url = "http://127.0.0.1:%d" % srv.server_address[1]
            app.stop_event = stop
            servers.append(srv)
    except OSError as exc:
        print("fakeup: cannot listen: %s" % exc, file=sys.stderr)
        for srv in servers:
            srv.server_close()
        return 2
    for srv in servers:
        t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.2},
                             name="fake-" + srv.app.name, daemon=True)
        t.start()
        threads.append(t)

    def on_signal(signum, frame):
        stop.set()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    ready = {name: apps[name].base_url for name in NAMES}
    ready.update({"pid": os.getpid(), "plex_token": apps["plex"].auth.configured,
                  "trakt_client_id": apps["trakt"].cfg["client_id"],
                  "trakt_client_secret": apps["trakt"].cfg["client_secret"],
                  "tmdb_api_key": apps["tmdb"].api_key,
                  "max_seconds": args.max_seconds})
    rc = 0
    try:
        write_atomic(args.ready_file, ready)
    except OSError as exc:
        print("fakeup: cannot write ready file: %s" % exc, file=sys.stderr)
        rc = 2
        stop.set()
    if args.verbose:
        print("fakeup: ready %s" % json.dumps(ready), file=sys.stderr)

    deadline = time.monotonic() + args.max_seconds
    parent = os.getppid()
    while not stop.is_set():
        left = deadline - time.monotonic()
        if left <= 0:
            break
        stop.wait(min(left, 1.0))
        if args.watch_parent and os.getppid() != parent:
            break

    closers = [threading.Thread(target=srv.shutdown, daemon=True) for srv in servers]
    for t in closers:          # in parallel: each waits up to one poll interval
        t.start()
    for t in closers:
        t.join(2.0)
    for srv in servers:
        srv.server_close()
    try:
        with open(args.ready_file, encoding="utf-8") as fh:
            if json.load(fh).get("pid") == os.getpid():
                os.unlink(args.ready_file)
    except (OSError, ValueError):
        pass
    return rc


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)   # skip freeing a large corpus object by object
