package mesos

// CommandInfo is what a task or executor runs: with Shell (the default) the
// Value is run by /bin/sh -c; otherwise Value is the executable and
// Arguments its argv. URIs are fetched into the sandbox first.
type CommandInfo struct {
	URIs        []CommandURI `json:"uris,omitempty"`
	Environment *Environment `json:"environment,omitempty"`
	Shell       *bool        `json:"shell,omitempty"` // default true
	Value       string       `json:"value,omitempty"`
	Arguments   []string     `json:"arguments,omitempty"`
	User        string       `json:"user,omitempty"`
}

// GetShell returns Shell, defaulting to true as the proto does.
func (c *CommandInfo) GetShell() bool { return c == nil || c.Shell == nil || *c.Shell }

// CommandURI is a file to fetch into the sandbox before the command runs.
type CommandURI struct {
	Value      string `json:"value"`
	Executable *bool  `json:"executable,omitempty"`
	Extract    *bool  `json:"extract,omitempty"` // default true
	Cache      *bool  `json:"cache,omitempty"`
	OutputFile string `json:"output_file,omitempty"`
}

// GetExtract returns Extract, defaulting to true.
func (u *CommandURI) GetExtract() bool { return u.Extract == nil || *u.Extract }

// Environment is the set of variables a command runs with.
type Environment struct {
	Variables []EnvironmentVariable `json:"variables,omitempty"`
}

// EnvironmentVariableType is Environment.Variable.Type.
type EnvironmentVariableType string

const (
	EnvUnknown EnvironmentVariableType = "UNKNOWN"
	EnvValue   EnvironmentVariableType = "VALUE"
	EnvSecret  EnvironmentVariableType = "SECRET"
)

var envTypes = enumSet(EnvUnknown, EnvValue, EnvSecret)

// IsKnown reports whether t is one of Mesos' names.
func (t EnvironmentVariableType) IsKnown() bool { _, ok := envTypes[t]; return ok }

// EnvironmentVariable is one variable; Type defaults to VALUE.
type EnvironmentVariable struct {
	Name   string                  `json:"name"`
	Type   EnvironmentVariableType `json:"type,omitempty"`
	Value  string                  `json:"value,omitempty"`
	Secret *Secret                 `json:"secret,omitempty"`
}

// Env builds an Environment from name/value pairs.
func Env(pairs map[string]string) *Environment {
	env := &Environment{}
	for k, v := range pairs {
		env.Variables = append(env.Variables, EnvironmentVariable{Name: k, Value: v})
	}
	return env
}

// SecretType is Secret.Type.
type SecretType string

const (
	SecretTypeUnknown   SecretType = "UNKNOWN"
	SecretTypeReference SecretType = "REFERENCE"
	SecretTypeValue     SecretType = "VALUE"
)

var secretTypes = enumSet(SecretTypeUnknown, SecretTypeReference, SecretTypeValue)

// IsKnown reports whether t is one of Mesos' names.
func (t SecretType) IsKnown() bool { _, ok := secretTypes[t]; return ok }

// Secret carries privileged data by value or by reference to a secret store.
type Secret struct {
	Type      SecretType       `json:"type,omitempty"`
	Reference *SecretReference `json:"reference,omitempty"`
	Value     *SecretData      `json:"value,omitempty"`
}

// SecretReference names a secret in a store.
type SecretReference struct {
	Name string `json:"name"`
	Key  string `json:"key,omitempty"`
}

// SecretData is a secret's bytes (base64 in JSON).
type SecretData struct {
	Data []byte `json:"data"`
}
