package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-mtd/vat/vattest"
	"github.com/rogpeppe/go-internal/testscript"
	"github.com/xuri/excelize/v2"
)

// TestMain lets the test binary run as the vat command: testscript puts it
// in $PATH as "vat", so the scripts run the real program in a process of
// its own.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"vat": func() { os.Exit(run(context.Background(), os.Args[1:], newStdio())) },
	})
}

// servers maps each script's work directory to its simulator.
var servers sync.Map

// testObligations are the test business's periods: one filed, one to file.
var testObligations = []vattest.Obligation{
	{PeriodKey: "25A1", Start: "2025-01-01", End: "2025-03-31", Received: "2025-05-02"},
	{PeriodKey: "25A2", Start: "2025-04-01", End: "2025-06-30"},
	{PeriodKey: "25A3", Start: "2025-07-01", End: "2025-09-30"},
}

// startSimulator starts a vattest server with a test business and returns
// the variables the scripts and the terminal test use.
func startSimulator(work string) (*vattest.Server, map[string]string, error) {
	srv, err := vattest.New(vattest.WithRateLimit(0))
	if err != nil {
		return nil, nil, err
	}
	user, err := srv.CreateOrganisation(vattest.Organisation{Obligations: testObligations})
	if err != nil {
		srv.Close()
		return nil, nil, err
	}
	app := srv.DefaultApplication()
	return srv, map[string]string{
		"SERVER":             srv.URL,
		"HMRC_CLIENT_ID":     app.ClientID,
		"HMRC_CLIENT_SECRET": app.ClientSecret,
		"USER_ID":            user.UserID,
		"PASSWORD":           user.Password,
		"VRN":                user.VRN,
		"VAT_CONFIG_DIR":     filepath.Join(work, "config"),
		"TOKEN_FILE":         filepath.Join(work, "config", "sandbox-server-"+strings.ReplaceAll(strings.TrimPrefix(srv.URL, "http://"), ":", "-")+".json"),
	}, nil
}

func TestScripts(t *testing.T) {
	t.Parallel()
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			srv, vars, err := startSimulator(env.WorkDir)
			if err != nil {
				return err
			}
			env.Defer(srv.Close)
			servers.Store(env.WorkDir, srv)
			env.Defer(func() { servers.Delete(env.WorkDir) })
			for k, v := range vars {
				env.Setenv(k, v)
			}
			return writeWorkbooks(env.WorkDir)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"submissions":  cmdSubmissions,
			"advance":      cmdAdvance,
			"fraudheaders": cmdFraudHeaders,
			"mode":         cmdMode,
			"lines":        cmdLines,
		},
	})
}

func serverOf(ts *testscript.TestScript) *vattest.Server {
	srv, ok := servers.Load(ts.Getenv("WORK"))
	if !ok {
		ts.Fatalf("no simulator for this script")
	}
	return srv.(*vattest.Server)
}

// submissions N: the simulator received N returns (POSTs) for $VRN.
func cmdSubmissions(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 || neg {
		ts.Fatalf("usage: submissions N")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	if got := serverOf(ts).Submissions(ts.Getenv("VRN")).Received; got != want {
		ts.Fatalf("the simulator received %d return(s), want %d", got, want)
	}
}

// advance DURATION: moves the simulator's clock on.
func cmdAdvance(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 || neg {
		ts.Fatalf("usage: advance DURATION")
	}
	d, err := time.ParseDuration(args[0])
	ts.Check(err)
	serverOf(ts).Advance(d)
}

// fraudheaders: every API request the simulator received carried the
// fraud prevention headers of a desktop application connecting directly,
// and none went to the OAuth endpoints.
func cmdFraudHeaders(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("usage: fraudheaders")
	}
	n := 0
	for _, r := range serverOf(ts).Requests() {
		method := r.FraudHeaders.Get("Gov-Client-Connection-Method")
		if strings.HasPrefix(r.Path, "/oauth/") {
			if len(r.FraudHeaders) > 0 {
				ts.Fatalf("%s %s carried fraud prevention headers", r.Method, r.Path)
			}
			continue
		}
		n++
		if method != "DESKTOP_APP_DIRECT" {
			ts.Fatalf("%s %s: Gov-Client-Connection-Method %q, want DESKTOP_APP_DIRECT", r.Method, r.Path, method)
		}
		for _, h := range []string{"Gov-Client-Device-ID", "Gov-Client-User-IDs", "Gov-Client-Timezone", "Gov-Client-Local-IPs", "Gov-Client-User-Agent", "Gov-Vendor-Version", "Gov-Vendor-Product-Name"} {
			if r.FraudHeaders.Get(h) == "" {
				ts.Fatalf("%s %s: no %s", r.Method, r.Path, h)
			}
		}
	}
	if n == 0 {
		ts.Fatalf("no API request was made")
	}
	ts.Logf("%d API request(s) carried the fraud prevention headers", n)
}

