"""Households in the integration tests: a profile's own file, and the set-up and waits the
household suites share (test_household.py, test_household_watchlist.py).

    class MyCase(HouseholdMixin, unittest.TestCase):   # needs self.stack and self.fakes
        def setUp(self):
            self.reset_household("plex-token-1")        # fakes' settings, owner signed in,
            self.refresh()                              # no plex_users, no profile but 1
"""
import json
import os
import sqlite3

from stack import wait_for
from syncenv import plex_sign_in_sql, settings_sql

WAIT_S = 30            # the worker's plex_users job and a new profile's Plex token


def profile_path(data, pid):
    """Profile pid's own file under the data folder (1: pts.db)."""
    return os.path.join(data, "pts.db") if pid == 1 else \
        os.path.join(data, "profiles", "p%d.db" % pid)


def profile_db(data, pid):
    """A connection to profile pid's own file; the caller closes it."""
    return sqlite3.connect(profile_path(data, pid), timeout=10)


def profile_row(data, pid, sql, *args):
    conn = profile_db(data, pid)
    try:
        return conn.execute(sql, args).fetchone()
    finally:
        conn.close()


def set_trakt(data, pid, tok, user):
    """Profile pid signed in to Trakt with tok (a fake Trakt /_control/token answer)."""
    conn = profile_db(data, pid)
    try:
        conn.execute("UPDATE auth SET state = 'authorized', access_token = ?, refresh_token = ?,"
                     " token_expires_at = ?, user = ? WHERE service = 'trakt'",
                     (tok["access_token"], tok["refresh_token"],
                      tok["created_at"] + tok["expires_in"], user))
        conn.commit()
    finally:
        conn.close()


class HouseholdMixin:
    """Set-up and waits on self.stack (tests/lib/stack.py) and self.fakes (tests/lib/fakes.py)."""

    def reset_household(self, owner_token):
        """The fakes' settings stored, the owner signed in to Plex with owner_token, no
        plex_users rows, and every profile but the owner's deleted through the API."""
        self.stack.exec(*settings_sql(self.fakes.settings()), *plex_sign_in_sql(owner_token),
                        "DELETE FROM plex_users")
        for p in self.stack.query("SELECT id, name FROM profiles WHERE id > 1"):
            st, body, _ = self.stack.api("DELETE", "/api/profiles/%d" % p["id"],
                                         {"confirm": p["name"]})
            self.assertEqual(st, 200, body)

    def refresh(self):
        """POST /api/plex/users/refresh, wait for its job to end 'done'; GET /api/plex/users."""
        st, body, _ = self.stack.api("POST", "/api/plex/users/refresh")
        self.assertEqual(st, 202, body)
        self.assertIn("job_id", body)
        job = body["job_id"]

        def done():
            rows = self.stack.query("SELECT state FROM jobs WHERE id = ? AND state NOT IN"
                                    " ('queued','running')", job)
            return rows and rows[0]
        self.assertEqual(wait_for(done, timeout=WAIT_S, what="the plex_users job")["state"],
                         "done")
        st, body, _ = self.stack.api("GET", "/api/plex/users")
        self.assertEqual(st, 200, body)
        return body

    def run_sync(self, pid):
        """POST /api/sync?profile=pid and wait for the run, which must end ok. Its changed
        watchlist entries, errors and warnings."""
        st, body, _ = self.stack.api("POST", "/api/sync?profile=%d" % pid)
        self.assertEqual(st, 202, body)
        run_id = body["run_id"]

        def ended():
            row = self.profile_row(pid, "SELECT status, message, watchlist_changed, errors,"
                                   " warnings FROM runs WHERE id = ?", run_id)
            return row if row and row[0] not in ("queued", "running") else None
        row = wait_for(ended, timeout=60, what="the sync of profile %d" % pid)
        self.assertEqual(row[0], "ok", row)
        return {"changed": row[2], "errors": row[3], "warnings": json.loads(row[4] or "[]")}

    def profile_path(self, pid):
        return profile_path(self.stack.data, pid)

    def profile_row(self, pid, sql, *args):
        return profile_row(self.stack.data, pid, sql, *args)

    def plex_auth(self, pid):
        return self.profile_row(pid, "SELECT state, access_token, user, error FROM auth"
                                     " WHERE service = 'plex'")

    def create_profile(self, name, plex_user_id, state="authorized"):
        """POST /api/profiles; its creation queues the refresh that gives it its Plex token,
        which is waited for (its Plex sign-in reaching state). The new id."""
        st, body, _ = self.stack.api("POST", "/api/profiles",
                                     {"name": name, "plex_user_id": plex_user_id})
        self.assertEqual(st, 201, body)
        pid = body["id"]
        wait_for(lambda: os.path.exists(self.profile_path(pid)) and
                 self.plex_auth(pid)[0] == state, timeout=WAIT_S,
                 what="profile %d's Plex sign-in %s" % (pid, state))
        return pid
