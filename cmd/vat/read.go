package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/go-mtd/vat"
)

// readFlags are the flags of every command that reads a VAT account.
func readFlags(fs *flag.FlagSet, o *options) {
	vrnFlag(fs, o)
	jsonFlag(fs, o)
	connectionFlags(fs, o)
}

// rangeFlags adds --from and --to.
func rangeFlags(fs *flag.FlagSet, o *options, what string) {
	fs.StringVar(&o.from, "from", "", "first `date` (YYYY-MM-DD) of the "+what)
	fs.StringVar(&o.to, "to", "", "last `date` (YYYY-MM-DD) of the "+what)
}

// account is what a reading command needs: the client and the VRN.
func account(ctx context.Context, o *options, args []string, name string) (*vat.Client, vat.VRN, error) {
	if len(args) > 0 {
		return nil, "", usagef("%s takes no arguments (got %q)", name, strings.Join(args, " "))
	}
	vrn, err := vrnOf(o)
	if err != nil {
		return nil, "", err
	}
	c, err := connect(o)
	if err != nil {
		return nil, "", err
	}
	client, err := c.userClient(ctx)
	if err != nil {
		return nil, "", err
	}
	return client, vrn, nil
}

// dateFlag parses a --from or --to value; zero when empty.
func dateFlag(name, s string) (vat.Date, error) {
	if s == "" {
		return vat.Date{}, nil
	}
	d, err := vat.ParseDate(s)
	if err != nil {
		return vat.Date{}, usagef("--%s: %q is not a date such as 2025-04-01", name, s)
	}
	return d, nil
}

