package vattest

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"path"
	"strings"

	"github.com/go-mtd/vat/vattest/internal/civil"
)

// data holds HMRC's documented examples and the simulator's canned scenario
// data; data/README.md names the source of each file.
//
//go:embed data
var dataFS embed.FS

type cannedRange struct {
	from, to civil.Date
	body     []byte
}

// cannedData is read-only once loaded.
type cannedData struct {
	penalties        map[string][]byte // by Gov-Test-Scenario
	penaltyRefs      map[string]bool   // charge references in the DEFAULT penalties
	financialDetails []byte
	information      []byte
	services         []byte
	liabilities      map[string]cannedRange
	payments         map[string]cannedRange
}

func compactFile(name string) ([]byte, error) {
	raw, err := dataFS.ReadFile(name)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return nil, fmt.Errorf("vattest: %s: %w", name, err)
	}
	return buf.Bytes(), nil
}

func loadCannedData() (*cannedData, error) {
	d := &cannedData{penalties: map[string][]byte{}, penaltyRefs: map[string]bool{}}
	var err error
	entries, err := dataFS.ReadDir("data/penalties")
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		b, err := compactFile("data/penalties/" + e.Name())
		if err != nil {
			return nil, err
		}
		d.penalties[strings.TrimSuffix(e.Name(), path.Ext(e.Name()))] = b
	}
	var pen struct {
		LateSubmissionPenalty struct {
			Details []struct{ ChargeReference string }
		}
		LatePaymentPenalty struct {
			Details []struct{ PenaltyChargeReference string }
		}
	}
	if err := json.Unmarshal(d.penalties["DEFAULT"], &pen); err != nil {
		return nil, err
	}
	for _, x := range pen.LateSubmissionPenalty.Details {
		d.penaltyRefs[x.ChargeReference] = x.ChargeReference != ""
	}
	for _, x := range pen.LatePaymentPenalty.Details {
		d.penaltyRefs[x.PenaltyChargeReference] = x.PenaltyChargeReference != ""
	}
	if d.financialDetails, err = compactFile("data/financial-details/DEFAULT.json"); err != nil {
		return nil, err
	}
	if d.information, err = compactFile("data/information/DEFAULT.json"); err != nil {
		return nil, err
	}
	if d.services, err = compactFile("data/services.json"); err != nil {
		return nil, err
	}
	if d.liabilities, err = loadRanges("data/liabilities.json"); err != nil {
		return nil, err
	}
	if d.payments, err = loadRanges("data/payments.json"); err != nil {
		return nil, err
	}
	return d, nil
}

func loadRanges(name string) (map[string]cannedRange, error) {
	raw, err := dataFS.ReadFile(name)
	if err != nil {
		return nil, err
	}
	var in map[string]struct {
		From, To string
		Body     json.RawMessage
	}
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, fmt.Errorf("vattest: %s: %w", name, err)
	}
	out := map[string]cannedRange{}
	for k, v := range in {
		var buf bytes.Buffer
		if err := json.Compact(&buf, v.Body); err != nil {
			return nil, err
		}
		from, ok1 := civil.Parse(v.From)
		to, ok2 := civil.Parse(v.To)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("vattest: %s: %s: bad dates", name, k)
		}
		out[k] = cannedRange{from, to, buf.Bytes()}
	}
	return out, nil
}
