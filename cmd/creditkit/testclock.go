package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"
)

// envAllowTestClock must be set to allowTestClockValue for serve to accept
// --test-clock-file. A test clock moves the server's time, which only a
// test may want: the flag is hidden from --help, and without this opt-in
// serve refuses to start with it.
const (
	envAllowTestClock   = "CREDITKIT_ALLOW_TEST_CLOCK"
	allowTestClockValue = "i-am-a-test"
)

// offsetFileClock is the wall clock moved by an offset that a file holds,
// as a duration such as "2208h" (Go's time.ParseDuration syntax). It
// re-reads the file on every reading, so a test that rewrites the file
// (atomically: write another file, then rename it over this one) moves
// the time of every process that shares it at once. A file that cannot be
// read or parsed keeps the last offset read.
type offsetFileClock struct {
	path string

	mu     sync.Mutex
	offset time.Duration
}

// newOffsetFileClock returns the clock of the offset file at path, which
// must exist and hold a duration.
func newOffsetFileClock(path string) (*offsetFileClock, error) {
	off, err := readClockOffset(path)
	if err != nil {
		return nil, fmt.Errorf("--test-clock-file: %w", err)
	}
	return &offsetFileClock{path: path, offset: off}, nil
}

// Now returns the wall clock's time plus the file's offset.
func (c *offsetFileClock) Now() time.Time {
	off, err := readClockOffset(c.path)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err == nil {
		c.offset = off
	}
	return time.Now().UTC().Add(c.offset)
}

// readClockOffset reads the duration in the file at path.
func readClockOffset(path string) (time.Duration, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	off, err := time.ParseDuration(strings.TrimSpace(string(data)))
	if err != nil {
		return 0, fmt.Errorf("%s holds %q, not a duration such as 720h or -1h30m", path, strings.TrimSpace(string(data)))
	}
	return off, nil
}

// useTestClock makes the session's clock the offset file of
// --test-clock-file, when it is given and the environment opts in; it
// must run before the config is loaded.
func (c *ServeCmd) useTestClock(s *session) error {
	if c.TestClockFile == "" {
		return nil
	}
	if s.getenv == nil || s.getenv(envAllowTestClock) != allowTestClockValue {
		return fmt.Errorf("--test-clock-file moves the server's time and is for tests only: set %s=%s to use it", envAllowTestClock, allowTestClockValue)
	}
	if s.clock != nil {
		return errors.New("--test-clock-file: this run has a clock already")
	}
	clock, err := newOffsetFileClock(s.path(c.TestClockFile))
	if err != nil {
		return err
	}
	s.clock = clock
	return nil
}
