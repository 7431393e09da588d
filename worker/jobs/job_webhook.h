/*
 * job_webhook.h - one play reported by a Plex webhook (media.scrobble), added to Trakt at once.
 *
 * The job (kind webhook_scrobble, lane "trakt", so it never runs beside a sync) owns a run
 * row with trigger 'webhook', made with it by pts-cgi; its args are cgi/plexhook.h's. The
 * play goes through the same no-duplicate ledger as the sync engine (ledger.h): the item key
 * comes from the same ids (the movie's; for an episode the show's, from a legacy guid or,
 * for new agents, from Plex's show item), the change and its one-item batch are stored
 * 'pending' before the POST and settled after, and a play the ledger already holds (done or
 * in doubt) is never sent again. A later sync skips it twice over: its ledger check, and
 * Trakt's watched state that now shows the play.
 *
 * Whose server: Plex sends the account's webhooks for plays on servers shared with it too,
 * and a ratingKey means nothing outside its server. The payload's Server.uuid is compared
 * with our server's machineIdentifier (GET /identity, cached in meta with the plex_url it
 * belongs to). Our server is asked about an item (a new-agent movie without its Guid array,
 * an episode's show) only when the play is on our server AND the item it has under that
 * ratingKey carries the payload's guid. Otherwise only the payload's own ids are used: a
 * movie's Guid array, an episode's show from a legacy grandparentGuid, or else the episode's
 * own Guid array (sent to Trakt as the episode by its ids); with none of these the play is
 * counted unmatched and logged, never written as some other item of ours.
 *
 * The play's time: Plex's viewedAt or lastViewedAt when the payload has one no older than
 * PTS_WEBHOOK_VIEW_MAX_AGE_S before the webhook came, else the time it came (Plex stamps the
 * view as it sends the scrobble, so the two agree to the minute).
 *
 * Settings apply as for a sync: sync_watched off, or a direction that does not write to
 * Trakt, ends the run 'ok' with nothing done; the dry_run arg (the setting when the webhook
 * came) records the change as 'planned' only.
 */
#ifndef PTS_JOB_WEBHOOK_H
#define PTS_JOB_WEBHOOK_H

#include "wctx.h"

/* A Plex view time older than this (before the webhook came) is not this play's. */
#define PTS_WEBHOOK_VIEW_MAX_AGE_S (6 * 3600)
/* Longest item label in log lines ("Show S01E02 Title", "Title (2010)"). */
#define PTS_WEBHOOK_LABEL_MAX 300

/* Job handler for PTS_JOB_WEBHOOK_SCROBBLE. An enum pts_job_result (wctx.h). */
int pts_job_webhook_scrobble(struct pts_wctx *w, json_object *args);

#endif
