package rie

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// startFake builds the fake function and runs it under the emulator go.mod
// pins.
func startFake(t *testing.T, timeout time.Duration) *Emulator {
	t.Helper()
	ctx := t.Context()
	emulator, err := Find(ctx)
	if err != nil {
		t.Fatal(err)
	}
	bootstrap := filepath.Join(t.TempDir(), "bootstrap")
	build := exec.CommandContext(ctx, "go", "build", "-tags", "lambda.norpc", "-o", bootstrap, "./testdata/fakefunction")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	e, err := Start(ctx, Config{Emulator: emulator, Bootstrap: bootstrap, FunctionName: "Fake", Timeout: timeout, Env: []string{"GREETING=hello"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := e.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return e
}

func invoke(t *testing.T, e *Emulator, event string) Response {
	t.Helper()
	resp, err := e.Invoke(context.Background(), []byte(event))
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func kind(err error) string {
	var fe *FunctionError
	if errors.As(err, &fe) {
		return fe.Kind
	}
	return ""
}

func TestTheFunctionSeesOnlyItsEnvironment(t *testing.T) {
	t.Setenv("LEAKED", "from the caller")
	e := startFake(t, 3*time.Second)
	for env, want := range map[string]string{
		"GREETING":                 "hello",
		"AWS_LAMBDA_FUNCTION_NAME": "Fake",
		"LEAKED":                   "",
	} {
		resp := invoke(t, e, `{"env":"`+env+`"}`)
		if err := resp.Err(); err != nil || string(resp.Body) != `{"env":"`+want+`"}` {
			t.Errorf("%s: %s %v, want %q", env, resp.Body, err, want)
		}
	}
}

func TestFailuresAreTold(t *testing.T) {
	e := startFake(t, time.Second)
	if got := kind(invoke(t, e, `{"do":"error"}`).Err()); got != "error" {
		t.Errorf("a returned error: %q, want error", got)
	}
	if got := kind(invoke(t, e, `{"do":"sleep"}`).Err()); got != "timeout" {
		t.Errorf("a sleep past the timeout: %q, want timeout", got)
	}
	// The emulator restarts the function after a timeout.
	if err := invoke(t, e, `{}`).Err(); err != nil {
		t.Errorf("after a timeout: %v", err)
	}
	// A panic is a 502 whose body still names it.
	if got := invoke(t, e, `{"do":"panic"}`).Err(); kind(got) != "crash" || !strings.Contains(got.Error(), "boom") {
		t.Errorf("a panic: %v, want a crash saying boom", got)
	}
}

// The emulator crashes on overlapping invocations; Invoke serializes them.
func TestConcurrentInvocationsAreSerialized(t *testing.T) {
	e := startFake(t, 3*time.Second)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := e.Invoke(context.Background(), []byte(`{"env":"GREETING"}`))
			if err == nil {
				err = resp.Err()
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}
