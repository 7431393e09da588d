"""Plex webhooks through the real stack (nginx + pts-cgi + pts-worker) against the fakes.

POST /api/webhooks/plex?token=... takes Plex's multipart body; a media.scrobble of a movie or
an episode becomes a run with trigger 'webhook' that adds the play to Trakt at once, through
the same ledger as the sync engine, so a full sync afterwards adds the rest of the corpus's
17 plays and none of the webhook's again (no duplicate play anywhere).
"""
import time
import unittest

from fakes import Fakes, multipart
from stack import wait_for
from syncenv import FakesStackCase, clear_sql, sign_in_sql
from webhooks import plex_event, post_webhook

FAKES = None
ADDED = 17            # a Plex->Trakt sync of the default corpus (tests/fakes/README.md)
DARK_KNIGHT_TRAKT = None
RUN_TIMEOUT = 30


MACHINE = None        # the fake Plex server's machineIdentifier: plays "on our server"


def setUpModule():
    global FAKES, MACHINE
    FAKES = WebhookCase.fakes = Fakes().start()
    MACHINE = FAKES.machine_id()


def tearDownModule():
    FAKES.stop()


def scrobble(meta, event="media.scrobble", user=True):
    return plex_event(meta, MACHINE, event=event, user=user, account={
        "id": 1, "thumb": "https://plex.tv/users/x/avatar", "title": "plexuser"})


def movie_102(when):
    return {"librarySectionType": "movie", "ratingKey": "102", "key": "/library/metadata/102",
            "guid": "plex://movie/5d77680000000000000c533a", "type": "movie",
            "title": "The Dark Knight", "year": 2008, "lastViewedAt": when, "viewCount": 1,
            "Guid": [{"id": "imdb://tt0468569"}, {"id": "tmdb://155"}]}


def episode_323(when):
    """Breaking Bad S01E04, new agent: the show's ids are not in the payload."""
    return {"librarySectionType": "show", "ratingKey": "323", "type": "episode",
            "guid": "plex://episode/5d776800000000000027078d",
            "grandparentGuid": "plex://show/5d7768000000000000244014",
            "grandparentRatingKey": "300", "grandparentTitle": "Breaking Bad",
            "parentIndex": 1, "index": 4, "title": "Cancer Man", "lastViewedAt": when,
            "Guid": [{"id": "tvdb://349336"}, {"id": "tmdb://62189"}]}


def episode_91(when):
    """The 100 S01E02, legacy agent: the show's id is in grandparentGuid."""
    return {"librarySectionType": "show", "ratingKey": "91", "type": "episode",
            "guid": "com.plexapp.agents.thetvdb://268592/1/2?lang=en",
            "grandparentGuid": "com.plexapp.agents.thetvdb://268592?lang=en",
            "grandparentRatingKey": "22", "grandparentTitle": "The 100", "parentIndex": 1,
            "index": 2, "title": "Earth Skills", "lastViewedAt": when}


def plays():
    return FAKES.plays()


def minute(epoch):
    return time.strftime("%Y-%m-%dT%H:%M", time.gmtime(epoch))


class WebhookCase(FakesStackCase):
    def setUp(self):
        FAKES.reset()
        # Each test starts from an empty ledger, as the fakes start from their corpus.
        self.stack.exec(*sign_in_sql(FAKES.post("trakt", "/_control/token", {})),
                        *clear_sql("changes", "batches", "progress", "rate_samples", "runs",
                                   "jobs", "sessions"),
                        "DELETE FROM settings WHERE key IN ('dashboard_password', 'dry_run',"
                        " 'sync_direction', 'sync_watched')",
                        "DELETE FROM meta WHERE key LIKE 'checkpoint%'")
        st, body, _ = self.stack.api("GET", "/api/webhooks/plex")
        self.assertEqual(st, 200, body)
        self.url = body["url_path"]
        self.token = body["token"]

    # ---- helpers ----
    def hook(self, payload, url=None, thumb=0, headers=None, raw=None, ctype=None):
        return post_webhook(self.stack, url or self.url, payload, thumb=thumb, headers=headers,
                            raw=raw, ctype=ctype)

    def jobs(self):
        return self.stack.query("SELECT * FROM jobs WHERE kind = 'webhook_scrobble'")

    def age_jobs(self):
        """Move the webhook jobs out of the merge window (cgi/h_webhooks.c, 5 minutes)."""
        self.stack.exec("UPDATE jobs SET created_at = created_at - 301 WHERE kind ="
                        " 'webhook_scrobble'")

    def wait_run(self, run_id):
        return self.stack.wait_run(run_id, timeout=RUN_TIMEOUT, what="webhook run %d" % run_id)

    def scrobbled(self, meta, thumb=0):
        st, body, _ = self.hook(scrobble(meta), thumb=thumb)
        self.assertEqual(st, 202, body)
        return self.wait_run(body["run_id"])


