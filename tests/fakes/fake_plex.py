"""Fake Plex Media Server.

Traps it keeps from the real PMS: XML unless 'Accept: application/json';
401 (HTML body) without a valid X-Plex-Token; 'Metadata' absent from empty
containers; paging by X-Plex-Container-Start/Size with optional short pages
(state max_page); Guid arrays only with includeGuids=1; viewCount and
lastViewedAt absent when unwatched; scrobble stamps "now" (the watched date
cannot be set); raw filter operators such as 'lastViewedAt>>=EPOCH'.
"""

import threading
from xml.sax.saxutils import escape, quoteattr

from common import (FakeApp, HttpError, Response, check_keys, empty_response, json_response,
                    now, want_int, want_str)

DEFAULT_TOKEN = "plex-token-1"
LIBRARY_ID = "com.plexapp.plugins.library"
MACHINE_ID = "fa4e00000000000000000000000000000000beef"
TYPE_NUM = {"movie": 1, "show": 2, "season": 3, "episode": 4}
SECTION_DEFAULT_TYPE = {"movie": 1, "show": 2, "artist": 8, "photo": 13}
FILTER_FIELDS = {"viewCount", "lastViewedAt", "updatedAt", "addedAt", "year", "viewOffset",
                 "userRating", "viewedAt", "librarySectionID", "duration", "lastRatedAt"}
MAX_FILTER_CACHE = 64
# A person's own state of an item: each Plex user of the server has their own (per token).
PERSONAL_FIELDS = ("viewCount", "lastViewedAt", "viewOffset", "userRating", "lastRatedAt")
UNAUTHORIZED_HTML = ("<html><head><title>Unauthorized</title></head>"
                     "<body><h1>401 Unauthorized</h1></body></html>")


# ==== XML rendering (PMS default) ============================================


def _xml_tag(list_key, el):
    if list_key == "Metadata":
        t = el.get("type")
        if t in ("movie", "episode", "clip"):
            return "Video"
        if t == "track":
            return "Track"
        return "Directory"
    return list_key


def xml_render(tag, obj, out):
    """Append '<tag attr=.../>' for a JSON-ish dict: scalars become attributes,
    lists of dicts become child elements (Metadata -> Video/Directory)."""
    attrs, children = [], []
    for k, v in obj.items():
        if isinstance(v, list):
            children.append((k, v))
        elif isinstance(v, dict):
            children.append((k, [v]))
        elif v is None:
            continue
        elif isinstance(v, bool):
            attrs.append(' %s="%d"' % (k, v))
        else:
            attrs.append(" %s=%s" % (k, quoteattr(str(v))))
    out.append("<%s%s" % (tag, "".join(attrs)))
    if not children:
        out.append("/>\n")
        return
    out.append(">\n")
    for k, lst in children:
        for el in lst:
            if isinstance(el, dict):
                xml_render(_xml_tag(k, el), el, out)
            else:
                out.append("<%s>%s</%s>\n" % (k, escape(str(el)), k))
    out.append("</%s>\n" % tag)


def xml_response(tag, obj, status=200, headers=None):
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n']
    xml_render(tag, obj, out)
    return Response(status, "".join(out), "text/xml;charset=utf-8", headers)


# ==== Shared token store (PMS + plex.tv live in one process) ================


class PlexAuth:
    """Tokens the fake PMS accepts: the configured one and every token the
    fake plex.tv issued through its PIN flow, and the server tokens of the other
    people of the server (user_tokens: token -> their plex.tv user id, set by the fake
    plex.tv's household).  account_tokens: the plex.tv account tokens the fake plex.tv's
    switch minted (token -> plex.tv user id); the fake discover service takes them (and the
    owner's tokens), never a server token."""

    OWNER = "owner"     # account_of(): the owner's plex.tv account

    def __init__(self):
        self.lock = threading.Lock()
        self.configured = DEFAULT_TOKEN
        self.issued = set()
        self.user_tokens = {}
        self.account_tokens = {}

    def valid(self, token):
        with self.lock:
            return bool(token) and (token == self.configured or token in self.issued
                                    or token in self.user_tokens)

    def account_of(self, token):
        """Whose plex.tv account a token opens on plex.tv's own services: OWNER for the
        configured and issued tokens, a switched person's user id for their account token,
        None otherwise (a server token is no plex.tv account token)."""
        with self.lock:
            if not token:
                return None
            if token in self.account_tokens:
                return self.account_tokens[token]
            if token == self.configured or token in self.issued:
                return self.OWNER
            return None

    def user_of(self, token):
        """The plex.tv user id a server token belongs to; None for the owner's."""
        with self.lock:
            return self.user_tokens.get(token)


