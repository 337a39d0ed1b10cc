package vat

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNoFloatInThePublicAPI walks, with reflection, every type reachable
// from the Client's exported methods and from the exported result types,
// and fails on any float field, parameter or result.
func TestNoFloatInThePublicAPI(t *testing.T) {
	t.Parallel()
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type, string)
	walk = func(rt reflect.Type, where string) {
		if seen[rt] {
			return
		}
		seen[rt] = true
		switch rt.Kind() {
		case reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
			t.Errorf("float in the public API: %s (%s)", where, rt)
		case reflect.Pointer, reflect.Slice, reflect.Array:
			walk(rt.Elem(), where)
		case reflect.Map:
			walk(rt.Key(), where)
			walk(rt.Elem(), where)
		case reflect.Struct:
			for i := 0; i < rt.NumField(); i++ {
				if f := rt.Field(i); f.IsExported() {
					walk(f.Type, rt.Name()+"."+f.Name)
				}
			}
		case reflect.Func:
			for i := 0; i < rt.NumIn(); i++ {
				walk(rt.In(i), where+" parameter")
			}
			for i := 0; i < rt.NumOut(); i++ {
				walk(rt.Out(i), where+" result")
			}
		}
		if rt.PkgPath() == reflect.TypeFor[Client]().PkgPath() {
			for i := 0; i < rt.NumMethod(); i++ {
				m := rt.Method(i)
				walk(m.Type, rt.Name()+"."+m.Name)
			}
			if rt.Kind() != reflect.Pointer && rt.Kind() != reflect.Interface {
				walk(reflect.PointerTo(rt), where)
			}
		}
	}
	for _, root := range []reflect.Type{
		reflect.TypeFor[*Client](), reflect.TypeFor[Return](), reflect.TypeFor[Receipt](), reflect.TypeFor[Obligation](),
		reflect.TypeFor[ObligationsQuery](), reflect.TypeFor[Liability](), reflect.TypeFor[Payment](), reflect.TypeFor[Penalties](),
		reflect.TypeFor[FinancialDetails](), reflect.TypeFor[CustomerInformation](), reflect.TypeFor[APIError](),
		reflect.TypeFor[ValidationError](), reflect.TypeFor[DecodeError](), reflect.TypeFor[ResponseMeta](),
	} {
		walk(root, root.String())
	}
	assert.Greater(t, len(seen), 50, "the walk reached the API's types")

	// Reflection reaches what the API returns; the source scan reaches every
	// exported declaration, including types nothing returns yet.
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		require.NoError(t, err)
		ast.Inspect(f, func(n ast.Node) bool {
			switch d := n.(type) {
			case *ast.TypeSpec:
				if d.Name.IsExported() {
					reportFloats(t, fset, d.Type)
				}
			case *ast.FuncDecl:
				if d.Name.IsExported() {
					reportFloats(t, fset, d.Type)
				}
				return false
			}
			return true
		})
	}
}

func reportFloats(t *testing.T, fset *token.FileSet, n ast.Node) {
	ast.Inspect(n, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok && (id.Name == "float32" || id.Name == "float64") {
			t.Errorf("%s: float in an exported declaration", fset.Position(id.Pos()))
		}
		return true
	})
}

// TestEveryHMRCExampleDecodes decodes every request and response example
// of HMRC's OpenAPI file with the package's types: success bodies into the
// endpoint's type without losing a field, error bodies into *APIError with
// their code.
func TestEveryHMRCExampleDecodes(t *testing.T) {
	t.Parallel()
	var index []struct {
		OperationID, Kind, Name, File string
	}
	require.NoError(t, json.Unmarshal(readFixture(t, "hmrc/oas/index.json"), &index))
	targets := map[string]func() any{
		"RetrieveVATobligations":         func() any { return new(obligationsResponse) },
		"SubmitVATreturnforperiod":       func() any { return new(Return) },
		"ViewVATReturn":                  func() any { return new(Return) },
		"RetrieveVATliabilities":         func() any { return new(liabilitiesResponse) },
		"RetrieveVATpayments":            func() any { return new(paymentsResponse) },
		"RetrieveVATpenalties":           func() any { return new(Penalties) },
		"Retrievefinancialdetails":       func() any { return new(FinancialDetails) },
		"RetrieveVATCustomerInformation": func() any { return new(CustomerInformation) },
	}
	decoded := 0
	for _, ex := range index {
		body := readFixture(t, "hmrc/oas/"+ex.File)
		status := 0
		if rest, ok := strings.CutPrefix(ex.Kind, "response-"); ok {
			status, _ = strconv.Atoi(rest)
		}
		switch {
		case status == 201:
			rc, err := newReceipt(&response{status: 201, header: http.Header{}, body: body}, nil)
			require.NoError(t, err, ex.File)
			assert.NotEmpty(t, rc.FormBundleNumber, ex.File)
			assert.False(t, rc.ProcessingDate.IsZero(), ex.File)
		case status >= 400:
			var want struct{ Code string }
			require.NoError(t, json.Unmarshal(body, &want), ex.File)
			e := newAPIError("GET", "/p", status, http.Header{}, body, time.Now())
			assert.Equal(t, want.Code, e.Code, ex.File)
			assert.ErrorIs(t, e, ErrorCode(want.Code), ex.File)
		default: // a 200 body or a request body
			newTarget, ok := targets[ex.OperationID]
			require.True(t, ok, ex.OperationID)
			v := newTarget()
			if ex.OperationID == "SubmitVATreturnforperiod" || ex.OperationID == "ViewVATReturn" {
				require.NoError(t, json.Unmarshal(body, v), ex.File)
				assert.NotEmpty(t, v.(*Return).PeriodKey, ex.File)
			} else {
				assertLossless(t, body, v)
			}
		}
		decoded++
	}
	assert.Equal(t, 63, decoded, "every example of HMRC's OpenAPI file")
}

