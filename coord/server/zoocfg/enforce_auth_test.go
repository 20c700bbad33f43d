package zoocfg

import (
	"slices"
	"strings"
	"testing"
)

// TestParseEnforceAuth: ZooKeeper 3.7+'s enforcement keys, spelt as zoo.cfg
// keys or as the JVM properties they become.
func TestParseEnforceAuth(t *testing.T) {
	for _, tc := range []struct {
		name    string
		text    string
		enabled bool
		set     bool
		schemes []string
	}{
		{"absent", "dataDir=/d", false, false, nil},
		{"zoo.cfg keys", "dataDir=/d\nenforce.auth.enabled=true\nenforce.auth.schemes=digest", true, true, []string{"digest"}},
		{"property spelling", "dataDir=/d\nzookeeper.enforce.auth.enabled=TRUE\nzookeeper.enforce.auth.schemes= digest , ip ", true, true, []string{"digest", "ip"}},
		{"explicitly off", "dataDir=/d\nenforce.auth.enabled=false", false, true, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := parse(t, tc.text)
			if c.EnforceAuthEnabled != tc.enabled || c.EnforceAuthSet != tc.set || !slices.Equal(c.EnforceAuthSchemes, tc.schemes) {
				t.Errorf("got enabled=%t set=%t schemes=%q, want %t %t %q", c.EnforceAuthEnabled, c.EnforceAuthSet, c.EnforceAuthSchemes,
					tc.enabled, tc.set, tc.schemes)
			}
			if _, ok := c.Unknown["enforce.auth.enabled"]; ok {
				t.Error("enforce.auth.enabled landed in Unknown")
			}
			if err := c.Validate(); err != nil {
				t.Errorf("Validate: %v", err)
			}
		})
	}
}

func TestEnforceAuthErrors(t *testing.T) {
	if _, err := Parse(strings.NewReader("enforce.auth.enabled=yes")); err == nil ||
		!strings.Contains(err.Error(), `line 1: enforce.auth.enabled: "yes": want true or false`) {
		t.Errorf("enforce.auth.enabled=yes: err = %v", err)
	}
	for _, tc := range []struct{ text, want string }{
		{"dataDir=/d\nenforce.auth.enabled=true", "enforce.auth.schemes is not set"},
		{"dataDir=/d\nenforce.auth.enabled=true\nenforce.auth.schemes=sasl", `authentication scheme "sasl" is not available`},
	} {
		c := parse(t, tc.text)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: Validate = %v, want %q", tc.text, err, tc.want)
		}
	}
}