def request_token(req):
    return req.header("X-Plex-Token") or req.query.get("X-Plex-Token")


# ==== Filters ================================================================


def parse_filters(req):
    """Plex listing filters from the raw query -> [(field, op, int)].

    'viewCount>=1' arrives as key 'viewCount>' value '1'; 'a>>=5' as 'a>>' '5'.
    Operators: >= (from '>' or '>>'), <= (from '<' or '<<'), != and ==.
    """
    out = []
    for key, val in req.query_pairs:
        field = key.rstrip("<>!")
        suffix = key[len(field):]
        if field not in FILTER_FIELDS:
            if field == "unwatched" and val in ("1", "true"):
                out.append(("viewCount", "==", 0))
            continue
        op = {"": "==", ">": ">=", ">>": ">=", "<": "<=", "<<": "<=", "!": "!="}.get(suffix)
        if op is None:
            raise HttpError(400, {"error": "bad filter operator", "key": key})
        try:
            num = int(val)
        except ValueError:
            raise HttpError(400, {"error": "filter value must be an integer", "key": key})
        out.append((field, op, num))
    return out


def _match(it, filters):
    for field, op, num in filters:
        v = it.get(field)
        if v is None and field in ("viewCount", "viewOffset"):
            v = 0
        if v is None:
            if op != "!=":
                return False
            continue
        v = float(v)
        if (op == "==" and v != num) or (op == ">=" and v < num) or \
                (op == "<=" and v > num) or (op == "!=" and v == num):
            return False
    return True


# ==== The server =============================================================


