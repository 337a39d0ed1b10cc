package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-mtd/vat"
)

// declaration is the text HMRC requires software to show before a return
// is submitted, and the user to agree to.
const declaration = "When you submit this VAT information you are making a legal declaration that the " +
	"information is true and complete. A false declaration can result in prosecution."

func returnSubmitCommand() *command {
	return &command{
		name:  "submit",
		short: "Submit a return from a spreadsheet, CSV or JSON file",
		long: `Read the nine boxes of a VAT return from a file, show the return with
every problem HMRC would find, show HMRC's declaration and, once you agree,
submit it. HMRC's receipt is printed and appended to receipts.jsonl in the
configuration directory before the command reports success.

The file is one of:
  .xlsx  a workbook: cells named by --map (1=B2,2=B3,… or 6=Sales!C7), or
         a sheet (--sheet, or the first) with a header row naming the boxes
         ("Box 1" … "Box 9" or HMRC's names) and their values in the row
         below, or with rows of box and value
  .csv   lines of box,value (the box as 1 to 9, "box 1" or HMRC's name)
  .json  an object with HMRC's names: {"vatDueSales": 105.50, …}

Boxes 1 to 5 are pounds and pence; boxes 6 to 9 whole pounds. Every box
must be given (write 0 for nothing): a missing box is never taken as zero.
With --compute, boxes 3 and 5 may be left out and are worked out.

Nothing is sent while the return has a problem. In a terminal you are asked
to agree to the declaration; a script must pass --agree, which states that
the person running it has read and agrees to the declaration. Without a
terminal and without --agree nothing is sent.`,
		examples: `  vat return submit --vrn 123456789 --period 24A1 --file q1.xlsx --compute
  vat return submit --vrn 123456789 --period 24A1 --file q1.xlsx --map 1=C3,2=C4,4=C6,6=C8,7=C9,8=C10,9=C11 --compute
  vat return submit --vrn 123456789 --period 24A1 --file boxes.csv --agree --json`,
		flags: func(fs *flag.FlagSet, o *options) {
			fs.StringVar(&o.period, "period", "", "the period `key`, from vat obligations (required)")
			fs.StringVar(&o.file, "file", "", "the `file` holding the boxes: .xlsx, .csv or .json (required)")
			fs.StringVar(&o.cellMap, "map", "", "the workbook's cell for each box, such as `1=B2,2=B3,…`")
			fs.StringVar(&o.sheet, "sheet", "", "the workbook's `sheet` (default the first)")
			fs.BoolVar(&o.compute, "compute", false, "work out boxes 3 and 5 when the file leaves them out")
			fs.BoolVar(&o.agree, "agree", false, "agree to HMRC's declaration without being asked (for scripts)")
			readFlags(fs, o)
		},
		run: runSubmit,
	}
}

