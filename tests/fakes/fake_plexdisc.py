"""Fake plex.tv discover + metadata services: the Plex account's watchlist.

One app answers both hosts' paths (PTS_PLEX_DISCOVER_URL and PTS_PLEX_METADATA_URL both
point at it):
  GET /library/sections/watchlist/all   the watchlist, newest first, paged by
                                        X-Plex-Container-Start/-Size against totalSize
  PUT /actions/addToWatchlist?ratingKey=, PUT /actions/removeFromWatchlist?ratingKey=
                                        already there / not there: 400, as plex.tv does
  GET /library/search?query=            title search -> SearchResults[].SearchResult[]
                                        .Metadata (with Guid[])
  GET /library/metadata/<id>            one entry; Guid[] only with includeGuids=1
The catalog: every Plex server movie/show of the new agent (same plex:// guid and Guid[]),
plus every Trakt catalog movie/show the server lacks (a made-up plex:// id, Guid[] from its
ids).  One watchlist per plex.tv account: the owner's tokens (configured, issued by the PIN
flow) read and write the owner's; a Home or managed user's account token (minted by the fake
plex.tv's switch, PlexAuth.account_tokens) reads and writes that user's own; anything else,
a person's server token included, is refused with 401 (as plex.tv does).  State (POST
/_control/state): {"watchlist": [ratingKey, ...]} (newest first; with "user": "1002" that
user's list, else the owner's), {"catalog_drop": [ratingKey, ...]} (entries search will not
find), {"max_page": N} (pages answer at most N entries, whatever was asked).  GET shows
"watchlist" (the owner's) and "watchlists" (user id -> list, the users' own).
"""
import copy
import time

from common import FakeApp, HttpError, json_response, empty_response
from fake_plex import PlexAuth

MAX_PAGE = 300   # largest X-Plex-Container-Size answered (plex.tv caps pages too)


def made_up_id(kind, trakt_id):
    return "%024x" % ((0xd15c0 << 72) + (1 if kind == "show" else 0) * 65537 + trakt_id * 104729)


