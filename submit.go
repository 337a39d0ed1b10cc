package vat

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Outcomes of a submission that did not end in a plain receipt; test with
// errors.Is.
var (
	// ErrSubmissionOutcomeUnknown matches an *UncertainSubmissionError when it
	// could not be established whether HMRC filed the return. Do not send the
	// return again blindly: check later with [Client.CheckSubmission].
	ErrSubmissionOutcomeUnknown = errors.New("vat: the outcome of the submission is unknown")

	// ErrSubmissionNotReceived matches an *UncertainSubmissionError when
	// reading back proved that HMRC holds no return for the period and the
	// period is still open: the return can be sent again. When the first
	// request may still have been in flight, this is the finding of a second
	// read, RetryPolicy.SettleDelay after the first. Should HMRC file the first
	// request after all, sending the same return again is answered
	// DUPLICATE_SUBMISSION, which SubmitReturn reports as filed (Recovered).
	ErrSubmissionNotReceived = errors.New("vat: HMRC did not receive the return")

	// ErrReceiptIncomplete is returned, wrapped and together with a non-nil
	// *Receipt, when HMRC accepted a return (201) but part of its answer could
	// not be read: the return IS filed. The Receipt holds every field that could
	// be read, and the error says what could not.
	ErrReceiptIncomplete = errors.New("vat: HMRC accepted the return, but its receipt could not be read in full")
)

// UncertainSubmissionError reports a submission that failed in a way that
// does not say whether HMRC filed the return (the connection was lost after
// the return was sent, the request timed out, HMRC answered 5xx, or the
// answer was a redirect, a 2xx other than 201, or cut short), and what
// reading back established. errors.Is matches ErrSubmissionOutcomeUnknown,
// ErrSubmissionNotReceived or ErrDuplicateSubmission (HMRC holds a
// different return for the period), and the Cause.
type UncertainSubmissionError struct {
	// VRN is the business the return was for.
	VRN VRN
	// PeriodKey is the period the return was for.
	PeriodKey PeriodKey
	// Cause is how the submission failed.
	Cause error
	// NotReceived is true when HMRC holds no return for the period and the
	// period is still open, so the return can be sent again.
	NotReceived bool
	// Other is the return HMRC holds for the period when it is not this
	// one: this return was not filed and cannot be (DUPLICATE_SUBMISSION).
	Other *Return
	// Check is why reading back could not settle the outcome, when it could
	// not.
	Check error
}

// Error says what happened and what is known.
func (e *UncertainSubmissionError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "vat: SubmitReturn %s %s: ", e.VRN, e.PeriodKey)
	switch {
	case e.NotReceived:
		b.WriteString("HMRC did not receive the return and the period is still open; it can be sent again")
	case e.Other != nil:
		b.WriteString("HMRC holds a different return for the period (DUPLICATE_SUBMISSION); this one was not filed")
	default:
		b.WriteString("the outcome is unknown; do not send the return again before checking")
		if e.Check != nil {
			fmt.Fprintf(&b, " (checking failed: %v)", e.Check)
		}
	}
	fmt.Fprintf(&b, " (submission failed: %v)", e.Cause)
	return b.String()
}

// Is matches ErrSubmissionOutcomeUnknown, ErrSubmissionNotReceived or
// ErrDuplicateSubmission, according to what reading back established.
func (e *UncertainSubmissionError) Is(target error) bool {
	switch target {
	case ErrSubmissionNotReceived:
		return e.NotReceived
	case ErrDuplicateSubmission:
		return e.Other != nil
	case ErrSubmissionOutcomeUnknown:
		return !e.NotReceived && e.Other == nil
	}
	return false
}

// Unwrap returns the Cause.
func (e *UncertainSubmissionError) Unwrap() error { return e.Cause }

// WithResubmitIfNotReceived lets SubmitReturn send a return a second time
// when the first attempt's outcome was uncertain and reading back then
// proved that HMRC did not receive it (no return for the period, and the
// period still open), provided the first request cannot still be in flight:
// HMRC answered it itself (a 500 or 503 with HMRC's JSON error body), or
// answered with a redirect, or it was never written whole. After a timeout,
// a 502 or 504, a body cut short or a connection lost once the return was
// sent, HMRC may still file the first request, and SubmitReturn returns
// ErrSubmissionNotReceived instead of resending. Without this option,
// SubmitReturn returns ErrSubmissionNotReceived and leaves the decision to
// the caller.
func WithResubmitIfNotReceived() CallOption {
	return func(cc *callConfig) error {
		cc.resubmit = true
		return nil
	}
}