// TestScenarioConstants checks that each typed scenario belongs to an
// existing endpoint and that values are unique within an endpoint.
func TestScenarioConstants(t *testing.T) {
	t.Parallel()
	f, err := parser.ParseFile(token.NewFileSet(), "scenarios.go", nil, parser.ParseComments)
	require.NoError(t, err)
	clientMethods := map[string]bool{}
	ct := reflect.TypeFor[*Client]()
	for i := 0; i < ct.NumMethod(); i++ {
		clientMethods[ct.Method(i).Name] = true
	}
	values := map[string]map[string]bool{}
	n := 0
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			typ := vs.Type.(*ast.Ident).Name
			val, err := strconv.Unquote(vs.Values[0].(*ast.BasicLit).Value)
			require.NoError(t, err)
			endpoint := strings.TrimSuffix(typ, "Scenario")
			assert.True(t, clientMethods[endpoint], "%s belongs to a Client method", typ)
			assert.True(t, strings.HasPrefix(vs.Names[0].Name, endpoint), vs.Names[0].Name)
			assert.NotEmpty(t, vs.Doc.Text(), "%s has a doc line", vs.Names[0].Name)
			if values[typ] == nil {
				values[typ] = map[string]bool{}
			}
			assert.False(t, values[typ][val], "duplicate %s %s", typ, val)
			values[typ][val] = true
			n++
		}
	}
	// Financial details has no type: HMRC documents only DEFAULT for it,
	// which is what sending no scenario gives.
	assert.Len(t, values, 7, "one scenario type per endpoint with scenarios")
	assert.Equal(t, 65, n, "32 obligations, 6 submit, 2 view, 5 liabilities, 5 payments, 10 penalties, 5 customer information")
	assert.Equal(t, "Obligations", ObligationsInsolventTrader.scenarioFor())
	assert.Equal(t, "SubmitReturn", SubmitReturnInsolventTrader.scenarioFor())
	assert.Equal(t, "ViewReturn", ViewReturnInsolventTrader.scenarioFor())
	assert.Equal(t, "Liabilities", LiabilitiesInsolventTrader.scenarioFor())
	assert.Equal(t, "Payments", PaymentsInsolventTrader.scenarioFor())
	assert.Equal(t, "Penalties", PenaltiesDefault.scenarioFor())
	assert.Equal(t, "CustomerInformation", CustomerInformationDefault.scenarioFor())
}

func TestTestdataHasNoStrayFiles(t *testing.T) {
	t.Parallel()
	// Every fixture directory is described in testdata/README.md.
	readme, err := os.ReadFile(filepath.Join("testdata", "README.md"))
	require.NoError(t, err)
	for _, dir := range []string{"hmrc/raml", "hmrc/oas", "golden"} {
		assert.Contains(t, string(readme), dir, "testdata/README.md describes %s", dir)
	}
}

// TestFRSCategoryDescriptions checks every flat rate category constant
// against the label written beside it (HMRC's list, VAT (MTD) OpenAPI
// FlatRateScheme.frsCategory).
func TestFRSCategoryDescriptions(t *testing.T) {
	t.Parallel()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "information.go", nil, parser.ParseComments)
	require.NoError(t, err)
	cmap := ast.NewCommentMap(fset, f, f.Comments)
	codes := map[string]bool{}
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			code, err := strconv.Unquote(vs.Values[0].(*ast.BasicLit).Value)
			require.NoError(t, err)
			label := strings.TrimSpace(cmap[vs][0].Text())
			assert.Equal(t, label, FRSCategory(code).Description(), code)
			codes[code] = true
		}
	}
	assert.Len(t, codes, 56, `"001" to "055" and "999"`)
}

func TestPercentJSON(t *testing.T) {
	t.Parallel()
	var v struct {
		Rate Percent `json:"rate"`
	}
	require.NoError(t, json.Unmarshal([]byte(`{"rate":2.5}`), &v))
	assert.Equal(t, Percent(250), v.Rate)
	assert.Equal(t, "2.50", v.Rate.String())
	require.NoError(t, json.Unmarshal([]byte(`{"rate":null}`), &v))
	assert.Equal(t, Percent(250), v.Rate)
	err := json.Unmarshal([]byte(`{"rate":2.555}`), &v)
	assert.ErrorContains(t, err, "rate")
	b, err := json.Marshal(Percent(-1234))
	require.NoError(t, err)
	assert.Equal(t, "-12.34", string(b))
}
