package agentsync

import (
	"fmt"
	"time"

	"github.com/go-mtd/vat"
)

// EventKind says what an Event reports.
type EventKind int

const (
	// EventNewObligation: HMRC shows an open obligation the planner did not
	// know of (on a client's first fetch, every open obligation).
	EventNewObligation EventKind = iota + 1
	// EventFulfilled: an obligation the planner knew as open is fulfilled,
	// or one it did not know appeared already fulfilled.
	EventFulfilled
	// EventOverdue: an obligation is still open after its due date and no
	// return for it was filed through the software. Reported once.
	EventOverdue
	// EventRemoved: an open obligation the planner knew is no longer listed
	// although its period is within the range fetched (HMRC withdrew it, for
	// example after a change of filing pattern).
	EventRemoved
	// EventAccessLost: the client's authority is gone; the planner stops
	// fetching for it until it is added again. Err says why.
	EventAccessLost
	// EventFetchFailed: a fetch failed for a reason that may pass; the planner
	// retries later. Err says why.
	EventFetchFailed
	// EventLiabilities: the client's liabilities differ from the last ones
	// fetched (WithLiabilities); Event.Liabilities holds them.
	EventLiabilities
	// EventPayments: the client's payments differ from the last ones
	// fetched (WithPayments); Event.Payments holds them.
	EventPayments
	// EventPenalties: the client's penalties differ from the last ones
	// fetched (WithPenalties); Event.Penalties holds them.
	EventPenalties
)

var kindNames = map[EventKind]string{
	EventNewObligation: "new obligation", EventFulfilled: "fulfilled", EventOverdue: "overdue",
	EventRemoved: "removed", EventAccessLost: "access lost", EventFetchFailed: "fetch failed",
	EventLiabilities: "liabilities", EventPayments: "payments", EventPenalties: "penalties",
}

// String names the kind, e.g. "new obligation".
func (k EventKind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// Event is one change the planner observed for one client.
type Event struct {
	// Kind says what happened.
	Kind EventKind
	// VRN is the client's VAT registration number.
	VRN vat.VRN
	// Obligation is the obligation concerned, as HMRC last listed it, for
	// obligation events.
	Obligation vat.Obligation
	// Initial is true for obligations reported by a client's first fetch:
	// they were there before the planner knew the client.
	Initial bool
	// Err is the error of EventAccessLost and EventFetchFailed.
	Err error
	// At is the time on the planner's clock when the change was observed.
	At time.Time
	// Liabilities, Payments and Penalties hold the data of the events of
	// the same names.
	Liabilities []vat.Liability
	// Payments: see Liabilities.
	Payments []vat.Payment
	// Penalties: see Liabilities.
	Penalties *vat.Penalties
}

// String describes the event on one line, for logs.
func (e Event) String() string {
	switch e.Kind {
	case EventAccessLost, EventFetchFailed:
		return fmt.Sprintf("%s %s: %v", e.VRN, e.Kind, e.Err)
	case EventNewObligation, EventFulfilled, EventOverdue, EventRemoved:
		return fmt.Sprintf("%s %s: %s %s–%s due %s", e.VRN, e.Kind, e.Obligation.PeriodKey, e.Obligation.Start, e.Obligation.End, e.Obligation.Due)
	}
	return fmt.Sprintf("%s %s", e.VRN, e.Kind)
}
