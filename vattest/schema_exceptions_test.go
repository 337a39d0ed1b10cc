package vattest_test

// schemaExceptionKey names an answer: the operation, the status and the
// answer's top-level code ("statusCode:<message>" for the legacy bodies,
// "" for an empty body).
type schemaExceptionKey struct {
	op     string
	status int
	code   string
}

type schemaException struct {
	why    string // how the live service differs from the OpenAPI
	source string // where that is established
}

// schemaExceptions lists, in one place, the answers vattest sends where
// HMRC's live service differs from its published OpenAPI
// (testdata/hmrc-vat-api-1.0.yaml). TestResponsesMatchHMRCOpenAPI requires
// every other answer to validate against the OpenAPI, and every entry here
// to be needed.
var schemaExceptions = map[schemaExceptionKey]schemaException{
	// Query validation answers Play's legacy body {"statusCode":400,"message":CODE}, without "code".
	{opObligations, 400, "statusCode:INVALID_DATE_FROM"}:  {legacyQueryBody, srcLegacy},
	{opObligations, 400, "statusCode:INVALID_DATE_TO"}:    {legacyQueryBody, srcLegacy},
	{opObligations, 400, "statusCode:INVALID_DATE_RANGE"}: {legacyQueryBody, srcLegacy},
	{opObligations, 400, "statusCode:INVALID_STATUS"}:     {legacyQueryBody, srcLegacy},
	{opObligations, 400, "statusCode:MISSING_DATE_RANGE"}: {"status=F without from and to: a legacy body with a code the OpenAPI does not document",
		"notes/vat-api.md §12 row 2 (vat-api ObligationParameterFormatValidation.scala)"},
	{opLiabilities, 400, "statusCode:DATE_FROM_INVALID"}:  {legacyQueryBody, srcLegacyFinancial},
	{opLiabilities, 400, "statusCode:DATE_TO_INVALID"}:    {legacyQueryBody, srcLegacyFinancial},
	{opLiabilities, 400, "statusCode:DATE_RANGE_INVALID"}: {legacyQueryBody, srcLegacyFinancial},
	{opPayments, 400, "statusCode:DATE_FROM_INVALID"}:     {legacyQueryBody, srcLegacyFinancial},
	{opPayments, 400, "statusCode:DATE_TO_INVALID"}:       {legacyQueryBody, srcLegacyFinancial},
	{opPayments, 400, "statusCode:DATE_RANGE_INVALID"}:    {legacyQueryBody, srcLegacyFinancial},

	// A body that is not JSON is refused by Play's JSON body parser before vat-api's controller.
	{opSubmit, 400, "statusCode:Invalid Json"}: {`{"statusCode":400,"message":"Invalid Json"}` + ", without code",
		"notes/vat-api.md §7 (vat-api LegacyErrorHandler.scala, JsonErrorSanitiser.scala)"},

	{opSubmit, 415, "INVALID_BODY_TYPE"}: {"415 for a Content-Type other than JSON; the OpenAPI documents no 415",
		"notes/vat-api.md §2 (vat-api SubmitReturnController.scala uses Play's parse.json; INVALID_BODY_TYPE in mtdErrors.scala), §13 item 5 (body unconfirmed)"},
	{opSubmit, 413, "statusCode:Request Entity Too Large"}: {"413 over 100 KiB, Play's legacy body; the OpenAPI documents no 413",
		"Play's parse.json refuses bodies over its 100 KiB default (vat-api SubmitReturnController.scala; notes/vat-api.md §2)"},

	// View VAT Return: no return for the period is a 404 with an empty body.
	{opView, 404, ""}: {"empty body where the OpenAPI shows a NOT_FOUND object",
		"notes/vat-api.md §12 row 8 (vat-api ViewReturnControllerISpec)"},

	// The API platform answers these in front of every API; the OpenAPI of
	// the VAT API documents no 401 or 406 for obligations.
	{opObligations, 401, "MISSING_CREDENTIALS"}:         {platformError, srcPlatform},
	{opObligations, 401, "INVALID_CREDENTIALS"}:         {platformError, srcPlatform},
	{opObligations, 401, "INCORRECT_ACCESS_TOKEN_TYPE"}: {platformError, srcPlatform},
	{opObligations, 406, "ACCEPT_HEADER_INVALID"}:       {platformError, srcPlatform},
	{opObligations, 429, "MESSAGE_THROTTLED_OUT"}:       {platformError, srcPlatform},

	// Customer information with neither a registration date nor a flat rate
	// scheme (Gov-Test-Scenario NO_EFFECTREGISTRATIONDATE_NO_FRS) is a 500.
	{opInformation, 500, "INTERNAL_SERVER_ERROR"}: {"500 for an empty record; the OpenAPI documents no 500",
		"notes/vat-api.md §9 customer information (vat-api CustomerInfoController.scala)"},
}

const (
	opObligations = "GET /organisations/vat/{vrn}/obligations"
	opSubmit      = "POST /organisations/vat/{vrn}/returns"
	opView        = "GET /organisations/vat/{vrn}/returns/{periodKey}"
	opLiabilities = "GET /organisations/vat/{vrn}/liabilities"
	opPayments    = "GET /organisations/vat/{vrn}/payments"
	opPenalties   = "GET /organisations/vat/{vrn}/penalties"
	opFinancial   = "GET /organisations/vat/{vrn}/financial-details/{penaltyChargeReference}"
	opInformation = "GET /organisations/vat/{vrn}/information"

	legacyQueryBody    = `{"statusCode":400,"message":CODE} without "code", where the OpenAPI shows {"code":…,"message":…}`
	srcLegacy          = "notes/vat-api.md §12 rows 1 and 3 (vat-api obligationsErrors; ISpecs; vat-api issues #486, #526, #556, #194)"
	srcLegacyFinancial = "notes/vat-api.md §12 row 1 (vat-api financialDataErrors, FinancialDataDateFormatValidation.scala)"
	platformError      = "an API platform error the VAT API's OpenAPI does not list"
	srcPlatform        = `notes/vat-api.md §7.1 (HMRC API documentation, reference guide "Errors")`
)
