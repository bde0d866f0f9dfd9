// SPDX-License-Identifier: BSD-2-Clause
#include <string.h>

#include "esc.h"

static int printable(unsigned char c)
{
	return c >= 0x20 && c < 0x7f;
}

static void hexbyte(FILE *out, unsigned char c, const char *pre)
{
	fprintf(out, "%sx%02x", pre, c);
}

void esc_json(FILE *out, const char *s)
{
	fputc('"', out);
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (printable(c))
			fputc(c, out);
		else
			hexbyte(out, c, "\\\\");	/* shown as \xNN, valid JSON */
	}
	fputc('"', out);
}

void esc_html(FILE *out, const char *s)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		switch (c) {
		case '&': fputs("&amp;", out); break;
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '"': fputs("&quot;", out); break;
		case '\'': fputs("&#39;", out); break;
		default:
			if (printable(c) || c == '\n')
				fputc(c, out);
			else
				hexbyte(out, c, "\\");
		}
	}
}

void esc_md(FILE *out, const char *s)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (strchr("\\`*_{}[]()<>#+-!|~", c) && c)
			fprintf(out, "\\%c", c);
		else if (printable(c))
			fputc(c, out);
		else
			hexbyte(out, c, "\\\\");
	}
}

void esc_mermaid(FILE *out, const char *s)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		/* ; and # start a new statement or an entity; newlines end one */
		if (c == ';')
			fputs("#59;", out);
		else if (c == '#')
			fputs("#35;", out);
		else if (c == '<' || c == '>' || c == '"' || c == '%' || c == '{' || c == '}')
			fprintf(out, "#%u;", c);
		else if (printable(c))
			fputc(c, out);
		else
			hexbyte(out, c, "\\");
	}
}
