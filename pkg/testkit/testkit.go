// Package testkit holds the small pieces of test support that the tests
// of several packages need alike: a buffer that concurrent writers may
// share, and a clock the test moves.
//
// It is a plain package, not a _test.go file, so that the tests of every
// package can import it; production code must not (see
// TestTestSupportStaysOutOfProduction).
package testkit

import (
	"bytes"
	"sync"
	"time"
)

// Buffer collects what goroutines write, such as the log of a server or
// an emulator a test started, and may be read while they still write.
// The zero Buffer is empty and ready to use.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Clock is a clock the test controls: the code under test reads Now, and
// the test moves it with Advance instead of sleeping. It is safe for
// concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock that reads now until advanced.
func NewClock(now time.Time) *Clock { return &Clock{now: now} }

func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
