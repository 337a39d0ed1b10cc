package fraud

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestImportsNothingOfVat keeps the arrow one way (vat → fraud): package
// fraud, and the internal packages it uses, import no other package of this
// module, so that any HMRC API client can use it.
func TestImportsNothingOfVat(t *testing.T) {
	t.Parallel()
	const module = "github.com/go-mtd/vat"
	allowed := map[string]bool{module + "/internal/pctenc": true, module + "/internal/uuid": true}
	dirs := map[string]string{".": "fraud"}
	for p := range allowed {
		dirs[filepath.Join("..", strings.TrimPrefix(p, module+"/"))] = p
	}
	for dir, pkg := range dirs {
		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		for _, e := range entries {
			name := e.Name()
			if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(dir, name), nil, parser.ImportsOnly)
			require.NoError(t, err)
			for _, imp := range f.Imports {
				path, err := strconv.Unquote(imp.Path.Value)
				require.NoError(t, err)
				if path != module && !strings.HasPrefix(path, module+"/") {
					continue
				}
				assert.True(t, pkg == "fraud" && allowed[path], "%s (%s) imports %s", pkg, name, path)
			}
		}
	}
}
