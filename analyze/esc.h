/* SPDX-License-Identifier: BSD-2-Clause */
/* Escaping for every output format. Input is any bytes (from the file);
 * non-printable and non-ASCII bytes come out as \xNN in all formats. */
#ifndef TCPTRAIL_ANA_ESC_H
#define TCPTRAIL_ANA_ESC_H

#include <stdio.h>

/* "..." with JSON escapes (quotes included). */
void esc_json(FILE *out, const char *s);
/* Text for HTML/SVG/XML element content and attribute values (keeps \n). */
void esc_html(FILE *out, const char *s);
/* Markdown inline text: punctuation that formats is backslash-escaped. */
void esc_md(FILE *out, const char *s);
/* Mermaid message/note text: no characters that end a statement. */
void esc_mermaid(FILE *out, const char *s);

#endif
