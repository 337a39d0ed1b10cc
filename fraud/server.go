package fraud

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// ServerCollectorConfig configures a ServerCollector.
type ServerCollectorConfig struct {
	// VendorPublicIP is Gov-Vendor-Public-IP: the public address your DNS
	// name resolves to (your load balancer, WAF or CDN). Required.
	VendorPublicIP netip.Addr
	// TrustedProxies are the networks of your own reverse proxies and load
	// balancers. Only when the immediate peer is in one of them are the
	// Forwarded (RFC 7239) or X-Forwarded-For headers believed.
	TrustedProxies []netip.Prefix
	// ClientPortHeader, when set, names a header your trusted front proxy
	// sets to the client's source port, or to "address:port" (for example
	// CloudFront-Viewer-Address). It is read only when the forwarded chain
	// gives no port for the client: a Forwarded "for" node may carry one, and
	// so may an X-Forwarded-For entry ("198.51.100.23:50123" or
	// "[2001:db8::1]:443", as Azure Application Gateway sends). Only the port
	// of the client's own entry is used. Without a port,
	// Gov-Client-Public-Port cannot be sent.
	ClientPortHeader string
	// VendorHops lists the further hops over the internet between your own
	// services that terminate TLS, in order, after the first hop
	// (by=VendorPublicIP&for=<client>), which is always sent. Behind a CDN
	// or WAF, By is the public address your origin receives requests on and
	// For the public address the CDN or WAF sent the request from. A zero
	// For is read from the request: the n-th vendor hop's For is the n-th
	// address after the client's in the Forwarded or X-Forwarded-For chain
	// (a CDN's egress address, which changes from request to request; list
	// the CDN's published ranges in TrustedProxies so that the chain is
	// believed). When VendorHops is set, it replaces the hops read from the
	// by parameters of a Forwarded header.
	VendorHops []ForwardedHop

	// ProductName is Gov-Vendor-Product-Name.
	ProductName string
	// VendorVersion holds the versions of your server-side software; they
	// follow the client's own entry in Gov-Vendor-Version.
	VendorVersion []KeyValue
	// VendorLicenseIDs holds licences held server-side; they follow the
	// device's.
	VendorLicenseIDs []KeyValue

	// DeviceIDCookie names the browser cookie holding the device ID
	// (default "mtd-device-id").
	DeviceIDCookie string
	// ValuesCookie names the cookie the browser script stores its values
	// in (default "mtd-fph").
	ValuesCookie string
	// InsecureCookies lets Middleware set the device-ID cookie without the
	// Secure attribute on plain-HTTP requests (local development only).
	InsecureCookies bool

	// AgreedMissing is copied to every Headers (see Headers.AgreedMissing).
	AgreedMissing HeaderSet
	// AgreedEmpty is copied to every Headers (see Headers.AgreedEmpty).
	AgreedEmpty HeaderSet

	// Now is the clock (default time.Now).
	Now func() time.Time
	// Random is the source of randomness for new device IDs (default
	// crypto/rand.Reader).
	Random io.Reader
}

// ServerCollector builds the fraud prevention headers of the *_VIA_SERVER
// connection methods on the vendor's server, for one end-user request at a
// time: the client's public address, port and the time the request arrived,
// read from the inbound *http.Request; Gov-Vendor-Forwarded from the trusted
// proxy chain; the configured vendor values; and the values the originating
// device sent (ClientValues, from the browser script's cookies or a client
// app's JSON). It is safe for concurrent use.
type ServerCollector struct {
	cfg ServerCollectorConfig
}

