// Package agentsync keeps an agent's view of many clients' VAT obligations
// up to date with few calls to HMRC.
//
// HMRC's VAT API has no change feed and no multi-client endpoint, so the
// only way to learn of a change is to ask, one client at a time, within the
// application's rate of 3 requests per second. A daily sweep of 10,000
// clients costs 10,000 calls a day. Obligations, however, change at
// predictable moments: a new one appears when a period ends, one is
// fulfilled some hours after a return is filed, and one becomes overdue the
// day after its due date. A [Planner] fetches each client's obligations at
// those moments only, plus a slow safety sweep for the rare changes it
// cannot predict (a new filing pattern, a deregistration) unless the
// application announces them ([Planner.Expect]), and reports what changed
// as [Event] values.
//
//	p, err := agentsync.New(client, agentsync.NewMemoryStore(),
//		agentsync.WithHandler(func(e agentsync.Event) { log.Println(e) }))
//	p.Add(ctx, "123456789")
//	go p.Run(ctx)
//	// after filing a return through the software:
//	p.Submitted(ctx, "123456789", "24A1", time.Now())
//
// Every call the planner makes is marked [vat.WithBulk], so that it goes
// through the Client's rate limiter behind interactive calls. Its state (what
// it knows of each client and when it next looks) is kept in a [Store], so
// that a restarted planner resumes its schedule instead of sweeping again.
//
// When it looks (all times UTC; "the day after" means at a time between
// 09:00 and 19:00 that depends on the VRN, so that the checks after a
// quarter's end are spread over the day):
//
//   - a new obligation: the day after the predicted end of the next
//     period (HMRC shows an obligation once its period has ended), again after
//     12 hours, 1, 2 and 4 days if it is not there yet; while a client has no
//     obligation yet, the day after every month's end; nothing is predicted
//     after a period cut short (one that starts on a month's first day and
//     ends before its last: a deregistration);
//   - a period the application announces with [Planner.Expect] (the first
//     period of a new registration, the first after a change of stagger,
//     the last one before a deregistration): the day after it ends, and
//     again as above;
//   - a return filed through the software ([Planner.Submitted]): an hour after
//     HMRC is expected to show it fulfilled (06:00 the next working day, or the
//     Tuesday after a return filed on Friday evening or at the weekend), then
//     at 07:00 each working day until it does, for 14 days (HMRC updates
//     obligations overnight on working days);
//   - a due date: the day after it, for open obligations not filed
//     through the software, so that a return filed elsewhere is seen before
//     the obligation is reported overdue; while it stays open, when a
//     return filed late on the due date would show (the next working
//     morning) and a working day after that, then every 3 days for 8 weeks
//     (every 14 days when the client's last return was filed through the
//     software, which will say when it files this one);
//   - otherwise at least every 90 days (WithSweepInterval), spread by VRN.
//
// Liabilities, payments and penalties can be followed the same way, each
// optional and off by default: WithLiabilities and WithPayments fetch them
// when a return is seen fulfilled (HMRC posts its charge) and three days
// after each due date (a payment has been taken); WithPenalties when an
// obligation is reported overdue and when a late return is seen fulfilled.
// Changes are reported with EventLiabilities, EventPayments and
// EventPenalties.
//
// A client whose access is gone (403 CLIENT_OR_AGENT_NOT_AUTHORISED, an
// invalid VRN, or vat.ErrReauthorizationRequired after a failed refresh) is
// reported once with EventAccessLost and parked until it is added again.
// Other errors are reported with EventFetchFailed and retried with an
// exponential backoff (5 minutes doubling to 6 hours).
package agentsync
