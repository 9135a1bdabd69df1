// Package rie runs a Lambda function's bootstrap under the AWS Lambda
// Runtime Interface Emulator (github.com/aws/aws-lambda-runtime-interface-emulator),
// the program inside every Lambda container image and the one `sam local
// invoke` runs. It is `sam local invoke` without Docker: the same runtime
// API, the same event and response JSON, the same failure answers.
//
// What the emulator needs, learned by running it:
//   - Explicit loopback addresses (by default it listens on 0.0.0.0:8080).
//   - One invocation at a time: it crashes on overlapping ones, so Invoke
//     serializes.
//   - It answers GET / with 404 as soon as it listens; the bootstrap starts
//     lazily, on the first invocation.
//   - A handler error comes back as HTTP 200 with errorMessage and
//     errorType, a timeout as 200 "Task timed out after ...", a crash (a
//     panic) as 502.
//   - The function's logs, and its own, go to its stdout and stderr.
//
// This package is Linux-only, like the emulator.
package rie

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Config says what to run and how.
type Config struct {
	// Emulator is the path of the aws-lambda-rie executable (see Find).
	Emulator string
	// Bootstrap is the path of the function's executable.
	Bootstrap string
	// FunctionName is AWS_LAMBDA_FUNCTION_NAME.
	FunctionName string
	// Timeout is the function's timeout, in whole seconds as Lambda has it.
	Timeout time.Duration
	// MemoryMB is AWS_LAMBDA_FUNCTION_MEMORY_SIZE; 0 leaves the emulator's.
	MemoryMB int
	// Env is the function's environment (NAME=value). Nothing else of the
	// caller's environment reaches it, as in Lambda.
	Env []string
	// Output receives the emulator's and the function's logs; nil
	// discards them.
	Output io.Writer
}

// Emulator is a running emulator with one function in it.
type Emulator struct {
	cfg       Config
	url       string
	cmd       *exec.Cmd
	started   time.Time
	listening time.Duration
	exited    chan struct{}
	waitErr   error
	invoking  sync.Mutex
	client    *http.Client
}

// Response is the emulator's answer to one invocation.
type Response struct {
	// Status is the emulator's HTTP status: 200, or 502 for a crash.
	Status int
	// Body is what the function returned (for an API Gateway function, the
	// proxy response JSON), or the emulator's error.
	Body []byte
	// Elapsed is the time from sending the event to the answer.
	Elapsed time.Duration
}

// FunctionError is an invocation that did not return normally.
type FunctionError struct {
	Kind    string // "error", "timeout" or "crash"
	Message string
}

func (e *FunctionError) Error() string { return "function " + e.Kind + ": " + e.Message }

// Err reports, as a *FunctionError, whether the invocation failed: the
// handler returned an error, timed out or crashed.
func (r Response) Err() error {
	if r.Status == http.StatusBadGateway {
		return &FunctionError{Kind: "crash", Message: strings.TrimSpace(string(r.Body))}
	}
	if r.Status != http.StatusOK {
		return &FunctionError{Kind: "crash", Message: fmt.Sprintf("emulator answered %d: %s", r.Status, bytes.TrimSpace(r.Body))}
	}
	if bytes.HasPrefix(r.Body, []byte("Task timed out")) {
		return &FunctionError{Kind: "timeout", Message: string(r.Body)}
	}
	var failed struct {
		ErrorMessage *string `json:"errorMessage"`
		ErrorType    string  `json:"errorType"`
	}
	if json.Unmarshal(r.Body, &failed) == nil && failed.ErrorMessage != nil {
		return &FunctionError{Kind: "error", Message: failed.ErrorType + ": " + *failed.ErrorMessage}
	}
	return nil
}

// startAttempts bounds retries when a port picked as free was taken by
// someone else before the emulator bound it.
const startAttempts = 3

// readyTimeout bounds the wait for the emulator to listen.
const readyTimeout = 10 * time.Second

