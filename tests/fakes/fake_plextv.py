"""Fake plex.tv: PIN flow, user info, resources (server discovery), and the server's
people (a household: the owner, a Home user with a PIN, a managed user, a friend of this
server and one of another server; XML only, like plex.tv's v1 endpoints).

Traps kept: XML unless 'Accept: application/json'; pins need
X-Plex-Client-Identifier and X-Plex-Product; polling a pin needs the SAME
client identifier (another one -> 404, none -> 400); expired pins -> 404;
strong pins have a 25-character code, others 4 characters.
"""

import copy
import itertools
import secrets
import string

from common import (FakeApp, HttpError, check_keys, iso_sec, json_response, load_data, now,
                    want_int, want_str)
from fake_plex import MACHINE_ID, request_token, xml_response

DEFAULT_PIN_EXPIRES_IN = 900
STRONG_CODE_LEN = 25
WEAK_CODE_LEN = 4
MAX_PINS = 10_000          # older pins are forgotten beyond this
OTHER_MACHINE_ID = "0the7000000000000000000000000000000000001"
HOUSEHOLD_KEYS = {"id", "title", "username", "kind", "pin", "server_token", "shared", "servers"}


def default_household(owner):
    """The owner (plex.tv id 1001), Hannah (Home, PIN 1234, in shared_servers), Max
    (managed, missing from shared_servers: reached by a switch), Fran (a friend of this
    server and another), Oscar (a friend of another server only)."""
    return [
        {"id": "1001", "title": owner, "username": owner, "kind": "owner"},
        {"id": "1002", "title": "Hannah Home", "username": "hannah", "kind": "home",
         "pin": "1234", "server_token": "plex-token-hannah", "shared": True},
        {"id": "1003", "title": "Max Managed", "username": "", "kind": "managed",
         "server_token": "plex-token-max", "shared": False},
        {"id": "2001", "title": "Fran Friend", "username": "fran", "kind": "shared",
         "servers": [OTHER_MACHINE_ID, MACHINE_ID], "server_token": "plex-token-fran",
         "shared": True},
        {"id": "2002", "title": "Oscar Elsewhere", "username": "oscar", "kind": "shared",
         "servers": [OTHER_MACHINE_ID], "server_token": None, "shared": False},
    ]


def plextv_error(status, code, message):
    return HttpError(status, {"errors": [{"code": code, "message": message, "status": status}]})


