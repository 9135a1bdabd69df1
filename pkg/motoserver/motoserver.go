// Package motoserver starts moto_server, a DynamoDB emulator that speaks the
// real wire protocol, for tests.
//
// One moto_server process is started lazily per test binary, on the first
// call to Start, and shared by every caller in that process. Packages that
// use it should stop it after their tests with:
//
//	func TestMain(m *testing.M) { os.Exit(motoserver.Run(m)) }
//
// Without Run the process is still killed when the test binary exits (the
// child gets SIGKILL from the kernel when its parent dies), but Run stops it
// promptly and deterministically.
//
// Quirks of moto_server worth knowing when talking to it:
//   - Requests must carry a SigV4 Authorization header. moto routes a request
//     to a service by the credential scope in that header
//     (".../REGION/dynamodb/aws4_request"); without it the request falls
//     through to S3. The signature itself is never checked, so any access
//     key and secret work.
//   - State is kept per region (and per account), taken from the credential
//     scope: a table created in eu-west-1 is not listed in us-east-1. An
//     unknown region name makes moto answer 500.
//   - All state lives in memory; Reset clears it.
//
// This package is Linux-only (it uses SysProcAttr.Pdeathsig).
package motoserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Binary is the name of the emulator executable looked up on PATH.
const Binary = "moto_server"

// startTimeout bounds how long Start waits for moto_server to answer HTTP.
const startTimeout = 30 * time.Second

// maxOutput caps how much of moto_server's output is kept for failure
// messages; moto logs one line per request, so the buffer keeps the tail.
const maxOutput = 64 << 10

var (
	once       sync.Once
	skipNotice sync.Once
	mu         sync.Mutex // guards srv
	srv        *server
	initErr    error
)

type server struct {
	endpoint string
	cmd      *exec.Cmd
	out      *tailBuffer
	exited   chan struct{} // closed when the process has exited
	waitErr  error         // valid after exited is closed
	ready    time.Duration // time from exec to first HTTP answer
}

// Start returns the endpoint URL (http://127.0.0.1:PORT) of a moto_server
// started for this test binary. The first call starts it and waits until it
// answers HTTP; later calls, from any test or goroutine, return the same
// endpoint. The process is stopped by Run, or killed when the test binary
// exits.
//
// If moto_server is not on PATH, Start fails the test when the environment
// has CI=true, and otherwise skips it with a notice saying how to install it.
// If the server cannot be started, every caller fails with its output.
func Start(t testing.TB) string {
	t.Helper()
	if _, err := exec.LookPath(Binary); err != nil {
		msg := fmt.Sprintf("%s not found on PATH (%v); it is the DynamoDB emulator these tests need. "+
			"Install it with: pip install 'moto[server]'", Binary, err)
		if inCI() {
			t.Fatalf("%s (CI=true, so this is a failure, not a skip)", msg)
		}
		// t.Skip is only shown with -v; say it once on stderr as well.
		skipNotice.Do(func() {
			fmt.Fprintf(os.Stderr, "motoserver: SKIPPING tests that need DynamoDB: %s\n", msg)
		})
		t.Skipf("SKIP: %s (set CI=true to make this a failure)", msg)
	}

	started := false
	once.Do(func() {
		started = true
		s, err := launch()
		mu.Lock()
		srv, initErr = s, err
		mu.Unlock()
	})

	mu.Lock()
	s, err := srv, initErr
	mu.Unlock()
	if err != nil {
		t.Fatalf("motoserver: %v", err)
	}
	if s == nil {
		t.Fatalf("motoserver: %s was already stopped by Run", Binary)
	}
	if started {
		t.Logf("motoserver: %s ready at %s after %v", Binary, s.endpoint, s.ready.Round(time.Millisecond))
	}
	return s.endpoint
}

// Reset clears all state (tables, items, every region and account) of the
// shared moto_server, via its POST /moto-api/reset endpoint. It starts the
// server if needed, like Start, and returns its endpoint.
func Reset(t testing.TB) string {
	t.Helper()
	endpoint := Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint+"/moto-api/reset", nil)
	if err != nil {
		t.Fatalf("motoserver: reset: %v", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("motoserver: reset: %v\n%s output:\n%s", err, Binary, output())
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("motoserver: reset: %s\n%s output:\n%s", resp.Status, Binary, output())
	}
	return endpoint
}

// Run runs the tests and then stops moto_server if it was started. Use it
// from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(motoserver.Run(m)) }
func Run(m *testing.M) int {
	defer stop()
	return m.Run()
}

// stop kills moto_server's whole process group and waits for it to exit.
func stop() {
	mu.Lock()
	s := srv
	srv = nil
	mu.Unlock()
	if s != nil {
		s.kill()
	}
}

// output returns the tail of the running server's output, for messages.
func output() string {
	mu.Lock()
	s := srv
	mu.Unlock()
	if s == nil {
		return ""
	}
	return s.out.String()
}

