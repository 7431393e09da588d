"""Fake Trakt: the API and its OAuth endpoints on one server.

Traps kept from the real service: trakt-api-key / trakt-api-version headers
(403 / 400), JSON content type on writes (412), bearer tokens (401),
single-use refresh tokens (400 invalid_grant), writes limited to one per
second per token and GETs to a budget (429 + Retry-After + X-Ratelimit),
paginated lists (default 100, max 250, clamped), watched_at kept to the
minute, no de-duplication of plays, 64-bit play ids, "lost answers" (a
history POST applied and then answered 502).
"""

import collections
import copy
import json
import math
import secrets
import string
from html import escape as html_escape
from urllib.parse import parse_qs

from common import (FakeApp, HttpError, Response, check_keys, iso_ms,
                    json_response, load_data, now, paginate_bounds, parse_iso, want_bool,
                    want_int, want_str)
from trakt_lists import TraktListsMixin, list_of, not_found_dict
from trakt_model import (HISTORY_ID_BASE, Catalog, Play, norm_id, parse_watched_at,
                         resolve_ref, watched_movies, watched_shows)

DEFAULT_LIMIT = 100
MAX_LIMIT = 250
WRITE_INTERVAL = 1.0          # seconds between writes per token
PACE_TOLERANCE = 0.05         # seconds of clock jitter forgiven on pacing checks
MAX_DEVICE_CODES = 1000

CONFIG_DEFAULTS = {
    "client_id": "trakt-client-id",
    "client_secret": "trakt-client-secret",
    "username": "traktuser",
    "token_lifetime": 604800,
    "device_interval": 5,
    "device_expires_in": 600,
    "device_auto_approve_after_polls": 0,
    "get_limit": 500,          # 0 = unlimited
    "get_period": 300,
    "enforce_post_rate": True,
    "oauth_requires_api_headers": True,
    "account_locked": False,   # every authed call -> 423
    "history_cap": 0,          # >0: POST /sync/history -> 420 once history holds this many
    "batch_error_over": 0,     # >0: POST /sync/history with more items -> 500, not applied
    "watchlist_cap": 0,        # >0: limits.watchlist.item_count; an addition past it -> 420
}
STR_KEYS = {"client_id", "client_secret", "username"}
# Households: the fields that hold one Trakt account's state. The corpus's account is ""; a
# token installed with {"account": NAME} (POST /_control/token) reaches account NAME, whose
# state starts empty. Authed calls swap the fields to their token's account under the lock.
ACCOUNT_FIELDS = ("history", "next_play_id", "hist_version", "cache", "activity", "ratings",
                  "watchlist", "watchlist_ids", "playback", "scrobble_calls", "watching")
# Play ids of each further account start this far apart (ids stay unique across accounts).
ACCOUNT_ID_SPAN = 100_000_000
BOOL_KEYS = {"enforce_post_rate", "oauth_requires_api_headers", "account_locked"}
def rate_limited(name, period, limit, until, retry_after):
    rl = {"name": name, "period": period, "limit": limit, "remaining": 0,
          "until": iso_ms(until)}
    return HttpError(429, {"error": "rate limit exceeded"},
                     {"Retry-After": str(max(1, int(math.ceil(retry_after)))),
                      "X-Ratelimit": json.dumps(rl)})