class TestWebhookEdge(WebhookCase):
    def test_token_rules(self):
        n = len(self.jobs())
        when = int(time.time())
        path = self.url.split("?")[0]
        st, body, _ = self.hook(scrobble(movie_102(when)), url=path)
        self.assertEqual(st, 401, body)
        self.assertEqual(body["error"]["code"], "unauthorized")
        st, body, _ = self.hook(scrobble(movie_102(when)), url=path + "?token=" + "0" * 64)
        self.assertEqual(st, 403, body)
        st, body, _ = self.hook(scrobble(movie_102(when)), url=path + "?token=")
        self.assertEqual(st, 403, body)
        st, body, _ = self.hook(scrobble(movie_102(when)), url=path + "?token=" + self.token[:-1])
        self.assertEqual(st, 403, body)
        self.assertEqual(len(self.jobs()), n, "nothing queued without the right token")
        # The token's secret never reaches the log table.
        rows = self.stack.query("SELECT message FROM log")
        self.assertFalse(any(self.token in r["message"] for r in rows))

    def test_body_rules(self):
        n = len(self.jobs())
        when = int(time.time())
        st, body, _ = self.stack.request("POST", self.url, body=scrobble(movie_102(when)))
        self.assertEqual(st, 415, body)  # JSON is not what Plex sends
        body, ct = multipart(scrobble(movie_102(when)))
        st, data, _ = self.stack.request("POST", self.url, raw=body,
                                         headers={"Content-Type": "multipart/form-data"})
        self.assertEqual(st, 415, data)  # no boundary
        st, data, _ = self.stack.request("POST", self.url, raw=body.replace(b"payload", b"other"),
                                         headers={"Content-Type": ct})
        self.assertEqual(st, 400, data)
        st, data, _ = self.stack.request("POST", self.url, raw=body[:-20],
                                         headers={"Content-Type": ct})
        self.assertEqual(st, 400, data)  # ends before the payload part does
        raw, ct = multipart(None, raw_payload=b"{nope")
        st, b, _ = self.hook(None, raw=raw, ctype=ct)
        self.assertEqual((st, b["error"]["code"]), (400, "bad_json"))
        raw, ct = multipart(None, raw_payload=b"{\"event\": \"\xff\"}", boundary="bb")
        st, b, _ = self.hook(None, raw=raw, ctype=ct)
        self.assertEqual((st, b["error"]["code"]), (400, "bad_json"))
        # A payload part past the first 64 KiB of the body: 413, nothing read past it.
        big = scrobble(movie_102(when))
        big["Metadata"]["summary"] = "x" * (70 * 1024)
        st, b, _ = self.hook(big)
        self.assertEqual((st, b["error"]["code"]), (413, "too_large"))
        # A body over 1 MiB (nginx or pts-cgi answers): 413.
        st, b, _ = self.hook(scrobble(movie_102(when)), thumb=1100 * 1024)
        self.assertEqual(st, 413)
        self.assertEqual(len(self.jobs()), n, "nothing queued for a bad body")

    def test_ignored_events(self):
        n = len(self.jobs())
        when = int(time.time())
        for payload in (scrobble(movie_102(when), event="media.play"),
                        scrobble(movie_102(when), event="media.rate"),
                        scrobble(movie_102(when), user=False),
                        scrobble(dict(movie_102(when), type="track"))):
            st, body, _ = self.hook(payload, thumb=40 * 1024)
            self.assertEqual(st, 200, body)
            self.assertIs(body["ok"], True)
            self.assertTrue(body["ignored"])
        self.assertEqual(len(self.jobs()), n)

    def test_login_and_csrf_do_not_apply_but_do_to_the_rest(self):
        st, body, _ = self.stack.api("PUT", "/api/settings", {"dashboard_password": "password 1"})
        self.assertEqual(st, 200, body)
        st, body, _ = self.stack.api("GET", "/api/webhooks/plex")
        self.assertEqual(st, 401)
        st, body, _ = self.stack.api("POST", "/api/webhooks/plex/rotate")
        self.assertEqual(st, 401)
        # Plex sends no cookie, no X-Requested-With, and an Origin of its own, if any.
        st, body, _ = self.hook(scrobble(movie_102(int(time.time()))),
                                headers={"Origin": "http://plex.example"})
        self.assertEqual(st, 202, body)
        self.wait_run(body["run_id"])

    def test_rotate(self):
        st, body, _ = self.stack.request("POST", "/api/webhooks/plex/rotate",
                                         headers={"X-Requested-With": None})
        self.assertEqual(st, 403)  # the CSRF rule holds for the dashboard's routes
        st, body, _ = self.stack.api("POST", "/api/webhooks/plex/rotate")
        self.assertEqual(st, 200, body)
        self.assertNotEqual(body["token"], self.token)
        self.assertEqual(len(body["token"]), 64)
        self.assertEqual(body["url_path"], "/api/webhooks/plex?token=" + body["token"])
        st, b, _ = self.hook(scrobble(movie_102(int(time.time())), event="media.play"))
        self.assertEqual(st, 403, b)
        st, b, _ = self.hook(scrobble(movie_102(int(time.time())), event="media.play"),
                             url=body["url_path"])
        self.assertEqual(st, 200, b)
        st, again, _ = self.stack.api("GET", "/api/webhooks/plex")
        self.assertEqual(again, body)
        st, hdrs, _ = self.stack.request("GET", "/api/webhooks/plex")
        self.assertEqual(hdrs["cache-control"], "no-store")


