package auth

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
)

// Credential is one principal and its secret, as in Mesos' credentials
// file.
type Credential struct {
	Principal string `json:"principal"`
	Secret    Secret `json:"secret"`
}

// Credentials are the principals a daemon knows. The zero value and nil
// know nobody.
type Credentials struct {
	list []credential
}

type credential struct {
	principal string
	// digest is SHA-256 of the secret: comparing fixed-size digests in
	// constant time hides the secret's length as well as its bytes.
	digest [32]byte
}

// LoadCredentials reads a credentials file. Like Mesos' --credentials it
// takes JSON, {"credentials":[{"principal":"p","secret":"s"},...]}, or text
// lines "principal secret"; the path may be given as file:///path.
func LoadCredentials(path string) (*Credentials, error) {
	data, err := os.ReadFile(strings.TrimPrefix(path, "file://"))
	if err != nil {
		return nil, fmt.Errorf("credentials: %w", err)
	}
	c, err := ParseCredentials(data)
	if err != nil {
		return nil, fmt.Errorf("credentials %s: %w", path, err)
	}
	return c, nil
}

// ParseCredentials parses a credentials file's contents (see
// LoadCredentials). Errors name the entry but never the secret.
func ParseCredentials(data []byte) (*Credentials, error) {
	var list []Credential
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) > 0 && trimmed[0] == '{' {
		var doc struct {
			Credentials []Credential `json:"credentials"`
		}
		dec := json.NewDecoder(bytes.NewReader(trimmed))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&doc); err != nil {
			return nil, fmt.Errorf("JSON: %w", err)
		}
		list = doc.Credentials
	} else {
		sc := bufio.NewScanner(bytes.NewReader(data))
		for n := 1; sc.Scan(); n++ {
			line := strings.TrimSpace(sc.Text())
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			f := strings.Fields(line)
			if len(f) != 2 {
				return nil, fmt.Errorf("line %d: want \"principal secret\", got %d fields", n, len(f))
			}
			list = append(list, Credential{Principal: f[0], Secret: Secret(f[1])})
		}
		if err := sc.Err(); err != nil {
			return nil, err
		}
	}
	c := &Credentials{}
	for i, cr := range list {
		if err := c.Add(cr); err != nil {
			return nil, fmt.Errorf("credentials[%d]: %w", i, err)
		}
	}
	return c, nil
}

// Add adds a credential. A principal may appear once; a secret may belong
// to one principal only, since a bearer token alone names its principal.
func (c *Credentials) Add(cr Credential) error {
	if cr.Principal == "" {
		return errors.New("principal: required")
	}
	if strings.ContainsAny(cr.Principal, ": \t\r\n") {
		return fmt.Errorf("principal %q: must not contain ':' or white space", cr.Principal)
	}
	if len(cr.Secret) < 8 {
		return fmt.Errorf("secret of %q: at least 8 characters are required", cr.Principal)
	}
	d := sha256.Sum256([]byte(cr.Secret.Reveal()))
	for _, e := range c.list {
		if e.principal == cr.Principal {
			return fmt.Errorf("principal %q: listed twice", cr.Principal)
		}
		if e.digest == d {
			return fmt.Errorf("secret of %q: the same secret as %q's; bearer tokens must name one principal", cr.Principal, e.principal)
		}
	}
	c.list = append(c.list, credential{principal: cr.Principal, digest: d})
	return nil
}

// Merge adds every credential of o (nil is empty).
func (c *Credentials) Merge(o *Credentials) error {
	if o == nil {
		return nil
	}
	for _, e := range o.list {
		for _, mine := range c.list {
			if mine.principal == e.principal || mine.digest == e.digest {
				return fmt.Errorf("principal %q: listed twice", e.principal)
			}
		}
		c.list = append(c.list, e)
	}
	return nil
}

// Len is the number of principals.
func (c *Credentials) Len() int {
	if c == nil {
		return 0
	}
	return len(c.list)
}

// Has reports whether principal has credentials (a principal name is not
// secret, so this needs no constant-time care).
func (c *Credentials) Has(principal string) bool {
	if c == nil {
		return false
	}
	for _, e := range c.list {
		if e.principal == principal {
			return true
		}
	}
	return false
}

