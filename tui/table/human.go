package table

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/strata-dc/strata/master/mesos"
)

// Duration is a short human duration: "45s", "12m", "3h4m", "5d2h".
// Two units at most: an operator reading a list wants the magnitude.
func Duration(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	switch {
	case d < time.Second:
		return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
	case d < time.Minute:
		return strconv.Itoa(int(d/time.Second)) + "s"
	case d < time.Hour:
		m, s := int(d/time.Minute), int(d%time.Minute/time.Second)
		if s == 0 || m >= 10 {
			return fmt.Sprintf("%dm", m)
		}
		return fmt.Sprintf("%dm%ds", m, s)
	case d < 24*time.Hour:
		h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
		if m == 0 || h >= 10 {
			return fmt.Sprintf("%dh", h)
		}
		return fmt.Sprintf("%dh%dm", h, m)
	}
	days, h := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour)
	if h == 0 || days >= 10 {
		return fmt.Sprintf("%dd", days)
	}
	return fmt.Sprintf("%dd%dh", days, h)
}

// Age is how long ago t was, relative to now ("-" for the zero time).
func Age(t, now time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return Duration(now.Sub(t))
}

// SizeMB shows a quantity of megabytes (Mesos' unit for mem and disk) in
// the largest binary unit that keeps it ≥ 1: "512MiB", "3.5GiB", "1.2TiB".
func SizeMB(mb float64) string {
	if math.IsNaN(mb) || math.IsInf(mb, 0) {
		return "-"
	}
	return Bytes(mb * (1 << 20))
}

// Bytes shows a byte count in binary units: "0B", "812B", "4.0KiB",
// "1.5GiB".
func Bytes(b float64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB"}
	i := 0
	for math.Abs(b) >= 1024 && i < len(units)-1 {
		b /= 1024
		i++
	}
	if i == 0 {
		return strconv.FormatFloat(b, 'f', 0, 64) + units[0]
	}
	if b == math.Trunc(b) {
		return strconv.FormatFloat(b, 'f', 0, 64) + units[i]
	}
	return strconv.FormatFloat(b, 'f', 1, 64) + units[i]
}

// Number shows a quantity without a needless fraction: "4", "0.5", "1.25".
func Number(v float64) string {
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// Fraction shows used/total ("1.5/4").
func Fraction(used, total float64) string {
	return Number(round3(used)) + "/" + Number(round3(total))
}

// FractionMB shows used/total megabytes in human units.
func FractionMB(used, total float64) string {
	if total == 0 && used == 0 {
		return "-"
	}
	return SizeMB(used) + "/" + SizeMB(total)
}

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

// ParseSizeMB reads a size for mem or disk flags: a plain number is
// megabytes (Mesos' unit); a suffix names the unit (K/KiB, M/MiB, G/GiB,
// T/TiB, binary either way).
func ParseSizeMB(s string) (float64, error) {
	num := strings.TrimSpace(s)
	mult := 1.0
	lower := strings.ToLower(num)
	for _, u := range []struct {
		suffix string
		mb     float64
	}{{"kib", 1.0 / 1024}, {"mib", 1}, {"gib", 1024}, {"tib", 1 << 20}, {"kb", 1.0 / 1024}, {"mb", 1}, {"gb", 1024}, {"tb", 1 << 20},
		{"k", 1.0 / 1024}, {"m", 1}, {"g", 1024}, {"t", 1 << 20}} {
		if strings.HasSuffix(lower, u.suffix) {
			num, mult = strings.TrimSpace(num[:len(num)-len(u.suffix)]), u.mb
			break
		}
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, fmt.Errorf("%q is not a size (e.g. 512, 512MiB, 2GiB)", s)
	}
	return v * mult, nil
}

// ports shows a port ranges resource, "-" when there is none.
func ports(rs mesos.Resources) string {
	r := rs.Ranges("ports")
	if len(r) == 0 {
		return "-"
	}
	return r.String()
}
