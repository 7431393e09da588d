/*
 * test_plexusers.c - plex.tv's XML answers: the bounded reader (plexxml.h) and the server's
 * people with their tokens (plexusers.h). Shapes as python-plexapi reads them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plexusers.h"
#include "plexxml.h"
#include "tap.h"

#define MACHINE "fa4e00000000000000000000000000000000beef"

struct count {
	int elements, max_depth;
	char last_title[64];
};

static int
count_el(void *ctx, const struct pts_pxml_el *el)
{
	struct count *c = ctx;
	const char *t = pts_pxml_attr(el, "title");

	c->elements++;
	if (el->depth > c->max_depth)
		c->max_depth = el->depth;
	if (t != NULL)
		snprintf(c->last_title, sizeof(c->last_title), "%s", t);
	return 0;
}

static int
scan(const char *xml, struct count *c)
{
	memset(c, 0, sizeof(*c));
	return pts_pxml_scan(xml, strlen(xml), count_el, c);
}

static void
test_reader(void)
{
	struct count c;
	char deep[PTS_PXML_MAX_DEPTH * 8 + 64], big[PTS_PXML_VALUE_MAX + 64];
	int i;

	TAP_OK(scan("<?xml version=\"1.0\"?>\n<!-- c --><!DOCTYPE x><a><b title='x'>text</b>"
	    "<![CDATA[<notatag>]]><c/></a>\n", &c) == 0 && c.elements == 3 && c.max_depth == 1,
	    "xml: declaration, comment, DOCTYPE, text and CDATA skipped; 3 elements, depth 1");
	TAP_OK(scan("<a title=\"Tom &amp; Jerry &lt;3 &#233;&#x263A; &quot;q&quot; &apos;\"/>",
	    &c) == 0, "xml: entities decode");
	TAP_STREQ(c.last_title, "Tom & Jerry <3 \xc3\xa9\xe2\x98\xba \"q\" '",
	    "xml: the decoded value");
	TAP_OK(scan("<a title=\"&bogus;\"/>", &c) == -1, "xml: an unknown entity is refused");
	TAP_OK(scan("<a title=\"&#0;\"/>", &c) == -1, "xml: &#0; is refused");
	TAP_OK(scan("<a title=\"&#xD800;\"/>", &c) == -1, "xml: a surrogate is refused");
	TAP_OK(scan("<a><b></a>", &c) == -1, "xml: an unclosed element is refused");
	TAP_OK(scan("<a></a></b>", &c) == -1, "xml: a stray end tag is refused");
	TAP_OK(scan("<a title=\"x/>", &c) == -1, "xml: an unterminated value is refused");
	TAP_OK(scan("<a title=x/>", &c) == -1, "xml: an unquoted value is refused");
	TAP_OK(scan("<a/><b/>", &c) == -1, "xml: two roots are refused");
	TAP_OK(scan("", &c) == -1, "xml: an empty answer is refused");
	TAP_OK(pts_pxml_scan("<a>\0</a>", 8, count_el, &c) == -1, "xml: an embedded NUL is refused");
	deep[0] = '\0';
	for (i = 0; i <= PTS_PXML_MAX_DEPTH; i++)
		strcat(deep, "<d>");
	TAP_OK(scan(deep, &c) == -1, "xml: nesting past PTS_PXML_MAX_DEPTH is refused");
	snprintf(big, sizeof(big), "<a title=\"%*s\"/>", PTS_PXML_VALUE_MAX + 1, "x");
	TAP_OK(scan(big, &c) == -1, "xml: a value past PTS_PXML_VALUE_MAX is refused");
}

static const char *HOME =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<MediaContainer friendlyName=\"myPlex\" identifier=\"com.plexapp.plugins.myplex\" size=\"4\">"
    "<User id=\"1001\" uuid=\"aa01\" admin=\"1\" guest=\"0\" restricted=\"0\" protected=\"0\""
    " title=\"Olivia Owner\" username=\"olivia\" email=\"o@example.com\" thumb=\"x\"/>"
    "<User id=\"1002\" uuid=\"aa02\" admin=\"0\" restricted=\"0\" protected=\"1\" home=\"1\""
    " title=\"Hank &amp; Co\" username=\"hank\"/>"
    "<User id=\"1003\" uuid=\"aa03\" admin=\"0\" restricted=\"1\" protected=\"0\""
    " title=\"Kid\" username=\"\"/>"
    "<User id=\"x9\" title=\"no numeric id\"/>"
    "</MediaContainer>\n";

static const char *FRIENDS =
    "<MediaContainer friendlyName=\"myPlex\" size=\"4\">"
    "<User id=\"1002\" title=\"Hank &amp; Co\" username=\"hank\" home=\"1\">"
    "<Server id=\"1\" serverId=\"9\" machineIdentifier=\"" MACHINE "\" name=\"Fake PMS\"/>"
    "</User>"
    "<User id=\"2001\" title=\"Fran Friend\" username=\"fran\" home=\"0\">"
    "<Server id=\"2\" machineIdentifier=\"0000other\" name=\"Other\"/>"
    "<Server id=\"3\" machineIdentifier=\"" MACHINE "\" name=\"Fake PMS\"/>"
    "</User>"
    "<User id=\"2002\" title=\"Stranger\" username=\"str\">"
    "<Server id=\"4\" machineIdentifier=\"0000other\" name=\"Other\"/>"
    "</User>"
    "<User id=\"2003\" title=\"No servers\" username=\"ns\"/>"
    "</MediaContainer>";

static const char *SHARED =
    "<MediaContainer size=\"3\" machineIdentifier=\"" MACHINE "\">"
    "<SharedServer id=\"11\" username=\"hank\" userID=\"1002\" accessToken=\"tok-hank\""
    " name=\"Fake PMS\" owned=\"0\"><Section id=\"1\" key=\"1\" shared=\"1\"/></SharedServer>"
    "<SharedServer id=\"12\" username=\"fran\" userID=\"2001\" accessToken=\"tok fran\"/>"
    "<SharedServer id=\"13\" username=\"zed\" userID=\"9999\" accessToken=\"tok-zed\"/>"
    "</MediaContainer>";

static void
test_users(void)
{
	struct pts_pusers u = { 0 };
	struct pts_puser *p;
	char *tok = NULL;

	TAP_OK(pts_pusers_parse_home(HOME, strlen(HOME), &u) == 0 && u.n == 3,
	    "home: three usable users (one without a numeric id skipped)");
	p = pts_pusers_find(&u, "1001");
	TAP_OK(p != NULL && p->kind == PTS_PUSER_OWNER, "home: admin=\"1\" is the owner");
	p = pts_pusers_find(&u, "1002");
	TAP_OK(p != NULL && p->kind == PTS_PUSER_HOME && p->is_protected,
	    "home: a Home member with a PIN");
	TAP_STREQ(p ? p->title : NULL, "Hank & Co", "home: the title decoded");
	p = pts_pusers_find(&u, "1003");
	TAP_OK(p != NULL && p->kind == PTS_PUSER_MANAGED && p->username[0] == '\0',
	    "home: restricted=\"1\" is managed, without a user name");
	TAP_STREQ(pts_pusers_kind_name(PTS_PUSER_MANAGED), "managed", "kind names");

	TAP_OK(pts_pusers_parse_friends(FRIENDS, strlen(FRIENDS), MACHINE, &u) == 0 && u.n == 4,
	    "friends: only the friend of this server is added (a Home user not twice)");
	p = pts_pusers_find(&u, "2001");
	TAP_OK(p != NULL && p->kind == PTS_PUSER_SHARED, "friends: a friend is shared");
	TAP_OK(pts_pusers_find(&u, "2002") == NULL && pts_pusers_find(&u, "2003") == NULL,
	    "friends: users of other servers and of none are left out");

	TAP_OK(pts_pusers_parse_shared(SHARED, strlen(SHARED), &u) == 1,
	    "shared: one token taken (a token with a space and an unknown user are not)");
	p = pts_pusers_find(&u, "1002");
	TAP_STREQ(p ? p->token : NULL, "tok-hank", "shared: matched by userID");
	p = pts_pusers_find(&u, "2001");
	TAP_OK(p != NULL && p->token == NULL, "shared: an unusable token is not kept");
	TAP_OK(pts_pusers_parse_shared("<MediaContainer>", 16, &u) == -1,
	    "shared: a truncated answer is refused");
	pts_pusers_free(&u);
	TAP_OK(u.v == NULL && u.n == 0, "free empties the list");
	pts_pusers_free(NULL);

	TAP_OK(pts_pusers_parse_switch("<user id=\"1003\" authenticationToken=\"acct-1003\""
	    " title=\"Kid\"><subscription active=\"0\"/></user>", 86, &tok) == 0, "switch: parsed");
	TAP_STREQ(tok, "acct-1003", "switch: the account token");
	free(tok);
	TAP_OK(pts_pusers_parse_switch("<user id=\"1\"/>", 14, &tok) == -1 && tok == NULL,
	    "switch: an answer without a token is refused");
	TAP_OK(pts_pusers_parse_switch("<user authToken=\"acct-1004\"/>", 29, &tok) == 0,
	    "switch: the older authToken attribute is read too");
	TAP_STREQ(tok, "acct-1004", "switch: its account token");
	free(tok);
	tok = NULL;
	TAP_OK(pts_pusers_parse_switch("<user authenticationToken=\"two words\"/>", 39,
	    &tok) == -1 && tok == NULL, "switch: a token we could not send is refused");

	{
		const char *res = "<MediaContainer size=\"2\">"
		    "<resource name=\"Other\" clientIdentifier=\"0000other\" accessToken=\"no\"/>"
		    "<resource name=\"Fake PMS\" provides=\"server\" clientIdentifier=\"" MACHINE
		    "\" accessToken=\"srv-1003\"><connections><connection uri=\"http://x\"/>"
		    "</connections></resource></MediaContainer>";

		TAP_OK(pts_pusers_parse_resources(res, strlen(res), MACHINE, &tok) == 0,
		    "resources: our server found");
		TAP_STREQ(tok, "srv-1003", "resources: its accessToken");
		free(tok);
		TAP_OK(pts_pusers_parse_resources(res, strlen(res), "beef", &tok) == 1 &&
		    tok == NULL, "resources: a server not listed answers 1");
	}
}

static void
test_limit(void)
{
	struct pts_pusers u = { 0 };
	size_t cap = (PTS_PUSERS_MAX + 2) * 48 + 64, n = 0;
	char *xml = malloc(cap);
	int i;

	n += (size_t)snprintf(xml + n, cap - n, "<MediaContainer>");
	for (i = 0; i < PTS_PUSERS_MAX + 1; i++)
		n += (size_t)snprintf(xml + n, cap - n, "<User id=\"%d\" title=\"u%d\"/>", i + 1, i);
	n += (size_t)snprintf(xml + n, cap - n, "</MediaContainer>");
	TAP_OK(pts_pusers_parse_home(xml, n, &u) == -1,
	    "home: more than PTS_PUSERS_MAX people is refused");
	pts_pusers_free(&u);
	free(xml);
}

int
main(void)
{
	test_reader();
	test_users();
	test_limit();
	return tap_done();
}