// Principals lists the principals, sorted.
func (c *Credentials) Principals() []string {
	if c == nil {
		return nil
	}
	out := make([]string, 0, len(c.list))
	for _, e := range c.list {
		out = append(out, e.principal)
	}
	slices.Sort(out)
	return out
}

// Token returns the principal whose secret is token. It compares the
// token with every secret, in constant time each and without stopping at
// a match, so neither the answer's timing nor its position in the file
// tells an attacker anything about the secrets.
func (c *Credentials) Token(token string) (principal string, ok bool) {
	if c == nil || token == "" {
		return "", false
	}
	d := sha256.Sum256([]byte(token))
	found := -1
	for i, e := range c.list {
		if subtle.ConstantTimeCompare(d[:], e.digest[:]) == 1 {
			found = i
		}
	}
	if found < 0 {
		return "", false
	}
	return c.list[found].principal, true
}

// Basic checks HTTP Basic credentials: principal and secret must belong
// together. The secret is compared in constant time whether or not the
// principal exists.
func (c *Credentials) Basic(principal, secret string) bool {
	if c == nil {
		return false
	}
	d := sha256.Sum256([]byte(secret))
	ok := 0
	for _, e := range c.list {
		match := subtle.ConstantTimeCompare(d[:], e.digest[:])
		if e.principal == principal {
			ok |= match
		}
	}
	return ok == 1 && secret != ""
}

// LoadCredential reads one principal's credential, e.g. the one an agent
// presents to the master (`strata agent --credential FILE`): JSON
// {"principal":"p","secret":"s"}, a credentials file with exactly one
// entry, or one line "principal secret".
func LoadCredential(path string) (Credential, error) {
	data, err := os.ReadFile(strings.TrimPrefix(path, "file://"))
	if err != nil {
		return Credential{}, fmt.Errorf("credential: %w", err)
	}
	trimmed := bytes.TrimSpace(data)
	var one Credential
	if len(trimmed) > 0 && trimmed[0] == '{' && !bytes.Contains(trimmed, []byte(`"credentials"`)) {
		if err := json.Unmarshal(trimmed, &one); err != nil {
			return Credential{}, fmt.Errorf("credential %s: JSON: %w", path, err)
		}
	} else {
		var doc struct {
			Credentials []Credential `json:"credentials"`
		}
		if len(trimmed) > 0 && trimmed[0] == '{' {
			if err := json.Unmarshal(trimmed, &doc); err != nil {
				return Credential{}, fmt.Errorf("credential %s: JSON: %w", path, err)
			}
		} else {
			for line := range strings.SplitSeq(string(trimmed), "\n") {
				f := strings.Fields(line)
				if len(f) == 0 || strings.HasPrefix(f[0], "#") {
					continue
				}
				if len(f) != 2 {
					return Credential{}, fmt.Errorf("credential %s: want \"principal secret\"", path)
				}
				doc.Credentials = append(doc.Credentials, Credential{Principal: f[0], Secret: Secret(f[1])})
			}
		}
		if len(doc.Credentials) != 1 {
			return Credential{}, fmt.Errorf("credential %s: want exactly one credential, found %d", path, len(doc.Credentials))
		}
		one = doc.Credentials[0]
	}
	if one.Principal == "" || one.Secret == "" {
		return Credential{}, fmt.Errorf("credential %s: principal and secret are required", path)
	}
	return one, nil
}

// ReadTokenFile reads a single token (the operator's, `--operator-token-file`):
// the file's first line, trimmed. A file readable by others is refused, as
// ssh refuses a private key with loose permissions.
func ReadTokenFile(path string) (Secret, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("token file: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("token file %s: mode %04o lets other users read it; chmod 600 it", path, fi.Mode().Perm())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("token file: %w", err)
	}
	line, _, _ := strings.Cut(string(data), "\n")
	tok := strings.TrimSpace(line)
	if len(tok) < 8 {
		return "", fmt.Errorf("token file %s: the token must be at least 8 characters", path)
	}
	return Secret(tok), nil
}
