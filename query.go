package vat

import "net/url"

// queryAppender is a query that writes its own parameters, so that the
// endpoints called most often build their URLs without reflection. The
// result must be exactly what go-querystring and url.Values.Encode make of
// the query's `url` tags: parameters sorted by name, values escaped with
// url.QueryEscape, empty ones left out.
type queryAppender interface {
	// appendQuery appends "&name=value" for each parameter, in name order.
	appendQuery(b []byte) []byte
}

// appendQuery writes from, status and to, as the `url` tags of
// ObligationsQuery say.
func (q ObligationsQuery) appendQuery(b []byte) []byte {
	b = appendDateParam(b, "from", q.From)
	if q.Status != "" {
		b = append(b, "&status="...)
		b = append(b, url.QueryEscape(string(q.Status))...)
	}
	return appendDateParam(b, "to", q.To)
}

// appendQuery writes from and to, as the `url` tags of DateRange say.
func (r DateRange) appendQuery(b []byte) []byte {
	return appendDateParam(appendDateParam(b, "from", r.From), "to", r.To)
}

// appendDateParam appends "&name=YYYY-MM-DD" unless d is zero, as
// Date.EncodeValues does. A date's text is digits and '-', which
// url.QueryEscape leaves as they are.
func appendDateParam(b []byte, name string, d Date) []byte {
	if d.IsZero() {
		return b
	}
	b = append(b, '&')
	b = append(b, name...)
	b = append(b, '=')
	return d.append(b)
}