// mode PERM FILE: the file's permission bits.
func cmdMode(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 || neg {
		ts.Fatalf("usage: mode PERM FILE")
	}
	fi, err := os.Stat(ts.MkAbs(args[1]))
	ts.Check(err)
	if got := fmt.Sprintf("%04o", fi.Mode().Perm()); got != args[0] {
		ts.Fatalf("%s has mode %s, want %s", args[1], got, args[0])
	}
}

// lines N FILE: the file has N lines.
func cmdLines(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 || neg {
		ts.Fatalf("usage: lines N FILE")
	}
	data, err := os.ReadFile(ts.MkAbs(args[1]))
	ts.Check(err)
	if got := strconv.Itoa(strings.Count(string(data), "\n")); got != args[0] {
		ts.Fatalf("%s has %s line(s), want %s", args[1], got, args[0])
	}
}

// writeWorkbooks writes the workbooks the scripts read: q2.xlsx, a
// bookkeeper's sheet with a title, rows of box and value as numbers and
// boxes 3 and 5 left to --compute; mapped.xlsx, figures in named cells of
// a second sheet; header.xlsx, a header row of HMRC's names over the values.
func writeWorkbooks(dir string) error {
	q2 := excelize.NewFile()
	defer q2.Close()
	rows := [][]any{
		{"Acme Ltd: VAT return, April to June 2025"},
		{},
		{"Box 1", 2450.75, "VAT due on sales"},
		{"Box 2", 0},
		{"Box 4", 812.30, "VAT reclaimed on purchases"},
		{"Box 6", 12253},
		{"Box 7", 4061},
		{"Box 8", 0},
		{"Box 9", 0},
	}
	for i, row := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := q2.SetSheetRow("Sheet1", cell, &row); err != nil {
			return err
		}
	}
	if err := q2.SaveAs(filepath.Join(dir, "q2.xlsx")); err != nil {
		return err
	}

	mapped := excelize.NewFile()
	defer mapped.Close()
	if _, err := mapped.NewSheet("Figures"); err != nil {
		return err
	}
	for cell, v := range map[string]any{"C3": 1000, "C4": 0, "C5": 1000, "C6": 250.5, "C7": 749.5, "C8": 5000, "C9": 1252, "C10": 0, "C11": 0} {
		if err := mapped.SetCellValue("Figures", cell, v); err != nil {
			return err
		}
	}
	if err := mapped.SaveAs(filepath.Join(dir, "mapped.xlsx")); err != nil {
		return err
	}

	header := excelize.NewFile()
	defer header.Close()
	names := []any{"vatDueSales", "vatDueAcquisitions", "vatReclaimedCurrPeriod", "totalValueSalesExVAT", "totalValuePurchasesExVAT", "totalValueGoodsSuppliedExVAT"}
	values := []any{100, 0, 40, 500, 200, 0} // box 9 is missing
	if err := header.SetSheetRow("Sheet1", "A1", &names); err != nil {
		return err
	}
	if err := header.SetSheetRow("Sheet1", "A2", &values); err != nil {
		return err
	}
	return header.SaveAs(filepath.Join(dir, "header.xlsx"))
}