// dateRange reads --from and --to; by default the year to today, the
// longest range HMRC's liabilities and payments accept.
func dateRange(o *options) (vat.DateRange, error) {
	from, err := dateFlag("from", o.from)
	if err != nil {
		return vat.DateRange{}, err
	}
	to, err := dateFlag("to", o.to)
	if err != nil {
		return vat.DateRange{}, err
	}
	if to.IsZero() {
		to = vat.DateOf(time.Now())
	}
	if from.IsZero() {
		from = to.AddYears(-1).AddDays(1)
	}
	return vat.DateRange{From: from, To: to}, nil
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// table returns a writer of aligned columns; lines carry no trailing spaces.
func table(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(&trimWriter{w: w}, 0, 0, 2, ' ', 0)
}

// trimWriter drops the spaces at the end of each line written to w.
type trimWriter struct {
	w      io.Writer
	spaces int // spaces held back
}

func (t *trimWriter) Write(p []byte) (int, error) {
	out := make([]byte, 0, len(p)+t.spaces)
	for _, c := range p {
		switch c {
		case ' ':
			t.spaces++
			continue
		case '\n':
			t.spaces = 0
		}
		for ; t.spaces > 0; t.spaces-- {
			out = append(out, ' ')
		}
		out = append(out, c)
	}
	if _, err := t.w.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

func obligationsCommand() *command {
	return &command{
		name:  "obligations",
		short: "List the VAT periods and when their returns are due",
		long: `List the business's VAT obligations: each period's key (to give to
"vat return submit --period"), dates, due date and whether HMRC has the
return. By default the open ones; --status fulfilled or all with a date
range (a year at most) shows returns received too.`,
		examples: `  vat obligations --vrn 123456789
  vat obligations --vrn 123456789 --status all --from 2025-01-01 --to 2025-12-31
  vat obligations --vrn 123456789 --json | jq -r '.[].periodKey'`,
		flags: func(fs *flag.FlagSet, o *options) {
			fs.StringVar(&o.status, "status", "open", "open, fulfilled or all")
			rangeFlags(fs, o, "obligations")
			readFlags(fs, o)
		},
		run: func(ctx context.Context, io *stdio, o *options, args []string) error {
			var q vat.ObligationsQuery
			switch o.status {
			case "open", "o", "O":
				q.Status = vat.ObligationOpen
			case "fulfilled", "f", "F":
				q.Status = vat.ObligationFulfilled
			case "all":
			default:
				return usagef("--status: %q is not open, fulfilled or all", o.status)
			}
			var err error
			if q.From, err = dateFlag("from", o.from); err != nil {
				return err
			}
			if q.To, err = dateFlag("to", o.to); err != nil {
				return err
			}
			if q.Status != vat.ObligationOpen && q.From.IsZero() && q.To.IsZero() {
				r, _ := dateRange(&options{})
				q.From, q.To = r.From, r.To
			}
			client, vrn, err := account(ctx, o, args, "vat obligations")
			if err != nil {
				return err
			}
			obs, err := client.Obligations(ctx, vrn, q)
			if errors.Is(err, vat.ErrNotFound) {
				obs, err = []vat.Obligation{}, nil // HMRC answers 404 when there are none
			}
			if err != nil {
				return err
			}
			if o.json {
				return printJSON(io.out, obs)
			}
			if len(obs) == 0 {
				fmt.Fprintln(io.out, "No obligations.")
				return nil
			}
			w := table(io.out)
			fmt.Fprintln(w, "PERIOD\tSTART\tEND\tDUE\tSTATUS\tRECEIVED")
			for _, ob := range obs {
				status, received := "open", ""
				if ob.Fulfilled() {
					status, received = "fulfilled", ob.Received.String()
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", ob.PeriodKey, ob.Start, ob.End, ob.Due, status, received)
			}
			return w.Flush()
		},
	}
}

func returnViewCommand() *command {
	return &command{
		name:  "view",
		short: "Show a return HMRC holds",
		long:  `Show the nine boxes of the return HMRC holds for a period.`,
		examples: `  vat return view --vrn 123456789 --period 24A1
  vat return view --vrn 123456789 --period '#001' --json`,
		flags: func(fs *flag.FlagSet, o *options) {
			fs.StringVar(&o.period, "period", "", "the period `key`, from vat obligations (required)")
			readFlags(fs, o)
		},
		run: func(ctx context.Context, io *stdio, o *options, args []string) error {
			key, err := periodOf(o)
			if err != nil {
				return err
			}
			client, vrn, err := account(ctx, o, args, "vat return view")
			if err != nil {
				return err
			}
			r, err := client.ViewReturn(ctx, vrn, key)
			if err != nil {
				return err
			}
			if o.json {
				return printJSON(io.out, r)
			}
			fmt.Fprintf(io.out, "VAT return of %s for period %s\n\n", vrn, r.PeriodKey)
			return showBoxes(io.out, boxesOf(*r), nil)
		},
	}
}

// periodOf reads --period.
func periodOf(o *options) (vat.PeriodKey, error) {
	if o.period == "" {
		return "", usagef("--period is required: the period key from \"vat obligations\", such as 24A1")
	}
	key, err := vat.ParsePeriodKey(o.period)
	if err != nil {
		return "", usagef("--period: %q is not a period key: four characters (capital letters, digits, #), as \"vat obligations\" lists them", o.period)
	}
	return key, nil
}

func liabilitiesCommand() *command {
	return &command{
		name:  "liabilities",
		short: "List the VAT charges and what is still owed",
		long: `List the business's VAT liabilities in a date range (at most a year;
by default the year to today): each charge, its period, the amount and
what is still outstanding.`,
		examples: `  vat liabilities --vrn 123456789
  vat liabilities --vrn 123456789 --from 2025-01-01 --to 2025-12-31 --json`,
		flags: func(fs *flag.FlagSet, o *options) {
			rangeFlags(fs, o, "range")
			readFlags(fs, o)
		},
		run: func(ctx context.Context, io *stdio, o *options, args []string) error {
			return listInRange(ctx, io, o, args, "vat liabilities", "liabilities", (*vat.Client).Liabilities,
				"TYPE\tPERIOD\tDUE\tAMOUNT\tOUTSTANDING", func(l vat.Liability) string {
					period, outstanding := "", "0.00"
					if l.TaxPeriod != nil {
						period = l.TaxPeriod.From.String() + " to " + l.TaxPeriod.To.String()
					}
					if l.OutstandingAmount != nil {
						outstanding = l.OutstandingAmount.String()
					}
					return fmt.Sprintf("%s\t%s\t%s\t%s\t%s", l.Type, period, dateOrBlank(l.Due), l.OriginalAmount, outstanding)
				})
		},
	}
}

func paymentsCommand() *command {
	return &command{
		name:  "payments",
		short: "List the payments HMRC received",
		long:  `List the VAT payments HMRC received in a date range (at most a year; by default the year to today).`,
		examples: `  vat payments --vrn 123456789
  vat payments --vrn 123456789 --from 2025-01-01 --to 2025-12-31 --json`,
		flags: func(fs *flag.FlagSet, o *options) {
			rangeFlags(fs, o, "range")
			readFlags(fs, o)
		},
		run: func(ctx context.Context, io *stdio, o *options, args []string) error {
			return listInRange(ctx, io, o, args, "vat payments", "payments", (*vat.Client).Payments,
				"RECEIVED\tAMOUNT", func(p vat.Payment) string {
					return fmt.Sprintf("%s\t%s", dateOrBlank(p.Received), p.Amount)
				})
		},
	}
}

func penaltiesCommand() *command {
	return &command{
		name:  "penalties",
		short: "Show late submission points and late payment penalties",
		long: `Show the business's late submission penalty points and late payment
penalties, as HMRC's penalties endpoint reports them.`,
		examples: `  vat penalties --vrn 123456789
  vat penalties --vrn 123456789 --json`,
		flags: readFlags,
		run: func(ctx context.Context, io *stdio, o *options, args []string) error {
			client, vrn, err := account(ctx, o, args, "vat penalties")
			if err != nil {
				return err
			}
			p, err := client.Penalties(ctx, vrn)
			if err != nil {
				return err
			}
			if o.json {
				return printJSON(io.out, p)
			}
			if p.None() {
				fmt.Fprintln(io.out, "No penalties.")
				return nil
			}
			if ls := p.LateSubmissionPenalty; ls != nil {
				s := ls.Summary
				fmt.Fprintf(io.out, "Late submission: %d active point(s); at %d points each late return costs %s", s.ActivePenaltyPoints, s.RegimeThreshold, s.PenaltyChargeAmount)
				if s.ActivePenaltyPoints > 0 {
					fmt.Fprintf(io.out, "; points expire %s if returns are on time", s.PeriodOfComplianceAchievement)
				}
				fmt.Fprintln(io.out)
				if len(ls.Details) > 0 {
					w := table(io.out)
					fmt.Fprintln(w, "  NUMBER\tCATEGORY\tSTATUS\tCREATED\tEXPIRES\tCHARGE")
					for _, d := range ls.Details {
						charge := ""
						if d.ChargeAmount != nil {
							charge = d.ChargeAmount.String()
						}
						fmt.Fprintf(w, "  %s\t%s\t%s\t%s\t%s\t%s\n", d.PenaltyNumber, d.PenaltyCategory, d.PenaltyStatus, d.PenaltyCreationDate, d.PenaltyExpiryDate, charge)
					}
					if err := w.Flush(); err != nil {
						return err
					}
				}
			}
			if lp := p.LatePaymentPenalty; lp != nil && len(lp.Details) > 0 {
				fmt.Fprintln(io.out, "Late payment penalties:")
				w := table(io.out)
				fmt.Fprintln(w, "  CHARGE\tCATEGORY\tSTATUS\tACCRUING\tPOSTED\tOUTSTANDING")
				for _, d := range lp.Details {
					outstanding := ""
					if d.PenaltyAmountOutstanding != nil {
						outstanding = d.PenaltyAmountOutstanding.String()
					}
					fmt.Fprintf(w, "  %s\t%s\t%s\t%s\t%s\t%s\n", d.PrincipalChargeReference, d.PenaltyCategory, d.PenaltyStatus, d.PenaltyAmountAccruing, d.PenaltyAmountPosted, outstanding)
				}
				return w.Flush()
			}
			return nil
		},
	}
}

// listInRange runs a read of a date range (liabilities, payments): HMRC's
// 404 is an empty list; --json prints the list as it came; otherwise an
// empty list is said in words and the rest printed as a table, a row each.
func listInRange[T any](ctx context.Context, io *stdio, o *options, args []string, cmd, what string,
	fetch func(*vat.Client, context.Context, vat.VRN, vat.DateRange, ...vat.CallOption) ([]T, error),
	header string, row func(T) string) error {
	r, err := dateRange(o)
	if err != nil {
		return err
	}
	client, vrn, err := account(ctx, o, args, cmd)
	if err != nil {
		return err
	}
	items, err := fetch(client, ctx, vrn, r)
	if errors.Is(err, vat.ErrNotFound) {
		items, err = []T{}, nil
	}
	if err != nil {
		return err
	}
	if o.json {
		return printJSON(io.out, items)
	}
	if len(items) == 0 {
		fmt.Fprintf(io.out, "No %s from %s to %s.\n", what, r.From, r.To)
		return nil
	}
	w := table(io.out)
	fmt.Fprintln(w, header)
	for _, it := range items {
		fmt.Fprintln(w, row(it))
	}
	return w.Flush()
}

// dateOrBlank prints d, or nothing for the zero date.
func dateOrBlank(d vat.Date) string {
	if d.IsZero() {
		return ""
	}
	return d.String()
}