class TestWebhookPlays(WebhookCase):
    def test_scrobbles_then_full_sync_adds_no_duplicate(self):
        before = plays()
        now = int(time.time())
        t_movie, t_new, t_legacy = now - 125, now - 65, now - 5
        FAKES.post("plex", "/_control/calls/reset")

        # With a thumb part past the first 64 KiB: only the payload part is needed.
        run = self.scrobbled(movie_102(t_movie), thumb=300 * 1024)
        self.assertEqual((run["status"], run["trigger"]), ("ok", "webhook"), run)
        self.assertEqual(run["added_to_trakt"], 1)
        run2 = self.scrobbled(episode_323(t_new))
        self.assertEqual((run2["status"], run2["added_to_trakt"]), ("ok", 1), run2)
        run3 = self.scrobbled(episode_91(t_legacy))
        self.assertEqual((run3["status"], run3["added_to_trakt"]), ("ok", 1), run3)

        # The new-agent episode's show ids came from Plex's show item; nothing else was read
        # (but, once, which server Plex is).
        calls = FAKES.calls("plex")["calls"]
        self.assertEqual(calls.get("GET /library/metadata/300"), 1, calls)
        self.assertLessEqual(calls.get("GET /identity", 0), 1, calls)
        self.assertEqual(sum(calls.values()) - calls.get("GET /identity", 0), 1, calls)

        added = plays() - before
        self.assertEqual(sum(added.values()), 3, added)
        minutes = sorted(k[-1] for k in added)
        self.assertEqual(minutes, sorted(minute(t) for t in (t_movie, t_new, t_legacy)))
        shows = {k[1]: k[2:4] for k in added if k[0] == "episode"}
        self.assertEqual(sorted(shows.values()), [(1, 2), (1, 4)])

        # Each is its own run with its change, shown by the API.
        st, body, _ = self.stack.api("GET", "/api/runs/%d/changes" % run2["id"])
        self.assertEqual(st, 200, body)
        self.assertEqual(len(body["changes"]), 1)
        ch = body["changes"][0]
        self.assertEqual((ch["action"], ch["type"], ch["show"], ch["season"], ch["episode"],
                          ch["result"]), ("add_play_trakt", "episode", "Breaking Bad", 1, 4,
                                          "done"))
        st, body, _ = self.stack.api("GET", "/api/runs")
        self.assertEqual([r["trigger"] for r in body["runs"][:3]], ["webhook"] * 3)

        # The same scrobble again (Plex retried, or a second hook) joins the first job...
        st, again, _ = self.hook(scrobble(movie_102(t_movie)))
        self.assertEqual((st, again["run_id"], again.get("merged")), (202, run["id"], True))
        self.assertEqual(len(self.jobs()), 3)
        # ...and past the merge window (5 min) it gets a run of its own: the ledger says no.
        self.age_jobs()
        run4 = self.scrobbled(movie_102(t_movie))
        self.assertEqual((run4["status"], run4["added_to_trakt"]), ("ok", 0), run4)
        self.assertIn("already", run4["message"])
        self.assertEqual(sum((plays() - before).values()), 3)

        # A full sync now adds the other 14 plays and none of the webhook's three.
        st, body, _ = self.stack.api("POST", "/api/sync", {"full": True})
        self.assertEqual(st, 202, body)
        sync = self.wait_run(body["run_id"])
        self.assertEqual(sync["status"], "ok", sync)
        self.assertEqual(sync["added_to_trakt"], ADDED - 3, sync)
        after = plays() - before
        self.assertEqual(sum(after.values()), ADDED, after)
        self.assertTrue(all(n == 1 for n in after.values()), after)
        for key in after:
            self.assertEqual(before[key], 0, "a play already there was added again")

    def test_dry_run_and_unmatched_and_settings(self):
        before = plays()
        self.stack.exec("INSERT OR REPLACE INTO settings(key, value) VALUES('dry_run', '1')")
        run = self.scrobbled(movie_102(int(time.time())))
        self.assertEqual((run["status"], run["dry_run"], run["added_to_trakt"]), ("ok", 1, 1))
        ch = self.stack.query("SELECT result FROM changes WHERE run_id = ?", run["id"])
        self.assertEqual([c["result"] for c in ch], ["planned"])
        self.assertEqual(plays(), before)

        self.stack.exec("DELETE FROM settings WHERE key = 'dry_run'",
                        "INSERT OR REPLACE INTO settings(key, value) VALUES('sync_direction',"
                        " 'trakt_to_plex')")
        run = self.scrobbled(movie_102(int(time.time())))
        self.assertEqual((run["status"], run["added_to_trakt"]), ("ok", 0), run)
        self.assertIn("direction", run["message"])
        self.assertEqual(plays(), before)

        self.stack.exec("DELETE FROM settings WHERE key = 'sync_direction'")
        # A home video (local://) has no id Trakt knows: counted as unmatched, nothing sent.
        run = self.scrobbled({"ratingKey": "109", "type": "movie", "title": "Home Video 2019",
                              "guid": "local://109", "lastViewedAt": int(time.time())})
        self.assertEqual((run["status"], run["unmatched"], run["added_to_trakt"]), ("ok", 1, 0))
        # An item Trakt does not know: not_found, and the run still ends ok.
        run = self.scrobbled({"ratingKey": "111", "type": "movie",
                              "title": "Obscure Festival Short",
                              "guid": "plex://movie/5d77680000000000000d69a1",
                              "Guid": [{"id": "imdb://tt9999998"}],
                              "lastViewedAt": int(time.time())})
        self.assertEqual((run["status"], run["not_found"], run["added_to_trakt"]), ("ok", 1, 0))
        self.assertEqual(plays(), before)

    def test_lost_answer_is_reconciled_not_resent(self):
        before = plays()
        FAKES.post("trakt", "/_control/faults", {"only": ["POST /sync/history"],
                                                 "fail_next": ["lost"]})
        when = int(time.time()) - 10
        run = self.scrobbled(movie_102(when))
        self.assertEqual(run["status"], "ok", run)
        self.assertEqual(run["added_to_trakt"], 1, run)
        added = plays() - before
        self.assertEqual(sum(added.values()), 1, added)
        ch = self.stack.query("SELECT result FROM changes WHERE run_id = ?", run["id"])
        self.assertEqual([c["result"] for c in ch], ["done"])
        self.age_jobs()
        run = self.scrobbled(movie_102(when))
        self.assertEqual(run["added_to_trakt"], 0)
        self.assertEqual(sum((plays() - before).values()), 1)


