"""Plex webhooks for tests: the payload Plex posts and the multipart POST that carries it.

    payload = plex_event(meta, server=machine_id)      # a media.scrobble of meta on that server
    st, body, hdrs = post_webhook(stack, url, payload)  # as Plex sends it; body is JSON or None
    run = stack.wait_run(body["run_id"])                # the run it made, once it ended

The body is built by fakes.multipart (the payload part, then maybe a thumb part).
"""
from fakes import multipart


def plex_event(meta, server, event="media.scrobble", user=True, account=None):
    """Plex's webhook payload for the item meta played on the server whose machineIdentifier
    is server; account is the Account object (the owner's, without an avatar, by default)."""
    return {"event": event, "user": user, "owner": True,
            "Account": account or {"id": 1, "title": "plexuser"},
            "Server": {"title": "NAS", "uuid": server},
            "Player": {"local": True, "title": "Plex Web", "uuid": "p1"},
            "Metadata": meta}


def post_webhook(stack, url, payload, thumb=0, headers=None, raw=None, ctype=None,
                 boundary=None):
    """POST payload to the webhook url (path and token) of stack as Plex's multipart body,
    with a JPEG thumb part of thumb bytes when given; raw and ctype replace the body and its
    Content-Type. Returns (status, JSON body or None, headers)."""
    body, ct = multipart(payload, thumb=thumb, boundary=boundary)
    h = {"Content-Type": ctype or ct}
    h.update(headers or {})
    return stack.api("POST", url, headers=h, raw=raw if raw is not None else body)
