package vattest

import (
	"encoding/json"
	"net/url"
	"os"
	"testing"
)

// FuzzSubmitBody feeds arbitrary bodies through the submit validation: no
// panic, and every error item is well formed.
func FuzzSubmitBody(f *testing.F) {
	for _, name := range []string{"testdata/raml-SubmitVatReturn.json", "testdata/raml-SubmitVatReturnHash.json"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"periodKey":1,"vatDueSales":"1e999999999","finalised":null}`))
	f.Add([]byte(`[1,2,3]`))
	f.Add([]byte(`{"vatDueSales":1.0000000000000000000000000000000000001}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		v, ok := parseJSON(body)
		if !ok {
			return
		}
		ret, errs := validateReturn(v)
		for _, e := range errs {
			if e.Code == "" || e.Message == "" || e.Path == "" || e.Path[0] != '/' {
				t.Fatalf("malformed error %+v", e)
			}
		}
		if len(errs) == 0 {
			b := ret.boxes
			if b[2] != b[0]+b[1] || (b[4] != b[2]-b[3] && b[4] != b[3]-b[2]) {
				t.Fatalf("accepted an inconsistent return %+v", ret)
			}
			if !periodKeyPattern.MatchString(ret.periodKey) {
				t.Fatalf("accepted period key %q", ret.periodKey)
			}
		}
		if _, err := json.Marshal(errs); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzQueries feeds arbitrary query strings to the obligations and financial
// data validation: no panic, and a range is accepted only when it is one.
func FuzzQueries(f *testing.F) {
	f.Add("from=2024-02-29&to=2025-02-28&status=F")
	f.Add("status=O")
	f.Add("from=&to=2025-01-01&from=x")
	f.Add("from=2016-04-06&to=2017-04-05")
	f.Fuzz(func(t *testing.T, raw string) {
		u := &url.URL{RawQuery: raw}
		req := newRequestForQuery(u)
		if from, to, _, hasDates, code := obligationsQuery(req); code == "" && hasDates && !from.Before(to) {
			t.Fatalf("%q: accepted from %v after to %v", raw, from, to)
		}
		if from, to, code := financialQuery(req, testToday()); code == "" && !from.Before(to) {
			t.Fatalf("%q: accepted from %v after to %v", raw, from, to)
		}
	})
}
