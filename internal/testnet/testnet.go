// Package testnet has network fixtures for tests.
package testnet

import (
	"net"
	"testing"
)

// SilentListener listens on a free loopback port, accepts every connection
// and never answers, so tests can prove that clients give up in bounded
// time. It returns the address ("127.0.0.1:PORT") and closes everything
// when the test ends.
func SilentListener(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	return ln.Addr().String()
}
