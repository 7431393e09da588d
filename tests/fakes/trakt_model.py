"""Data model behind the fake Trakt: the catalog (what Trakt knows, indexed by
every id kind), history plays, and the derived "watched" aggregates.

Catalog objects are shared, never copied: a play points at the catalog's
public dicts and JSON output reuses them as they are.
"""

from common import HttpError, iso_ms, parse_iso

MOVIE_ID_KINDS = ("trakt", "imdb", "tmdb", "slug")
SHOW_ID_KINDS = ("trakt", "tvdb", "imdb", "tmdb", "slug")
EPISODE_ID_KINDS = ("trakt", "tvdb", "imdb", "tmdb")
INT_ID_KINDS = {"trakt", "tmdb", "tvdb"}
HISTORY_ID_BASE = 9_000_000_000     # play ids exceed 32 bits: a trap for int32 parsers


def norm_id(kind, val):
    """Normalise an id for lookup; None when empty or of the wrong type."""
    if val is None or val == "" or isinstance(val, bool):
        return None
    if kind in INT_ID_KINDS:
        if isinstance(val, int):
            return val
        if isinstance(val, str) and val.isdigit():
            return int(val)
        return None
    return val if isinstance(val, str) else None


class ShowRec:
    """A show: pub = {title, year, ids}; seasons = {number: {episode number: ep}}
    where ep = {season, number, title, ids} (the public episode dict)."""
    __slots__ = ("pub", "seasons")

    def __init__(self, pub):
        self.pub = pub
        self.seasons = {}

    @property
    def key(self):
        return self.pub["ids"]["trakt"]


class Catalog:
    def __init__(self, movies, shows):
        self.movies = []
        self.shows = []
        self.movie_idx = {k: {} for k in MOVIE_ID_KINDS}
        self.show_idx = {k: {} for k in SHOW_ID_KINDS}
        self.ep_idx = {k: {} for k in EPISODE_ID_KINDS}
        for m in movies:
            if not isinstance(m, dict) or not isinstance(m.get("ids"), dict) \
                    or norm_id("trakt", m["ids"].get("trakt")) is None:
                raise ValueError("catalog movie needs ids.trakt: %r" % (m,))
            pub = {"title": m.get("title"), "year": m.get("year"), "ids": m["ids"]}
            self.movies.append(pub)
            self._index(self.movie_idx, MOVIE_ID_KINDS, pub["ids"], pub)
        for s in shows:
            if not isinstance(s, dict) or not isinstance(s.get("ids"), dict) \
                    or norm_id("trakt", s["ids"].get("trakt")) is None:
                raise ValueError("catalog show needs ids.trakt: %r" % (s,))
            rec = ShowRec({"title": s.get("title"), "year": s.get("year"), "ids": s["ids"]})
            self.shows.append(rec)
            self._index(self.show_idx, SHOW_ID_KINDS, rec.pub["ids"], rec)
            for season in s.get("seasons", []):
                num = season["number"]
                eps = rec.seasons.setdefault(num, {})
                for e in season.get("episodes", []):
                    ep = {"season": num, "number": e["number"], "title": e.get("title"),
                          "ids": e.get("ids") or {}}
                    eps[e["number"]] = ep
                    self._index(self.ep_idx, EPISODE_ID_KINDS, ep["ids"], (rec, ep))

    @staticmethod
    def _index(idx, kinds, ids, value):
        for kind in kinds:
            v = norm_id(kind, ids.get(kind))
            if v is not None:
                idx[kind].setdefault(v, value)

    @staticmethod
    def _find(idx, kinds, ids):
        if not isinstance(ids, dict):
            return None
        for kind in kinds:
            v = norm_id(kind, ids.get(kind))
            if v is not None:
                hit = idx[kind].get(v)
                if hit is not None:
                    return hit
        return None

    def find_movie(self, ids):
        return self._find(self.movie_idx, MOVIE_ID_KINDS, ids)

    def find_show(self, ids):
        return self._find(self.show_idx, SHOW_ID_KINDS, ids)

    def find_episode(self, ids):
        return self._find(self.ep_idx, EPISODE_ID_KINDS, ids)

    def to_json(self):
        return {"movies": self.movies,
                "shows": [dict(rec.pub, seasons=[
                    {"number": n, "episodes": [{"number": e["number"], "title": e["title"],
                                                "ids": e["ids"]}
                                               for _, e in sorted(eps.items())]}
                    for n, eps in sorted(rec.seasons.items())]) for rec in self.shows]}

    def counts(self):
        return {"movies": len(self.movies), "shows": len(self.shows),
                "episodes": sum(len(e) for rec in self.shows for e in rec.seasons.values())}