class TestWebhookShutdown(WebhookCase):
    """A worker stopped while a webhook's run is under way: the run waits for the next start
    and says why (as a sync's or an undo's does), and the next start adds the play once."""

    def test_sigterm_requeues_the_run_with_its_message(self):
        before = plays()
        # Plex holds the question "which server are you" (a GET: a stop may cut it short).
        FAKES.post("plex", "/_control/faults", {"only": ["GET /identity"], "latency_ms": 8000})
        when = int(time.time()) - 10
        st, body, _ = self.hook(scrobble(movie_102(when)))
        self.assertEqual(st, 202, body)
        run_id = body["run_id"]
        wait_for(lambda: FAKES.calls("plex")["calls"].get("GET /identity"),
                 timeout=RUN_TIMEOUT, step=0.05, what="the webhook job asking Plex")
        self.stack.stop()
        run = self.stack.query("SELECT * FROM runs WHERE id = ?", run_id)[0]
        self.assertEqual(run["status"], "queued", run)
        self.assertEqual(run["message"], "interrupted by a worker shutdown", run)
        self.assertIsNone(run["finished_at"], run)
        self.assertEqual(sum((plays() - before).values()), 0, "nothing was sent")
        FAKES.post("plex", "/_control/faults", {"latency_ms": 0, "only": []})
        self.stack.start()
        run = self.wait_run(run_id)
        self.assertEqual(run["status"], "ok", run)
        self.assertEqual(run["added_to_trakt"], 1, run)
        self.assertEqual(sum((plays() - before).values()), 1)

if __name__ == "__main__":
    unittest.main()