class FakeTrakt(TraktListsMixin, FakeApp):
    name = "trakt"
    lost_answer_paths = frozenset({("POST", "/sync/history")})
    malformed_body = (b'[{"plays":2,"last_watched_at":"2020-01-01T00:00:00.000Z",'
                      b'"movie":{"title":"Trunc')
    oversized_prefix = b'[{"plays":1,"padding":"'
    oversized_suffix = b'"}]'

    def __init__(self, factory, corpus, verbose=False):
        super().__init__(verbose)
        self.factory = factory
        self.settings_template = load_data("trakt_settings.json")
        self.activity_template = load_data("trakt_last_activities.json")
        r, api = self.router, self.api
        r.add("POST", r"/oauth/device/code", api(self.h_device_code, oauth=True))
        r.add("POST", r"/oauth/device/token", api(self.h_device_token, oauth=True))
        r.add("POST", r"/oauth/token", api(self.h_token, oauth=True))
        r.add("POST", r"/oauth/revoke", api(self.h_revoke, oauth=True))
        r.add("GET POST", r"/activate", self.h_activate)
        r.add("GET", r"/sync/last_activities", api(self.h_last_activities, auth=True))
        r.add("GET", r"/sync/watched/(movies|shows)", api(self.h_watched, auth=True))
        r.add("GET", r"/sync/history(?:/(movies|shows|episodes))?",
              api(self.h_history, auth=True))
        r.add("POST", r"/sync/history", api(self.h_history_add, auth=True))
        r.add("POST", r"/sync/history/remove", api(self.h_history_remove, auth=True))
        r.add("GET", r"/sync/ratings(?:/(movies|shows|seasons|episodes|all)(?:/([0-9,]+))?)?",
              api(self.h_ratings, auth=True))
        r.add("POST", r"/sync/ratings", api(self.h_ratings_add, auth=True))
        r.add("POST", r"/sync/ratings/remove", api(self.h_ratings_remove, auth=True))
        r.add("GET", r"/sync/watchlist(?:/(movies|shows|seasons|episodes))?(?:/[a-z]+)?",
              api(self.h_watchlist, auth=True))
        r.add("POST", r"/sync/watchlist", api(self.h_watchlist_add, auth=True))
        r.add("POST", r"/sync/watchlist/remove", api(self.h_watchlist_remove, auth=True))
        r.add("GET", r"/sync/playback(?:/(movies|episodes))?", api(self.h_playback, auth=True))
        r.add("DELETE", r"/sync/playback/(\d+)", api(self.h_playback_delete, auth=True))
        r.add("POST", r"/scrobble/pause", api(self.h_scrobble_pause, auth=True))
        r.add("POST", r"/scrobble/start", api(self.h_scrobble_start, auth=True))
        r.add("POST", r"/scrobble/stop", api(self.h_scrobble_stop, auth=True))
        r.add("GET", r"/users/settings", api(self.h_settings, auth=True))
        r.add("GET", r"/search/(imdb|tmdb|tvdb|trakt)/([^/]+)", api(self.h_search))
        c = self.control_router
        c.add("GET", r"/_control/history", self.c_history)
        c.add("POST", r"/_control/token", self.c_token)
        c.add("POST", r"/_control/expire_token", self.c_expire_token)
        c.add("POST", r"/_control/device/(approve|deny)", self.c_device)
        c.add("GET", r"/_control/device", self.c_device_list)
        c.add("GET", r"/_control/scrobble_calls", self.c_scrobble_calls)
        self.load(corpus)

    # ==== state ==================================================================

    def load(self, corpus):
        tr = corpus["trakt"]
        with self.lock:
            self.cfg = dict(CONFIG_DEFAULTS)
            for key in CONFIG_DEFAULTS:
                if key in tr:
                    self.cfg[key] = tr[key]
            self.catalog = Catalog(tr["movies"], tr["shows"])
            self.next_play_id = HISTORY_ID_BASE
            self.history = []
            self.activity = {}
            t = now()
            base = t - 86400
            for group, leaves in self.activity_template.items():
                if isinstance(leaves, dict):
                    for leaf in leaves:
                        self.activity[(group, leaf)] = base
            self._set_history_from(tr["history"], initial=True)
            self.ratings = {}
            self._set_ratings_from(tr["ratings"], t)
            self.watchlist = []
            self.watchlist_ids = 100
            self._set_watchlist_from(tr["watchlist"], t)
            self.playback = []
            self._set_playback_from(tr["playback"])
            self.scrobble_calls = []   # every /scrobble/* call: {action, progress, item}
            self.watching = None       # the item "watching now" (after a start)
            self.tokens = {}           # access -> {refresh_token, created_at, expires_in, revoked}
            self.refresh = {}          # live refresh token -> access token
            self.devices = collections.OrderedDict()   # device_code -> record
            self.last_write = {}
            self.get_times = {}
            self.account = ""          # whose state ACCOUNT_FIELDS hold now
            self.accounts = {}         # other accounts' saved state: name -> {field: value}
            self.token_account = {}    # access token -> account name (absent: "")
            self.account_names = [""]  # in order of first use (for play id ranges)

    def reset(self):
        self.load(self.factory())

    def use_account(self, name):
        """Make ACCOUNT_FIELDS hold account name's state (the lock must be held)."""
        if name == self.account:
            return
        self.accounts[self.account] = {f: getattr(self, f) for f in ACCOUNT_FIELDS}
        st = self.accounts.pop(name, None)
        if st is None:
            if name not in self.account_names:
                self.account_names.append(name)
            base = now() - 86400
            st = {"history": [], "hist_version": 1, "cache": {}, "ratings": {},
                  "next_play_id": HISTORY_ID_BASE + ACCOUNT_ID_SPAN *
                  self.account_names.index(name),
                  "activity": {k: base for k in self.activity}, "watchlist": [],
                  "watchlist_ids": 100, "playback": [], "scrobble_calls": [], "watching": None}
        for f, v in st.items():
            setattr(self, f, v)
        self.account = name

    def _set_history_from(self, entries, initial=False):
        plays = []
        for e in entries:
            try:
                movie, show, ep = resolve_ref(self.catalog, e)
                when = parse_iso(e.get("watched_at"))
            except (ValueError, AttributeError) as exc:
                raise HttpError(400, {"error": "bad history entry: %s" % exc})
            if movie is None and ep is None:
                raise HttpError(400, {"error": "history entries are movies or episodes"})
            plays.append((when, e.get("action", "watch"), movie, show, ep))
        plays.sort(key=lambda p: p[0])
        self.history = []
        self.next_play_id = HISTORY_ID_BASE
        for when, action, movie, show, ep in plays:
            self._append_play(when, action, movie, show, ep, when if initial else now())
        self.hist_version = getattr(self, "hist_version", 0) + 1
        self.cache = {}
        for kind in ("movies", "episodes"):
            times = [p.added_at for p in self.history if (p.movie is not None) == (kind == "movies")]
            if times:
                self.activity[(kind, "watched_at")] = max(times)

    def _append_play(self, when, action, movie, show, ep, added_at):
        self.next_play_id += 1
        self.history.append(Play(self.next_play_id, when, action, movie, show, ep, added_at))

    def _history_changed(self, movies, episodes):
        self.hist_version += 1
        self.cache = {}
        t = now()
        if movies:
            self.activity[("movies", "watched_at")] = t
        if episodes:
            self.activity[("episodes", "watched_at")] = t

    def _item_key(self, movie, show, ep, season=None):
        if movie is not None:
            return ("movie", movie["ids"]["trakt"])
        if ep is not None:
            return ("episode", show.key, ep["season"], ep["number"])
        if season is not None:
            return ("season", show.key, season)
        return ("show", show.key)

    def token_view(self, access):
        t = self.tokens[access]
        return {"refresh_token": t["refresh_token"], "created_at": t["created_at"],
                "expires_in": t["expires_in"], "revoked": t["revoked"],
                "refresh_live": t["refresh_token"] in self.refresh,
                "valid": self.token_valid(access)}

    def get_state(self, req):
        wanted = set(filter(None, (req.query.get("keys") or "").split(",")))
        with self.lock:
            self.use_account(req.query.get("account") or "")
            st = dict(self.cfg)
            st["catalog"] = self.catalog.to_json()
            st["history"] = [p.render() for p in self.history]
            st["tokens"] = {a: self.token_view(a) for a in self.tokens}
            st["ratings"] = self.render_ratings(None, None)
            st["watchlist"] = self.render_watchlist(None)
            st["playback"] = self.render_playback(None)
            st["device_codes"] = self.device_list()
            st["counts"] = dict(self.catalog.counts(), history=len(self.history))
            if wanted:
                st = {k: v for k, v in st.items() if k in wanted}
            return json_response(st)

    def set_state(self, patch):
        allowed = set(CONFIG_DEFAULTS) | {"catalog", "history", "tokens", "ratings",
                                          "watchlist", "playback"}
        check_keys(patch, allowed)
        self.use_account("")
        for key in CONFIG_DEFAULTS:
            if key not in patch:
                continue
            if key in STR_KEYS:
                self.cfg[key] = want_str(patch, key)
            elif key in BOOL_KEYS:
                self.cfg[key] = want_bool(patch, key)
            else:
                self.cfg[key] = want_int(patch, key, 0)
        if "catalog" in patch:
            cat = patch["catalog"]
            if not isinstance(cat, dict):
                raise HttpError(400, {"error": "catalog: {movies: [...], shows: [...]}"})
            try:
                self.catalog = Catalog(cat.get("movies", []), cat.get("shows", []))
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                raise HttpError(400, {"error": "bad catalog: %s" % exc})
            self.cache = {}
        for key, setter in (("history", self._set_history_from),
                            ("ratings", lambda e: self._set_ratings_from(e, now())),
                            ("watchlist", lambda e: self._set_watchlist_from(e, now())),
                            ("playback", self._set_playback_from)):
            if key in patch:
                if not isinstance(patch[key], list) or \
                        not all(isinstance(e, dict) for e in patch[key]):
                    raise HttpError(400, {"error": "%s must be a list of objects" % key})
                setter(patch[key])
        if "history" in patch:
            self._history_changed(True, True)
        # A list replaced through control stands for a person's change on trakt.tv: its
        # last_activities stamps move as they do on a real write.
        t = now()
        stamps = {"ratings": [(k, "rated_at") for k in ("movies", "shows", "seasons",
                                                        "episodes")],
                  "watchlist": [(k, "watchlisted_at") for k in ("movies", "shows", "seasons",
                                                                "episodes")]
                  + [("watchlist", "updated_at")],
                  "playback": [("movies", "paused_at"), ("episodes", "paused_at")]}
        for key, leaves in stamps.items():
            if key in patch:
                for leaf in leaves:
                    self.activity[leaf] = t
        if "tokens" in patch:
            toks = patch["tokens"]
            if not isinstance(toks, dict):
                raise HttpError(400, {"error": "tokens: {access_token: {refresh_token, "
                                               "expires_in, created_at}}"})
            self.tokens, self.refresh = {}, {}
            for access, t in toks.items():
                self.install_token(access, t if isinstance(t, dict) else {})

    # ==== request gate =============================================================

    def api(self, handler, auth=False, oauth=False):
        """Wrap a handler with Trakt's header, token and rate-limit checks."""
        def wrapped(req, *args):
            if not oauth or self.cfg["oauth_requires_api_headers"]:
                if req.header("trakt-api-key") != self.cfg["client_id"]:
                    raise HttpError(403, {"error": "invalid api key (trakt-api-key)"})
                if req.header("trakt-api-version") != "2":
                    raise HttpError(400, {"error": "trakt-api-version: 2 required"})
            if req.method in ("POST", "PUT"):
                ctype = (req.header("Content-Type") or "").split(";")[0].strip().lower()
                if ctype != "application/json":
                    raise HttpError(412, {"error": "Content-Type must be application/json"})
            token = None
            if auth:
                token = self.bearer(req)
                if token is None:
                    raise HttpError(401, {"error": "invalid_token",
                                          "error_description": "missing, invalid, revoked "
                                                               "or expired access token"},
                                    {"WWW-Authenticate": 'Bearer realm="trakt", '
                                                         'error="invalid_token"'})
                if self.cfg["account_locked"]:
                    raise HttpError(423, {"error": "account locked"})
            if not oauth:
                self.check_rate(req, token)
            if token is None:
                return handler(req, *args)
            with self.lock:   # reentrant: the handler takes it again
                self.use_account(self.token_account.get(token, ""))
                return handler(req, *args)
        return wrapped

    def token_valid(self, access):
        t = self.tokens.get(access)
        return bool(t) and not t["revoked"] and now() < t["created_at"] + t["expires_in"]

    def bearer(self, req):
        raw = req.header("Authorization") or ""
        scheme, _, tok = raw.partition(" ")
        tok = tok.strip()
        if scheme.lower() != "bearer" or not tok:
            return None
        with self.lock:
            return tok if self.token_valid(tok) else None

    def check_rate(self, req, token):
        key = token or "anon:%s" % req.client[0]
        t = now()
        with self.lock:
            if req.method in ("POST", "PUT", "DELETE"):
                if not self.cfg["enforce_post_rate"]:
                    return
                last = self.last_write.get(key)
                if last is not None and t - last < WRITE_INTERVAL - PACE_TOLERANCE:
                    raise rate_limited("AUTHED_API_POST_LIMIT", 1, 1, last + WRITE_INTERVAL,
                                       last + WRITE_INTERVAL - t)
                self.last_write[key] = t
                return
            limit, period = self.cfg["get_limit"], self.cfg["get_period"]
            if not limit:
                return
            times = self.get_times.setdefault(key, collections.deque())
            while times and times[0] <= t - period:
                times.popleft()
            if len(times) >= limit:
                until = times[0] + period
                raise rate_limited("AUTHED_API_GET_LIMIT", period, limit, until, until - t)
            times.append(t)

    def paged(self, req, rows, render=None):
        page = req.qint("page", 1, 1, None, clamp=True)
        limit = req.qint("limit", DEFAULT_LIMIT, 1, MAX_LIMIT, clamp=True)
        start, end, page_count = paginate_bounds(len(rows), page, limit)
        chunk = rows[start:end]
        if render is not None:
            chunk = [render(x) for x in chunk]
        return json_response(chunk, headers={
            "X-Pagination-Page": str(page), "X-Pagination-Limit": str(limit),
            "X-Pagination-Page-Count": str(page_count),
            "X-Pagination-Item-Count": str(len(rows))})

    def cached(self, key, build):
        val = self.cache.get(key)
        if val is None:
            val = self.cache[key] = build()
        return val

    # ==== OAuth ======================================================================

    def check_client(self, body, need_secret=True):
        if body.get("client_id") != self.cfg["client_id"] or \
                (need_secret and body.get("client_secret") != self.cfg["client_secret"]):
            raise HttpError(401, {"error": "invalid_client",
                                  "error_description": "Client authentication failed"})

    def install_token(self, access, spec):
        """Store an access/refresh pair; returns Trakt's token JSON."""
        refresh = spec.get("refresh_token") or secrets.token_hex(32)
        created = spec.get("created_at", int(now()))
        lifetime = spec.get("expires_in", self.cfg["token_lifetime"])
        for val in (created, lifetime):
            if isinstance(val, bool) or not isinstance(val, int):
                raise HttpError(400, {"error": "created_at / expires_in must be integers"})
        self.tokens[access] = {"refresh_token": refresh, "created_at": created,
                               "expires_in": lifetime, "revoked": False}
        self.refresh[refresh] = access
        return {"access_token": access, "token_type": "bearer", "expires_in": lifetime,
                "refresh_token": refresh, "scope": "public", "created_at": created}

    def issue_token(self):
        return self.install_token(secrets.token_hex(32), {})

    def h_device_code(self, req):
        body = req.json_object()
        if body.get("client_id") != self.cfg["client_id"]:
            raise HttpError(403, {"error": "invalid_client"})
        alphabet = string.ascii_uppercase + string.digits
        with self.lock:
            if len(self.devices) >= MAX_DEVICE_CODES:
                self.devices.popitem(last=False)
            dev = {"device_code": secrets.token_hex(32),
                   "user_code": "".join(secrets.choice(alphabet) for _ in range(8)),
                   "created": now(), "expires_in": self.cfg["device_expires_in"],
                   "interval": self.cfg["device_interval"], "status": "pending",
                   "last_poll": None, "polls": 0}
            self.devices[dev["device_code"]] = dev
            return json_response({"device_code": dev["device_code"],
                                  "user_code": dev["user_code"],
                                  "verification_url": (self.base_url or "") + "/activate",
                                  "expires_in": dev["expires_in"],
                                  "interval": dev["interval"]})

    def h_device_token(self, req):
        body = req.json_object()
        with self.lock:
            dev = self.devices.get(body.get("code"))
            if dev is None:
                raise HttpError(404, {"error": "invalid device_code"})
            self.check_client(body)
            t = now()
            if dev["status"] == "used":
                raise HttpError(409, {"error": "code already used"})
            if t >= dev["created"] + dev["expires_in"]:
                raise HttpError(410, {"error": "expired_token"})
            if dev["status"] == "denied":
                raise HttpError(418, {"error": "access_denied"})
            if dev["last_poll"] is not None and dev["interval"] and \
                    t - dev["last_poll"] < dev["interval"] - PACE_TOLERANCE:
                raise HttpError(429, {"error": "slow_down"}, {"Retry-After": str(dev["interval"])})
            dev["last_poll"] = t
            dev["polls"] += 1
            auto = self.cfg["device_auto_approve_after_polls"]
            if dev["status"] == "pending" and auto and dev["polls"] >= auto:
                dev["status"] = "approved"
            if dev["status"] != "approved":
                raise HttpError(400, {"error": "authorization_pending"})
            dev["status"] = "used"
            tok = self.issue_token()
            if dev.get("account"):
                self.token_account[tok["access_token"]] = dev["account"]
            return json_response(tok)

    def h_token(self, req):
        body = req.json_object()
        with self.lock:
            self.check_client(body)
            grant = body.get("grant_type")
            if grant == "authorization_code":
                raise HttpError(400, {"error": "invalid_grant",
                                      "error_description": "no authorization codes here"})
            if grant != "refresh_token":
                raise HttpError(400, {"error": "unsupported_grant_type"})
            old_access = self.refresh.pop(body.get("refresh_token"), None) \
                if isinstance(body.get("refresh_token"), str) else None
            if old_access is None:
                raise HttpError(400, {"error": "invalid_grant",
                                      "error_description": "The provided authorization grant "
                                      "is invalid, expired, revoked, does not match the "
                                      "redirection URI used in the authorization request, or "
                                      "was issued to another client."})
            if old_access in self.tokens:
                self.tokens[old_access]["revoked"] = True
            tok = self.issue_token()
            if old_access in self.token_account:
                self.token_account[tok["access_token"]] = self.token_account[old_access]
            return json_response(tok)

    def h_revoke(self, req):
        body = req.json_object()
        with self.lock:
            self.check_client(body)
            tok = body.get("token")
            access = tok if tok in self.tokens else self.refresh.get(tok)
            if access in self.tokens:
                self.tokens[access]["revoked"] = True
                self.refresh.pop(self.tokens[access]["refresh_token"], None)
        return json_response({})

    def h_activate(self, req):
        """A tiny page standing in for trakt.tv/activate (demo and browser tests)."""
        msg = ""
        if req.method == "POST":
            form = parse_qs(req.body.decode("utf-8", "replace"))
            code = (form.get("user_code") or [""])[0].strip().upper()
            ok = self.decide_device(code, "approved") if code else None
            msg = "Approved %s." % code if ok else "Unknown or used code."
        page = ("<!DOCTYPE html><html><head><meta charset=utf-8><title>Fake Trakt activate"
                "</title></head><body><h1>Fake Trakt: activate a device</h1><p>%s</p>"
                "<form method=post><input name=user_code placeholder=CODE>"
                "<button>Approve</button></form></body></html>" % html_escape(msg))
        return Response(200, page, "text/html; charset=utf-8")

    def decide_device(self, user_code, status, account=""):
        with self.lock:
            for dev in reversed(self.devices.values()):
                if dev["status"] == "pending" and (not user_code or dev["user_code"] == user_code):
                    dev["status"] = status
                    dev["account"] = account   # whose account the token will reach
                    return dev
        return None

    # ==== sync: reads ==================================================================

    def h_last_activities(self, req):
        with self.lock:
            out = copy.deepcopy(self.activity_template)
            for (group, leaf), t in self.activity.items():
                out[group][leaf] = iso_ms(t)
            out["all"] = iso_ms(max(self.activity.values()))
            return json_response(out)

    def h_watched(self, req, kind):
        extended = (req.query.get("extended") or "").split(",")
        with self.lock:
            if kind == "movies":
                rows = self.cached(("watched", "movies"), lambda: watched_movies(self.history))
            else:
                seasons = "progress" in extended and "noseasons" not in extended
                rows = self.cached(("watched", "shows", seasons),
                                   lambda: watched_shows(self.history, seasons))
            return self.paged(req, rows)

    def h_history(self, req, kind):
        try:
            start = parse_iso(req.query["start_at"]) if req.query.get("start_at") else None
            end = parse_iso(req.query["end_at"]) if req.query.get("end_at") else None
        except ValueError:
            raise HttpError(400, {"error": "start_at / end_at must be ISO-8601"})
        with self.lock:
            newest = self.cached(("history",), lambda: sorted(
                self.history, key=lambda p: (p.watched_at, p.id), reverse=True))
            want = {"movies": "movie", "shows": "episode", "episodes": "episode"}.get(kind)
            rows = newest
            if want or start is not None or end is not None:
                rows = [p for p in newest if (not want or p.kind == want)
                        and (start is None or p.watched_at >= start)
                        and (end is None or p.watched_at <= end)]
            return self.paged(req, rows, Play.render)

    # ==== sync: history writes ==========================================================

    def _plays_from_body(self, body, t):
        """Resolve a history body -> (plays to add, not_found).  No side effects."""
        todo, nf = [], not_found_dict()
        for m in list_of(body, "movies"):
            movie = self.catalog.find_movie(m.get("ids"))
            if movie is None:
                nf["movies"].append(m)
                continue
            todo.append((parse_watched_at(m.get("watched_at"), t), movie, None, None))
        for s in list_of(body, "shows"):
            rec = self.catalog.find_show(s.get("ids"))
            if rec is None:
                nf["shows"].append(s)
                continue
            show_at = parse_watched_at(s.get("watched_at"), t)
            if "seasons" not in s:
                for num in sorted(rec.seasons):
                    for _, ep in sorted(rec.seasons[num].items()):
                        todo.append((show_at, None, rec, ep))
                continue
            for season in list_of(s, "seasons"):
                eps = rec.seasons.get(season.get("number"))
                if eps is None:
                    nf["seasons"].append(season)
                    continue
                season_at = parse_watched_at(season.get("watched_at"), show_at)
                if "episodes" not in season:
                    todo.extend((season_at, None, rec, ep) for _, ep in sorted(eps.items()))
                    continue
                for e in list_of(season, "episodes"):
                    ep = eps.get(e.get("number"))
                    if ep is None:
                        nf["episodes"].append(e)
                        continue
                    todo.append((parse_watched_at(e.get("watched_at"), season_at), None, rec, ep))
        for e in list_of(body, "episodes"):
            hit = self.catalog.find_episode(e.get("ids"))
            if hit is None:
                nf["episodes"].append(e)
                continue
            todo.append((parse_watched_at(e.get("watched_at"), t), None, hit[0], hit[1]))
        return todo, nf

    @staticmethod
    def _body_size(body):
        n = 0
        for key in ("movies", "episodes"):
            n += len(body.get(key) or [])
        for s in body.get("shows") or []:
            seasons = s.get("seasons") if isinstance(s, dict) else None
            if not seasons:
                n += 1
                continue
            for season in seasons:
                eps = season.get("episodes") if isinstance(season, dict) else None
                n += len(eps) if isinstance(eps, list) else 1
        return n

    def h_history_add(self, req):
        body = req.json_object()
        over = self.cfg["batch_error_over"]
        if over and self._body_size(body) > over:
            raise HttpError(500, {"error": "batch too large (fake batch_error_over)"})
        with self.lock:
            cap = self.cfg["history_cap"]
            if cap and len(self.history) >= cap:
                raise HttpError(420, {"error": "account limit exceeded"},
                                {"X-Account-Limit": str(cap),
                                 "X-Upgrade-URL": "https://trakt.tv/vip"})
            t = now()
            todo, nf = self._plays_from_body(body, t)
            added = {"movies": 0, "episodes": 0}
            for when, movie, show, ep in todo:
                self._append_play(when, "watch", movie, show, ep, t)
                added["movies" if movie is not None else "episodes"] += 1
            if todo:
                self._history_changed(added["movies"], added["episodes"])
            return json_response({"added": added, "not_found": nf}, 201)

    def h_history_remove(self, req):
        body = req.json_object()
        with self.lock:
            nf = not_found_dict()
            nf["ids"] = []
            ids = body.get("ids", [])
            if not isinstance(ids, list):
                raise HttpError(400, {"error": "ids must be a list"})
            known = {p.id for p in self.history}
            play_ids = set()
            for i in ids:
                if isinstance(i, int) and not isinstance(i, bool) and i in known:
                    play_ids.add(i)
                else:
                    nf["ids"].append(i)
            todo, nf2 = self._plays_from_body(body, now())
            for k in nf2:
                nf[k].extend(nf2[k])
            targets = {id(movie if movie is not None else ep) for _, movie, _, ep in todo}
            deleted = {"movies": 0, "episodes": 0}
            keep = []
            for p in self.history:
                if p.id in play_ids or id(p.movie if p.movie is not None else p.ep) in targets:
                    deleted["movies" if p.movie is not None else "episodes"] += 1
                else:
                    keep.append(p)
            if len(keep) != len(self.history):
                self.history = keep
                self._history_changed(deleted["movies"], deleted["episodes"])
            return json_response({"deleted": deleted, "not_found": nf})

    # ==== users, search =================================================================

    def h_settings(self, req):
        with self.lock:
            d = copy.deepcopy(self.settings_template)
            name = self.account or self.cfg["username"]   # a further account: its name
            d["user"].update({"username": name, "name": name.title()})
            d["user"]["ids"]["slug"] = name.lower()
            if self.cfg["watchlist_cap"]:
                d["limits"]["watchlist"]["item_count"] = self.cfg["watchlist_cap"]
            return json_response(d)

    def h_search(self, req, id_type, raw_id):
        types = set(filter(None, (req.query.get("type") or "movie,show,episode").split(",")))
        if not types <= {"movie", "show", "episode", "person", "list"}:
            raise HttpError(400, {"error": "type must be movie, show, episode"})
        key = norm_id(id_type, raw_id)
        out = []
        if key is None:
            return json_response(out)
        with self.lock:
            cat = self.catalog
            if "movie" in types and id_type != "tvdb":
                m = cat.movie_idx[id_type].get(key)
                if m is not None:
                    out.append({"type": "movie", "score": None, "movie": m})
            if "show" in types:
                rec = cat.show_idx[id_type].get(key)
                if rec is not None:
                    out.append({"type": "show", "score": None, "show": rec.pub})
            if "episode" in types and id_type in cat.ep_idx:
                hit = cat.ep_idx[id_type].get(key)
                if hit is not None:
                    out.append({"type": "episode", "score": None, "episode": hit[1],
                                "show": hit[0].pub})
        return json_response(out)

    # ==== control ========================================================================

    def c_history(self, req):
        with self.lock:
            self.use_account(req.query.get("account") or "")
            return json_response({"history": [p.render() for p in self.history],
                                  "count": len(self.history)})

    def c_token(self, req):
        body = req.json_object(required=False)
        access = body.get("access_token") or secrets.token_hex(32)
        if not isinstance(access, str):
            raise HttpError(400, {"error": "access_token must be a string"})
        account = body.get("account", "")
        if not isinstance(account, str):
            raise HttpError(400, {"error": "account must be a string"})
        with self.lock:
            tok = self.install_token(access, body)
            if account:
                self.token_account[access] = account
            return json_response(tok)

    def c_expire_token(self, req):
        body = req.json_object(required=False)
        with self.lock:
            which = [body["access_token"]] if body.get("access_token") else \
                [a for a in self.tokens if self.token_valid(a)]
            for a in which:
                t = self.tokens.get(a)
                if t is None:
                    raise HttpError(404, {"error": "no such access token"})
                t["created_at"] = int(now()) - t["expires_in"] - 1
            return json_response({"expired": which})

    def device_list(self):
        return [{"device_code": d["device_code"], "user_code": d["user_code"],
                 "status": d["status"], "polls": d["polls"],
                 "expired": now() >= d["created"] + d["expires_in"]}
                for d in self.devices.values()]

    def c_device_list(self, req):
        with self.lock:
            return json_response({"device_codes": self.device_list()})

    def c_device(self, req, action):
        body = req.json_object(required=False)
        code = body.get("user_code")
        if code is not None and not isinstance(code, str):
            raise HttpError(400, {"error": "user_code must be a string"})
        account = body.get("account", "")
        if not isinstance(account, str):
            raise HttpError(400, {"error": "account must be a string"})
        dev = self.decide_device(code, "approved" if action == "approve" else "denied", account)
        if dev is None:
            raise HttpError(404, {"error": "no pending device code"})
        return json_response({"device_code": dev["device_code"], "user_code": dev["user_code"],
                              "status": dev["status"]})
