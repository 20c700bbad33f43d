package auth

import (
	"log/slog"
	"strings"
)

// Redacted is what a secret looks like wherever it is printed.
const Redacted = "********"

// Secret is a credential's secret. Every way Go prints or encodes it
// (fmt's verbs, slog, JSON, text) shows Redacted, so a Credential that ends
// up in a log line, an error or an API answer leaks nothing; Reveal is the
// one way to read it, and only the comparison in this package needs it.
type Secret string

// Reveal returns the secret itself.
func (s Secret) Reveal() string { return string(s) }

// String implements fmt.Stringer.
func (s Secret) String() string { return Redacted }

// GoString implements fmt.GoStringer (%#v).
func (s Secret) GoString() string { return `auth.Secret("` + Redacted + `")` }

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(Redacted) }

// MarshalText implements encoding.TextMarshaler (and so JSON).
func (s Secret) MarshalText() ([]byte, error) { return []byte(Redacted), nil }

// UnmarshalText implements encoding.TextUnmarshaler: secrets are read from
// files, and must round-trip into the type that hides them.
func (s *Secret) UnmarshalText(b []byte) error { *s = Secret(b); return nil }

// secretWords mark a flag or field whose value is itself secret (as
// opposed to a path to a file holding secrets, which Mesos shows too).
var secretWords = []string{"secret", "token", "password", "passwd"}

// IsSecretName reports whether a flag or field named name holds a secret
// value: names ending in _file/_path (or -file/-path) hold paths and are not.
func IsSecretName(name string) bool {
	n := strings.ToLower(name)
	for _, suffix := range []string{"_file", "-file", "_path", "-path", "_dir", "-dir"} {
		if strings.HasSuffix(n, suffix) {
			return false
		}
	}
	for _, w := range secretWords {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// RedactFlag returns value, or Redacted when name holds a secret; daemons
// pass GET_FLAGS through it.
func RedactFlag(name, value string) string {
	if value != "" && IsSecretName(name) {
		return Redacted
	}
	return value
}
