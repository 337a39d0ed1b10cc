package vattest

import (
	"net/http"
)

func (s *Server) penalties(c *call) {
	name := c.scenario
	if name == "" {
		s.mu.Lock()
		o := s.orgs[c.vrn]
		s.mu.Unlock()
		if o == nil || o.insolvent {
			s.unmappedOrInsolvent(c, o)
			return
		}
		name = "DEFAULT" // HMRC documents DEFAULT as the default
	}
	body, ok := s.data.penalties[name]
	if !ok {
		writeJSON(c.w, http.StatusBadRequest, bodyIncorrectScenario)
		return
	}
	writeJSON(c.w, http.StatusOK, body)
}

type customerDetailsWire struct {
	EffectiveRegistrationDate string `json:"effectiveRegistrationDate"`
}

type flatRateSchemeWire struct {
	FRSCategory string `json:"frsCategory"`
	StartDate   string `json:"startDate"`
}

type informationWire struct {
	CustomerDetails *customerDetailsWire `json:"customerDetails,omitempty"`
	FlatRateScheme  *flatRateSchemeWire  `json:"flatRateScheme,omitempty"`
}

func (s *Server) information(c *call) {
	var info informationWire
	switch c.scenario {
	case "":
		o := s.lockOrg(c)
		if o == nil {
			return
		}
		info.CustomerDetails = &customerDetailsWire{o.regDate.String()}
		if o.frs != nil {
			info.FlatRateScheme = &flatRateSchemeWire{o.frs.Category, o.frs.StartDate}
		}
		s.mu.Unlock()
	case "DEFAULT":
		writeJSON(c.w, http.StatusOK, s.data.information)
		return
	case "CUSTOMER_INFO_NOT_FOUND":
		writeJSON(c.w, http.StatusNotFound, bodyCustomerInfoNotFound)
		return
	case "NO_EFFECTREGISTRATIONDATE":
		info.FlatRateScheme = &flatRateSchemeWire{"001", "2001-01-01"}
	case "NO_FLATRATESCHEME":
		info.CustomerDetails = &customerDetailsWire{"2001-01-01"}
	case "NO_EFFECTREGISTRATIONDATE_NO_FRS":
		// vat-api answers an empty record with a bare 500, without API headers.
		h := c.w.Header()
		delete(h, "X-CorrelationId")
		delete(h, "X-Content-Type-Options")
		writeJSON(c.w, http.StatusInternalServerError, bodyInternalError)
		return
	default:
		writeJSON(c.w, http.StatusBadRequest, bodyIncorrectScenario)
		return
	}
	writeValue(c.w, http.StatusOK, info)
}