// settlePolicy says how SubmitReturn settles an uncertain outcome by
// reading back what HMRC holds for the period: RetryPolicy's SettleDelay
// and SettleTimeout, defaults applied.
type settlePolicy struct {
	Delay, Timeout time.Duration
}

// Defaults of the settle policy.
const (
	defaultSettleDelay   = 5 * time.Second
	defaultSettleTimeout = 30 * time.Second
)

// settlePolicyOf applies the defaults to p's settle fields.
func settlePolicyOf(p RetryPolicy) settlePolicy {
	sp := settlePolicy{Delay: p.SettleDelay, Timeout: p.SettleTimeout}
	if sp.Delay == 0 {
		sp.Delay = defaultSettleDelay
	}
	if sp.Timeout == 0 {
		sp.Timeout = max(defaultSettleTimeout, sp.Delay+defaultSettleDelay)
	}
	return sp
}

// submit sends r and settles uncertain outcomes by reading, never by
// sending again blindly.
//
// The rule: a failure is uncertain unless it proves HMRC did not file the
// return (a 4xx answer read whole, a 429, a connection that could not be
// opened). An uncertain failure is settled by reading back, on a context
// that keeps the caller's values but not its cancellation, bounded by the
// RetryPolicy. It is "possibly in flight" when HMRC may still be
// processing the request: a timeout or cancellation after the request was
// written, a connection lost after the request was written whole, a 502 or
// 504, or any 5xx whose body is not HMRC's JSON error (a gateway's page, or
// a body cut short). Then "not received" is concluded only after a second
// read, RetryPolicy.SettleDelay later, and the return is never resent. It is
// "finished" when whoever answered did so for good: a 500 or 503 with
// HMRC's JSON error body, a redirect, a 2xx other than 201, a 4xx whose
// body was cut short, or a connection lost before the request was written
// whole (writing it failed); one read settles it, and
// WithResubmitIfNotReceived may resend.
func (c *Client) submit(ctx context.Context, vrn VRN, r Return, opts []CallOption) (*Receipt, error) {
	cc, err := c.callConfig(&request{op: "SubmitReturn"}, opts)
	if err != nil {
		return nil, err
	}
	var readOpts []CallOption // reading back carries the call's fraud headers
	if cc.fraud != nil {
		readOpts = append(readOpts, WithCallFraudHeaders(cc.fraud))
	}
	for sent := 1; ; sent++ {
		resp, err := c.do(ctx, &request{op: "SubmitReturn", method: http.MethodPost, path: vatPath(vrn, "returns"), body: r, want: http.StatusCreated}, nil, opts)
		switch {
		case resp != nil && resp.status == http.StatusCreated:
			rc, err := newReceipt(resp, err)
			if err != nil {
				err = redactErr(err, secretsOf(resp.sent))
			}
			return rc, err
		case errors.Is(err, ErrDuplicateSubmission):
			sctx, cancel := c.settleContext(ctx)
			rc, _, _ := c.check(sctx, vrn, r, readOpts)
			cancel()
			if rc != nil {
				rc.CorrelationID = resp.header.Get("X-CorrelationId")
				return rc, nil
			}
			return nil, err
		case !uncertain(resp, err):
			return nil, err
		}
		inFlight := mayBeInFlight(resp, err)
		rc, other, check := c.settle(ctx, vrn, r, inFlight, readOpts)
		if rc != nil {
			return rc, nil
		}
		ue := &UncertainSubmissionError{VRN: vrn, PeriodKey: r.PeriodKey, Cause: err, Other: other,
			NotReceived: errors.Is(check, ErrSubmissionNotReceived)}
		if !ue.NotReceived && other == nil {
			ue.Check = check
		}
		if ue.NotReceived && cc.resubmit && sent == 1 && !inFlight && ctx.Err() == nil {
			continue
		}
		return nil, ue
	}
}

// settleContext is the context of reading back: the caller's values,
// without its cancellation, bounded by RetryPolicy.SettleTimeout.
func (c *Client) settleContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), c.cfg.settle.Timeout)
}

