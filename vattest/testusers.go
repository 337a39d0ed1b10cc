package vattest

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"mime"
	"net/http"
	"strings"
)

// createUserRequest is the body of POST /create-test-user/{type}.
// serviceNames may be left out (the service reads it as optional).
type createUserRequest struct {
	ServiceNames []string `json:"serviceNames"`
	EORINumber   string   `json:"eoriNumber"`
	ExciseNumber string   `json:"exciseNumber"`
	NINO         string   `json:"nino"`
	TaxpayerType string   `json:"taxpayerType"`
	Pillar2ID    string   `json:"pillar2Id"`
}

var services = map[string]bool{
	"national-insurance": true, "self-assessment": true, "corporation-tax": true, "paye-for-employers": true,
	"submit-vat-returns": true, "mtd-vat": true, "mtd-income-tax": true, "agent-services": true, "lisa": true,
	"secure-electronic-transfer": true, "relief-at-source": true, "customs-services": true,
	"goods-vehicle-movements": true, "import-control-system": true, "common-transit-convention-traders-legacy": true,
	"common-transit-convention-traders": true, "safety-and-security": true, "excise-movement-control-system": true,
	"modernisation-of-authorisations": true, "pillar-2": true,
}

// testUsers is HMRC's Create Test User API (notes §11.1): application-restricted.
func (s *Server) testUsers(c *call) {
	if c.route.ep == epServices {
		writeJSON(c.w, http.StatusOK, s.data.services)
		return
	}
	mt, _, err := mime.ParseMediaType(c.r.Header.Get("Content-Type"))
	if err != nil || !strings.EqualFold(mt, "application/json") && !strings.EqualFold(mt, "text/json") {
		writeJSON(c.w, http.StatusUnsupportedMediaType, []byte(`{"statusCode":415,"message":"Expecting text/json or application/json body"}`))
		return
	}
	var req createUserRequest
	dec := json.NewDecoder(http.MaxBytesReader(nil, c.r.Body, maxJSONBody))
	if err := dec.Decode(&req); err != nil {
		if _, ok := err.(*json.UnmarshalTypeError); ok {
			plain(c.w, http.StatusBadRequest, "Invalid CreateUserWithOptionalRequestParams payload: "+err.Error())
			return
		}
		writeJSON(c.w, http.StatusBadRequest, []byte(`{"statusCode":400,"message":"bad request, cause: invalid json"}`))
		return
	}
	for i, name := range req.ServiceNames {
		if !services[name] {
			plain(c.w, http.StatusBadRequest, fmt.Sprintf("Invalid CreateUserWithOptionalRequestParams payload: /serviceNames(%d) error.expected.validenumvalue", i))
			return
		}
	}
	has := map[string]bool{}
	for _, n := range req.ServiceNames {
		has[n] = true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var resp map[string]any
	switch c.route.ep {
	case epCreateAgent:
		u := s.newUserLocked("agent")
		resp = map[string]any{"userId": u.UserID, "password": u.Password, "userFullName": u.UserFullName, "emailAddress": u.EmailAddress}
		if has["agent-services"] {
			u.AgentServicesAccountNumber = "NARN" + s.rnd.digits(7)
			resp["agentServicesAccountNumber"] = u.AgentServicesAccountNumber
		}
	case epCreateIndividual:
		if req.NINO != "" && s.ninoUsedLocked(req.NINO) {
			writeJSON(c.w, http.StatusBadRequest, []byte(`{"code":"NINO_ALREADY_USED","message":"The nino specified has already been used"}`))
			return
		}
		u := s.newUserLocked("individual")
		resp = s.userResponseLocked(u, has, req, false)
	default:
		if req.NINO != "" && s.ninoUsedLocked(req.NINO) {
			writeJSON(c.w, http.StatusBadRequest, []byte(`{"code":"NINO_ALREADY_USED","message":"The nino specified has already been used"}`))
			return
		}
		u := s.newUserLocked("organisation")
		resp = s.userResponseLocked(u, has, req, true)
	}
	b, _ := json.Marshal(resp)
	writeJSON(c.w, http.StatusCreated, b)
}

func plain(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(msg))
}

