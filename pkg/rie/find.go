package rie

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
)

// Tool is the emulator's name as go.mod pins it (`tool` directive).
const Tool = "aws-lambda-rie"

// Find returns the path of the emulator go.mod pins, building it first if
// the build cache lacks it (`go tool -n`). It must run inside the module.
func Find(ctx context.Context) (string, error) {
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "go", "tool", "-n", Tool)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("rie: go tool -n %s: %w\n%s", Tool, err, stderr.Bytes())
	}
	return strings.TrimSpace(string(out)), nil
}
