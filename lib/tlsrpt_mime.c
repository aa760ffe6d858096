/*
 * tlsrpt_mime - the report part of a TLS-RPT mail (RFC 8460 section 5.3:
 * multipart/report with an application/tlsrpt+gzip or
 * application/tlsrpt+json part), through GMime. GMime does the MIME
 * structure and the transfer decoding (base64, quoted-printable); this
 * file only picks the part.
 */
#include "config.h"

#include <pthread.h>
#include <string.h>

#include <gmime/gmime.h>

#include "tlsrpt.h"
#include "xalloc.h"

static pthread_once_t mime_once = PTHREAD_ONCE_INIT;

static void
mime_init(void)
{
	g_mime_init();
}

struct pick {
	GMimePart *part;	/* the first report part (a reference) */
	int gzipped;
};

static void
pick_part(GMimeObject *parent, GMimeObject *obj, gpointer data)
{
	struct pick *pick = data;
	GMimeContentType *ct;

	(void)parent;
	if (pick->part != NULL || !GMIME_IS_PART(obj))
		return;
	ct = g_mime_object_get_content_type(obj);
	if (ct == NULL)
		return;
	if (g_mime_content_type_is_type(ct, "application", "tlsrpt+gzip"))
		pick->gzipped = 1;
	else if (!g_mime_content_type_is_type(ct, "application",
	    "tlsrpt+json"))
		return;
	pick->part = GMIME_PART(obj);
	g_object_ref(obj);
}

int
tlsrpt_mime_extract(const void *msg, size_t len, char **out, size_t *outlen,
    int *gzipped, struct errbuf *err)
{
	GMimeStream *in, *decoded;
	GMimeParser *parser;
	GMimeMessage *m;
	GMimeDataWrapper *content;
	GByteArray *bytes;
	struct pick pick = { NULL, 0 };
	ssize_t n;

	*out = NULL;
	*outlen = 0;
	pthread_once(&mime_once, mime_init);
	in = g_mime_stream_mem_new_with_buffer(msg, len);
	parser = g_mime_parser_new_with_stream(in);
	g_object_unref(in);
	m = g_mime_parser_construct_message(parser, NULL);
	g_object_unref(parser);
	if (m == NULL) {
		errbuf_set(err, "neither a report (JSON or gzip) nor a mail "
		    "message");
		return -1;
	}
	g_mime_message_foreach(m, pick_part, &pick);
	g_object_unref(m);
	if (pick.part == NULL) {
		errbuf_set(err, "mail without an application/tlsrpt+gzip or "
		    "application/tlsrpt+json part: not a TLS report");
		return -1;
	}
	content = g_mime_part_get_content(pick.part);
	if (content == NULL) {
		g_object_unref(pick.part);
		errbuf_set(err, "the report part of the mail is empty");
		return -1;
	}
	decoded = g_mime_stream_mem_new();
	n = g_mime_data_wrapper_write_to_stream(content, decoded);
	g_object_unref(pick.part);
	if (n < 0) {
		g_object_unref(decoded);
		errbuf_set(err, "the report part of the mail cannot be "
		    "decoded");
		return -1;
	}
	bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(decoded));
	*outlen = bytes->len;
	*out = xmalloc(bytes->len + 1);
	if (bytes->len > 0)
		memcpy(*out, bytes->data, bytes->len);
	(*out)[bytes->len] = '\0';
	*gzipped = pick.gzipped;
	g_object_unref(decoded);
	return 0;
}