// Start starts the emulator on free loopback ports and waits until it
// listens. The function itself starts on the first Invoke. Close stops it.
func Start(ctx context.Context, cfg Config) (*Emulator, error) {
	if cfg.Output == nil {
		cfg.Output = io.Discard
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 3 * time.Second
	}
	var lastErr error
	for range startAttempts {
		e, err := start(ctx, cfg)
		if err == nil {
			return e, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

func start(ctx context.Context, cfg Config) (*Emulator, error) {
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	api := "127.0.0.1:" + strconv.Itoa(ports[0])
	e := &Emulator{
		cfg:    cfg,
		url:    "http://" + api,
		exited: make(chan struct{}),
		// The emulator answers a timed-out function itself, soon after the
		// timeout; the margin covers its start and the answer.
		client: &http.Client{Timeout: cfg.Timeout + 10*time.Second},
	}
	e.cmd = exec.Command(cfg.Emulator,
		"--runtime-interface-emulator-address", api,
		"--runtime-api-address", "127.0.0.1:"+strconv.Itoa(ports[1]),
		"--log-level", "error",
		cfg.Bootstrap)
	e.cmd.Env = append([]string{
		"AWS_LAMBDA_FUNCTION_NAME=" + cfg.FunctionName,
		"AWS_LAMBDA_FUNCTION_TIMEOUT=" + strconv.Itoa(int((cfg.Timeout+time.Second-1)/time.Second)),
	}, cfg.Env...)
	if cfg.MemoryMB > 0 {
		e.cmd.Env = append(e.cmd.Env, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE="+strconv.Itoa(cfg.MemoryMB))
	}
	e.cmd.Stdout = cfg.Output
	e.cmd.Stderr = cfg.Output
	e.cmd.SysProcAttr = &syscall.SysProcAttr{
		Setpgid:   true,            // its own group, so the bootstrap is stopped with it
		Pdeathsig: syscall.SIGKILL, // and both die with us, even when we are killed
	}
	e.cmd.WaitDelay = 2 * time.Second

	// Pdeathsig fires when the thread that forked the child exits, not the
	// process (golang/go#27505), so fork from a goroutine locked to its
	// thread that lives until the child has exited.
	startErr := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// No UnlockOSThread: the thread ends with this goroutine, after
		// the child is gone.
		e.started = time.Now()
		if err := e.cmd.Start(); err != nil {
			startErr <- err
			close(e.exited)
			return
		}
		startErr <- nil
		e.waitErr = e.cmd.Wait()
		close(e.exited)
	}()
	if err := <-startErr; err != nil {
		return nil, fmt.Errorf("rie: start %s: %w", cfg.Emulator, err)
	}
	if err := e.waitReady(ctx); err != nil {
		_ = e.Close()
		return nil, err
	}
	return e, nil
}

// waitReady polls GET / until the emulator answers (404 is its answer).
func (e *Emulator) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	probe := &http.Client{Timeout: time.Second}
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.url+"/", nil)
		if err != nil {
			return err
		}
		if resp, err := probe.Do(req); err == nil {
			resp.Body.Close()
			e.listening = time.Since(e.started)
			return nil
		}
		select {
		case <-e.exited:
			return fmt.Errorf("rie: emulator exited before listening: %v", e.waitErr)
		case <-ctx.Done():
			return fmt.Errorf("rie: emulator did not listen at %s: %w", e.url, ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// Invoke sends one event and returns the answer. Invocations are
// serialized, because the emulator cannot take two at once. Err on the
// response says whether the function failed; an error here means the
// emulator could not be reached.
func (e *Emulator) Invoke(ctx context.Context, event []byte) (Response, error) {
	e.invoking.Lock()
	defer e.invoking.Unlock()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.url+"/2015-03-31/functions/function/invocations", bytes.NewReader(event))
	if err != nil {
		return Response{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	begin := time.Now()
	resp, err := e.client.Do(req)
	if err != nil {
		return Response{}, fmt.Errorf("rie: invoke: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return Response{}, fmt.Errorf("rie: invoke: %w", err)
	}
	return Response{Status: resp.StatusCode, Body: body, Elapsed: time.Since(begin)}, nil
}

// Started returns when the emulator process was started.
func (e *Emulator) Started() time.Time { return e.started }

// Listening returns how long the emulator took from its start to listen.
// With the first invocation's Elapsed, it is the cold start: process
// start to first response, the function's own start included.
func (e *Emulator) Listening() time.Duration { return e.listening }

// Close stops the emulator and the function: SIGTERM to both (the
// emulator stops in milliseconds), SIGKILL if they are still there after
// a second.
func (e *Emulator) Close() error {
	if e.cmd.Process == nil {
		return nil
	}
	_ = syscall.Kill(-e.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-e.exited:
	case <-time.After(time.Second):
		_ = syscall.Kill(-e.cmd.Process.Pid, syscall.SIGKILL)
		<-e.exited
	}
	var exit *exec.ExitError
	if e.waitErr != nil && !errors.As(e.waitErr, &exit) {
		return e.waitErr
	}
	return nil
}

// freePorts asks the kernel for n free TCP ports on 127.0.0.1, holding
// them all until each is known, so the n are distinct.
func freePorts(n int) ([]int, error) {
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("rie: free port: %w", err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
