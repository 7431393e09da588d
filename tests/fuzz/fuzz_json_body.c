/*
 * fuzz_json_body.c - a request body as pts-cgi takes it: the UTF-8 check, the bounded JSON
 * parse, then settings validation (PUT /api/settings) and the webhook payload reading.
 */
#include "fuzz.h"
#include "jsonx.h"
#include "plexhook.h"
#include "req.h"
#include "settings.h"
#include "utf8.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_object *j, *fields, *args = NULL;
	const char *why = NULL;

	if (!pts_utf8_valid((const char *)data, size))
		return 0;
	j = pts_json_parse((const char *)data, size, REQ_BODY_MAX, &why);
	if (j == NULL)
		return 0;
	fields = json_object_new_object();
	(void)pts_settings_validate(j, fields);
	(void)json_object_to_json_string(fields);
	json_object_put(fields);
	(void)plexhook_read(j, 1700000000, &args, &why);
	json_object_put(args);
	(void)pts_json_str(j, "password");
	(void)pts_json_bool(j, "dry_run", -1);
	(void)pts_json_int(j, "limit", 0);
	json_object_put(j);
	return 0;
}
