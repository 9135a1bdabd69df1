package testkit_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// testSupport lists the packages that exist only for tests. They are
// plain packages so that the tests of every package can import them, which
// also means production code could; it must not, or test doubles and
// their dependencies would end up in the Lambda functions and commands.
var testSupport = []string{
	"github.com/mtauth/mtauth/pkg/apigw/apigwtest",
	"github.com/mtauth/mtauth/pkg/motoserver",
	"github.com/mtauth/mtauth/pkg/storage/dynamo/dynamotest",
	"github.com/mtauth/mtauth/pkg/storage/storagetest",
	"github.com/mtauth/mtauth/pkg/testkit",
}

// TestTestSupportStaysOutOfProduction: no package of the module but the
// test-support ones links a test-support package (test files do not
// count: `go list` without -test leaves them out).
func TestTestSupportStaysOutOfProduction(t *testing.T) {
	out, err := exec.CommandContext(t.Context(), "go", "list", "-f", "{{.ImportPath}}{{range .Deps}} {{.}}{{end}}",
		"github.com/mtauth/mtauth/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	listed := map[string]bool{}
	for line := range strings.Lines(string(out)) {
		fields := strings.Fields(line)
		pkg := fields[0]
		listed[pkg] = true
		if slices.Contains(testSupport, pkg) {
			continue
		}
		for _, dep := range fields[1:] {
			if slices.Contains(testSupport, dep) {
				t.Errorf("%s links the test-support package %s", pkg, dep)
			}
		}
	}
	// A renamed or moved package would otherwise pass unchecked.
	for _, pkg := range testSupport {
		if !listed[pkg] {
			t.Errorf("test-support package %s is not in the module", pkg)
		}
	}
}
