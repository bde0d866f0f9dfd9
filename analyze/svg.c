// SPDX-License-Identifier: BSD-2-Clause
/*
 * A connection's sequence diagram as SVG: a time axis on the left, the
 * client and server lanes, state changes as boxes on their lane, resets
 * and retransmits as arrows between lanes, drops as a cross; packets of
 * the pcap as thin arrows from their sender's lane, a cross at the end of
 * one the receiver dropped. One row per moment (times are labels, so
 * microsecond and second gaps both read).
 * Every string from the file is escaped; the picture needs nothing else.
 */
#include <stdio.h>
#include <string.h>

#include "diagram.h"
#include "esc.h"
#include "finding.h"
#include "util.h"

#define ROW 30
#define TOP 90
#define LANE0 470
#define LANE1 850
#define WIDTH 1100
#define MAX_ROWS 5000	/* a bigger diagram is cut, and says so */

static const char *color(const struct dg_item *it)
{
	if (it->pk)
		return it->pk->seg.flags & TRAIL_TCP_RST || it->pk->eff_rel == PKT_REL_DROP ?
		       "#c0392b" : it->pk->rel == PKT_REL_RETRANS ? "#d68910" : "#444444";
	if (!it->ev)
		return "#1f5fa8";
	switch (it->ev->type) {
	case EV_RST_SENT:
	case EV_RST_RECV:
	case EV_DROP:
		return "#c0392b";
	case EV_RETRANS:
		return "#d68910";
	case EV_SYN_ARRIVED:
	case EV_TW_ENTER:
	case EV_TW_END:
		return "#117a65";
	default:
		return "#555555";
	}
}

static void text_el(FILE *out, int x, int y, const char *anchor, const char *fill, int bold,
		    const char *s)
{
	fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"%s\" fill=\"%s\"%s>", x, y, anchor,
		fill, bold ? " font-weight=\"bold\"" : "");
	esc_html(out, s);
	fprintf(out, "</text>\n");
}

void dg__svg(const struct dg *d, struct ana_capture *cap, FILE *out)
{
	size_t n = d->n < MAX_ROWS ? d->n : MAX_ROWS, i;
	int h = TOP + (int)n * ROW + 60, lane[2] = { LANE0, LANE1 };
	char lab[320], safe[400], t[48], r[48], title[200], tup[160];

	fprintf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\""
		" viewBox=\"0 0 %d %d\" font-family=\"monospace\" font-size=\"12\">\n",
		WIDTH, h, WIDTH, h);
	fprintf(out, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n",
		WIDTH, h);
	fprintf(out, "<defs><marker id=\"ah\" markerWidth=\"10\" markerHeight=\"8\" refX=\"10\""
		" refY=\"4\" orient=\"auto\"><path d=\"M0,0 L10,4 L0,8 z\" fill=\"context-stroke\"/>"
		"</marker></defs>\n");
	snprintf(title, sizeof(title), "connection #%u  %s", d->c->id,
		 ana_conn__tuple(d->c, tup, sizeof(tup)));
	text_el(out, 20, 24, "start", "#000000", 1, title);
	text_el(out, 20, TOP - 30, "start", "#000000", 1, "time (+ms)");
	for (i = 0; i < 2; i++) {
		text_el(out, lane[i], TOP - 30, "middle", "#000000", 1,
			ana_safe(d->lane[i], safe, sizeof(safe)));
		fprintf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#999999\""
			" stroke-width=\"2\"/>\n", lane[i], TOP - 20, lane[i], h - 40);
	}
	fprintf(out, "<line x1=\"270\" y1=\"%d\" x2=\"270\" y2=\"%d\" stroke=\"#333333\"/>\n",
		TOP - 20, h - 40);
	for (i = 0; i < n; i++) {
		const struct dg_item *it = &d->v[i];
		int y = TOP + (int)i * ROW, x = lane[it->lane], o = lane[!it->lane];
		int dir = dg__dir(it);
		const char *c = color(it);

		ana_clock__fmt(&cap->clock, it->ts, t, sizeof(t));
		dg__rel(d, it->ts, r, sizeof(r));
		text_el(out, 20, y + 4, "start", "#333333", 0, t);
		text_el(out, 265, y + 4, "end", "#333333", 0, r);
		fprintf(out, "<line x1=\"266\" y1=\"%d\" x2=\"274\" y2=\"%d\" stroke=\"#333333\"/>\n",
			y, y);
		dg__label_in(d, cap, it, lab, sizeof(lab));
		ana_safe(lab, safe, sizeof(safe));
		if (dir) {
			int from = dir > 0 ? x : o, to = dir > 0 ? o : x;

			fprintf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\""
				" stroke-width=\"%d\"%s marker-end=\"url(#ah)\"/>\n", from, y, to, y, c,
				it->pk ? 1 : 2, it->pk ? "" : it->ev->type == EV_RETRANS ?
				" stroke-dasharray=\"6,3\"" : "");
			if (it->pk && it->pk->eff_rel == PKT_REL_DROP)	/* dropped on arrival */
				fprintf(out, "<path d=\"M%d,%d l10,10 m0,-10 l-10,10\" stroke=\"%s\""
					" stroke-width=\"3\"/>\n", to - 5, y - 5, c);
			text_el(out, (from + to) / 2, y - 5, "middle", c, 1, safe);
		} else if (it->ev && it->ev->type == EV_DROP) {
			fprintf(out, "<path d=\"M%d,%d l10,10 m0,-10 l-10,10\" stroke=\"%s\""
				" stroke-width=\"3\"/>\n", x - 5, y - 5, c);
			text_el(out, x + (it->lane ? -12 : 12), y + 4, it->lane ? "end" : "start", c,
				1, safe);
		} else {
			int w = (int)strlen(safe) * 7 + 12;

			if (w > 360)
				w = 360;
			fprintf(out, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"20\" rx=\"4\""
				" fill=\"#ffffff\" stroke=\"%s\"/>\n", x - w / 2, y - 12, w, c);
			text_el(out, x, y + 3, "middle", c, 0, safe);
		}
	}
	if (d->n > n) {
		snprintf(lab, sizeof(lab), "... %zu more moments not drawn (limit %d)", d->n - n,
			 MAX_ROWS);
		text_el(out, 20, h - 20, "start", "#c0392b", 1, lab);
	}
	fprintf(out, "</svg>\n");
}
