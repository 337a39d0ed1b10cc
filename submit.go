package vat

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// ErrSubmissionOutcomeUnknown matches an *UncertainSubmissionError when it
// could not be established whether HMRC filed the return. Do not send the
// return again blindly: check later with [Client.CheckSubmission].
var ErrSubmissionOutcomeUnknown = errors.New("vat: the outcome of the submission is unknown")

// ErrSubmissionNotReceived matches an *UncertainSubmissionError when
// reading back proved that HMRC holds no return for the period and the
// period is still open: the return can be sent again.
var ErrSubmissionNotReceived = errors.New("vat: HMRC did not receive the return")

// UncertainSubmissionError reports a submission that failed in a way that
// does not say whether HMRC filed the return (the connection was lost after
// the return was sent, the request timed out, or HMRC answered 5xx), and
// what reading back established. errors.Is matches
// ErrSubmissionOutcomeUnknown or ErrSubmissionNotReceived, and the Cause.
type UncertainSubmissionError struct {
	// VRN and PeriodKey identify the return.
	VRN       VRN
	PeriodKey PeriodKey
	// Cause is how the submission failed.
	Cause error
	// NotReceived is true when HMRC holds no return for the period and the
	// period is still open, so the return can be sent again.
	NotReceived bool
	// Check is why reading back could not settle the outcome, when it could
	// not.
	Check error
}

// Error says what happened and what is known.
func (e *UncertainSubmissionError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "vat: SubmitReturn %s %s: ", e.VRN, e.PeriodKey)
	if e.NotReceived {
		b.WriteString("HMRC did not receive the return and the period is still open; it can be sent again")
	} else {
		b.WriteString("the outcome is unknown; do not send the return again before checking")
		if e.Check != nil {
			fmt.Fprintf(&b, " (checking failed: %v)", e.Check)
		}
	}
	fmt.Fprintf(&b, " (submission failed: %v)", e.Cause)
	return b.String()
}

// Is matches ErrSubmissionOutcomeUnknown or ErrSubmissionNotReceived.
func (e *UncertainSubmissionError) Is(target error) bool {
	return (target == ErrSubmissionOutcomeUnknown && !e.NotReceived) || (target == ErrSubmissionNotReceived && e.NotReceived)
}

// Unwrap returns the Cause.
func (e *UncertainSubmissionError) Unwrap() error { return e.Cause }

// WithResubmitIfNotReceived lets SubmitReturn send a return a second time
// when the first attempt's outcome was uncertain and reading back then
// proved that HMRC did not receive it (no return for the period, and the
// period still open). Without it, SubmitReturn returns
// ErrSubmissionNotReceived and leaves the decision to the caller.
func WithResubmitIfNotReceived() CallOption {
	return func(cc *callConfig) error {
		cc.resubmit = true
		return nil
	}
}

// submit sends r and settles uncertain outcomes by reading, never by
// sending again blindly.
func (c *Client) submit(ctx context.Context, vrn VRN, r Return, opts []CallOption) (*Receipt, error) {
	cc, err := c.callConfig(&request{op: "SubmitReturn"}, opts)
	if err != nil {
		return nil, err
	}
	for sent := 1; ; sent++ {
		resp, err := c.do(ctx, &request{op: "SubmitReturn", method: http.MethodPost, path: vatPath(vrn, "returns"), body: r}, nil, opts)
		switch {
		case resp != nil && resp.status >= 200 && resp.status <= 299:
			rc, err := newReceipt(resp, err)
			if err != nil {
				err = redactErr(err, secretsOf(resp.sent))
			}
			return rc, err
		case errors.Is(err, ErrDuplicateSubmission):
			if rc := c.filedAlready(ctx, vrn, r); rc != nil {
				rc.CorrelationID = resp.header.Get("X-CorrelationId")
				return rc, nil
			}
			return nil, err
		case !uncertain(resp, err):
			return nil, err
		}
		rc, check := c.CheckSubmission(ctx, vrn, r)
		if rc != nil {
			return rc, nil
		}
		ue := &UncertainSubmissionError{VRN: vrn, PeriodKey: r.PeriodKey, Cause: err, NotReceived: errors.Is(check, ErrSubmissionNotReceived)}
		if !ue.NotReceived {
			ue.Check = check
		}
		if ue.NotReceived && cc.resubmit && sent == 1 {
			continue
		}
		return nil, ue
	}
}

// uncertain reports a failed submission that HMRC may nevertheless have
// filed: a server error, or a transport failure after the connection was
// opened (including timeouts).
func uncertain(resp *response, err error) bool {
	if resp != nil {
		return resp.status >= 500
	}
	var te *transportError
	return errors.As(err, &te) && !notSent(err)
}

// filedAlready reads the return HMRC holds for r's period and returns a
// recovered receipt when it equals r.
func (c *Client) filedAlready(ctx context.Context, vrn VRN, r Return) *Receipt {
	filed, err := c.ViewReturn(ctx, vrn, r.PeriodKey)
	if err != nil || !sameReturn(*filed, r) {
		return nil
	}
	return &Receipt{Recovered: true, Filed: filed}
}

// CheckSubmission finds out whether HMRC holds the return r for its period,
// for example after SubmitReturn reported ErrSubmissionOutcomeUnknown or
// after a crash during a submission. It reads; it never sends the return.
//
// It returns a receipt marked Recovered, holding the filed return, when HMRC
// holds a return equal to r. Otherwise the error says what is known:
// ErrSubmissionNotReceived when HMRC holds no return for the period and the
// period is still open (the return can be sent); an *APIError matching
// ErrDuplicateSubmission when HMRC holds a different return for the period;
// anything else when the check itself failed, in which case the outcome is
// still unknown.
func (c *Client) CheckSubmission(ctx context.Context, vrn VRN, r Return) (*Receipt, error) {
	if err := validate("CheckSubmission", vrn.check, r.PeriodKey.check); err != nil {
		return nil, err
	}
	filed, err := c.ViewReturn(ctx, vrn, r.PeriodKey)
	switch {
	case err == nil && sameReturn(*filed, r):
		return &Receipt{Recovered: true, Filed: filed}, nil
	case err == nil:
		return nil, &APIError{StatusCode: http.StatusForbidden, Code: "DUPLICATE_SUBMISSION",
			Message: "HMRC holds a different return for period " + string(r.PeriodKey)}
	case !errors.Is(err, ErrNotFound):
		return nil, err
	}
	open, err := c.Obligations(ctx, vrn, ObligationsQuery{Status: ObligationOpen})
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("vat: CheckSubmission: HMRC holds no return for %s, and reading its obligations failed: %w", r.PeriodKey, err)
	}
	if slices.ContainsFunc(open, func(o Obligation) bool { return o.PeriodKey == r.PeriodKey }) {
		return nil, ErrSubmissionNotReceived
	}
	return nil, fmt.Errorf("vat: CheckSubmission: HMRC holds no return for %s, but the period is not open either (HMRC may not have updated it yet): %w", r.PeriodKey, ErrSubmissionOutcomeUnknown)
}

// sameReturn compares the boxes and period of two returns; HMRC does not
// store Finalised.
func sameReturn(a, b Return) bool {
	a.Finalised, b.Finalised = true, true
	return a == b
}