class FakePlexTV(FakeApp):
    name = "plextv"
    malformed_body = b'{"id":111222333,"code":"abcd","authToken":nu'
    oversized_prefix = b'{"id":1,"code":"x","authToken":null,"padding":"'
    oversized_suffix = b'"}'

    def __init__(self, factory, corpus, auth, plex_app, verbose=False):
        super().__init__(verbose)
        self.factory = factory
        self.auth = auth
        self.plex_app = plex_app            # for the server URL in resources
        self.pin_template = load_data("plextv_pins_new.json")
        self.user_template = load_data("plextv_user_info_plexpass.json")
        self.resource_template = load_data("plextv_resources.json")[0]
        r = self.router
        r.add("POST", r"/api/v2/pins", self.h_pin_new)
        r.add("GET", r"/api/v2/pins/(\d+)", self.h_pin_get)
        r.add("GET", r"/api/v2/user", self.h_user)
        r.add("GET", r"/api/v2/resources", self.h_resources)
        r.add("GET", r"/api/home/users/?", self.h_home_users)
        r.add("GET", r"/api/users/?", self.h_friends)
        r.add("GET", r"/api/servers/([^/]+)/shared_servers", self.h_shared_servers)
        r.add("POST", r"/api/home/users/(\d+)/switch", self.h_switch)
        c = self.control_router
        c.add("POST", r"/_control/pins/(\d+)/link", self.c_link)
        c.add("POST", r"/_control/pins/link_latest", self.c_link_latest)
        c.add("POST", r"/_control/pins/(\d+)/expire", self.c_expire)
        c.add("GET", r"/_control/pins", lambda req: json_response(self.pin_list()))
        self.load(corpus)

    # ---- state ------------------------------------------------------------------

    def load(self, corpus):
        with self.lock:
            ptv = corpus.get("plextv", {})
            self.username = ptv.get("username", "plexuser")
            self.pin_expires_in = ptv.get("pin_expires_in", DEFAULT_PIN_EXPIRES_IN)
            self.auto_link_after_polls = ptv.get("auto_link_after_polls", 0)
            self.pins = {}
            self.pin_ids = itertools.count(111222333)
            self.people_calls = 0       # calls to the household endpoints
            self.set_household(ptv.get("household") or default_household(self.username))
            with self.auth.lock:
                self.auth.issued = set()
                self.auth.account_tokens = {}   # a switch's account token -> user id

    def reset(self):
        self.load(self.factory())

    def pin_list(self):
        with self.lock:
            return {"pins": [self.pin_view(p, internal=True) for p in self.pins.values()]}

    def get_state(self, req):
        with self.lock:
            with self.auth.lock:
                issued = sorted(self.auth.issued)
            return {"username": self.username, "pin_expires_in": self.pin_expires_in,
                    "auto_link_after_polls": self.auto_link_after_polls,
                    "pins": self.pin_list()["pins"], "tokens": issued,
                    "household": self.household, "people_calls": self.people_calls}

    def set_household(self, people):
        if not isinstance(people, list) or not all(
                isinstance(p, dict) and set(p) <= HOUSEHOLD_KEYS and
                isinstance(p.get("id"), str) and p["id"].isdigit() and
                p.get("kind") in ("owner", "home", "managed", "shared") for p in people):
            raise HttpError(400, {"error": "household: list of {id (digits), title, username,"
                                           " kind, pin?, server_token?, shared?, servers?}"})
        self.household = [dict(p) for p in people]
        with self.auth.lock:
            self.auth.user_tokens = {p["server_token"]: p["id"] for p in self.household
                                     if p.get("server_token") and p["kind"] != "owner"}

    def set_state(self, patch):
        check_keys(patch, {"username", "pin_expires_in", "auto_link_after_polls", "tokens",
                           "household"})
        if "household" in patch:
            self.set_household(patch["household"])
        if "username" in patch:
            self.username = want_str(patch, "username")
        if "pin_expires_in" in patch:
            self.pin_expires_in = want_int(patch, "pin_expires_in", 1)
        if "auto_link_after_polls" in patch:
            self.auto_link_after_polls = want_int(patch, "auto_link_after_polls", 0)
        if "tokens" in patch:
            toks = patch["tokens"]
            if not isinstance(toks, list) or not all(isinstance(t, str) and t for t in toks):
                raise HttpError(400, {"error": "tokens must be a list of strings"})
            with self.auth.lock:
                self.auth.issued = set(toks)

    # ---- helpers ------------------------------------------------------------------

    def reply(self, req, tag, obj, status=200):
        if req.wants_json():
            return json_response(obj, status)
        return xml_response(tag, obj, status)

    def client_headers(self, req):
        def get(name):
            return req.header(name) or req.query.get(name)
        return get("X-Plex-Client-Identifier"), get("X-Plex-Product")

    def pin_view(self, p, internal=False):
        left = max(0, int(p["expires_at"] - now()))
        d = copy.deepcopy(self.pin_template)
        d.update({"id": p["id"], "code": p["code"], "product": p["product"],
                  "clientIdentifier": p["client_id"], "expiresIn": left,
                  "createdAt": iso_sec(p["created"]), "expiresAt": iso_sec(p["expires_at"]),
                  "authToken": p["token"], "newRegistration": None if not p["token"] else False})
        if internal:
            d["polls"] = p["polls"]
            d["expired"] = left == 0
        return d

    def link(self, p, token=None):
        if not p["token"]:
            p["token"] = token or "plextv-" + secrets.token_hex(10)
            with self.auth.lock:
                self.auth.issued.add(p["token"])
        return {"id": p["id"], "code": p["code"], "authToken": p["token"]}

    def user_token(self, req):
        tok = request_token(req)
        if not self.auth.valid(tok):
            raise plextv_error(401, 1001, "User could not be authenticated")
        return tok

    # ---- handlers ------------------------------------------------------------------

    def h_pin_new(self, req):
        client_id, product = self.client_headers(req)
        if not client_id:
            raise plextv_error(400, 1000, "X-Plex-Client-Identifier is missing")
        if not product:
            raise plextv_error(400, 1000, "X-Plex-Product is missing")
        strong = req.query.get("strong") in ("true", "1")
        if strong:
            alphabet, n = string.ascii_lowercase + string.digits, STRONG_CODE_LEN
        else:
            alphabet, n = string.ascii_uppercase + string.digits, WEAK_CODE_LEN
        with self.lock:
            if len(self.pins) >= MAX_PINS:
                self.pins.pop(next(iter(self.pins)))
            t = now()
            p = {"id": next(self.pin_ids), "code": "".join(secrets.choice(alphabet)
                                                           for _ in range(n)),
                 "product": product, "client_id": client_id, "created": t,
                 "expires_at": t + self.pin_expires_in, "token": None, "polls": 0,
                 "strong": strong}
            self.pins[p["id"]] = p
            return self.reply(req, "pin", self.pin_view(p), 201)

    def h_pin_get(self, req, pin_id):
        client_id, _ = self.client_headers(req)
        if not client_id:
            raise plextv_error(400, 1000, "X-Plex-Client-Identifier is missing")
        with self.lock:
            p = self.pins.get(int(pin_id))
            if p is None or p["client_id"] != client_id or now() >= p["expires_at"]:
                raise plextv_error(404, 1020, "Code not found or expired")
            p["polls"] += 1
            if self.auto_link_after_polls and p["polls"] >= self.auto_link_after_polls:
                self.link(p)
            return self.reply(req, "pin", self.pin_view(p))

    def h_user(self, req):
        tok = self.user_token(req)
        with self.lock:
            d = copy.deepcopy(self.user_template)
            d.update({"username": self.username, "title": self.username,
                      "email": "%s@example.com" % self.username, "authToken": tok})
            return self.reply(req, "user", d)

    def owner_token(self, req):
        """The owner's plex.tv token: a user's server token or a switched one is refused."""
        tok = self.user_token(req)
        if self.auth.user_of(tok) is not None:
            raise plextv_error(401, 1001, "User could not be authenticated")
        return tok

    def person_xml(self, p):
        kind = p["kind"]
        return {"id": int(p["id"]), "uuid": "%016x" % int(p["id"]), "title": p["title"],
                "username": p.get("username", ""), "email": "",
                "thumb": "https://plex.tv/users/%s/avatar" % p["id"],
                "admin": kind == "owner", "guest": False, "restricted": kind == "managed",
                "home": kind in ("owner", "home", "managed"), "protected": bool(p.get("pin")),
                "hasPassword": kind != "managed"}

    def h_home_users(self, req):
        self.owner_token(req)
        with self.lock:
            self.people_calls += 1
            users = [self.person_xml(p) for p in self.household if p["kind"] != "shared"]
            return xml_response("MediaContainer", {
                "friendlyName": "myPlex", "identifier": "com.plexapp.plugins.myplex",
                "machineIdentifier": "fake-plextv", "totalSize": len(users),
                "size": len(users), "User": users})

    def h_friends(self, req):
        self.owner_token(req)
        with self.lock:
            self.people_calls += 1
            users = []
            for p in self.household:
                if p["kind"] == "owner":
                    continue
                servers = p.get("servers") or ([MACHINE_ID] if p.get("shared") else [])
                d = self.person_xml(p)
                d["Server"] = [{"id": 100 + i, "serverId": 7, "machineIdentifier": m,
                                "name": "Fake PMS" if m == MACHINE_ID else "Other",
                                "lastSeenAt": 1700000000, "numLibraries": 2,
                                "allLibraries": True, "owned": False, "pending": False}
                               for i, m in enumerate(servers)]
                users.append(d)
            return xml_response("MediaContainer", {
                "friendlyName": "myPlex", "identifier": "com.plexapp.plugins.myplex",
                "machineIdentifier": "fake-plextv", "totalSize": len(users),
                "size": len(users), "User": users})

    def h_shared_servers(self, req, machine):
        self.owner_token(req)
        if machine != MACHINE_ID:
            raise plextv_error(404, 1002, "Server not found")
        with self.lock:
            self.people_calls += 1
            shared = [{"id": 500 + i, "username": p.get("username", ""), "email": "",
                       "userID": int(p["id"]), "accessToken": p["server_token"],
                       "name": "Fake PMS", "acceptedAt": 1700000000, "invitedAt": 1700000000,
                       "allowSync": False, "owned": False,
                       "Section": [{"id": 1, "key": 1, "title": "Movies", "type": "movie",
                                    "shared": True}]}
                      for i, p in enumerate(self.household)
                      if p.get("shared") and p.get("server_token")
                      and MACHINE_ID in (p.get("servers") or [MACHINE_ID])]
            return xml_response("MediaContainer", {
                "friendlyName": "myPlex", "identifier": "com.plexapp.plugins.myplex",
                "machineIdentifier": MACHINE_ID, "size": len(shared), "SharedServer": shared})

    def h_switch(self, req, uid):
        self.owner_token(req)
        with self.lock:
            self.people_calls += 1
            p = next((p for p in self.household if p["id"] == uid and
                      p["kind"] in ("owner", "home", "managed")), None)
            if p is None:
                raise plextv_error(404, 1002, "User not found")
            if p.get("pin") and req.query.get("pin") != p["pin"]:
                raise plextv_error(401, 1041, "Invalid PIN")
            acct = "plextv-acct-%s-%s" % (uid, secrets.token_hex(6))
            with self.auth.lock:
                self.auth.account_tokens[acct] = uid
            d = self.person_xml(p)
            d.update({"authenticationToken": acct, "authToken": acct})
            return xml_response("user", d, 201)

    def h_resources(self, req):
        acct = request_token(req)
        with self.auth.lock:
            uid = self.auth.account_tokens.get(acct) if acct else None
        with self.lock:
            if uid is not None:
                p = next((p for p in self.household if p["id"] == uid), {})
                devs = []
                if p.get("server_token"):
                    d = copy.deepcopy(self.resource_template)
                    d.update({"name": "Fake PMS", "clientIdentifier": MACHINE_ID,
                              "accessToken": p["server_token"], "owned": False,
                              "connections": []})
                    devs.append(d)
                if req.wants_json():
                    return json_response(devs)
                return xml_response("MediaContainer", {"size": len(devs), "resource": devs})
        tok = self.user_token(req)
        url = self.plex_app.base_url or "http://127.0.0.1:32400"
        port = int(url.rsplit(":", 1)[1])
        d = copy.deepcopy(self.resource_template)
        d.update({"name": "Fake PMS", "clientIdentifier": MACHINE_ID, "accessToken": tok,
                  "publicAddress": "127.0.0.1", "httpsRequired": False, "owned": True,
                  "presence": True,
                  "connections": [{"protocol": "http", "address": "127.0.0.1", "port": port,
                                   "uri": url, "local": True, "relay": False, "IPv6": False}]})
        if req.wants_json():
            return json_response([d])
        return xml_response("MediaContainer", {"size": 1, "Device": [d]})

    # ---- control ------------------------------------------------------------------

    def c_link(self, req, pin_id):
        body = req.json_object(required=False)
        token = body.get("token")
        if token is not None and (not isinstance(token, str) or not token):
            raise HttpError(400, {"error": "token must be a non-empty string"})
        with self.lock:
            p = self.pins.get(int(pin_id))
            if p is None:
                raise HttpError(404, {"error": "no such pin"})
            return json_response(self.link(p, token))

    def c_link_latest(self, req):
        body = req.json_object(required=False)
        token = body.get("token")
        if token is not None and (not isinstance(token, str) or not token):
            raise HttpError(400, {"error": "token must be a non-empty string"})
        with self.lock:
            pending = [p for p in self.pins.values() if not p["token"]]
            if not pending:
                raise HttpError(404, {"error": "no unlinked pin"})
            return json_response(self.link(pending[-1], token))

    def c_expire(self, req, pin_id):
        with self.lock:
            p = self.pins.get(int(pin_id))
            if p is None:
                raise HttpError(404, {"error": "no such pin"})
            p["expires_at"] = now() - 1
            return json_response({"ok": True})