class FakePlex(FakeApp):
    name = "plex"
    malformed_body = (b'{"MediaContainer":{"size":3,"totalSize":3,"offset":0,'
                      b'"Metadata":[{"ratingKey":"1","title":"Trunc')
    oversized_prefix = b'{"MediaContainer":{"size":0,"totalSize":0,"offset":0,"padding":"'
    oversized_suffix = b'"}}'

    def __init__(self, factory, corpus, auth, verbose=False):
        super().__init__(verbose)
        self.factory = factory
        self.auth = auth
        r = self.router
        r.add("GET", r"/identity", self.h_identity)
        r.add("GET", r"/", self.authed(self.h_root))
        r.add("GET", r"/library/sections/?", self.authed(self.h_sections))
        r.add("GET", r"/library/sections/([^/]+)/all", self.authed(self.h_all))
        r.add("GET", r"/library/sections/([^/]+)/allLeaves", self.authed(self.h_all_leaves))
        r.add("GET", r"/library/all", self.authed(self.h_library_all))
        r.add("GET", r"/library/metadata/([^/]+)", self.authed(self.h_metadata))
        r.add("GET", r"/library/metadata/([^/]+)/allLeaves", self.authed(self.h_show_leaves))
        r.add("GET", r"/hubs/continueWatching/items", self.authed(self.h_continue))
        r.add("GET", r"/library/onDeck", self.authed(self.h_continue))
        r.add("GET PUT", r"/:/scrobble", self.authed(self.h_scrobble))
        r.add("GET PUT", r"/:/unscrobble", self.authed(self.h_unscrobble))
        r.add("GET PUT", r"/:/rate", self.authed(self.h_rate))
        r.add("GET PUT", r"/:/progress", self.authed(self.h_progress))
        r.add("GET", r"/library/sections/([^/]+)/collections", self.authed(self.h_collections))
        r.add("POST", r"/library/collections", self.authed(self.h_collection_create))
        r.add("GET", r"/library/collections/([^/]+)/children",
              self.authed(self.h_collection_children))
        r.add("PUT", r"/library/collections/([^/]+)/items", self.authed(self.h_collection_add))
        r.add("DELETE", r"/library/collections/([^/]+)/items/([^/]+)",
              self.authed(self.h_collection_remove))
        r.add("GET", r"/status/sessions/history/all", self.authed(self.h_history))
        r.add("GET", r"/status/sessions", self.authed(self.h_sessions))
        c = self.control_router
        c.add("GET", r"/_control/scrobbles", self.c_scrobbles)
        c.add("POST", r"/_control/scrobbles/reset", self.c_scrobbles_reset)
        c.add("GET POST", r"/_control/sessions", self.c_sessions)
        c.add("POST", r"/_control/viewed", self.c_viewed)
        self.load(corpus)

    # ---- state ------------------------------------------------------------

    def load(self, corpus):
        with self.lock:
            plex = corpus["plex"]
            with self.auth.lock:
                self.auth.configured = plex.get("token", DEFAULT_TOKEN)
            self.max_page = plex.get("max_page", 0)
            self.sections = [dict(s) for s in plex["sections"]]
            self.items = {}
            self.order = []
            for it in plex["items"]:
                self.items[it["ratingKey"]] = it
                self.order.append(it)
            self._add_seasons()
            self.scrobbles, self.unscrobbles, self.rates, self.progress = [], [], [], []
            self.sessions = []         # streams playing now, set by the test (c_sessions)
            # Other people's own state: {user id: {ratingKey: {PERSONAL_FIELDS...}}}, and
            # what they marked through the API ([{user, action, ratingKey, rating?}]).
            self.user_views = {}
            self.user_marks = []
            self.session_polls = 0
            self._set_collections(plex.get("collections", []))
            self.plays = []
            for it in sorted((i for i in self.order if i.get("viewCount")),
                             key=lambda i: i.get("lastViewedAt", 0)):
                for k in range(int(it["viewCount"]) - 1, -1, -1):
                    self._add_play(it, it.get("lastViewedAt", 0) - k * 30 * 86400)
            self.plays.sort(key=lambda p: p["viewedAt"])
            self._reindex()

    def reset(self):
        self.load(self.factory())

    def _add_seasons(self):
        """As the real PMS: each season of a show is an item (type 3, rateable), here made
        from its episodes' parentRatingKey and parentIndex when the corpus has none."""
        for ep in [i for i in self.order if i["type"] == "episode"]:
            rk, show = ep.get("parentRatingKey"), self.items.get(ep.get("grandparentRatingKey"))
            if not rk or rk in self.items or show is None or ep.get("parentIndex") is None:
                continue
            n = ep["parentIndex"]
            season = {"ratingKey": rk, "key": "/library/metadata/%s/children" % rk,
                      "type": "season", "title": "Specials" if n == 0 else "Season %d" % n,
                      "index": n, "parentRatingKey": show["ratingKey"],
                      "parentGuid": show.get("guid"), "parentTitle": show.get("title"),
                      "librarySectionID": show["librarySectionID"],
                      "librarySectionTitle": show.get("librarySectionTitle"),
                      "librarySectionKey": show.get("librarySectionKey"),
                      "addedAt": ep.get("addedAt"), "updatedAt": ep.get("updatedAt")}
            self.items[rk] = season
            self.order.append(season)

    def _reindex(self):
        self.by_section = {}
        self.episodes_of = {}
        for it in self.order:
            key = (str(it["librarySectionID"]), TYPE_NUM[it["type"]])
            self.by_section.setdefault(key, []).append(it)
            if it["type"] == "episode":
                self.episodes_of.setdefault(it.get("grandparentRatingKey"), []).append(it)
        self.version = getattr(self, "version", 0) + 1
        self.fcache = {}

    def _changed(self):
        self.version += 1
        self.fcache = {}

    def _add_play(self, it, when):
        self.plays.append({"id": len(self.plays) + 1, "ratingKey": it["ratingKey"],
                           "viewedAt": int(when)})

    def get_state(self, req):
        with self.lock:
            st = {"token": self.auth.configured, "max_page": self.max_page,
                  "sections": self.sections, "issued_tokens": sorted(self.auth.issued)}
            if req.query.get("items") != "0":
                keys = req.query.get("ratingKeys")
                if keys:
                    st["items"] = [self.items[k] for k in keys.split(",") if k in self.items]
                else:
                    st["items"] = self.order
            st["plays"] = self.plays if req.query.get("plays") == "1" else len(self.plays)
            st["collections"] = self.collections
            st["user_views"] = self.user_views
            st["user_marks"] = self.user_marks
            return json_response(st)   # serialised under the lock

    def set_state(self, patch):
        check_keys(patch, {"token", "max_page", "sections", "items", "update_items", "plays",
                           "collections", "user_views"})
        if "user_views" in patch:
            uv = patch["user_views"]
            if not isinstance(uv, dict) or not all(
                    isinstance(v, dict) and all(isinstance(f, dict) and
                                                set(f) <= set(PERSONAL_FIELDS)
                                                for f in v.values()) for v in uv.values()):
                raise HttpError(400, {"error": "user_views: {user id: {ratingKey: "
                                               "{viewCount, lastViewedAt, userRating...}}}"})
            self.user_views = {str(u): {rk: dict(f) for rk, f in v.items()}
                               for u, v in uv.items()}
        if "token" in patch:
            tok = want_str(patch, "token")
            with self.auth.lock:
                self.auth.configured = tok
        if "max_page" in patch:
            self.max_page = want_int(patch, "max_page", 0)
        if "sections" in patch:
            secs = patch["sections"]
            if not isinstance(secs, list) or not all(
                    isinstance(s, dict) and isinstance(s.get("key"), str)
                    and isinstance(s.get("type"), str) and isinstance(s.get("title"), str)
                    for s in secs):
                raise HttpError(400, {"error": "sections: list of {key, title, type}"})
            self.sections = [dict(s) for s in secs]
        if "items" in patch:
            items = patch["items"]
            if not isinstance(items, list):
                raise HttpError(400, {"error": "items must be a list"})
            keys = {int(s["key"]) for s in self.sections if s["key"].isdigit()}
            for it in items:
                if not isinstance(it, dict) or not isinstance(it.get("ratingKey"), str) \
                        or it.get("type") not in TYPE_NUM or it.get("librarySectionID") not in keys:
                    raise HttpError(400, {"error": "bad item (ratingKey str, type, "
                                                   "librarySectionID of a section)"})
            self.items = {it["ratingKey"]: it for it in items}
            self.order = list(self.items.values())
            self._add_seasons()
        if "update_items" in patch:
            ups = patch["update_items"]
            if not isinstance(ups, list) or not all(isinstance(u, dict) and
                                                    u.get("ratingKey") in self.items for u in ups):
                raise HttpError(400, {"error": "update_items: list of {ratingKey of an "
                                               "existing item, field: value|null}"})
            for u in ups:
                it = self.items[u["ratingKey"]]
                # A new rating or resume point stands for one set in a Plex app: it is dated
                # now (lastRatedAt, lastViewedAt) unless the update dates it itself.
                t = int(now())
                if u.get("userRating") is not None and "lastRatedAt" not in u and \
                        u["userRating"] != it.get("userRating"):
                    it["lastRatedAt"] = t
                if u.get("viewOffset") is not None and "lastViewedAt" not in u and \
                        u["viewOffset"] != it.get("viewOffset"):
                    it["lastViewedAt"] = t
                for k, v in u.items():
                    if k in ("ratingKey", "type", "librarySectionID"):
                        continue
                    if v is None:
                        it.pop(k, None)
                    else:
                        it[k] = v
        if "collections" in patch:
            self._set_collections(patch["collections"])
        if "plays" in patch:
            plays = patch["plays"]
            if not isinstance(plays, list) or not all(
                    isinstance(p, dict) and p.get("ratingKey") in self.items
                    and isinstance(p.get("viewedAt"), int) for p in plays):
                raise HttpError(400, {"error": "plays: list of {ratingKey, viewedAt}"})
            self.plays = []
            for p in sorted(plays, key=lambda p: p["viewedAt"]):
                self._add_play(self.items[p["ratingKey"]], p["viewedAt"])
        self._reindex()

    # ---- helpers ------------------------------------------------------------

    def authed(self, handler):
        def wrapped(req, *args):
            if not self.auth.valid(request_token(req)):
                raise HttpError(401, UNAUTHORIZED_HTML, ctype="text/html")
            return handler(req, *args)
        return wrapped

    def viewer(self, req):
        """Whose token this is: None for the owner, else a plex.tv user id."""
        return self.auth.user_of(request_token(req))

    def personal(self, uid, it):
        """The item as person uid sees it: their own view and rating fields."""
        if uid is None:
            return it
        d = {k: v for k, v in it.items() if k not in PERSONAL_FIELDS}
        d.update(self.user_views.get(uid, {}).get(it["ratingKey"], {}))
        return d

    def mine(self, uid, it):
        """The dict to change for person uid's own state of it."""
        if uid is None:
            return it
        return self.user_views.setdefault(uid, {}).setdefault(it["ratingKey"], {})

    def reply(self, req, container, headers=None):
        if req.wants_json():
            return json_response({"MediaContainer": container}, headers=headers)
        return xml_response("MediaContainer", container, headers=headers)

    def render(self, it, include_guids):
        d = dict(it)
        if not include_guids:
            d.pop("Guid", None)
        if it["type"] == "show":
            eps = self.episodes_of.get(it["ratingKey"], ())
            d["leafCount"] = len(eps)
            d["viewedLeafCount"] = sum(1 for e in eps if e.get("viewCount"))
            d["childCount"] = len({e.get("parentIndex") for e in eps})
        return d

    def section(self, key):
        for s in self.sections:
            if s["key"] == key:
                return s
        raise HttpError(404, {"error": "no such library section"})

    def paging(self, req):
        def get(name):
            raw = req.header(name)
            if raw is None:
                raw = req.query.get(name)
            if raw is None or raw == "":
                return None
            try:
                val = int(raw)
            except ValueError:
                raise HttpError(400, {"error": "%s must be an integer" % name})
            if val < 0:
                raise HttpError(400, {"error": "%s must be >= 0" % name})
            return val
        return get("X-Plex-Container-Start") or 0, get("X-Plex-Container-Size")

    def page_reply(self, req, lst, extra, include_guids):
        """Slice lst by the paging request, honour max_page, render."""
        start, size = self.paging(req)
        total = len(lst)
        n = max(0, total - start) if size is None else min(size, max(0, total - start))
        if self.max_page and n > self.max_page:
            n = self.max_page
        mc = {"size": n, "totalSize": total, "offset": start, "allowSync": True,
              "identifier": LIBRARY_ID}
        mc.update(extra)
        if n:
            mc["Metadata"] = [self.render(it, include_guids) for it in lst[start:start + n]]
        return self.reply(req, mc, {"X-Plex-Container-Start": str(start),
                                    "X-Plex-Container-Total-Size": str(total)})

    def cached(self, key, build):
        hit = self.fcache.get(key)
        if hit is not None:
            return hit
        if len(self.fcache) >= MAX_FILTER_CACHE:
            self.fcache = {}
        val = self.fcache[key] = build()
        return val

    def item_or_404(self, rk):
        it = self.items.get(rk)
        if it is None:
            raise HttpError(404, {"error": "no such item"})
        return it

    def lib_key(self, req):
        if req.query.get("identifier") != LIBRARY_ID:
            raise HttpError(400, {"error": "identifier must be " + LIBRARY_ID})
        rk = req.query.get("key")
        if not rk:
            raise HttpError(400, {"error": "key (ratingKey) required"})
        return rk

    # ---- handlers -------------------------------------------------------------

    def h_identity(self, req):
        return self.reply(req, {"size": 0, "claimed": True, "machineIdentifier": MACHINE_ID,
                                "version": "1.40.0.7998-fake"})

    def h_root(self, req):
        return self.reply(req, {"size": 0, "friendlyName": "Fake PMS",
                                "machineIdentifier": MACHINE_ID,
                                "version": "1.40.0.7998-fake", "myPlex": True,
                                "platform": "Linux"})

    def h_sections(self, req):
        with self.lock:
            dirs = []
            for s in self.sections:
                d = {"allowSync": True, "art": "/:/resources/%s-fanart.jpg" % s["type"],
                     "composite": "/library/sections/%s/composite/1700000000" % s["key"],
                     "filters": True, "refreshing": False,
                     "thumb": "/:/resources/%s.png" % s["type"], "key": s["key"],
                     "type": s["type"], "title": s["title"],
                     "agent": s.get("agent", "tv.plex.agents.movie"),
                     "scanner": s.get("scanner", "Plex Movie"),
                     "language": s.get("language", "en-US"), "uuid": s.get("uuid", ""),
                     "updatedAt": 1700000000, "createdAt": 1600000000,
                     "scannedAt": 1700000000, "content": True, "directory": True,
                     "contentChangedAt": 1234, "hidden": 0,
                     "Location": [{"id": int(s["key"]) if s["key"].isdigit() else 0,
                                   "path": "/data/%s" % s["title"]}]}
                dirs.append(d)
            return self.reply(req, {"size": len(dirs), "allowSync": False,
                                    "title1": "Plex Library", "Directory": dirs})

    def _listing(self, req, key, typenum):
        filters = parse_filters(req)
        include_guids = req.query.get("includeGuids") == "1"
        uid = self.viewer(req)
        with self.lock:
            sec = self.section(key)
            if typenum is None:
                typenum = SECTION_DEFAULT_TYPE.get(sec["type"], 1)
            base = self.by_section.get((key, typenum), [])
            if uid is not None:
                lst = [it for it in (self.personal(uid, i) for i in base)
                       if _match(it, filters)]
            elif filters:
                lst = self.cached(("list", key, typenum, tuple(filters)),
                                  lambda: [it for it in base if _match(it, filters)])
            else:
                lst = base
            extra = {"librarySectionID": int(key) if key.isdigit() else key,
                     "librarySectionTitle": sec["title"],
                     "librarySectionUUID": sec.get("uuid", ""), "title1": sec["title"],
                     "viewGroup": {1: "movie", 2: "show", 4: "episode"}.get(typenum, "")}
            return self.page_reply(req, lst, extra, include_guids)

    def h_all(self, req, key):
        typenum = req.qint("type", None, 1, 99)
        return self._listing(req, key, typenum)

    def h_library_all(self, req):
        """Items of one type in every section (python-plexapi's Library.search): type is
        required here; filters and paging as in a section listing."""
        typenum = req.qint("type", None, 1, 99)
        if typenum is None:
            raise HttpError(400, {"error": "type required"})
        filters = parse_filters(req)
        with self.lock:
            def build():
                return [it for it in self.order if TYPE_NUM[it["type"]] == typenum
                        and _match(it, filters)]
            lst = self.cached(("all", typenum, tuple(filters)), build)
            return self.page_reply(req, lst, {"title1": "All", "viewGroup": {
                1: "movie", 2: "show", 4: "episode"}.get(typenum, "")},
                req.query.get("includeGuids") == "1")

    def h_all_leaves(self, req, key):
        return self._listing(req, key, 4)

    def h_metadata(self, req, rks):
        include_guids = True   # PMS sends Guid[] on single-item fetches
        uid = self.viewer(req)
        with self.lock:
            out = [self.render(self.personal(uid, self.item_or_404(rk)), include_guids)
                   for rk in rks.split(",")]
            mc = {"size": len(out), "allowSync": True, "identifier": LIBRARY_ID,
                  "Metadata": out}
            if out:
                mc["librarySectionID"] = out[0]["librarySectionID"]
                mc["librarySectionTitle"] = out[0].get("librarySectionTitle")
            return self.reply(req, mc)

    def h_show_leaves(self, req, rk):
        with self.lock:
            show = self.item_or_404(rk)
            if show["type"] != "show":
                raise HttpError(400, {"error": "not a show"})
            eps = self.episodes_of.get(rk, [])
            return self.page_reply(req, eps, {"key": rk, "title1": show["title"],
                                              "viewGroup": "episode"},
                                   req.query.get("includeGuids") == "1")

    def h_continue(self, req):
        uid = self.viewer(req)
        with self.lock:
            def build():
                lst = [it for it in (self.personal(uid, i) for i in self.order)
                       if it["type"] != "show"
                       and it.get("viewOffset", 0) > 0
                       and (not it.get("duration") or it["viewOffset"] < it["duration"])]
                lst.sort(key=lambda i: i.get("lastViewedAt") or i.get("updatedAt") or 0,
                         reverse=True)
                return lst
            lst = self.cached(("continue",), build) if uid is None else build()
            return self.page_reply(req, lst, {"hubKey": "/hubs/continueWatching/items",
                                              "title1": "Continue Watching"},
                                   req.query.get("includeGuids") == "1")

    def _targets(self, it):
        if it["type"] == "show":
            return list(self.episodes_of.get(it["ratingKey"], []))
        return [it]

    def h_scrobble(self, req):
        rk = self.lib_key(req)
        uid = self.viewer(req)
        with self.lock:
            it = self.item_or_404(rk)
            t = int(now())
            for target in self._targets(it):
                m = self.mine(uid, target)
                m["viewCount"] = int(m.get("viewCount", 0)) + 1
                m["lastViewedAt"] = t
                m.pop("viewOffset", None)
                if uid is None:
                    self._add_play(target, t)
            if uid is None:
                self.scrobbles.append(rk)
            else:
                self.user_marks.append({"user": uid, "action": "scrobble", "ratingKey": rk})
            self._changed()
        return empty_response(200)

    def h_unscrobble(self, req):
        rk = self.lib_key(req)
        uid = self.viewer(req)
        with self.lock:
            it = self.item_or_404(rk)
            for target in self._targets(it):
                m = self.mine(uid, target)
                for k in ("viewCount", "lastViewedAt", "viewOffset"):
                    m.pop(k, None)
            if uid is None:
                self.unscrobbles.append(rk)
            else:
                self.user_marks.append({"user": uid, "action": "unscrobble", "ratingKey": rk})
            self._changed()
        return empty_response(200)

    def h_rate(self, req):
        rk = self.lib_key(req)
        raw = req.query.get("rating")
        try:
            rating = float(raw)
        except (TypeError, ValueError):
            raise HttpError(400, {"error": "rating must be a number 0..10 (-1 clears)"})
        if rating != -1 and not 0 <= rating <= 10:
            raise HttpError(400, {"error": "rating must be 0..10 (-1 clears)"})
        uid = self.viewer(req)
        with self.lock:
            it = self.mine(uid, self.item_or_404(rk))
            if rating == -1:
                it.pop("userRating", None)
                it.pop("lastRatedAt", None)
            else:
                it["userRating"] = rating
                it["lastRatedAt"] = int(now())
            if uid is None:
                self.rates.append({"ratingKey": rk, "rating": rating})
            else:
                self.user_marks.append({"user": uid, "action": "rate", "ratingKey": rk,
                                        "rating": rating})
            self._changed()
        return empty_response(200)

    def h_progress(self, req):
        """Resume point: viewOffset = time (ms); 0 clears it; lastViewedAt = now. The watched
        state (viewCount) is not touched."""
        rk = self.lib_key(req)
        try:
            t = int(req.query.get("time", ""))
        except ValueError:
            raise HttpError(400, {"error": "time (ms) must be an integer"})
        if t < 0:
            raise HttpError(400, {"error": "time must be >= 0"})
        uid = self.viewer(req)
        with self.lock:
            it = self.mine(uid, self.item_or_404(rk))
            if t == 0:
                it.pop("viewOffset", None)
            else:
                it["viewOffset"] = t
            # As the real PMS: a reported position is a viewing, lastViewedAt moves.
            it["lastViewedAt"] = int(now())
            self.progress.append({"ratingKey": rk, "time": t,
                                  "state": req.query.get("state")})
            self._changed()
        return empty_response(200)

    # ---- collections (a Plex watchlist stand-in: a named collection per section) --------

    def _set_collections(self, cols):
        """[{ratingKey?, title, librarySectionID, items: [rk]}] -> self.collections."""
        if not isinstance(cols, list) or not all(
                isinstance(c, dict) and isinstance(c.get("title"), str)
                and isinstance(c.get("librarySectionID"), int)
                and isinstance(c.get("items", []), list) for c in cols):
            raise HttpError(400, {"error": "collections: list of {title, librarySectionID, "
                                           "items: [ratingKey]}"})
        self.collections = []
        self.next_collection = 900000
        for c in cols:
            self._new_collection(c["title"], c["librarySectionID"], c.get("items", []),
                                 c.get("ratingKey"))

    def _new_collection(self, title, section, items, rk=None):
        sec = self.section(str(section))
        if rk is None:
            self.next_collection += 1
            rk = str(self.next_collection)
        col = {"ratingKey": str(rk), "title": title, "librarySectionID": int(section),
               "subtype": "show" if sec["type"] == "show" else "movie",
               "addedAt": int(now()), "items": []}
        self.collections.append(col)
        self._collection_add(col, items)
        return col

    def _collection_add(self, col, rks):
        for rk in rks:
            it = self.items.get(str(rk))
            if it is None or it["librarySectionID"] != col["librarySectionID"] \
                    or it["type"] != col["subtype"]:
                raise HttpError(400, {"error": "item %s cannot join this collection" % rk})
            if str(rk) not in col["items"]:
                col["items"].append(str(rk))

    def _collection_or_404(self, rk):
        for c in self.collections:
            if c["ratingKey"] == rk:
                return c
        raise HttpError(404, {"error": "no such collection"})

    @staticmethod
    def _uri_keys(uri):
        """server://<machine>/com.plexapp.plugins.library/library/metadata/1,2 -> [1, 2]."""
        prefix = "server://%s/%s/library/metadata/" % (MACHINE_ID, LIBRARY_ID)
        if not uri or not uri.startswith(prefix):
            raise HttpError(400, {"error": "uri must be " + prefix + "RK[,RK...]"})
        keys = [k for k in uri[len(prefix):].split(",") if k]
        if not keys:
            raise HttpError(400, {"error": "uri names no item"})
        return keys

    def _render_collection(self, c):
        return {"ratingKey": c["ratingKey"], "key": "/library/collections/%s/children"
                % c["ratingKey"], "guid": "collection://%s" % c["ratingKey"],
                "type": "collection", "title": c["title"], "subtype": c["subtype"],
                "smart": "0", "librarySectionID": c["librarySectionID"],
                "childCount": str(len(c["items"])), "addedAt": c["addedAt"],
                "updatedAt": c["addedAt"]}

    def h_collections(self, req, key):
        with self.lock:
            self.section(key)
            out = [self._render_collection(c) for c in self.collections
                   if str(c["librarySectionID"]) == key]
            mc = {"size": len(out), "totalSize": len(out), "offset": 0,
                  "librarySectionID": int(key) if key.isdigit() else key}
            if out:
                mc["Metadata"] = out
            return self.reply(req, mc)

    def h_collection_create(self, req):
        title = req.query.get("title")
        if not title:
            raise HttpError(400, {"error": "title required"})
        if req.query.get("smart", "0") != "0":
            raise HttpError(400, {"error": "smart collections are not supported by the fake"})
        section = req.qint("sectionId", None, 0)
        if section is None:
            raise HttpError(400, {"error": "sectionId required"})
        with self.lock:
            keys = self._uri_keys(req.query.get("uri")) if req.query.get("uri") else []
            col = self._new_collection(title, section, keys)
            self._changed()
            return self.reply(req, {"size": 1, "Metadata": [self._render_collection(col)]})

    def h_collection_children(self, req, rk):
        with self.lock:
            col = self._collection_or_404(rk)
            lst = [self.items[k] for k in col["items"] if k in self.items]
            return self.page_reply(req, lst, {"key": rk, "title1": col["title"]},
                                   req.query.get("includeGuids") == "1")

    def h_collection_add(self, req, rk):
        with self.lock:
            col = self._collection_or_404(rk)
            self._collection_add(col, self._uri_keys(req.query.get("uri")))
            self._changed()
            return self.reply(req, {"size": 1, "Metadata": [self._render_collection(col)]})

    def h_collection_remove(self, req, rk, item):
        with self.lock:
            col = self._collection_or_404(rk)
            if item in col["items"]:
                col["items"].remove(item)
            self._changed()
            return self.reply(req, {"size": 1, "Metadata": [self._render_collection(col)]})

    def h_history(self, req):
        filters = [f for f in parse_filters(req) if f[0] in ("viewedAt", "librarySectionID")]
        uid = self.viewer(req)
        with self.lock:
            out = []
            for p in reversed(self.plays if uid is None else []):   # the owner's plays
                it = self.items.get(p["ratingKey"])
                if it is None:
                    continue
                row = {"historyKey": "/status/sessions/history/%d" % p["id"],
                       "key": it["key"], "ratingKey": it["ratingKey"],
                       "librarySectionID": str(it["librarySectionID"]),
                       "title": it["title"], "type": it["type"], "thumb": it.get("thumb"),
                       "viewedAt": p["viewedAt"], "accountID": 1, "deviceID": 1}
                if it["type"] == "episode":
                    row.update({"grandparentTitle": it.get("grandparentTitle"),
                                "grandparentKey": it.get("grandparentKey"),
                                "parentKey": it.get("parentKey"),
                                "index": it.get("index"), "parentIndex": it.get("parentIndex")})
                if _match(row | {"librarySectionID": it["librarySectionID"]}, filters):
                    out.append(row)
            start, size = self.paging(req)
            total = len(out)
            n = max(0, total - start) if size is None else min(size, max(0, total - start))
            mc = {"size": n, "totalSize": total, "offset": start}
            if n:
                mc["Metadata"] = out[start:start + n]
            return self.reply(req, mc)

    def h_sessions(self, req):
        """GET /status/sessions: one Metadata entry per stream the test set, the item as the
        library renders it plus viewOffset, sessionKey, User, Player, Session."""
        with self.lock:
            self.session_polls += 1
            out = []
            for sess in self.sessions:
                it = self.items.get(str(sess["ratingKey"]))
                if it is None:
                    continue
                d = self.render(it, req.query.get("includeGuids") == "1")
                d.update({"sessionKey": str(sess["sessionKey"]),
                          "viewOffset": int(sess.get("viewOffset", 0)),
                          "User": {"id": str(sess.get("user_id", "1")),
                                   "title": sess.get("user", "plexuser")},
                          "Player": {"state": sess.get("state", "playing"),
                                     "title": sess.get("player", "Plex Web"),
                                     "machineIdentifier": "player-%s" % sess["sessionKey"]},
                          "Session": {"id": "s-%s" % sess["sessionKey"]}})
                if "duration" in sess:
                    d["duration"] = int(sess["duration"])
                out.append(d)
            mc = {"size": len(out)}
            if out:
                mc["Metadata"] = out
            return self.reply(req, mc)

    # ---- control ------------------------------------------------------------------

    def c_sessions(self, req):
        """POST /_control/sessions {"sessions": [{sessionKey, ratingKey, viewOffset, state,
        user_id, user, player, duration}]} sets who is playing; GET: the polls so far."""
        with self.lock:
            if req.method == "POST":
                body = req.json_object()
                sess = body.get("sessions")
                if not isinstance(sess, list):
                    raise HttpError(400, {"error": "sessions must be a list"})
                self.sessions = [dict(s) for s in sess]
            return json_response({"polls": self.session_polls, "sessions": self.sessions})

    def c_viewed(self, req):
        """POST /_control/viewed {"ratingKey", "at"}: Plex marks the item watched on its own
        (past its played threshold), stamping lastViewedAt = at."""
        body = req.json_object()
        with self.lock:
            it = self.item_or_404(str(body.get("ratingKey")))
            t = int(body.get("at") or now())
            it["viewCount"] = int(it.get("viewCount", 0)) + 1
            it["lastViewedAt"] = t
            it.pop("viewOffset", None)
            self._add_play(it, t)
            self._changed()
        return json_response({"ok": True})


    def c_scrobbles(self, req):
        with self.lock:
            return json_response({"scrobbles": list(self.scrobbles),
                                  "unscrobbles": list(self.unscrobbles),
                                  "rates": list(self.rates), "progress": list(self.progress)})

    def c_scrobbles_reset(self, req):
        with self.lock:
            self.scrobbles, self.unscrobbles, self.rates, self.progress = [], [], [], []
        return json_response({"ok": True})
