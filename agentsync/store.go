package agentsync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/go-mtd/vat"
)

// Record is what the planner knows of one client. Stores keep it as it is;
// its fields are exported for them and for inspection.
type Record struct {
	// VRN is the client's VAT registration number.
	VRN vat.VRN `json:"vrn"`
	// Obligations are the obligations HMRC listed at the last fetch, oldest
	// first, with the open ones of earlier fetches that fell out of range.
	Obligations []vat.Obligation `json:"obligations,omitempty"`
	// Submitted holds the returns filed through the software whose
	// fulfilment HMRC does not show yet.
	Submitted []Submission `json:"submitted,omitempty"`
	// Expected holds the ends of periods the application announced
	// (Planner.Expect) whose obligations HMRC does not list yet.
	Expected []vat.Date `json:"expected,omitempty"`
	// FilesHere is true when the client's last return was filed through
	// the software: set when the application reports one
	// (Planner.Submitted), cleared when HMRC shows a return fulfilled that
	// the software did not file. An open obligation past its due date is
	// then likely to be filed here too, and is checked less often.
	FilesHere bool `json:"filesHere,omitempty"`
	// Overdue lists the period keys already reported overdue.
	Overdue []vat.PeriodKey `json:"overdue,omitempty"`
	// FinancialDue is when liabilities and payments are next to be fetched
	// (WithLiabilities, WithPayments): after a return is seen fulfilled, and
	// three days after a due date, when a payment has been taken. Zero: not
	// scheduled.
	FinancialDue time.Time `json:"financialDue,omitzero"`
	// PenaltiesDue is when penalties are next to be fetched (WithPenalties):
	// after an obligation is reported overdue and after a late return is
	// seen fulfilled. Zero: not scheduled.
	PenaltiesDue time.Time `json:"penaltiesDue,omitzero"`
	// Liabilities, Payments and Penalties are the data last fetched by the
	// optional schedules.
	Liabilities []vat.Liability `json:"liabilities,omitempty"`
	// Payments: see Liabilities.
	Payments []vat.Payment `json:"payments,omitempty"`
	// Penalties: see Liabilities.
	Penalties *vat.Penalties `json:"penalties,omitempty"`
	// Fetched is when obligations were last fetched successfully.
	Fetched time.Time `json:"fetched,omitzero"`
	// Attempted is when a fetch was last tried.
	Attempted time.Time `json:"attempted,omitzero"`
	// Failures counts the fetches that failed in a row.
	Failures int `json:"failures,omitempty"`
	// Parked is set when the client's access is gone; the planner does not
	// fetch for a parked client.
	Parked bool `json:"parked,omitempty"`
	// ParkedReason is the error that parked the client.
	ParkedReason string `json:"parkedReason,omitempty"`
	// Next is when the planner means to fetch next (informative: it is
	// recomputed from the fields above).
	Next time.Time `json:"next,omitzero"`
	// NextReason says why (ReasonPeriodEnd, ReasonDue…).
	NextReason string `json:"nextReason,omitempty"`
}

// Submission is a return filed through the software.
type Submission struct {
	// PeriodKey is the period of the return.
	PeriodKey vat.PeriodKey `json:"periodKey"`
	// At is when it was filed.
	At time.Time `json:"at"`
}

// Store keeps the planner's records. Implementations must be safe for
// concurrent use.
type Store interface {
	// Load returns every record.
	Load(ctx context.Context) ([]Record, error)
	// Put saves r, replacing the record of the same VRN.
	Put(ctx context.Context, r Record) error
	// Delete removes the record of vrn; deleting a missing one is not an
	// error.
	Delete(ctx context.Context, vrn vat.VRN) error
}

// MemoryStore is a Store in memory, for tests and for applications that
// rebuild their state at start.
type MemoryStore struct {
	mu   sync.Mutex
	recs map[vat.VRN]Record
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore { return &MemoryStore{recs: map[vat.VRN]Record{}} }

// Load returns every record, by VRN.
func (m *MemoryStore) Load(ctx context.Context) ([]Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Record, 0, len(m.recs))
	for _, r := range m.recs {
		out = append(out, cloneRecord(r))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].VRN < out[j].VRN })
	return out, ctx.Err()
}

