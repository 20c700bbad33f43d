package tui

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"gopkg.in/yaml.v3"
)

// KeyMap is every key the dashboard answers. The one table in Actions
// feeds key handling, the help screen and the config file, so a rebound
// key shows up in `?` as it is.
//
// Destructive actions sit on shifted letters (K, D, W, Q) and always ask
// for confirmation; nothing uses ctrl-b or ctrl-a, which tmux and screen
// take.
type KeyMap struct {
	Quit, Help, Back              key.Binding
	Up, Down, PageUp, PageDown    key.Binding
	Top, Bottom                   key.Binding
	NextView, PrevView, Command   key.Binding
	Filter, Sort, SortReverse     key.Binding
	Describe, Logs                key.Binding
	Views                         [10]key.Binding // 1..9, then 0
	KillTask, SetWeight, SetQuota key.Binding
	Drain, Reactivate             key.Binding
	// Apps and Jobs (marathon, chronos): Remove destroys an app or
	// deletes a job, Deploy deploys an app or adds a job.
	Scale, Restart, Suspend, Remove, Deploy key.Binding
	RunJob, ToggleJob                       key.Binding
	Confirm, Deny                           key.Binding
	Stream, Search, SearchNext              key.Binding
	Follow, Pause                           key.Binding
}

// Action names a binding for the config file and the help screen.
type Action struct {
	Name    string // config name: "kill-task"
	Group   string // help section
	Binding *key.Binding
	// Mutates marks the cluster-changing actions --readonly removes.
	Mutates bool
}

// DefaultKeyMap is the keymap before any config file.
func DefaultKeyMap() *KeyMap {
	b := func(help, desc string, keys ...string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(help, desc))
	}
	k := &KeyMap{
		Quit:        b("q", "quit", "q", "ctrl+c"),
		Help:        b("?", "help", "?"),
		Back:        b("esc", "back / clear", "esc"),
		Up:          b("↑/k", "up", "up", "k"),
		Down:        b("↓/j", "down", "down", "j"),
		PageUp:      b("pgup", "page up", "pgup", "ctrl+u"),
		PageDown:    b("pgdn", "page down", "pgdown", "ctrl+d"),
		Top:         b("g", "first row", "g", "home"),
		Bottom:      b("G", "last row", "G", "end"),
		NextView:    b("tab", "next view", "tab"),
		PrevView:    b("shift+tab", "previous view", "shift+tab"),
		Command:     b(":", "go to a view (:tasks)", ":"),
		Filter:      b("/", "filter (!x inverts)", "/"),
		Sort:        b("s", "sort by next column", "s"),
		SortReverse: b("S", "reverse sort", "S"),
		Describe:    b("enter/d", "describe (JSON)", "enter", "d"),
		Logs:        b("l", "task logs", "l"),
		KillTask:    b("K", "kill task", "K"),
		SetWeight:   b("W", "set role weight", "W"),
		SetQuota:    b("Q", "set role quota", "Q"),
		Drain:       b("D", "drain agent", "D"),
		Reactivate:  b("R", "reactivate agent", "R"),
		Scale:       b("N", "scale app", "N"),
		Restart:     b("U", "restart app", "U"),
		Suspend:     b("Z", "suspend app (scale to 0)", "Z"),
		Remove:      b("X", "destroy app / delete job", "X"),
		Deploy:      b("A", "deploy app / add job", "A"),
		RunJob:      b("J", "run job now", "J"),
		ToggleJob:   b("E", "enable/disable job", "E"),
		Confirm:     b("y", "confirm", "y"),
		Deny:        b("n", "cancel", "n"),
		Stream:      b("o", "logs: stdout/stderr", "o"),
		Search:      b("/", "logs: search", "/"),
		SearchNext:  b("n", "logs: next match", "n"),
		Follow:      b("f", "logs: follow", "f"),
		Pause:       b("p", "events: pause", "p"),
	}
	for i := range k.Views {
		d := (i + 1) % 10
		k.Views[i] = b(itoa(d), "view "+itoa(d), itoa(d))
	}
	return k
}

