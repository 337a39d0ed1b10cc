package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/go-mtd/vat"
)

// explain turns an error into what the user reads: what happened, with
// HMRC's code, and what to do.
func explain(err error) string {
	login := "vat login"
	var h *hinted
	if errors.As(err, &h) {
		login = h.loginHint
	}
	var nsi *notSignedIn
	if errors.As(err, &nsi) {
		return nsi.Error()
	}
	var ce *checkError
	if errors.As(err, &ce) {
		var ae *vat.APIError
		switch {
		case errors.Is(err, vat.ErrNotFound):
			return fmt.Sprintf("HMRC refused the request: 404 NOT_FOUND: GB%s is not a registered UK VAT number: check the number with the business", ce.target)
		case errors.As(err, &ae) && ae.StatusCode == http.StatusForbidden && ae.Code == "INVALID_REQUEST":
			return fmt.Sprintf("HMRC refused the request: 403 INVALID_REQUEST: your VAT number GB%s (--requester) is not registered: check it, or leave --requester out", ce.requester)
		}
	}
	var ve *vat.ValidationError
	if errors.As(err, &ve) {
		var b strings.Builder
		b.WriteString("nothing was sent to HMRC:")
		for _, p := range ve.Problems {
			b.WriteString("\n  - " + p.String())
		}
		return b.String()
	}
	var ae *vat.APIError
	if errors.As(err, &ae) {
		return apiErrorText(ae, login)
	}
	switch {
	case errors.Is(err, vat.ErrReauthorizationRequired):
		return "your sign-in to HMRC has expired or was withdrawn (HMRC refused to renew it: invalid_grant): run \"" + login + "\" to sign in again"
	case errors.Is(err, vat.ErrTokenFileInsecure), errors.Is(err, vat.ErrTokenFileCorrupt):
		return err.Error()
	case errors.Is(err, vat.ErrUserDeniedAuthorization):
		return "you did not grant this application access to your VAT account at HMRC: run \"" + login + "\" again and choose to grant authority"
	case errors.Is(err, context.Canceled):
		return "interrupted"
	case errors.Is(err, context.DeadlineExceeded):
		return "timed out: " + err.Error()
	}
	return strings.TrimPrefix(err.Error(), "vat: ")
}

// apiErrorText is HMRC's refusal: status, code and message, and what to do.
func apiErrorText(ae *vat.APIError, login string) string {
	codes := ae.Codes()
	msg := ae.Message
	if len(ae.Errors) > 0 {
		msg = ae.Errors[0].Message
	}
	code := strings.Join(codes, ", ")
	switch {
	case code == "" && errors.Is(ae, vat.ErrNotFound):
		code = "NOT_FOUND" // View VAT Return's empty 404
	case code == "":
		code = "(" + http.StatusText(ae.StatusCode) + ")"
	}
	head := fmt.Sprintf("HMRC refused the request: %d %s", ae.StatusCode, code)
	if msg != "" && (len(codes) != 1 || msg != codes[0]) {
		head += ": " + msg
	}
	hint := ""
	switch {
	case errors.Is(ae, vat.ErrDuplicateSubmission):
		hint = "a return for this period was already filed; HMRC accepts one return per period: see it with \"vat return view\", and correct mistakes as HMRC's guidance on errors in VAT returns says"
	case errors.Is(ae, vat.ErrTaxPeriodNotEnded):
		hint = "the period has not ended yet: submit after its end date (see \"vat obligations\")"
	case errors.Is(ae, vat.ErrNotAuthorised):
		hint = "the signed-in user may not act for this VRN: check --vrn, or run \"" + login + "\" as a user of this business"
	case errors.Is(ae, vat.ErrInvalidCredentials), errors.Is(ae, vat.ErrMissingCredentials):
		hint = "run \"" + login + "\" to sign in again"
	case errors.Is(ae, vat.ErrInvalidScope):
		hint = "the sign-in did not grant this access: run \"" + login + "\" again"
	case errors.Is(ae, vat.ErrResourceForbidden):
		hint = "the application is not subscribed to this API on HMRC's Developer Hub: subscribe to it there"
	case errors.Is(ae, vat.ErrThrottled):
		hint = "too many requests: wait a minute and try again"
	case errors.Is(ae, vat.ErrNotFound):
		hint = "HMRC has no data for this request (for a return: none was filed for the period)"
	case errors.Is(ae, vat.ErrVATTotalValue), errors.Is(ae, vat.ErrVATNetValue):
		hint = "correct boxes 3 and 5, or leave them out and use --compute"
	case errors.Is(ae, vat.ErrPeriodKeyInvalid):
		hint = "use a period key listed by \"vat obligations\""
	case ae.StatusCode >= 500:
		hint = "HMRC's service had a problem: try again later"
	}
	if ae.CorrelationID != "" {
		head += " (correlation ID " + ae.CorrelationID + ")"
	}
	if hint != "" {
		return head + "\n  " + hint
	}
	return head
}
