package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/go-mtd/vat"
	"github.com/xuri/excelize/v2"
)

// boxDef describes one of the nine boxes.
type boxDef struct {
	n     int
	field string // HMRC's JSON name
	label string
}

var boxDefs = []boxDef{
	{1, "vatDueSales", "VAT due on sales and other outputs"},
	{2, "vatDueAcquisitions", "VAT due on acquisitions from the EU (NI)"},
	{3, "totalVatDue", "Total VAT due (box 1 + box 2)"},
	{4, "vatReclaimedCurrPeriod", "VAT reclaimed on purchases and other inputs"},
	{5, "netVatDue", "Net VAT to pay to HMRC or reclaim"},
	{6, "totalValueSalesExVAT", "Total value of sales, excluding VAT"},
	{7, "totalValuePurchasesExVAT", "Total value of purchases, excluding VAT"},
	{8, "totalValueGoodsSuppliedExVAT", "Total value of goods supplied to the EU (NI)"},
	{9, "totalAcquisitionsExVAT", "Total acquisitions from the EU (NI), excluding VAT"},
}

// boxNumber recognises a box by its number ("1", "box 1", "Box1") or its
// HMRC name ("vatDueSales"); 0 if s names no box.
func boxNumber(s string) int {
	t := strings.ToLower(strings.Join(strings.Fields(s), ""))
	t = strings.TrimPrefix(t, "box")
	if n, err := strconv.Atoi(t); err == nil && n >= 1 && n <= 9 {
		return n
	}
	for _, b := range boxDefs {
		if strings.EqualFold(t, b.field) {
			return b.n
		}
	}
	return 0
}

// problem is one mistake found in a return, before anything is sent.
type problem struct {
	box  int    // 0 when not about one box
	code string // HMRC's code, when HMRC has one
	msg  string
}

func (p problem) String() string {
	var b strings.Builder
	if p.box > 0 {
		fmt.Fprintf(&b, "box %d: ", p.box)
	}
	if p.code != "" {
		b.WriteString(p.code + ": ")
	}
	b.WriteString(p.msg)
	return b.String()
}

// boxFile is what a file says about the boxes: each box's text and where
// it was found.
type boxFile struct {
	text  [10]string
	where [10]string
	found [10]bool
	probs []problem
}

func (f *boxFile) set(n int, text, where string) {
	if f.found[n] {
		f.probs = append(f.probs, problem{box: n, msg: fmt.Sprintf("given twice: %s and %s", f.where[n], where)})
		return
	}
	f.text[n], f.where[n], f.found[n] = strings.TrimSpace(text), where, true
}

// readBoxFile reads the boxes from a JSON, CSV or .xlsx file.
func readBoxFile(path, sheet, cellMap string) (*boxFile, error) {
	ext := strings.ToLower(filepath.Ext(path))
	if cellMap != "" && ext != ".xlsx" {
		return nil, usagef("--map names cells of an .xlsx workbook; %s is not one", path)
	}
	if sheet != "" && ext != ".xlsx" {
		return nil, usagef("--sheet names a sheet of an .xlsx workbook; %s is not one", path)
	}
	switch ext {
	case ".json":
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		return readBoxJSON(data)
	case ".csv":
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		return readBoxCSV(data)
	case ".xlsx", ".xlsm":
		return readBoxXLSX(path, sheet, cellMap)
	}
	return nil, usagef("--file: %s is not a .json, .csv or .xlsx file", path)
}

// readBoxJSON reads an object with HMRC's names for the boxes (as in HMRC's
// request body): numbers or strings. A periodKey and finalised are allowed
// and ignored (--period and the declaration decide them).
func readBoxJSON(data []byte) (*boxFile, error) {
	var obj map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&obj); err != nil {
		return nil, fmt.Errorf("reading the JSON file: %w", err)
	}
	f := &boxFile{}
	for k, raw := range obj {
		if k == "periodKey" || k == "finalised" {
			continue
		}
		n := boxNumber(k)
		if n == 0 {
			f.probs = append(f.probs, problem{msg: fmt.Sprintf("%q is not a box: use HMRC's names (vatDueSales, …) or box1 to box9", k)})
			continue
		}
		var v any
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		_ = d.Decode(&v)
		switch v := v.(type) {
		case json.Number:
			f.set(n, v.String(), "\""+k+"\"")
		case string:
			f.set(n, v, "\""+k+"\"")
		default:
			f.probs = append(f.probs, problem{box: n, msg: fmt.Sprintf("%q must be a number, not %s", k, strings.TrimSpace(string(raw)))})
		}
	}
	return f, nil
}

