package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/go-mtd/vat"
)

func checkCommand() *command {
	return &command{
		name:  "check",
		args:  "VRN",
		short: "Check a UK VAT number: the business's name and address",
		long: `Check that a UK VAT number is registered and show the business's name and
address, through HMRC's Check a UK VAT number API. With --requester (your own
VAT number) HMRC also gives a consultation number: keep it as proof that you
made the check. Needs only the application's credentials, not a sign-in.`,
		examples: `  vat check 553557881
  vat check GB553557881 --requester 146295999727
  vat check 553557881 --json`,
		flags: func(fs *flag.FlagSet, o *options) {
			fs.StringVar(&o.requester, "requester", "", "your own `VRN`, to get a consultation number")
			jsonFlag(fs, o)
			connectionFlags(fs, o)
		},
		run: runCheck,
	}
}

// lookupVRN reads a VAT number as people write it (spaces, a GB prefix)
// and requires 9 or 12 digits.
func lookupVRN(flagName, s string) (vat.VRN, error) {
	t := strings.Join(strings.Fields(s), "")
	if len(t) >= 2 && strings.EqualFold(t[:2], "GB") {
		t = t[2:]
	}
	ok := len(t) == 9 || len(t) == 12
	for _, c := range t {
		ok = ok && c >= '0' && c <= '9'
	}
	if !ok {
		return "", usagef("%s: %q is not a UK VAT number: 9 or 12 digits, optionally after GB", flagName, s)
	}
	return vat.VRN(t), nil
}

func runCheck(ctx context.Context, io *stdio, o *options, args []string) error {
	if len(args) != 1 {
		return usagef("vat check needs one VAT number, such as: vat check 553557881")
	}
	target, err := lookupVRN("VRN", args[0])
	if err != nil {
		return err
	}
	var requester vat.VRN
	if o.requester != "" {
		if requester, err = lookupVRN("--requester", o.requester); err != nil {
			return err
		}
	}
	c, err := connect(o)
	if err != nil {
		return err
	}
	client, err := c.appClient(vat.ScopeReadVAT)
	if err != nil {
		return err
	}
	var reg *vat.VATRegistration
	if requester != "" {
		reg, err = client.CheckVATNumberWithRequester(ctx, target, requester)
	} else {
		reg, err = client.CheckVATNumber(ctx, target)
	}
	if err != nil {
		return &checkError{err: err, target: target, requester: requester}
	}
	if o.json {
		return printJSON(io.out, reg)
	}
	t := table(io.out)
	fmt.Fprintf(t, "Name:\t%s\n", reg.Target.Name)
	fmt.Fprintf(t, "VAT number:\tGB%s\n", reg.Target.VATNumber)
	for i, line := range reg.Target.Address.Lines() {
		label := ""
		if i == 0 {
			label = "Address:"
		}
		fmt.Fprintf(t, "%s\t%s\n", label, line)
	}
	if reg.ConsultationNumber != "" {
		fmt.Fprintf(t, "Consultation number:\t%s\n", reg.ConsultationNumber)
		fmt.Fprintf(t, "Checked by:\tGB%s\n", reg.Requester)
	}
	fmt.Fprintf(t, "Checked at:\t%s\n", reg.ProcessingDate.Format(time.RFC3339))
	return t.Flush()
}

// checkError explains the Check a UK VAT number API's refusals.
type checkError struct {
	err               error
	target, requester vat.VRN
}

func (e *checkError) Error() string { return e.err.Error() }
func (e *checkError) Unwrap() error { return e.err }
