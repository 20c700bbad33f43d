package flw

import (
	"math"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// ZooKeeper's output is Java's toString of its values. These helpers spell
// values the way the JVM does, so a parser written against ZooKeeper (or a
// diff against its output) sees the same text.

// javaDouble is Double.toString: at least one digit after the point, and
// "computerized scientific notation" (1.0E7, 1.0E-4) outside [1e-3, 1e7).
func javaDouble(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	if a := math.Abs(f); a >= 1e-3 && a < 1e7 {
		s := strconv.FormatFloat(f, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	s := strconv.FormatFloat(f, 'e', -1, 64) // 1.5e+07, 1e-05
	mant, exp, _ := strings.Cut(s, "e")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	neg := strings.HasPrefix(exp, "-")
	exp = strings.TrimLeft(exp, "+-")
	exp = strings.TrimLeft(exp, "0")
	if neg {
		exp = "-" + exp
	}
	return mant + "E" + exp
}

// round4 is ZooKeeper's AvgMinMaxCounter.getAvg rounding: four decimals,
// half up.
func round4(f float64) float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return f
	}
	return math.Round(f*10000) / 10000
}

// javaHex is Long.toHexString: the two's-complement bits in lower-case hex,
// so -1 is ffffffffffffffff.
func javaHex(v int64) string {
	return strconv.FormatUint(uint64(v), 16)
}

// javaDate is java.util.Date.toString ("Sat Nov 21 13:31:56 UTC 2026") in
// the time's own location; the server passes local times, as the JVM uses
// the local zone.
func javaDate(t time.Time) string {
	return t.Format("Mon Jan 02 15:04:05 MST 2006")
}

// javaSocketAddr is InetSocketAddress.toString for a resolved address with
// no host name: "/127.0.0.1:2181", and for IPv6 the JVM's uncompressed form
// without brackets, "/0:0:0:0:0:0:0:1:2181". Anything that does not parse
// as host:port is printed after the slash unchanged.
func javaSocketAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "/" + addr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return "/" + host + ":" + port
	}
	if ip.Is4() || ip.Is4In6() {
		return "/" + ip.Unmap().String() + ":" + port
	}
	b := ip.As16()
	var sb strings.Builder
	sb.WriteByte('/')
	for i := 0; i < 16; i += 2 {
		if i > 0 {
			sb.WriteByte(':')
		}
		sb.WriteString(strconv.FormatUint(uint64(b[i])<<8|uint64(b[i+1]), 16))
	}
	if z := ip.Zone(); z != "" {
		sb.WriteString("%" + z)
	}
	sb.WriteString(":" + port)
	return sb.String()
}

// millis is a duration in whole milliseconds, the unit of every ZooKeeper
// timeout and latency.
func millis(d time.Duration) int64 { return d.Milliseconds() }

// epochMillis is a time in Unix milliseconds, 0 for the zero time.
func epochMillis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}