class FakePlexDisc(FakeApp):
    name = "plexdisc"

    def __init__(self, factory, corpus, auth, verbose=False):
        super().__init__(verbose)
        self.factory = factory
        self.auth = auth
        self._load(corpus)
        r = self.router
        r.add("GET", r"/library/sections/watchlist/all", self.authed(self.h_watchlist))
        r.add("PUT", r"/actions/(addToWatchlist|removeFromWatchlist)", self.authed(self.h_set))
        r.add("GET", r"/library/search", self.authed(self.h_search, with_account=False))
        r.add("GET", r"/library/metadata/([0-9a-f]+)",
              self.authed(self.h_metadata, with_account=False))

    def _load(self, corpus):
        cat, by_ids = {}, {}
        for it in corpus["plex"]["items"]:
            g = it.get("guid") or ""
            if it.get("type") not in ("movie", "show") or not g.startswith("plex://"):
                continue
            rk = g.rsplit("/", 1)[1]
            cat[rk] = {"ratingKey": rk, "guid": g, "type": it["type"], "title": it["title"],
                       "year": it.get("year"), "Guid": copy.deepcopy(it.get("Guid") or [])}
            for gid in cat[rk]["Guid"]:
                by_ids[gid["id"]] = rk
        for kind, items in (("movie", corpus["trakt"]["movies"]), ("show", corpus["trakt"]["shows"])):
            for m in items:
                ids = m.get("ids", {})
                guids = [{"id": "%s://%s" % (k, ids[k])} for k in ("imdb", "tmdb", "tvdb")
                         if ids.get(k)]
                if not guids or any(g["id"] in by_ids for g in guids):
                    continue
                rk = made_up_id(kind, ids.get("trakt", 0))
                cat[rk] = {"ratingKey": rk, "guid": "plex://%s/%s" % (kind, rk), "type": kind,
                           "title": m["title"], "year": m.get("year"), "Guid": guids}
        with self.lock:
            self.catalog = cat
            # account (PlexAuth.OWNER or a user id) -> [(ratingKey, watchlistedAt)], newest first
            self.watchlists = {PlexAuth.OWNER: []}
            self.dropped = set()
            self.max_page = MAX_PAGE

    def reset(self):
        self._load(self.factory())

    def authed(self, fn, with_account=True):
        """Only plex.tv account tokens pass; fn gets the account (owner or user id) first."""
        def h(req, *groups):
            tok = req.header("X-Plex-Token") or req.query.get("X-Plex-Token")
            acct = self.auth.account_of(tok)
            if acct is None:
                raise HttpError(401, {"error": "unauthorized"})
            return fn(req, acct, *groups) if with_account else fn(req, *groups)
        return h

    def get_state(self, req):
        with self.lock:
            return {"watchlist": [rk for rk, _ in self.watchlists[PlexAuth.OWNER]],
                    "watchlists": {a: [rk for rk, _ in wl] for a, wl in self.watchlists.items()
                                   if a != PlexAuth.OWNER},
                    "catalog": sorted(self.catalog.values(), key=lambda e: e["ratingKey"])}

    def set_state(self, patch):
        unknown = set(patch) - {"watchlist", "user", "catalog_drop", "max_page"}
        if unknown:
            raise HttpError(400, {"error": "unknown state keys %s" % sorted(unknown)})
        user = patch.get("user", PlexAuth.OWNER)
        if "user" in patch and (not isinstance(user, str) or not user.isdigit()
                                or "watchlist" not in patch):
            raise HttpError(400, {"error": "user: a plex.tv user id (digits), with watchlist"})
        if "watchlist" in patch:
            old = self.watchlists.get(user) or []
            # A person's change comes after the last one: the newest entry is newer.
            t = max(int(time.time()), old[0][1] + 1 if old else 0)
            wl = []
            for i, rk in enumerate(patch["watchlist"]):
                if rk not in self.catalog:
                    raise HttpError(400, {"error": "not in the catalog: %s" % rk})
                wl.append((rk, t - i))
            self.watchlists[user] = wl
        if "max_page" in patch:
            if not isinstance(patch["max_page"], int) or not 1 <= patch["max_page"] <= MAX_PAGE:
                raise HttpError(400, {"error": "max_page: 1..%d" % MAX_PAGE})
            self.max_page = patch["max_page"]
        if "catalog_drop" in patch:
            self.dropped = set(patch["catalog_drop"])

    def entry(self, rk, guids, at=None):
        e = {k: v for k, v in self.catalog[rk].items() if k != "Guid" and v is not None}
        if at is not None:
            e["watchlistedAt"] = at
        if guids:
            e["Guid"] = copy.deepcopy(self.catalog[rk]["Guid"])
        return e

    def container(self, md, total=None, offset=0):
        return json_response({"MediaContainer": {
            "size": len(md), "totalSize": len(md) if total is None else total,
            "offset": offset, "Metadata": md}})

    def page_args(self, req):
        def num(name, dflt):
            v = req.header(name) or req.query.get(name)
            if v is None:
                return dflt
            if not v.isdigit():
                raise HttpError(400, {"error": "bad %s" % name})
            return int(v)
        return num("X-Plex-Container-Start", 0), min(num("X-Plex-Container-Size", 50),
                                                       self.max_page)

    def h_watchlist(self, req, acct):
        start, size = self.page_args(req)
        with self.lock:
            rows = [self.entry(rk, False, at) for rk, at in self.watchlists.get(acct, [])]
        kind = req.query.get("type")
        if kind in ("1", "2"):
            rows = [e for e in rows if e["type"] == ("movie" if kind == "1" else "show")]
        return self.container(rows[start:start + size], len(rows), start)

    def h_set(self, req, acct, action):
        rk = req.query.get("ratingKey") or ""
        with self.lock:
            if rk not in self.catalog:
                raise HttpError(404, {"error": "unknown ratingKey"})
            wl = self.watchlists.setdefault(acct, [])
            on = [x for x, _ in wl]
            if action == "addToWatchlist":
                if rk in on:
                    raise HttpError(400, {"error": "already on the watchlist"})
                wl.insert(0, (rk, int(time.time())))
            else:
                if rk not in on:
                    raise HttpError(400, {"error": "not on the watchlist"})
                self.watchlists[acct] = [(x, t) for x, t in wl if x != rk]
        return empty_response(200)

    def h_search(self, req):
        q = (req.query.get("query") or "").casefold()
        types = (req.query.get("searchTypes") or "movies,tv").replace("|", ",").split(",")
        want = {"movie" for t in types if t == "movies"} | {"show" for t in types if t == "tv"}
        with self.lock:
            hits = [self.entry(rk, True) for rk, e in sorted(self.catalog.items())
                    if q and q in e["title"].casefold() and e["type"] in want
                    and rk not in self.dropped]
        return json_response({"MediaContainer": {"size": len(hits), "SearchResults": [
            {"id": "external", "title": "More Ways To Watch",
             "SearchResult": [{"score": 0.9, "Metadata": h} for h in hits]}]}})

    def h_metadata(self, req, rk):
        with self.lock:
            if rk not in self.catalog:
                raise HttpError(404, {"error": "not found"})
            e = self.entry(rk, req.query.get("includeGuids") == "1")
        return self.container([e])