// Put saves a copy of r.
func (m *MemoryStore) Put(ctx context.Context, r Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.recs[r.VRN] = cloneRecord(r)
	return ctx.Err()
}

// Delete removes the record of vrn.
func (m *MemoryStore) Delete(ctx context.Context, vrn vat.VRN) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.recs, vrn)
	return ctx.Err()
}

func cloneRecord(r Record) Record {
	r.Obligations = append([]vat.Obligation(nil), r.Obligations...)
	r.Submitted = append([]Submission(nil), r.Submitted...)
	r.Overdue = append([]vat.PeriodKey(nil), r.Overdue...)
	r.Expected = append([]vat.Date(nil), r.Expected...)
	r.Liabilities = append([]vat.Liability(nil), r.Liabilities...)
	r.Payments = append([]vat.Payment(nil), r.Payments...)
	return r
}

// FileStore is a Store in a directory: one JSON file per client, named after
// its VRN, readable by the owner only (0600). Each file is written to a
// temporary file that is synced and renamed over the old one, so that a
// crash leaves either the old record or the new one.
type FileStore struct {
	dir string
	mu  sync.Mutex
}

// NewFileStore returns a FileStore in dir, creating it (0700) if needed.
func NewFileStore(dir string) (*FileStore, error) {
	if dir == "" {
		return nil, errors.New("agentsync: NewFileStore: empty directory")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("agentsync: NewFileStore: %w", err)
	}
	return &FileStore{dir: dir}, nil
}

const recordSuffix = ".json"

// Load reads every record in the directory. Temporary files left by a crash
// are removed.
func (f *FileStore) Load(ctx context.Context) ([]Record, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	entries, err := os.ReadDir(f.dir)
	if err != nil {
		return nil, fmt.Errorf("agentsync: FileStore: %w", err)
	}
	var out []Record
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		name := e.Name()
		if strings.HasPrefix(name, ".tmp-") {
			_ = os.Remove(filepath.Join(f.dir, name))
			continue
		}
		if e.IsDir() || !strings.HasSuffix(name, recordSuffix) {
			continue
		}
		b, err := os.ReadFile(filepath.Join(f.dir, name))
		if err != nil {
			return nil, fmt.Errorf("agentsync: FileStore: %w", err)
		}
		var r Record
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, fmt.Errorf("agentsync: FileStore: %s: %w", name, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// Put writes r atomically to <dir>/<VRN>.json.
func (f *FileStore) Put(ctx context.Context, r Record) error {
	if !r.VRN.Valid() {
		return fmt.Errorf("agentsync: FileStore: VRN %q is not nine digits", r.VRN)
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("agentsync: FileStore: %w", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(f.dir, ".tmp-"+string(r.VRN)+"-*")
	if err != nil {
		return fmt.Errorf("agentsync: FileStore: %w", err)
	}
	name := tmp.Name()
	ok := false
	defer func() {
		if !ok {
			_ = tmp.Close()
			_ = os.Remove(name)
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		return fmt.Errorf("agentsync: FileStore: %w", err)
	}
	if _, err := tmp.Write(b); err != nil {
		return fmt.Errorf("agentsync: FileStore: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("agentsync: FileStore: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("agentsync: FileStore: %w", err)
	}
	if err := os.Rename(name, filepath.Join(f.dir, string(r.VRN)+recordSuffix)); err != nil {
		return fmt.Errorf("agentsync: FileStore: %w", err)
	}
	ok = true
	return nil
}

// Delete removes the record of vrn.
func (f *FileStore) Delete(ctx context.Context, vrn vat.VRN) error {
	if !vrn.Valid() {
		return fmt.Errorf("agentsync: FileStore: VRN %q is not nine digits", vrn)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	err := os.Remove(filepath.Join(f.dir, string(vrn)+recordSuffix))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("agentsync: FileStore: %w", err)
	}
	return nil
}
