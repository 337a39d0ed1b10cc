package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/go-mtd/vat"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestUsageNamesTheEnvironment checks that -h tells which environment
// variables the program reads.
func TestUsageNamesTheEnvironment(t *testing.T) {
	for _, v := range []string{"HMRC_CLIENT_ID", "HMRC_CLIENT_SECRET"} {
		assert.Contains(t, usage, v)
	}
}

// TestMissingBoxesAreRefused checks that a return file that leaves boxes
// out is refused, naming each, instead of filing them as zero.
func TestMissingBoxesAreRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "return.json")
	require.NoError(t, os.WriteFile(path, []byte(`{"vatDueSales": 10.00, "vatDueAcquisitions": null, "totalValueSalesExVAT": 50}`), 0o600))
	_, err := readReturn(path)
	require.Error(t, err)
	for _, want := range []string{"box 2 (vatDueAcquisitions)", "box 4", "box 7", "box 8", "box 9"} {
		assert.Contains(t, err.Error(), want)
	}
	assert.NotContains(t, err.Error(), "box 1 ")
	assert.NotContains(t, err.Error(), "box 6")

	r, err := readReturn("return.json")
	require.NoError(t, err, "the shipped example gives every box")
	assert.Equal(t, vat.Money(105500), r.VATDueSales)
}