// readBoxCSV reads lines of "box, value": the box as a number (1, box 1)
// or HMRC's name. A header line and blank lines are skipped.
func readBoxCSV(data []byte) (*boxFile, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	f := &boxFile{}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading the CSV file: %w", err)
		}
		line, _ := r.FieldPos(0)
		if len(rec) == 0 || (len(rec) == 1 && strings.TrimSpace(rec[0]) == "") {
			continue
		}
		where := fmt.Sprintf("line %d", line)
		n := boxNumber(rec[0])
		switch {
		case n == 0 && line == 1:
			continue // a header
		case n == 0:
			f.probs = append(f.probs, problem{msg: fmt.Sprintf("%s: %q is not a box: write 1 to 9, \"box 1\" or HMRC's name", where, rec[0])})
		case len(rec) < 2:
			f.set(n, "", where)
		default:
			f.set(n, rec[1], where)
		}
	}
	return f, nil
}

// readBoxXLSX reads the boxes from a workbook: from the cells --map names
// ("1=B2,2=B3,…", each optionally Sheet!B2), or else from the sheet (--sheet,
// or the first) laid out either as a header row naming the boxes with the
// values in the row below, or as rows of box and value.
func readBoxXLSX(path, sheet, cellMap string) (*boxFile, error) {
	x, err := excelize.OpenFile(path)
	if err != nil {
		return nil, fmt.Errorf("opening the workbook %s: %w", path, err)
	}
	defer x.Close()
	if sheet == "" {
		sheet = x.GetSheetName(0)
	} else if idx, err := x.GetSheetIndex(sheet); err != nil || idx < 0 {
		return nil, usagef("--sheet: the workbook has no sheet %q (it has %s)", sheet, strings.Join(x.GetSheetList(), ", "))
	}
	f := &boxFile{}
	if cellMap != "" {
		for _, item := range strings.Split(cellMap, ",") {
			k, cell, ok := strings.Cut(strings.TrimSpace(item), "=")
			n := boxNumber(k)
			if !ok || n == 0 {
				return nil, usagef("--map: %q is not box=cell, such as 1=B2 or 6=Sales!C7", item)
			}
			sh, c := sheet, cell
			if s, cc, ok := strings.Cut(cell, "!"); ok {
				sh, c = s, cc
			}
			if _, _, err := excelize.CellNameToCoordinates(c); err != nil {
				return nil, usagef("--map: %q is not a cell such as B2", cell)
			}
			v, err := x.GetCellValue(sh, c, excelize.Options{RawCellValue: true})
			if err != nil {
				return nil, fmt.Errorf("reading %s!%s: %w", sh, c, err)
			}
			f.set(n, v, "cell "+sh+"!"+c)
		}
		return f, nil
	}
	rows, err := x.GetRows(sheet, excelize.Options{RawCellValue: true})
	if err != nil {
		return nil, fmt.Errorf("reading sheet %s: %w", sheet, err)
	}
	header := 0
	if len(rows) > 0 {
		for _, c := range rows[0] {
			if boxNumber(c) != 0 {
				header++
			}
		}
	}
	if header >= 2 {
		var values []string
		valueRow := 0
		for i := 1; i < len(rows); i++ {
			if strings.TrimSpace(strings.Join(rows[i], "")) != "" {
				values, valueRow = rows[i], i+1
				break
			}
		}
		for col, c := range rows[0] {
			n := boxNumber(c)
			if n == 0 {
				continue
			}
			cell, _ := excelize.CoordinatesToCellName(col+1, max(valueRow, 2))
			v := ""
			if col < len(values) {
				v = values[col]
			}
			f.set(n, v, "cell "+sheet+"!"+cell)
		}
		return f, nil
	}
	for i, row := range rows {
		if len(row) == 0 || boxNumber(row[0]) == 0 {
			continue // titles, notes and blank rows around the figures
		}
		cell, _ := excelize.CoordinatesToCellName(2, i+1)
		v := ""
		if len(row) > 1 {
			v = row[1]
		}
		f.set(boxNumber(row[0]), v, "cell "+sheet+"!"+cell)
	}
	return f, nil
}

// cleanAmount removes what spreadsheets and people add to a number: spaces,
// a pound sign, thousands separators.
func cleanAmount(s string) string {
	s = strings.ReplaceAll(strings.TrimSpace(s), " ", "")
	s = strings.TrimPrefix(s, "£")
	if strings.HasPrefix(s, "-£") {
		s = "-" + s[len("-£"):]
	}
	return strings.ReplaceAll(s, ",", "")
}

