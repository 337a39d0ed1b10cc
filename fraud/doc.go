// Package fraud implements HMRC's fraud prevention headers (specification
// 3.3): the Gov-Client-* and Gov-Vendor-* headers that every call to an HMRC
// Making Tax Digital API must carry. It models them, encodes and parses them
// byte for byte as HMRC's examples do, validates them as HMRC's Test Fraud
// Prevention Headers API does, and collects them on a user's device, on your
// server and in the browser. It depends on no HMRC API client: the vat
// package's Client takes a Source, and any other HMRC API client can use the
// same Source, call Headers.WriteTo, or use the HeaderWriter fast path.
//
// # What HMRC requires
//
// HMRC's Directions make the headers a legal requirement on every call to an
// MTD API, in the sandbox and in production. HMRC checks them in three ways:
//
//   - In the sandbox, its Test Fraud Prevention Headers API validates one
//     request's headers (GET /test/fraud-prevention-headers/validate) and gives
//     feedback on the latest request to each endpoint
//     (…/{api}/validation-feedback). Validate answers the same way offline,
//     with HMRC's codes and messages; Feedback is the shape of the feedback.
//   - Before granting production credentials, HMRC reviews sandbox requests
//     by hand and rejects values its automated validator accepts: a client
//     public IP equal to the vendor's, a server port (80 or 443) as the
//     client's port, placeholders such as "null" or "unknown", a '+' for a
//     space, made-up MAC addresses. Validate reports these as
//     CodeProductionReview warnings; Validation.Automated removes them to
//     show what HMRC's automated API would say.
//   - In production, HMRC keeps checking the headers it receives and reports
//     missing or invalid ones to the vendor.
//
// A header you cannot collect must be agreed with HMRC first; then declare it
// in Headers.AgreedMissing (left out) or AgreedEmpty (sent empty). Never send
// a placeholder value.
//
// # Connection methods
//
// Gov-Client-Connection-Method names the architecture of the application
// that originates the request, and decides which headers are required
// (ConnectionMethod.RequiredHeaders): a direct method when the originating
// device calls HMRC itself, a *_VIA_SERVER method when the request passes
// through servers you control on the way.
//
//	method                  collector
//	DESKTOP_APP_DIRECT      NewDeviceCollector on the user's machine (FraudHeaders)
//	MOBILE_APP_DIRECT       NewDeviceCollector, with the mobile method
//	BATCH_PROCESS_DIRECT    NewDeviceCollector, on the machine running the batch
//	OTHER_DIRECT            NewDeviceCollector
//	WEB_APP_VIA_SERVER      the browser script (BrowserCollectorHandler) in every page,
//	                        ServerCollector on your server, per end-user request
//	DESKTOP_APP_VIA_SERVER  NewDeviceCollector on the device (ClientValues, sent to
//	MOBILE_APP_VIA_SERVER   your server as JSON) and ServerCollector on your server
//	OTHER_VIA_SERVER        (ParseClientValues, then ServerCollector.Headers)
//
// A DeviceCollector is a Source: it reads the machine (local IP and MAC
// addresses, operating system, user, UTC offset, a device ID it stores once)
// before every request. A ServerCollector builds the headers of one end-user
// request from the inbound *http.Request (the client's public address and
// port, behind trusted proxies, and Gov-Vendor-Forwarded including your own
// CDN or WAF hops) and the values the device sent; wrap them with Static, or
// use ServerCollector.Source, for the per-call option of your HMRC client.
//
// # Encoding
//
// Headers.Header and Headers.WriteTo check the required set of the
// connection method and every value's format, then percent-encode keys and
// values (only A-Z a-z 0-9 - . _ ~ are left as they are; a space is %20)
// while leaving the separators = & , unencoded. Parse reads headers back. No
// value ever appears in an error, in String or in a log line: the headers
// are personal data.
package fraud
