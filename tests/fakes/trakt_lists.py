"""Ratings, watchlist and playback for the fake Trakt: simple in-memory lists.

A mixin for FakeTrakt (it relies on self.catalog, self.lock, self.activity).
Shapes follow the Trakt documentation examples in tests/fakes/data/.
"""

from common import HttpError, empty_response, iso_ms, json_response, now, parse_iso
from trakt_model import parse_watched_at, resolve_ref

KINDS = ("movies", "shows", "seasons", "episodes")


def not_found_dict():
    return {"movies": [], "shows": [], "seasons": [], "episodes": [], "people": []}


def list_of(body, key):
    val = body.get(key, [])
    if not isinstance(val, list) or not all(isinstance(v, dict) for v in val):
        raise HttpError(400, {"error": "%s must be a list of objects" % key})
    return val


class TraktListsMixin:
    """Ratings, watchlist, playback state and handlers."""

    # ==== loading (corpus / control state) ==========================================

    def _set_ratings_from(self, entries, t):
        self.ratings = {}
        for e in entries:
            season = None
            try:
                if e.get("type") == "season":
                    # {type: season, show: {ids}, season: {number}}
                    movie, show, ep = None, self.catalog.find_show(
                        (e.get("show") or {}).get("ids")), None
                    season = (e.get("season") or {}).get("number")
                    if show is None or season not in show.seasons:
                        raise ValueError("unknown season %r" % (e,))
                else:
                    movie, show, ep = resolve_ref(self.catalog, e)
            except (ValueError, AttributeError) as exc:
                raise HttpError(400, {"error": "bad rating entry: %s" % exc})
            rated = parse_iso(e["rated_at"]) if e.get("rated_at") else t
            self.ratings[self._item_key(movie, show, ep, season)] = {
                "rating": e.get("rating", 10), "rated_at": rated, "movie": movie,
                "show": show, "ep": ep, "season": season}

    def _set_watchlist_from(self, entries, t):
        self.watchlist = []
        for e in entries:
            try:
                movie, show, ep = resolve_ref(self.catalog, e)
            except (ValueError, AttributeError) as exc:
                raise HttpError(400, {"error": "bad watchlist entry: %s" % exc})
            listed = parse_iso(e["listed_at"]) if e.get("listed_at") else t
            self._watchlist_append(movie, show, ep, listed, e.get("notes"))

    def _watchlist_append(self, movie, show, ep, listed, notes=None):
        self.watchlist_ids += 1
        self.watchlist.append({"id": self.watchlist_ids, "listed_at": listed, "notes": notes,
                               "movie": movie, "show": show, "ep": ep})

    def _set_playback_from(self, entries):
        self.playback = []
        for i, e in enumerate(entries, 1):
            try:
                movie, show, ep = resolve_ref(self.catalog, e)
                paused = parse_iso(e["paused_at"]) if e.get("paused_at") else now()
            except (ValueError, AttributeError) as exc:
                raise HttpError(400, {"error": "bad playback entry: %s" % exc})
            self.playback.append({"id": e.get("id", i), "progress": e.get("progress", 0),
                                  "paused_at": paused, "movie": movie, "show": show, "ep": ep})

    # ==== handlers ====================================================================

    def _items_from_body(self, body, extra_ok=lambda item: True):
        """-> ([(item, movie, show, ep, season)], not_found) for ratings/watchlist."""
        out, nf = [], not_found_dict()
        for m in list_of(body, "movies"):
            movie = self.catalog.find_movie(m.get("ids"))
            if movie is None or not extra_ok(m):
                nf["movies"].append(m)
            else:
                out.append((m, movie, None, None, None))
        for s in list_of(body, "shows"):
            rec = self.catalog.find_show(s.get("ids"))
            if rec is None:
                nf["shows"].append(s)
                continue
            if "seasons" not in s:
                if extra_ok(s):
                    out.append((s, None, rec, None, None))
                else:
                    nf["shows"].append(s)
                continue
            for season in list_of(s, "seasons"):
                eps = rec.seasons.get(season.get("number"))
                if eps is None:
                    nf["seasons"].append(season)
                    continue
                if "episodes" not in season:
                    (out.append((season, None, rec, None, season["number"])) if extra_ok(season)
                     else nf["seasons"].append(season))
                    continue
                for e in list_of(season, "episodes"):
                    ep = eps.get(e.get("number"))
                    if ep is None or not extra_ok(e):
                        nf["episodes"].append(e)
                    else:
                        out.append((e, None, rec, ep, None))
        for e in list_of(body, "episodes"):
            hit = self.catalog.find_episode(e.get("ids"))
            if hit is None or not extra_ok(e):
                nf["episodes"].append(e)
            else:
                out.append((e, None, hit[0], hit[1], None))
        return out, nf

    @staticmethod
    def _kind(movie, show, ep, season):
        return "movie" if movie is not None else "episode" if ep is not None else \
            "season" if season is not None else "show"

    def _render_ref(self, d, movie, show, ep, season):
        kind = self._kind(movie, show, ep, season)
        d["type"] = kind
        if kind == "movie":
            d["movie"] = movie
        else:
            d["show"] = show.pub
            if kind == "episode":
                d["episode"] = ep
            elif kind == "season":
                d["season"] = {"number": season, "ids": {}}
        return d

    def render_ratings(self, kind, wanted):
        rows = sorted(self.ratings.values(), key=lambda r: r["rated_at"], reverse=True)
        out = []
        for r in rows:
            k = self._kind(r["movie"], r["show"], r["ep"], r["season"])
            if kind not in (None, "all") and k + "s" != kind:
                continue
            if wanted and r["rating"] not in wanted:
                continue
            out.append(self._render_ref({"rated_at": iso_ms(r["rated_at"]), "rating": r["rating"]},
                                        r["movie"], r["show"], r["ep"], r["season"]))
        return out

    def h_ratings(self, req, kind, ratings):
        wanted = {int(x) for x in ratings.split(",") if x} if ratings else None
        with self.lock:
            return json_response(self.render_ratings(kind, wanted))

    def h_ratings_add(self, req):
        def valid(item):
            r = item.get("rating")
            return isinstance(r, int) and not isinstance(r, bool) and 1 <= r <= 10
        body = req.json_object()
        with self.lock:
            items, nf = self._items_from_body(body, valid)
            added = {k: 0 for k in KINDS}
            t = now()
            for item, movie, show, ep, season in items:
                rated = parse_watched_at(item.get("rated_at"), t)
                self.ratings[self._item_key(movie, show, ep, season)] = {
                    "rating": item["rating"], "rated_at": rated, "movie": movie, "show": show,
                    "ep": ep, "season": season}
                kind = self._kind(movie, show, ep, season) + "s"
                added[kind] += 1
                self.activity[(kind if kind in ("movies", "shows", "episodes", "seasons")
                               else "movies", "rated_at")] = t
            return json_response({"added": added, "not_found": nf}, 201)

    def h_ratings_remove(self, req):
        body = req.json_object()
        with self.lock:
            items, nf = self._items_from_body(body)
            deleted = {k: 0 for k in KINDS}
            for _, movie, show, ep, season in items:
                key = self._item_key(movie, show, ep, season)
                if self.ratings.pop(key, None) is not None:
                    kind = self._kind(movie, show, ep, season) + "s"
                    deleted[kind] += 1
                    self.activity[(kind, "rated_at")] = now()
            return json_response({"deleted": deleted, "not_found": nf})

    def render_watchlist(self, kind):
        out = []
        for rank, w in enumerate(self.watchlist, 1):
            k = self._kind(w["movie"], w["show"], w["ep"], None)
            if kind and k + "s" != kind:
                continue
            out.append(self._render_ref({"rank": rank, "id": w["id"],
                                         "listed_at": iso_ms(w["listed_at"]),
                                         "notes": w["notes"]},
                                        w["movie"], w["show"], w["ep"], None))
        return out

    def h_watchlist(self, req, kind):
        with self.lock:
            return json_response(self.render_watchlist(kind))

    def _watchlist_summary(self):
        return {"updated_at": iso_ms(self.activity.get(("watchlist", "updated_at"), now())),
                "item_count": len(self.watchlist)}

    def h_watchlist_add(self, req):
        body = req.json_object()
        with self.lock:
            items, nf = self._items_from_body(body)
            added = {k: 0 for k in KINDS}
            existing = {k: 0 for k in KINDS}
            present = {id(w["movie"] or w["ep"] or w["show"]) for w in self.watchlist}
            cap = self.cfg.get("watchlist_cap", 0)
            new = {id(m or e or sh) for _, m, sh, e, se in items if se is None} - present
            if cap and len(self.watchlist) + len(new) > cap:
                # As Trakt: past the account's cap nothing of the call is applied.
                raise HttpError(420, {"error": "account limit exceeded"},
                                {"X-Account-Limit": str(cap),
                                 "X-Upgrade-URL": "https://trakt.tv/vip"})
            t = now()
            for item, movie, show, ep, season in items:
                kind = self._kind(movie, show, ep, season) + "s"
                if kind == "seasons":
                    nf["seasons"].append(item)
                    continue
                ref = movie or ep or show
                if id(ref) in present:
                    existing[kind] += 1
                    continue
                present.add(id(ref))
                self._watchlist_append(movie, show, ep, t, item.get("notes"))
                added[kind] += 1
                self.activity[(kind, "watchlisted_at")] = t
                self.activity[("watchlist", "updated_at")] = t
            return json_response({"added": added, "existing": existing, "not_found": nf,
                                  "list": self._watchlist_summary()}, 201)

    def h_watchlist_remove(self, req):
        body = req.json_object()
        with self.lock:
            items, nf = self._items_from_body(body)
            gone = {id(movie or ep or show): self._kind(movie, show, ep, season) + "s"
                    for _, movie, show, ep, season in items}
            deleted = {k: 0 for k in KINDS}
            keep = []
            for w in self.watchlist:
                kind = gone.get(id(w["movie"] or w["ep"] or w["show"]))
                if kind:
                    deleted[kind] += 1
                else:
                    keep.append(w)
            if len(keep) != len(self.watchlist):
                self.watchlist = keep
                self.activity[("watchlist", "updated_at")] = now()
            return json_response({"deleted": deleted, "not_found": nf,
                                  "list": self._watchlist_summary()})

    def render_playback(self, kind):
        out = []
        for p in sorted(self.playback, key=lambda p: p["paused_at"], reverse=True):
            k = self._kind(p["movie"], p["show"], p["ep"], None)
            if kind and k + "s" != kind:
                continue
            out.append(self._render_ref({"progress": p["progress"],
                                         "paused_at": iso_ms(p["paused_at"]), "id": p["id"]},
                                        p["movie"], p["show"], p["ep"], None))
        return out

    def h_playback(self, req, kind):
        with self.lock:
            return json_response(self.render_playback(kind))

    def h_playback_delete(self, req, pid):
        with self.lock:
            before = len(self.playback)
            self.playback = [p for p in self.playback if p["id"] != int(pid)]
            if len(self.playback) == before:
                raise HttpError(404, {"error": "no such playback"})
            self.activity[("movies", "paused_at")] = now()
        return empty_response(204)

    def h_scrobble_start(self, req):
        """POST /scrobble/start: "watching now" (kept in self.watching, logged)."""
        return self._scrobble(req, "start")

    def h_scrobble_stop(self, req):
        """POST /scrobble/stop: at 80 % or more a play at "now" (action "scrobble", with the
        history id and watched_at); under 80 % kept as a pause (a playback entry)."""
        return self._scrobble(req, "stop")

    def h_scrobble_pause(self, req):
        """POST /scrobble/pause {movie | episode | show+episode, progress}: the item's
        playback entry becomes this position, paused now (one entry per item)."""
        return self._scrobble(req, "pause")

    def c_scrobble_calls(self, req):
        """GET /_control/scrobble_calls: every scrobble call, in order."""
        with self.lock:
            self.use_account(req.query.get("account") or "")
            try:
                return json_response({"calls": list(self.scrobble_calls),
                                      "watching": self.watching})
            finally:
                self.use_account("")

    def _scrobble(self, req, action):
        body = req.json_object()
        progress = body.get("progress")
        if isinstance(progress, bool) or not isinstance(progress, (int, float)) \
                or not 0 <= progress <= 100:
            raise HttpError(422, {"error": "progress must be a number 0..100"})
        if isinstance(body.get("movie"), dict):
            ref = {"type": "movie", "movie": body["movie"]}
        elif isinstance(body.get("episode"), dict):
            ref = {"type": "episode", "episode": body["episode"], "show": body.get("show")}
        else:
            raise HttpError(400, {"error": "movie or episode required"})
        with self.lock:
            try:
                movie, show, ep = resolve_ref(self.catalog, ref)
            except (ValueError, AttributeError, TypeError):
                raise HttpError(404, {"error": "not found"})
            key = self._item_key(movie, show, ep)
            self.scrobble_calls.append({"action": action, "progress": progress,
                                        "item": list(key)})
            if action == "start":
                self.watching = list(key)
                out = self._render_ref({"id": 0, "action": "start", "progress": progress},
                                       movie, show, ep, None)
                out.pop("type", None)
                return json_response(out, 201)
            self.watching = None
            if action == "stop" and progress >= 80:
                t = now()
                self._append_play(t, "scrobble", movie, show, ep, t)
                self._history_changed(movie is not None, movie is None)
                play = self.history[-1]
                out = self._render_ref({"id": play.id, "action": "scrobble",
                                        "progress": progress,
                                        "watched_at": iso_ms(play.watched_at)},
                                       movie, show, ep, None)
                out.pop("type", None)
                return json_response(out, 201)
            ref_id = id(movie or ep)
            self.playback = [p for p in self.playback if id(p["movie"] or p["ep"]) != ref_id]
            pid = max([p["id"] for p in self.playback] + [0]) + 1
            t = now()
            self.playback.append({"id": pid, "progress": progress, "paused_at": t,
                                  "movie": movie, "show": show, "ep": ep})
            self.activity[("movies" if movie is not None else "episodes", "paused_at")] = t
            out = self._render_ref({"id": pid, "action": "pause", "progress": progress,
                                    "sharing": {"twitter": False, "tumblr": False}},
                                   movie, show, ep, None)
            out.pop("type", None)
            return json_response(out, 201)