// NewServerCollector returns a collector for cfg, or an error naming the
// setting that is wrong.
func NewServerCollector(cfg ServerCollectorConfig) (*ServerCollector, error) {
	if !cfg.VendorPublicIP.IsValid() || cfg.VendorPublicIP.Zone() != "" {
		return nil, errors.New("fraud: ServerCollectorConfig.VendorPublicIP: required")
	}
	for i, p := range cfg.TrustedProxies {
		if !p.IsValid() {
			return nil, fmt.Errorf("fraud: ServerCollectorConfig.TrustedProxies[%d]: not a valid prefix", i)
		}
	}
	for i, h := range cfg.VendorHops {
		if !isPublicIP(h.By) || h.By.Zone() != "" {
			return nil, fmt.Errorf("fraud: ServerCollectorConfig.VendorHops[%d].By: must be a public IP address", i)
		}
		if h.For.IsValid() && (!isPublicIP(h.For) || h.For.Zone() != "") {
			return nil, fmt.Errorf("fraud: ServerCollectorConfig.VendorHops[%d].For: must be a public IP address, or zero to read it from the request", i)
		}
	}
	if cfg.DeviceIDCookie == "" {
		cfg.DeviceIDCookie = "mtd-device-id"
	}
	if cfg.ValuesCookie == "" {
		cfg.ValuesCookie = "mtd-fph"
	}
	for _, name := range []string{cfg.DeviceIDCookie, cfg.ValuesCookie, cfg.ClientPortHeader} {
		if strings.ContainsAny(name, " \t\r\n;,=\"") {
			return nil, errors.New("fraud: ServerCollectorConfig: cookie and header names must be HTTP tokens")
		}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Random == nil {
		cfg.Random = rand.Reader
	}
	cfg.TrustedProxies = clone(cfg.TrustedProxies)
	cfg.VendorHops = clone(cfg.VendorHops)
	cfg.VendorVersion = cloneKV(cfg.VendorVersion)
	cfg.VendorLicenseIDs = cloneKV(cfg.VendorLicenseIDs)
	return &ServerCollector{cfg: cfg}, nil
}

type arrivalKey struct{}

// Middleware records when each request arrived, for
// Gov-Client-Public-IP-Timestamp, and gives browsers without a valid
// device-ID cookie a new random one (the browser script does the same, and
// keeps a copy in local storage). Without it, Headers uses the time it is
// called.
func (s *ServerCollector) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := context.WithValue(r.Context(), arrivalKey{}, s.cfg.Now())
		r = r.Clone(ctx)
		if c, err := r.Cookie(s.cfg.DeviceIDCookie); err != nil || !isUUID(c.Value) {
			if id, err := newUUID(s.cfg.Random); err == nil {
				cookie := &http.Cookie{Name: s.cfg.DeviceIDCookie, Value: id, Path: "/",
					MaxAge: 400 * 24 * 60 * 60, SameSite: http.SameSiteLaxMode,
					Secure: r.TLS != nil || !s.cfg.InsecureCookies}
				http.SetCookie(w, cookie)
				kept := r.Cookies()
				r.Header.Del("Cookie")
				for _, c := range kept {
					if c.Name != s.cfg.DeviceIDCookie {
						r.AddCookie(c)
					}
				}
				r.AddCookie(&http.Cookie{Name: cookie.Name, Value: id})
			}
		}
		next.ServeHTTP(w, r)
	})
}

// BrowserValues reads the values the browser script (BrowserCollectorScript)
// stored in r's cookies, with the checks of ParseClientValues. The device ID
// is taken from the device-ID cookie. A request without the values cookie
// gives ClientValues with only the device ID, if any.
func (s *ServerCollector) BrowserValues(r *http.Request) (*ClientValues, error) {
	cv := &ClientValues{}
	if c, err := r.Cookie(s.cfg.ValuesCookie); err == nil {
		if len(c.Value) > maxClientValuesLen {
			return nil, &ClientValuesError{Field: "cookie " + s.cfg.ValuesCookie, Reason: "too large"}
		}
		raw, err := url.PathUnescape(c.Value)
		if err != nil {
			return nil, &ClientValuesError{Field: "cookie " + s.cfg.ValuesCookie, Reason: "not URI-encoded"}
		}
		if cv, err = ParseClientValues([]byte(raw)); err != nil {
			return nil, err
		}
	}
	if c, err := r.Cookie(s.cfg.DeviceIDCookie); err == nil {
		if !isUUID(c.Value) {
			return nil, &ClientValuesError{Field: "cookie " + s.cfg.DeviceIDCookie, Reason: "not a UUID"}
		}
		cv.DeviceID = strings.ToLower(c.Value)
	}
	return cv, nil
}

// EndUser holds what your server knows about the signed-in end user of one
// request.
type EndUser struct {
	// UserIDs are your identifiers of the user (the "os" key comes from the
	// device's ClientValues).
	UserIDs []KeyValue
	// MultiFactor describes the factors of the user's sign-in to your
	// software.
	MultiFactor []MultiFactor
}

