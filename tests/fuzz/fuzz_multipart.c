/*
 * fuzz_multipart.c - a webhook body as pts-cgi takes it: the first line is the Content-Type
 * (its boundary, or a fixed one when it has none), the rest the body. Every part is walked
 * (its bytes read), the payload part found in the whole body and in prefixes of it (pts-cgi
 * reads at most 64 KiB), and a found payload checked and parsed as JSON and read as a Plex
 * webhook payload.
 */
#include "fuzz.h"
#include "jsonx.h"
#include "multipart.h"
#include "plexhook.h"
#include "req.h"
#include "utf8.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

/* Touch every byte the parser hands out, so an out-of-bounds pointer is seen by ASan. */
static int
fuzz_part(void *ctx, const struct mp_part *p)
{
	unsigned *sum = ctx;
	size_t i;

	for (i = 0; i < p->len; i++)
		*sum += (unsigned char)p->data[i];
	for (i = 0; i < p->ctype_len; i++)
		*sum += (unsigned char)p->ctype[i];
	*sum += (unsigned)strlen(p->name) + (unsigned)strlen(p->filename);
	return 0;
}

static void
fuzz_payload(const char *buf, size_t len, const char *boundary)
{
	struct mp_part part;
	json_object *j, *args = NULL;
	const char *why = NULL;
	int truncated;

	if (mp_find(buf, len, boundary, "payload", &part, &truncated, &why) != 0)
		return;
	if (!pts_utf8_valid(part.data, part.len))
		return;
	j = pts_json_parse(part.data, part.len, REQ_BODY_MAX, &why);
	if (j == NULL)
		return;
	(void)plexhook_read(j, 1700000000, &args, &why);
	if (args != NULL)
		(void)json_object_to_json_string(args);
	json_object_put(args);
	json_object_put(j);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t ctlen = nl ? (size_t)(nl - data) : size, blen;
	char *ct = fuzz_str(data, ctlen), boundary[MP_BOUNDARY_MAX + 1];
	const char *body;
	unsigned sum = 0;

	if (mp_boundary(ct, boundary, sizeof(boundary)) != 0)
		memcpy(boundary, "b", 2);
	free(ct);
	/* The body in its own allocation: a read past its end is then an ASan report. */
	blen = nl ? size - ctlen - 1 : 0;
	body = blen > 0 ? (const char *)nl + 1 : "";
	{
		char *copy = malloc(blen ? blen : 1);

		if (copy == NULL)
			abort();
		memcpy(copy, body, blen);
		(void)mp_parse(copy, blen, boundary, fuzz_part, &sum, NULL);
		fuzz_payload(copy, blen, boundary);
		fuzz_payload(copy, blen / 2, boundary);
		free(copy);
	}
	(void)sum;
	return 0;
}