func runSubmit(ctx context.Context, io *stdio, o *options, args []string) error {
	if len(args) > 0 {
		return usagef("vat return submit takes no arguments (got %q): give the file with --file", strings.Join(args, " "))
	}
	key, err := periodOf(o)
	if err != nil {
		return err
	}
	if o.file == "" {
		return usagef("--file is required: the .xlsx, .csv or .json file holding the boxes")
	}
	vrn, err := vrnOf(o)
	if err != nil {
		return err
	}
	c, err := connect(o)
	if err != nil {
		return err
	}
	if !o.agree && !io.terminal() {
		return usagef("HMRC requires you to agree to its declaration before a return is sent: run this in a terminal to be asked, or pass --agree")
	}
	bf, err := readBoxFile(o.file, o.sheet, o.cellMap)
	if err != nil {
		return err
	}
	r, computed, probs := bf.toReturn(key, o.compute)

	// Show the return as it will be sent (or as far as it could be read).
	shown, notes := boxesOf(r), map[int]string{}
	for n := 1; n <= 9; n++ {
		switch {
		case computed[n]:
			notes[n] = "(computed)"
		case (n == 3 || n == 5) && o.compute && (!bf.found[n] || bf.text[n] == ""):
			shown[n] = "(not computed)" // from a missing or wrong box
		case !bf.found[n] || bf.text[n] == "":
			shown[n] = "(missing)"
		}
	}
	for _, p := range probs {
		if p.box > 0 && !computed[p.box] && bf.found[p.box] && bf.text[p.box] != "" && (p.code == "INVALID_MONETARY_AMOUNT" || p.code == "") {
			shown[p.box] = bf.text[p.box]
		}
		if p.box > 0 {
			notes[p.box] = "<- problem"
		}
	}
	w := io.out
	if o.json {
		w = io.err // the receipt alone goes to standard output
	}
	fmt.Fprintf(w, "VAT return of %s for period %s, from %s\n\n", vrn, key, filepath.Base(o.file))
	if err := showBoxes(w, shown, notes); err != nil {
		return err
	}
	if len(probs) > 0 {
		fmt.Fprintf(w, "\nThe return has %d problem(s) HMRC would refuse:\n", len(probs))
		for _, p := range probs {
			fmt.Fprintf(w, "  - %s\n", p)
		}
		return fmt.Errorf("nothing was sent to HMRC: correct %s and run the command again", o.file)
	}

	client, err := c.userClient(ctx) // before asking: a missing sign-in is said at once
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\n%s\n\n", wrap(declaration, 80))
	if !o.agree {
		fmt.Fprint(io.out, "Do you agree to the declaration and want to submit this return to "+c.name+"? Type yes to submit: ")
		line, _ := bufio.NewReader(io.in).ReadString('\n')
		if a := strings.ToLower(strings.TrimSpace(line)); a != "yes" && a != "y" {
			return fmt.Errorf("not submitted: you did not agree to the declaration")
		}
	}
	receipt, err := client.SubmitReturn(ctx, vrn, r)
	if err != nil {
		return err
	}
	log := filepath.Join(c.dir, "receipts.jsonl")
	entry := receiptEntry{Time: time.Now().UTC(), Environment: c.env.String(), Server: c.server, VRN: vrn, PeriodKey: key, File: o.file, Return: r, Receipt: receipt}
	logErr := appendReceipt(log, entry)
	if o.json {
		if err := printJSON(io.out, receipt); err != nil {
			return err
		}
	} else {
		printReceipt(io.out, c, r, receipt)
	}
	if logErr != nil {
		// HMRC gives a receipt once: it is printed above even so.
		return fmt.Errorf("the return was submitted, but its receipt could not be saved in %s: %w; keep the receipt printed above", log, logErr)
	}
	if !o.json {
		fmt.Fprintf(io.out, "The receipt is saved in %s\n", log)
	}
	return nil
}

// printReceipt shows HMRC's receipt.
func printReceipt(w io.Writer, c *conn, r vat.Return, rc *vat.Receipt) {
	if rc.Recovered {
		fmt.Fprintf(w, "HMRC already held this return for %s: it was filed before, with the same figures; nothing new was filed.\n", r.PeriodKey)
	} else {
		fmt.Fprintf(w, "Submitted to %s.\n", c.name)
	}
	t := table(w)
	for _, kv := range [][2]string{
		{"Processing date", timeOrEmpty(rc.ProcessingDate)},
		{"Form bundle number", rc.FormBundleNumber},
		{"Receipt ID", rc.ReceiptID},
		{"Receipt timestamp", timeOrEmpty(rc.ReceiptTimestamp)},
		{"Payment indicator", string(rc.PaymentIndicator)},
		{"Charge reference", rc.ChargeRefNumber},
		{"Correlation ID", rc.CorrelationID},
	} {
		if kv[1] != "" {
			fmt.Fprintf(t, "  %s:\t%s\n", kv[0], kv[1])
		}
	}
	t.Flush()
	switch {
	case r.NetVATDue == 0:
	case r.TotalVATDue >= r.VATReclaimedCurrPeriod:
		fmt.Fprintf(w, "You owe HMRC %s for this period.\n", r.NetVATDue)
	default:
		fmt.Fprintf(w, "HMRC owes you %s for this period.\n", r.NetVATDue)
	}
}

func timeOrEmpty(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339)
}

// receiptEntry is one line of the receipts log.
type receiptEntry struct {
	Time        time.Time     `json:"time"`
	Environment string        `json:"environment"`
	Server      string        `json:"server,omitempty"`
	VRN         vat.VRN       `json:"vrn"`
	PeriodKey   vat.PeriodKey `json:"periodKey"`
	File        string        `json:"file"`
	Return      vat.Return    `json:"return"`
	Receipt     *vat.Receipt  `json:"receipt"`
}

// appendReceipt appends e to the receipts log (JSON lines, mode 0600) and
// flushes it to disk.
func appendReceipt(path string, e receiptEntry) error {
	line, err := json.Marshal(e)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// wrap breaks s into lines of at most width bytes, between words.
func wrap(s string, width int) string {
	var b strings.Builder
	n := 0
	for i, word := range strings.Fields(s) {
		switch {
		case i == 0:
		case n+1+len(word) > width:
			b.WriteByte('\n')
			n = 0
		default:
			b.WriteByte(' ')
			n++
		}
		b.WriteString(word)
		n += len(word)
	}
	return b.String()
}