func inCI() bool {
	ci, _ := strconv.ParseBool(os.Getenv("CI"))
	return ci
}

// launch starts moto_server on a free port and waits until it answers.
func launch() (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("finding a free port: %w", err)
	}
	dir, err := os.MkdirTemp("", "motoserver-")
	if err != nil {
		return nil, err
	}

	s := &server{
		endpoint: "http://127.0.0.1:" + strconv.Itoa(port),
		out:      &tailBuffer{max: maxOutput},
		exited:   make(chan struct{}),
	}
	cmd := exec.Command(Binary, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd.Dir = dir // keep anything moto writes out of the package directory
	cmd.Env = childEnv(port)
	cmd.Stdout = s.out
	cmd.Stderr = s.out
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Setpgid:   true,            // own process group, so kill(-pgid) gets every child
		Pdeathsig: syscall.SIGKILL, // die with the test binary, even on SIGKILL of it
	}
	cmd.WaitDelay = 5 * time.Second
	s.cmd = cmd

	// Pdeathsig fires when the OS *thread* that forked the child exits, not
	// the process (golang/go#27505). Fork from a goroutine locked to its
	// thread that stays alive until the child has exited, so the Go runtime
	// can neither retire nor reuse that thread in the meantime.
	startErr := make(chan error, 1)
	begin := time.Now()
	go func() {
		runtime.LockOSThread()
		// Deliberately no UnlockOSThread: the thread exits with this
		// goroutine, after the child is gone.
		if err := cmd.Start(); err != nil {
			startErr <- err
			close(s.exited)
			return
		}
		startErr <- nil
		s.waitErr = cmd.Wait()
		os.RemoveAll(dir)
		close(s.exited)
	}()
	if err := <-startErr; err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("starting %s: %w", Binary, err)
	}

	if err := s.waitReady(begin.Add(startTimeout)); err != nil {
		s.kill()
		return nil, fmt.Errorf("%w\n%s output:\n%s", err, Binary, s.out.String())
	}
	s.ready = time.Since(begin)
	return s, nil
}

// waitReady polls the endpoint until moto_server answers any HTTP response.
// The probe is a DynamoDB ListTables request, so an answer means the
// DynamoDB backend is loaded, not just that the socket is open.
func (s *server) waitReady(deadline time.Time) error {
	client := &http.Client{Timeout: 2 * time.Second}
	var lastErr error
	for {
		select {
		case <-s.exited:
			return fmt.Errorf("%s exited before becoming ready: %v", Binary, s.waitErr)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not answer at %s within %v (last error: %v)", Binary, s.endpoint, startTimeout, lastErr)
		}
		req, err := http.NewRequest(http.MethodPost, s.endpoint+"/", strings.NewReader("{}"))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		req.Header.Set("X-Amz-Target", "DynamoDB_20120810.ListTables")
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=x")
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			return nil // any answer from the server counts as ready
		}
		lastErr = err
		select {
		case <-s.exited:
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// kill sends SIGKILL to moto_server's process group and waits for it to exit.
func (s *server) kill() {
	if s.cmd.Process != nil {
		// Negative pid: the whole group (Setpgid made the child its leader).
		if err := syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			_ = s.cmd.Process.Kill()
		}
	}
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
	}
}

// childEnv is the test binary's environment with real AWS settings and
// proxies removed, and settings that keep moto local, fast and quiet about
// the network.
func childEnv(port int) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		upper := strings.ToUpper(name)
		switch {
		case strings.HasPrefix(upper, "AWS_"), // real credentials, profiles, endpoint overrides
			strings.HasPrefix(upper, "MOTO_"),
			upper == "HTTP_PROXY", upper == "HTTPS_PROXY", upper == "ALL_PROXY", upper == "NO_PROXY",
			upper == "TEST_SERVER_MODE", upper == "TEST_PROXY_MODE":
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"AWS_ACCESS_KEY_ID=test",
		"AWS_SECRET_ACCESS_KEY=test",
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_REGION=us-east-1",
		"AWS_EC2_METADATA_DISABLED=true", // never probe 169.254.169.254 for credentials
		"NO_PROXY=*",
		"no_proxy=*",
		"MOTO_PORT="+strconv.Itoa(port),
		"MOTO_EC2_LOAD_DEFAULT_AMIS=false",
		"MOTO_IAM_LOAD_MANAGED_POLICIES=false",
		"MOTO_EVENTS_INVOKE_HTTP=false",
		"PYTHONUNBUFFERED=1",
		"PYTHONDONTWRITEBYTECODE=1",
	)
}

// freePort asks the kernel for a free TCP port on 127.0.0.1.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tailBuffer is a goroutine-safe writer keeping the last max bytes written.
type tailBuffer struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	max  int
	lost bool
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	if over := b.buf.Len() - b.max; over > 0 {
		b.buf.Next(over)
		b.lost = true
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.lost {
		return "[... earlier output dropped ...]\n" + b.buf.String()
	}
	return b.buf.String()
}