# ==== Plays ====================================================================


class Play:
    __slots__ = ("id", "watched_at", "action", "movie", "show", "ep", "added_at")

    def __init__(self, pid, watched_at, action, movie=None, show=None, ep=None, added_at=0.0):
        self.id = pid
        self.watched_at = int(watched_at) // 60 * 60     # Trakt keeps minutes only
        self.action = action
        self.movie = movie
        self.show = show
        self.ep = ep
        self.added_at = added_at

    @property
    def kind(self):
        return "movie" if self.movie is not None else "episode"

    def render(self):
        if self.movie is not None:
            return {"id": self.id, "watched_at": iso_ms(self.watched_at),
                    "action": self.action, "type": "movie", "movie": self.movie}
        return {"id": self.id, "watched_at": iso_ms(self.watched_at), "action": self.action,
                "type": "episode", "episode": self.ep, "show": self.show.pub}


def resolve_ref(catalog, entry):
    """A corpus/state reference {type, movie|show+episode} -> (movie, show, ep).

    Episodes may be given as episode.ids or as show.ids + episode.season/number.
    Raises ValueError when the catalog does not know the item.
    """
    kind = entry.get("type")
    if kind == "movie":
        m = catalog.find_movie((entry.get("movie") or {}).get("ids"))
        if m is None:
            raise ValueError("unknown movie %r" % (entry.get("movie"),))
        return m, None, None
    if kind == "episode":
        epd = entry.get("episode") or {}
        hit = catalog.find_episode(epd.get("ids"))
        if hit is None:
            show = catalog.find_show((entry.get("show") or {}).get("ids"))
            ep = show and show.seasons.get(epd.get("season"), {}).get(epd.get("number"))
            if not ep:
                raise ValueError("unknown episode %r / %r" % (entry.get("show"), epd))
            return None, show, ep
        return None, hit[0], hit[1]
    if kind == "show":
        show = catalog.find_show((entry.get("show") or {}).get("ids"))
        if show is None:
            raise ValueError("unknown show %r" % (entry.get("show"),))
        return None, show, None
    raise ValueError("type must be movie, show or episode: %r" % (kind,))


def parse_watched_at(val, default):
    """watched_at from a request: ISO string -> epoch; missing -> default."""
    if val is None:
        return default
    try:
        return parse_iso(val)
    except ValueError:
        raise HttpError(400, {"error": "invalid watched_at", "value": val})


# ==== Watched aggregates =========================================================


def watched_movies(history):
    agg = {}
    for p in history:
        if p.movie is None:
            continue
        a = agg.get(id(p.movie))
        if a is None:
            agg[id(p.movie)] = [1, p.watched_at, p.added_at, p.movie]
        else:
            a[0] += 1
            a[1] = max(a[1], p.watched_at)
            a[2] = max(a[2], p.added_at)
    rows = sorted(agg.values(), key=lambda a: (a[1], a[3]["ids"]["trakt"]), reverse=True)
    return [{"plays": a[0], "last_watched_at": iso_ms(a[1]), "last_updated_at": iso_ms(a[2]),
             "movie": a[3]} for a in rows]


def watched_shows(history, with_seasons):
    agg = {}
    for p in history:
        if p.show is None:
            continue
        a = agg.get(id(p.show))
        if a is None:
            a = agg[id(p.show)] = {"plays": 0, "last": 0, "upd": 0.0, "rec": p.show, "eps": {}}
        a["plays"] += 1
        a["last"] = max(a["last"], p.watched_at)
        a["upd"] = max(a["upd"], p.added_at)
        key = (p.ep["season"], p.ep["number"])
        e = a["eps"].get(key)
        if e is None:
            a["eps"][key] = [1, p.watched_at]
        else:
            e[0] += 1
            e[1] = max(e[1], p.watched_at)
    rows = sorted(agg.values(), key=lambda a: (a["last"], a["rec"].key), reverse=True)
    out = []
    for a in rows:
        row = {"plays": a["plays"], "last_watched_at": iso_ms(a["last"]),
               "last_updated_at": iso_ms(a["upd"]), "reset_at": None, "show": a["rec"].pub}
        if with_seasons:
            seasons = {}
            for (s, n), (plays, last) in sorted(a["eps"].items()):
                seasons.setdefault(s, []).append({"number": n, "plays": plays,
                                                  "last_watched_at": iso_ms(last)})
            row["seasons"] = [{"number": s, "episodes": eps} for s, eps in seasons.items()]
        out.append(row)
    return out
