package vattest

import (
	"net/http"
	"net/url"
	"strings"
	"time"
)

// HMRC's Check a UK VAT number API, version 2.0 (hmrc/vat-registered-companies-api,
// public/api/conf/2.0/application.yaml): application-restricted, scope
// read:vat, Accept application/vnd.hmrc.2.0+json.

const (
	checkVATPrefix = "/organisations/vat/check-vat-number/lookup/"
	acceptV2       = "application/vnd.hmrc.2.0+json"
)

// The API's error bodies, exactly as its controller writes them
// (models/LookupRequestError.scala).
var (
	bodyCheckTargetInvalid    = []byte(`{"code":"INVALID_REQUEST","message":"Invalid targetVrn - Vrn parameters should be 9 or 12 digits"}`)
	bodyCheckRequesterInvalid = []byte(`{"code":"INVALID_REQUEST","message":"Invalid requesterVrn - Vrn parameters should be 9 or 12 digits"}`)
	bodyCheckBothInvalid      = []byte(`{"code":"INVALID_REQUEST","message":"Invalid targetVrn and requesterVrn - Vrn parameters should be 9 or 12 digits"}`)
	bodyCheckRequesterUnknown = []byte(`{"code":"INVALID_REQUEST","message":"requesterVrn does not match a registered company"}`)
	bodyCheckTargetUnknown    = []byte(`{"code":"NOT_FOUND","message":"targetVrn does not match a registered company"}`)
)

// checkVATTestVRNs are the mock VAT numbers HMRC's sandbox answers for
// (public/api/conf/2.0/test-data/vrn.csv at commit
// 3a19c62c2e24fb89beba8e944360efdb7959b99e). The simulator answers for them
// and for every organisation it holds.
const checkVATTestVRNs = "553557881,146295999727,948561936944,166804280212,711954454070,355699311774,770555752641,436189915,011591667,961925638,710882182,491434866908,792920366,567152344,293129633,036139833,133431885,603947495399,462794985,304696336527,865282815144,000549615108,051798906,698814748,256676991,285052602207,494521394,486691505,904961373774,274094560978,282415407,094531337168,132877896459,896040675996,309335202,775917660,286381514768,726129090,576042213,786176152"

// checkVATAddress is the wire shape of a registered business's address.
type checkVATAddress struct {
	Line1       string `json:"line1"`
	Line2       string `json:"line2,omitempty"`
	Postcode    string `json:"postcode,omitempty"`
	CountryCode string `json:"countryCode"`
}

type checkVATTarget struct {
	Name      string          `json:"name"`
	VATNumber string          `json:"vatNumber"`
	Address   checkVATAddress `json:"address"`
}

type checkVATResponse struct {
	Target             checkVATTarget `json:"target"`
	Requester          string         `json:"requester,omitempty"`
	ConsultationNumber string         `json:"consultationNumber,omitempty"`
	ProcessingDate     string         `json:"processingDate"`
}

// lookupVRN reports whether s is 9 or 12 digits.
func lookupVRN(s string) bool {
	if len(s) != 9 && len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// registeredBusinessLocked returns the business registered under vrn: an
// organisation of the simulator, HMRC's documented example, or one of HMRC's
// sandbox test numbers.
func (s *Server) registeredBusinessLocked(vrn string) (checkVATTarget, bool) {
	if o, ok := s.orgs[vrn]; ok {
		return checkVATTarget{Name: o.name, VATNumber: vrn,
			Address: checkVATAddress{Line1: vrn[len(vrn)-1:] + " Abbey Road", Line2: "Aberdeen", Postcode: "AB1 2CD", CountryCode: "GB"}}, true
	}
	if vrn == "553557881" { // HMRC's example response
		return checkVATTarget{Name: "Credite Sberger Donal Inc.", VATNumber: vrn,
			Address: checkVATAddress{Line1: "131B Barton Hamlet", Postcode: "SW97 5CK", CountryCode: "GB"}}, true
	}
	for _, v := range strings.Split(checkVATTestVRNs, ",") {
		if v == vrn {
			return checkVATTarget{Name: "Test Business " + vrn, VATNumber: vrn,
				Address: checkVATAddress{Line1: "1 Test Street", Postcode: "TE1 1ST", CountryCode: "GB"}}, true
		}
	}
	return checkVATTarget{}, false
}

// checkVATNumber answers the Check a UK VAT number API: the platform's
// checks (method, Accept, resource, token, rate limit, scope), then the
// lookup. Any token with read:vat is accepted, application-restricted or
// not.
func (s *Server) checkVATNumber(w http.ResponseWriter, r *http.Request, path string) {
	if r.Method != http.MethodGet {
		writeJSON(w, http.StatusMethodNotAllowed, bodyMethodNotAllowed)
		return
	}
	if r.Header.Get("Accept") != acceptV2 {
		writeJSON(w, http.StatusNotAcceptable, bodyAcceptInvalid)
		return
	}
	segs := strings.Split(strings.TrimPrefix(path, checkVATPrefix), "/")
	if len(segs) > 2 || segs[0] == "" || (len(segs) == 2 && segs[1] == "") {
		writeJSON(w, http.StatusNotFound, bodyMatchingResourceNotFound)
		return
	}
	for i, seg := range segs {
		d, err := url.PathUnescape(seg)
		if err != nil {
			writeJSON(w, http.StatusNotFound, bodyMatchingResourceNotFound)
			return
		}
		segs[i] = d
	}
	c := &call{w: w, r: r, route: route{method: http.MethodGet}}
	if !s.authenticate(c) {
		return
	}
	if c.tok.scopes&scopeReadVAT == 0 {
		writeJSON(w, http.StatusForbidden, bodyInvalidScope)
		return
	}
	target, requester := segs[0], ""
	if len(segs) == 2 {
		requester = segs[1]
	}
	switch okT, okR := lookupVRN(target), requester == "" || lookupVRN(requester); {
	case !okT && !okR:
		writeJSON(w, http.StatusBadRequest, bodyCheckBothInvalid)
		return
	case !okT:
		writeJSON(w, http.StatusBadRequest, bodyCheckTargetInvalid)
		return
	case !okR:
		writeJSON(w, http.StatusBadRequest, bodyCheckRequesterInvalid)
		return
	}
	s.mu.Lock()
	t, found := s.registeredBusinessLocked(target)
	_, requesterFound := s.registeredBusinessLocked(requester)
	s.mu.Unlock()
	switch {
	case !found:
		writeJSON(w, http.StatusNotFound, bodyCheckTargetUnknown)
		return
	case requester != "" && !requesterFound:
		writeJSON(w, http.StatusForbidden, bodyCheckRequesterUnknown)
		return
	}
	out := checkVATResponse{Target: t, ProcessingDate: ukTime(c.now).Format("2006-01-02T15:04:05-07:00")}
	if requester != "" {
		out.Requester = requester
		out.ConsultationNumber = s.rnd.letters(9, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
	}
	writeValue(w, http.StatusOK, out)
}

// ukTime is t in Europe/London, as HMRC writes processingDate; UTC where
// the machine has no time zone database.
func ukTime(t time.Time) time.Time {
	if loc, err := time.LoadLocation("Europe/London"); err == nil {
		return t.In(loc)
	}
	return t.UTC()
}