// settle reads back an uncertain submission. When the request may still be
// in flight and the first read finds nothing, it reads again after the
// RetryPolicy.SettleDelay before concluding ErrSubmissionNotReceived.
func (c *Client) settle(ctx context.Context, vrn VRN, r Return, inFlight bool, opts []CallOption) (*Receipt, *Return, error) {
	sctx, cancel := c.settleContext(ctx)
	defer cancel()
	rc, other, err := c.check(sctx, vrn, r, opts)
	if !inFlight || !errors.Is(err, ErrSubmissionNotReceived) {
		return rc, other, err
	}
	if werr := c.cfg.sleep(sctx, c.cfg.settle.Delay); werr != nil {
		return nil, nil, fmt.Errorf("vat: SubmitReturn: HMRC held no return for %s, and there was no time left to read again (the submission may still be in flight): %w", r.PeriodKey, werr)
	}
	return c.check(sctx, vrn, r, opts)
}

// uncertain reports a failed submission that HMRC may nevertheless have
// filed: anything but an answer that proves a refusal (a 4xx read whole, a
// 429) and a connection that could not be opened.
func uncertain(resp *response, err error) bool {
	if resp != nil {
		var de *DecodeError
		return resp.status != http.StatusTooManyRequests &&
			(resp.status >= 500 || resp.status < 400 || errors.As(err, &de))
	}
	var te *TransportError
	return errors.As(err, &te) && !notSent(err)
}

// mayBeInFlight reports an uncertain submission that HMRC may still be
// processing (see submit for the rule).
func mayBeInFlight(resp *response, err error) bool {
	if resp == nil {
		var te *TransportError
		if !errors.As(err, &te) {
			return true
		}
		var ne net.Error
		timeout := errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
		return !te.unwritten || timeout
	}
	switch {
	case resp.status == http.StatusBadGateway || resp.status == http.StatusGatewayTimeout:
		return true
	case resp.status < 500:
		return false
	}
	var apiErr *APIError
	return !errors.As(err, &apiErr) || apiErr.Code == "" // not HMRC's JSON, or cut short
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
// still unknown. opts apply to each read (for example
// WithCallFraudHeaders).
func (c *Client) CheckSubmission(ctx context.Context, vrn VRN, r Return, opts ...CallOption) (*Receipt, error) {
	if err := validate("CheckSubmission", vrn.check, r.PeriodKey.check); err != nil {
		return nil, err
	}
	rc, other, err := c.check(ctx, vrn, r, opts)
	if other != nil {
		return nil, &APIError{StatusCode: http.StatusForbidden, Code: "DUPLICATE_SUBMISSION",
			Message: "HMRC holds a different return for period " + string(r.PeriodKey)}
	}
	return rc, err
}

// check is CheckSubmission, returning the different return HMRC holds for
// the period, if it holds one, instead of an error; opts go to its reads.
func (c *Client) check(ctx context.Context, vrn VRN, r Return, opts []CallOption) (*Receipt, *Return, error) {
	filed, err := c.ViewReturn(ctx, vrn, r.PeriodKey, opts...)
	switch {
	case err == nil && sameReturn(*filed, r):
		return &Receipt{Recovered: true, Filed: filed}, nil, nil
	case err == nil:
		return nil, filed, nil
	case !errors.Is(err, ErrNotFound):
		return nil, nil, err
	}
	open, err := c.Obligations(ctx, vrn, ObligationsQuery{Status: ObligationOpen}, opts...)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, nil, fmt.Errorf("vat: CheckSubmission: HMRC holds no return for %s, and reading its obligations failed: %w", r.PeriodKey, err)
	}
	if slices.ContainsFunc(open, func(o Obligation) bool { return o.PeriodKey == r.PeriodKey }) {
		return nil, nil, ErrSubmissionNotReceived
	}
	return nil, nil, fmt.Errorf("vat: CheckSubmission: HMRC holds no return for %s, but the period is not open either (HMRC may not have updated it yet): %w", r.PeriodKey, ErrSubmissionOutcomeUnknown)
}

// sameReturn compares the boxes and period of two returns; HMRC does not
// store Finalised.
func sameReturn(a, b Return) bool {
	a.Finalised, b.Finalised = true, true
	return a == b
}