// toReturn turns the file's boxes into a return for key, computing boxes 3
// and 5 when compute is set and the file leaves them out. It lists every
// problem: a missing box is never taken as zero. computed reports which
// boxes were worked out.
func (f *boxFile) toReturn(key vat.PeriodKey, compute bool) (r vat.Return, computed [10]bool, probs []problem) {
	probs = append(probs, f.probs...)
	r = vat.Return{PeriodKey: key, Finalised: true}
	money := []*vat.Money{1: &r.VATDueSales, 2: &r.VATDueAcquisitions, 3: &r.TotalVATDue, 4: &r.VATReclaimedCurrPeriod, 5: &r.NetVATDue}
	pounds := []*vat.Pounds{6: &r.TotalValueSalesExVAT, 7: &r.TotalValuePurchasesExVAT, 8: &r.TotalValueGoodsSuppliedExVAT, 9: &r.TotalAcquisitionsExVAT}
	bad := false
	var ok [10]bool // read without a problem
	for _, b := range boxDefs {
		n := b.n
		if !f.found[n] || f.text[n] == "" {
			if compute && (n == 3 || n == 5) {
				computed[n] = true
				continue
			}
			msg := "missing: every box must be filled in (write 0 for nothing)"
			if f.found[n] {
				msg = fmt.Sprintf("empty at %s: every box must be filled in (write 0 for nothing)", f.where[n])
			}
			if n == 3 || n == 5 {
				msg += "; or use --compute to work out boxes 3 and 5"
			}
			probs = append(probs, problem{box: n, code: "MANDATORY_FIELD_MISSING", msg: msg})
			bad = true
			continue
		}
		text := cleanAmount(f.text[n])
		if n <= 5 {
			v, err := vat.ParseMoney(text)
			if err != nil {
				probs = append(probs, problem{box: n, code: "INVALID_MONETARY_AMOUNT", msg: fmt.Sprintf("%q at %s is not an amount in pounds with at most two decimal places", f.text[n], f.where[n])})
				bad = true
				continue
			}
			*money[n], ok[n] = v, true
		} else {
			v, err := vat.ParsePounds(text)
			if err != nil {
				probs = append(probs, problem{box: n, code: "INVALID_MONETARY_AMOUNT", msg: fmt.Sprintf("%q at %s is not a whole number of pounds (boxes 6 to 9 have no pence)", f.text[n], f.where[n])})
				bad = true
				continue
			}
			*pounds[n], ok[n] = v, true
		}
	}
	// A sum is worked out only from boxes that were read: never from a
	// missing one.
	if computed[3] && !(ok[1] && ok[2]) {
		computed[3] = false
	}
	if computed[5] && !((ok[3] || computed[3]) && ok[4]) {
		computed[5] = false
	}
	if computed[3] {
		r.TotalVATDue = r.VATDueSales + r.VATDueAcquisitions
	}
	if computed[5] {
		r.NetVATDue = (r.TotalVATDue - r.VATReclaimedCurrPeriod).Abs()
	}
	if bad {
		return r, computed, probs // HMRC's sums mean nothing with boxes missing
	}
	var ve *vat.ValidationError
	if err := r.Validate(); errors.As(err, &ve) {
		for _, p := range ve.Problems {
			n := 0
			for _, b := range boxDefs {
				if p.Path == "/"+b.field {
					n = b.n
				}
			}
			msg := p.Message
			switch p.Code {
			case "VAT_TOTAL_VALUE":
				msg = fmt.Sprintf("box 3 must be box 1 + box 2 = %s, not %s", r.VATDueSales+r.VATDueAcquisitions, r.TotalVATDue)
				if !compute {
					msg += " (leave it out and use --compute to work it out)"
				}
			case "VAT_NET_VALUE":
				msg = fmt.Sprintf("box 5 must be the difference between box 3 and box 4 = %s, not %s", (r.TotalVATDue - r.VATReclaimedCurrPeriod).Abs(), r.NetVATDue)
				if !compute {
					msg += " (leave it out and use --compute to work it out)"
				}
			}
			probs = append(probs, problem{box: n, code: p.Code, msg: msg})
		}
	}
	return r, computed, probs
}

// boxesOf lists r's boxes as text.
func boxesOf(r vat.Return) [10]string {
	return [10]string{1: r.VATDueSales.String(), 2: r.VATDueAcquisitions.String(), 3: r.TotalVATDue.String(),
		4: r.VATReclaimedCurrPeriod.String(), 5: r.NetVATDue.String(), 6: r.TotalValueSalesExVAT.String(),
		7: r.TotalValuePurchasesExVAT.String(), 8: r.TotalValueGoodsSuppliedExVAT.String(), 9: r.TotalAcquisitionsExVAT.String()}
}

// showBoxes prints the nine boxes; note[n] is printed after box n.
func showBoxes(w io.Writer, values [10]string, note map[int]string) error {
	t := table(w)
	fmt.Fprintln(t, "BOX\tDESCRIPTION\tAMOUNT\t")
	for _, b := range boxDefs {
		fmt.Fprintf(t, "%d\t%s\t%s\t%s\n", b.n, b.label, values[b.n], note[b.n])
	}
	return t.Flush()
}
