package auth_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strata-dc/strata/master/auth"
)

func TestParseCredentials(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []string // principals
		err      string
	}{
		{"json", `{"credentials":[{"principal":"marathon","secret":"s3cret-marathon"},{"principal":"agent","secret":"s3cret-agent"}]}`, []string{"agent", "marathon"}, ""},
		{"text", "# comment\nmarathon s3cret-marathon\n\nagent s3cret-agent\n", []string{"agent", "marathon"}, ""},
		{"empty", "", nil, ""},
		{"unknown field", `{"credentials":[{"principal":"a","secret":"12345678","x":1}]}`, nil, "unknown field"},
		{"no principal", `{"credentials":[{"secret":"12345678"}]}`, nil, "credentials[0]: principal: required"},
		{"short secret", `{"credentials":[{"principal":"a","secret":"short"}]}`, nil, `secret of "a": at least 8`},
		{"duplicate principal", "a 12345678\na 87654321\n", nil, `principal "a": listed twice`},
		{"shared secret", "a 12345678\nb 12345678\n", nil, `the same secret as "a"'s`},
		{"bad line", "a b c\n", nil, "line 1"},
		{"colon in principal", "a:b 12345678\n", nil, "must not contain ':'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := auth.ParseCredentials([]byte(tc.in))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				if strings.Contains(err.Error(), "12345678") || strings.Contains(err.Error(), "87654321") {
					t.Fatalf("error leaks a secret: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Principals(); fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("principals = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCredentialsTokenAndBasic(t *testing.T) {
	c, err := auth.ParseCredentials([]byte("marathon s3cret-marathon\nagent s3cret-agent\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		token, want string
		ok          bool
	}{
		{"s3cret-marathon", "marathon", true},
		{"s3cret-agent", "agent", true},
		{"s3cret-agen", "", false},   // a prefix
		{"s3cret-agentX", "", false}, // longer
		{"", "", false},
		{"marathon", "", false},
	} {
		p, ok := c.Token(tc.token)
		if p != tc.want || ok != tc.ok {
			t.Errorf("Token(%q) = %q, %v; want %q, %v", tc.token, p, ok, tc.want, tc.ok)
		}
	}
	if !c.Basic("agent", "s3cret-agent") {
		t.Error("Basic(agent, its secret) refused")
	}
	for _, pair := range [][2]string{{"agent", "s3cret-marathon"}, {"nobody", "s3cret-agent"}, {"agent", ""}} {
		if c.Basic(pair[0], pair[1]) {
			t.Errorf("Basic(%q, %q) accepted", pair[0], pair[1])
		}
	}
	var nilCreds *auth.Credentials
	if _, ok := nilCreds.Token("x"); ok || nilCreds.Len() != 0 {
		t.Error("nil credentials know someone")
	}
}

// TestTokenComparesEverySecret is the constant-time path: the answer for a
// token matching the first entry, the last entry or none comes from the
// same loop over all entries (measured by construction, not by timing):
// a token that matches a later entry is still found after an earlier one.
func TestTokenComparesEverySecret(t *testing.T) {
	var lines []string
	for i := range 50 {
		lines = append(lines, fmt.Sprintf("p%02d secret-number-%02d", i, i))
	}
	c, err := auth.ParseCredentials([]byte(strings.Join(lines, "\n")))
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, 25, 49} {
		p, ok := c.Token(fmt.Sprintf("secret-number-%02d", i))
		if !ok || p != fmt.Sprintf("p%02d", i) {
			t.Errorf("entry %d: got %q %v", i, p, ok)
		}
	}
}

func TestLoadCredentialAndTokenFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, in := range []string{`{"principal":"agent","secret":"agent-secret"}`,
		`{"credentials":[{"principal":"agent","secret":"agent-secret"}]}`, "agent agent-secret\n"} {
		c, err := auth.LoadCredential(write("cred", in, 0o600))
		if err != nil || c.Principal != "agent" || c.Secret.Reveal() != "agent-secret" {
			t.Errorf("LoadCredential(%q) = %+v, %v", in, c, err)
		}
	}
	if _, err := auth.LoadCredential(write("two", "a 12345678\nb 87654321\n", 0o600)); err == nil || !strings.Contains(err.Error(), "exactly one") {
		t.Errorf("two credentials: %v", err)
	}
	tok, err := auth.ReadTokenFile(write("tok", "operator-token-1\n", 0o600))
	if err != nil || tok.Reveal() != "operator-token-1" {
		t.Errorf("ReadTokenFile = %v, %v", tok, err)
	}
	if _, err := auth.ReadTokenFile(write("loose", "operator-token-1\n", 0o644)); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("a world-readable token file: %v", err)
	}
}

// TestSecretsAreRedacted: every printed form of a credential hides the
// secret — fmt, slog (text and JSON), encoding/json.
func TestSecretsAreRedacted(t *testing.T) {
	c := auth.Credential{Principal: "agent", Secret: "very-secret-value"}
	var buf bytes.Buffer
	for _, h := range []slog.Handler{slog.NewTextHandler(&buf, nil), slog.NewJSONHandler(&buf, nil)} {
		slog.New(h).Info("cred", "c", c, "s", c.Secret)
	}
	fmt.Fprintf(&buf, "%v %+v %#v %s", c, c, c, c.Secret)
	b, _ := json.Marshal(c)
	buf.Write(b)
	if strings.Contains(buf.String(), "very-secret-value") {
		t.Fatalf("secret printed: %s", buf.String())
	}
	if !strings.Contains(buf.String(), auth.Redacted) {
		t.Fatalf("no redaction marker in %s", buf.String())
	}
	for name, want := range map[string]bool{"secret": true, "operator_token": true, "db-password": true,
		"operator_token_file": false, "credentials": false, "zk": false, "tls_key": false} {
		if got := auth.IsSecretName(name); got != want {
			t.Errorf("IsSecretName(%q) = %v, want %v", name, got, want)
		}
	}
	if v := auth.RedactFlag("token", "abc"); v != auth.Redacted {
		t.Errorf("RedactFlag(token) = %q", v)
	}
}
