package webhook

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"syscall"
	"time"
)

// ErrPrivateDestination is returned when a webhook would go to a loopback,
// private, link-local or unspecified address while private destinations are
// not allowed.
var ErrPrivateDestination = errors.New("webhook destination is a loopback, private, link-local or unspecified address")

// CheckDestination reports whether a webhook may be sent to ip: loopback
// (127.0.0.0/8, ::1), private (10/8, 172.16/12, 192.168/16, fc00::/7),
// link-local (169.254/16 with the cloud metadata address, fe80::/10),
// unspecified (0.0.0.0, ::), multicast and the shared carrier range
// (100.64/10) are refused unless allowPrivate is set, for local
// development. IPv4 addresses mapped into IPv6 are judged as IPv4.
func CheckDestination(ip netip.Addr, allowPrivate bool) error {
	if allowPrivate {
		return nil
	}
	ip = ip.Unmap()
	if !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsUnspecified() ||
		ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsInterfaceLocalMulticast() || ip.IsMulticast() ||
		sharedAddressSpace.Contains(ip) {
		return fmt.Errorf("%w (%s); pass --allow-private-webhooks (Options.AllowPrivateWebhooks) for local development", ErrPrivateDestination, ip)
	}
	return nil
}

// sharedAddressSpace is RFC 6598's carrier-grade NAT range, private in all
// but name.
var sharedAddressSpace = netip.MustParsePrefix("100.64.0.0/10")

// dialControl refuses, at connect time, an address CheckDestination
// refuses. Checking the address actually dialed (after DNS resolution)
// means a name that resolves to a public address when the endpoint is
// registered and to a private one later (DNS rebinding) is still refused.
func dialControl(allowPrivate bool) func(network, address string, _ syscall.RawConn) error {
	return func(network, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("webhook destination %q: %w", address, err)
		}
		return CheckDestination(ap.Addr(), allowPrivate)
	}
}

// NewClient returns the HTTP client webhooks are sent with: a timeout,
// no redirects (a redirect could lead anywhere), no proxy from the
// environment, and, unless allowPrivate, a dialer that refuses private
// destinations.
func NewClient(timeout time.Duration, allowPrivate bool) *http.Client {
	dialer := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second, Control: dialControl(allowPrivate)}
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{Timeout: timeout, Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// numericHost reports whether host (lower case, no trailing dot) is made
// only of numbers, in decimal, octal (a leading 0) or hex (0x), separated
// by dots, without being a canonical dotted-quad IPv4 address: 127.1,
// 2130706433, 0x7f000001, 0177.0.0.1, 0. Resolvers and libc read such a
// host as an IPv4 address, so it is no host name, and its address could be
// a private one that CheckURL's check of canonical addresses does not see.
func numericHost(host string) bool {
	if host == "" {
		return false
	}
	for _, label := range strings.Split(host, ".") {
		digits := label
		if strings.HasPrefix(label, "0x") {
			digits = label[2:]
		}
		if label == "" || strings.IndexFunc(digits, func(r rune) bool {
			return !(r >= '0' && r <= '9' || digits != label && (r >= 'a' && r <= 'f'))
		}) >= 0 {
			return false
		}
	}
	ip, err := netip.ParseAddr(host)
	return err != nil || !ip.Is4() || ip.String() != host
}
