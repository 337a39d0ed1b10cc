package vat

import "context"

// Payment is a payment HMRC received on a VAT account.
type Payment struct {
	// Amount is the amount paid, in pounds and pence.
	Amount Money `json:"amount"`
	// Received is the date HMRC received (cleared) the payment; zero when
	// HMRC gives none.
	Received Date `json:"received,omitzero"`
}

// paymentsResponse is the 200 body of the payments endpoint.
type paymentsResponse struct {
	Payments []Payment `json:"payments"`
}

// Payments retrieves the payments on the VAT account of vrn for charges
// whose period ends within r (GET /organisations/vat/{vrn}/payments, scope
// read:vat). HMRC cannot yet link payments to liabilities.
//
// The range rules are those of [Client.Liabilities]. HMRC answers 404
// ErrNotFound when there are no payments in the range, which callers may
// treat as an empty list.
func (c *Client) Payments(ctx context.Context, vrn VRN, r DateRange, opts ...CallOption) ([]Payment, error) {
	if err := validate("Payments", vrn.check, checkFinancialRange(r, c.today())); err != nil {
		return nil, err
	}
	var out paymentsResponse
	_, err := c.get(ctx, &request{op: "Payments", path: vatPath(vrn, "payments"), query: r}, &out, opts)
	return out.Payments, err
}
