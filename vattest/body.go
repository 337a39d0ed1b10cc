package vattest

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/go-mtd/vat/vattest/internal/decimal"
)

// maxJSONBody is Play's default limit for JSON bodies (100 KiB).
const maxJSONBody = 100 << 10

// readJSONBody reads a JSON request body as HMRC's Play services do: only
// application/json or text/json (else 415), at most 100 KiB (else 413), valid
// JSON whose numbers stay within the parser's limits (else 400
// {"statusCode":400,"message":"Invalid Json"}). Numbers are json.Number, so
// their text, and with it their scale, is kept.
func readJSONBody(w http.ResponseWriter, r *http.Request) (any, bool) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || !strings.EqualFold(mt, "application/json") && !strings.EqualFold(mt, "text/json") {
		writeJSON(w, http.StatusUnsupportedMediaType, bodyUnsupportedMediaType)
		return nil, false
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxJSONBody+1))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, bodyInvalidJSON)
		return nil, false
	}
	if len(raw) > maxJSONBody {
		writeJSON(w, http.StatusRequestEntityTooLarge, bodyEntityTooLarge)
		return nil, false
	}
	v, ok := parseJSON(raw)
	if !ok {
		writeJSON(w, http.StatusBadRequest, bodyInvalidJSON)
		return nil, false
	}
	return v, true
}

// parseJSON decodes the first JSON value of raw (trailing content is ignored,
// as Jackson does) and checks every number against the parser's limits.
func parseJSON(raw []byte) (any, bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	return v, numbersWithinLimits(v)
}

func numbersWithinLimits(v any) bool {
	switch x := v.(type) {
	case json.Number:
		_, err := decimal.Parse(string(x))
		return err == nil
	case map[string]any:
		for _, e := range x {
			if !numbersWithinLimits(e) {
				return false
			}
		}
	case []any:
		for _, e := range x {
			if !numbersWithinLimits(e) {
				return false
			}
		}
	}
	return true
}