// Headers builds the headers of one end-user request r, received with
// connection method m (one of the *_VIA_SERVER methods), from the device's
// values cv (nil for none) and the user u. The result keeps only the headers
// m needs; WriteTo checks it before use. For WEB_APP_VIA_SERVER only the
// browser's own values are taken from cv (device ID, screens, window size,
// timezone, user agent). For DESKTOP_APP_VIA_SERVER,
// MOBILE_APP_VIA_SERVER and OTHER_VIA_SERVER both the client (cv) and the
// server (configuration) must contribute a Gov-Vendor-Version entry.
func (s *ServerCollector) Headers(r *http.Request, m ConnectionMethod, cv *ClientValues, u EndUser) (*Headers, error) {
	if !m.ViaServer() {
		return nil, errors.New("fraud: ServerCollector.Headers: the connection method must be one of the *_VIA_SERVER methods")
	}
	if cv == nil {
		cv = &ClientValues{}
	}
	if m == WebAppViaServer {
		// A browser contributes only what the browser script collects; it
		// cannot add versions, licences or an operating-system user.
		cv = &ClientValues{DeviceID: cv.DeviceID, Screens: cv.Screens, WindowSize: cv.WindowSize,
			Timezone: cv.Timezone, BrowserJSUserAgent: cv.BrowserJSUserAgent}
	}
	if m != WebAppViaServer && (len(cv.VendorVersion) == 0 || len(s.cfg.VendorVersion) == 0) {
		return nil, errors.New("fraud: ServerCollector.Headers: " + string(m) +
			" needs a Gov-Vendor-Version entry from the client and one from the server")
	}
	f := &Headers{
		ConnectionMethod:  m,
		VendorPublicIP:    s.cfg.VendorPublicIP,
		VendorProductName: s.cfg.ProductName,
		AgreedMissing:     s.cfg.AgreedMissing,
		AgreedEmpty:       s.cfg.AgreedEmpty,
	}
	cv.applyTo(f)
	f.UserIDs = append(f.UserIDs, u.UserIDs...)
	f.MultiFactor = clone(u.MultiFactor)
	f.VendorVersion = append(cloneKV(cv.VendorVersion), s.cfg.VendorVersion...)
	f.VendorLicenseIDs = append(f.VendorLicenseIDs, s.cfg.VendorLicenseIDs...)

	ip, port, hops, err := s.client(r)
	if err != nil {
		return nil, err
	}
	f.PublicIP, f.PublicPort = ip, port
	f.PublicIPTimestamp = s.cfg.Now()
	if t, ok := r.Context().Value(arrivalKey{}).(time.Time); ok {
		f.PublicIPTimestamp = t
	}
	f.VendorForwarded = append([]ForwardedHop{{By: s.cfg.VendorPublicIP, For: ip}}, hops...)
	f.keepRequired()
	return f, nil
}

// Source is Headers wrapped in Static, for an HMRC API client's per-call
// fraud header option.
func (s *ServerCollector) Source(r *http.Request, m ConnectionMethod, cv *ClientValues, u EndUser) (Source, error) {
	f, err := s.Headers(r, m, cv, u)
	if err != nil {
		return nil, err
	}
	return Static(*f), nil
}