// Actions lists the bindings by config name, in help order.
func (k *KeyMap) Actions() []Action {
	a := []Action{
		{"quit", "general", &k.Quit, false},
		{"help", "general", &k.Help, false},
		{"back", "general", &k.Back, false},
		{"command", "general", &k.Command, false},
		{"next-view", "general", &k.NextView, false},
		{"prev-view", "general", &k.PrevView, false},
		{"up", "navigate", &k.Up, false},
		{"down", "navigate", &k.Down, false},
		{"page-up", "navigate", &k.PageUp, false},
		{"page-down", "navigate", &k.PageDown, false},
		{"top", "navigate", &k.Top, false},
		{"bottom", "navigate", &k.Bottom, false},
		{"filter", "lists", &k.Filter, false},
		{"sort", "lists", &k.Sort, false},
		{"sort-reverse", "lists", &k.SortReverse, false},
		{"describe", "lists", &k.Describe, false},
		{"logs", "lists", &k.Logs, false},
		{"pause", "lists", &k.Pause, false},
		{"kill-task", "actions", &k.KillTask, true},
		{"set-weight", "actions", &k.SetWeight, true},
		{"set-quota", "actions", &k.SetQuota, true},
		{"drain-agent", "actions", &k.Drain, true},
		{"reactivate-agent", "actions", &k.Reactivate, true},
		{"scale-app", "actions", &k.Scale, true},
		{"restart-app", "actions", &k.Restart, true},
		{"suspend-app", "actions", &k.Suspend, true},
		{"destroy", "actions", &k.Remove, true},
		{"deploy", "actions", &k.Deploy, true},
		{"run-job", "actions", &k.RunJob, true},
		{"toggle-job", "actions", &k.ToggleJob, true},
		{"confirm", "actions", &k.Confirm, false},
		{"deny", "actions", &k.Deny, false},
		{"log-stream", "logs", &k.Stream, false},
		{"log-search", "logs", &k.Search, false},
		{"log-next", "logs", &k.SearchNext, false},
		{"log-follow", "logs", &k.Follow, false},
	}
	for i := range k.Views {
		a = append(a, Action{"view-" + itoa((i+1)%10), "views", &k.Views[i], false})
	}
	return a
}

// SetReadOnly disables the cluster-changing actions, so neither their
// keys nor their help lines exist.
func (k *KeyMap) SetReadOnly() {
	for _, a := range k.Actions() {
		if a.Mutates {
			a.Binding.SetEnabled(false)
		}
	}
}

// DefaultKeysFile is where LoadKeys looks when no path is given:
// $XDG_CONFIG_HOME/strata/keys.yaml (or keys.json), else
// ~/.config/strata/keys.yaml.
func DefaultKeysFile() string {
	dir := os.Getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		dir = filepath.Join(home, ".config")
	}
	base := filepath.Join(dir, "strata", "keys")
	for _, ext := range []string{".yaml", ".yml", ".json"} {
		if _, err := os.Stat(base + ext); err == nil {
			return base + ext
		}
	}
	return base + ".yaml"
}

// LoadKeys rebinds k from a file mapping action names to keys, in YAML or
// JSON (by extension):
//
//	# ~/.config/strata/keys.yaml
//	kill-task: ctrl+k          # one key
//	describe: [enter, i]       # or several
//	view-0: "0"
//
// A missing file is not an error; an unknown action or a key used by two
// actions of the same group is, naming the action. Keys are bubbletea's
// names: "a", "A", "ctrl+x", "enter", "esc", "tab", "up", "pgdown", "f5".
func (k *KeyMap) LoadKeys(path string) error {
	if path == "" {
		return nil
	}
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("keys file: %w", err)
	}
	raw := map[string]any{}
	if strings.HasSuffix(path, ".json") {
		err = json.Unmarshal(data, &raw)
	} else {
		err = yaml.Unmarshal(data, &raw)
	}
	if err != nil {
		return fmt.Errorf("keys file %s: %w", path, err)
	}
	return k.Rebind(raw, path)
}

// Rebind applies name → key(s) settings (string or list of strings).
func (k *KeyMap) Rebind(raw map[string]any, source string) error {
	byName := map[string]Action{}
	for _, a := range k.Actions() {
		byName[a.Name] = a
	}
	names := make([]string, 0, len(raw))
	for n := range raw {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, name := range names {
		a, ok := byName[name]
		if !ok {
			return fmt.Errorf("keys file %s: %q is not an action (see `strata top --help`)", source, name)
		}
		var keys []string
		switch v := raw[name].(type) {
		case string:
			keys = []string{v}
		case []any:
			for _, x := range v {
				s, ok := x.(string)
				if !ok {
					return fmt.Errorf("keys file %s: %s: keys must be strings, got %v", source, name, x)
				}
				keys = append(keys, s)
			}
		case int:
			keys = []string{itoa(v)}
		case float64:
			keys = []string{num(v)}
		default:
			return fmt.Errorf("keys file %s: %s: want a key or a list of keys, got %v", source, name, v)
		}
		if len(keys) == 0 {
			return fmt.Errorf("keys file %s: %s: no keys", source, name)
		}
		enabled := a.Binding.Enabled()
		a.Binding.SetKeys(keys...)
		a.Binding.SetHelp(strings.Join(keys, "/"), a.Binding.Help().Desc)
		a.Binding.SetEnabled(enabled)
	}
	// Two actions of one group on one key would make one unreachable.
	seen := map[string]string{}
	for _, a := range k.Actions() {
		for _, key := range a.Binding.Keys() {
			slot := conflictGroup(a.Group) + "/" + key
			if other, ok := seen[slot]; ok {
				return fmt.Errorf("keys file %s: key %q is bound to both %s and %s", source, key, other, a.Name)
			}
			seen[slot] = a.Name
		}
	}
	return nil
}

// conflictGroup says which actions share a screen and so must not share a
// key: everything on the lists except the log viewer's own keys, which
// only apply there.
func conflictGroup(g string) string {
	if g == "logs" {
		return "logs"
	}
	return "main"
}

// matches reports whether msg is one of b's keys (and b is enabled).
func matches(msg tea.KeyMsg, b key.Binding) bool { return key.Matches(msg, b) }