func (s *Server) ninoUsedLocked(nino string) bool {
	for _, u := range s.users {
		if u.extra["nino"] == nino {
			return true
		}
	}
	return false
}

// userResponseLocked builds the 201 body for an individual or organisation
// and, for mtd-vat, seeds its VAT organisation (enrolled, with obligations).
func (s *Server) userResponseLocked(u *user, has map[string]bool, req createUserRequest, org bool) map[string]any {
	first, last, _ := strings.Cut(u.UserFullName, " ")
	resp := map[string]any{"userId": u.UserID, "password": u.Password, "userFullName": u.UserFullName, "emailAddress": u.EmailAddress}
	address := func(line1, line2 string) map[string]string {
		return map[string]string{"line1": line1, "line2": line2, "postcode": "TS1 1PA"}
	}
	today := s.todayLocked()
	resp["individualDetails"] = map[string]any{
		"firstName": first, "lastName": last,
		"dateOfBirth": today.AddYears(-25 - rand.IntN(50)).AddDays(-rand.IntN(365)).String(),
		"address":     address(s.rnd.digits(2)+" Springfield Rise", "Glasgow"),
	}
	set := func(k, v string) {
		resp[k] = v
		u.extra[k] = v
	}
	if has["national-insurance"] || has["self-assessment"] || has["mtd-income-tax"] || !org {
		nino := req.NINO
		if nino == "" {
			nino = s.rnd.letters(2, "ABCEGHJKLMNPRSTWXYZ") + s.rnd.digits(6) + s.rnd.letters(1, "ABCD")
		}
		set("nino", nino)
	}
	if has["self-assessment"] {
		set("saUtr", s.rnd.digits(10))
	}
	if has["mtd-income-tax"] {
		set("mtdItId", "XJIT"+s.rnd.digits(11))
	}
	if has["mtd-vat"] || (org && has["submit-vat-returns"]) {
		if has["mtd-vat"] {
			_, _ = s.addOrganisationLocked(Organisation{}, u) // cannot fail: generated VRN
		} else { // a VRN without the MTD VAT enrolment
			u.VRN = s.newVRNLocked()
			u.VATRegistrationDate = today.AddYears(-1 - rand.IntN(20)).String()
		}
		resp["vrn"] = u.VRN
		resp["vatRegistrationDate"] = u.VATRegistrationDate
	}
	if org {
		name := "Company " + s.rnd.letters(3, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") + s.rnd.digits(3)
		if o := s.orgs[u.VRN]; o != nil {
			name = o.name
		}
		resp["organisationDetails"] = map[string]any{"name": name, "address": address(s.rnd.digits(1)+" Abbey Road", "Aberdeen")}
		if has["paye-for-employers"] {
			set("empRef", s.rnd.digits(3)+"/"+s.rnd.letters(10, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
		}
		if has["corporation-tax"] {
			set("ctUtr", s.rnd.digits(10))
			set("crn", s.rnd.digits(8))
		}
		if has["lisa"] {
			set("lisaManagerReferenceNumber", "Z"+s.rnd.digits(6))
		}
		if has["secure-electronic-transfer"] {
			set("secureElectronicTransferReferenceNumber", "1"+s.rnd.digits(11))
		}
		if has["relief-at-source"] {
			set("pensionSchemeAdministratorIdentifier", "A"+s.rnd.digits(7))
		}
		if req.TaxpayerType != "" {
			set("taxPayerType", req.TaxpayerType)
		}
		if req.ExciseNumber != "" {
			set("exciseNumber", req.ExciseNumber)
		}
		if has["pillar-2"] {
			id := req.Pillar2ID
			if id == "" {
				id = "XA" + s.rnd.digits(13)
			}
			set("pillar2Id", id)
		}
	}
	if req.EORINumber != "" {
		set("eoriNumber", req.EORINumber)
	} else if has["customs-services"] || has["goods-vehicle-movements"] || has["import-control-system"] || has["safety-and-security"] ||
		has["common-transit-convention-traders"] || has["common-transit-convention-traders-legacy"] || has["excise-movement-control-system"] {
		set("eoriNumber", "GB"+s.rnd.digits(12))
	}
	set("groupIdentifier", "testGroupId-"+s.rnd.uuid())
	return resp
}