func (s *ServerCollector) trusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// client finds the originating device's address and port: the immediate
// peer, or, when the peer is a trusted proxy, the nearest untrusted address
// of the Forwarded or X-Forwarded-For chain. hops are the further internet
// hops the trusted proxies declared (Forwarded elements with public by and
// for addresses).
func (s *ServerCollector) client(r *http.Request) (netip.Addr, uint16, []ForwardedHop, error) {
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}, 0, nil, errors.New("fraud: ServerCollector: the request's remote address is not an IP address and port")
	}
	ip, port := peer.Addr().Unmap().WithZone(""), peer.Port()
	if !s.trusted(ip) {
		hops, err := s.vendorHops(nil)
		if err != nil {
			return netip.Addr{}, 0, nil, err
		}
		return ip, port, hops, nil
	}
	var nodes []forwardedNode
	var hops []ForwardedHop
	if fwd := r.Header.Values("Forwarded"); len(fwd) > 0 {
		nodes = parseForwarded(strings.Join(fwd, ","))
	} else {
		// Entries may carry the sender's port (Azure Application Gateway
		// sends "198.51.100.23:50123", and "[2001:db8::1]:443" for IPv6).
		for _, v := range r.Header.Values("X-Forwarded-For") {
			for el := range strings.SplitSeq(v, ",") {
				a, p, ok := parseForwardedNode(strings.TrimSpace(el))
				nodes = append(nodes, forwardedNode{forAddr: a, port: p, ok: ok})
			}
		}
	}
	// Walk right to left past the trusted proxies to the client.
	ci := -1
	for i := len(nodes) - 1; i >= 0; i-- {
		if !nodes[i].ok {
			return netip.Addr{}, 0, nil, errors.New("fraud: ServerCollector: a trusted proxy forwarded a client address that is not an IP address")
		}
		ci = i
		if !s.trusted(nodes[i].forAddr) {
			break
		}
	}
	if ci < 0 {
		return netip.Addr{}, 0, nil, errors.New("fraud: ServerCollector: a trusted proxy forwarded no client address")
	}
	// The port of the client's own entry is its public port; the ports of
	// the entries of your proxies are of no use.
	ip, port = nodes[ci].forAddr.Unmap().WithZone(""), nodes[ci].port
	switch {
	case len(s.cfg.VendorHops) > 0:
		if hops, err = s.vendorHops(nodes[ci+1:]); err != nil {
			return netip.Addr{}, 0, nil, err
		}
	default:
		// The elements right of the client's were added by your own
		// proxies; those with public by and for addresses are further
		// internet hops.
		for _, n := range nodes[ci+1:] {
			if n.by.IsValid() && isPublicIP(n.by) && isPublicIP(n.forAddr) {
				hops = append(hops, ForwardedHop{By: n.by.Unmap(), For: n.forAddr.Unmap()})
			}
		}
	}
	if h := s.cfg.ClientPortHeader; h != "" && port == 0 {
		port = headerPort(r.Header.Get(h), ip)
	}
	return ip, port, hops, nil
}

// vendorHops returns the configured VendorHops, with each zero For taken
// from after, the forwarded chain to the right of the client's entry.
func (s *ServerCollector) vendorHops(after []forwardedNode) ([]ForwardedHop, error) {
	if len(s.cfg.VendorHops) == 0 {
		return nil, nil
	}
	hops := clone(s.cfg.VendorHops)
	for i := range hops {
		if hops[i].For.IsValid() {
			continue
		}
		if i >= len(after) || !isPublicIP(after[i].forAddr) {
			return nil, fmt.Errorf("fraud: ServerCollector: VendorHops[%d].For: the trusted forwarded chain has no public address for this hop", i)
		}
		hops[i].For = after[i].forAddr.Unmap().WithZone("")
	}
	return hops, nil
}

// headerPort reads a port given as "port" or "address:port"; with an
// address, it must be want.
func headerPort(v string, want netip.Addr) uint16 {
	v = strings.TrimSpace(v)
	if ap, err := netip.ParseAddrPort(v); err == nil {
		if ap.Addr().Unmap() != want {
			return 0
		}
		return ap.Port()
	}
	if p, ok := parsePositive(v); ok && p <= 65535 {
		return uint16(p)
	}
	return 0
}

type forwardedNode struct {
	forAddr netip.Addr
	port    uint16
	by      netip.Addr
	ok      bool // for is an IP address
}

// parseForwarded parses an RFC 7239 Forwarded value into its elements' for
// (with port) and by addresses.
func parseForwarded(v string) []forwardedNode {
	var out []forwardedNode
	for el := range strings.SplitSeq(v, ",") {
		var n forwardedNode
		for pair := range strings.SplitSeq(el, ";") {
			k, val, ok := strings.Cut(strings.TrimSpace(pair), "=")
			if !ok {
				continue
			}
			a, p, ok := parseForwardedNode(strings.Trim(val, `"`))
			switch strings.ToLower(k) {
			case "for":
				n.forAddr, n.port, n.ok = a, p, ok
			case "by":
				if ok {
					n.by = a
				}
			}
		}
		out = append(out, n)
	}
	return out
}

// parseForwardedNode parses an RFC 7239 node: an IPv4 address, a bracketed
// IPv6 address, each with an optional port.
func parseForwardedNode(s string) (netip.Addr, uint16, bool) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().WithZone(""), ap.Port(), true
	}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, 0, false
	}
	return a.WithZone(""), 0, true
}
