package table

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"gopkg.in/yaml.v3"
)

// Format is the -o flag of every read verb.
type Format string

const (
	FormatTable Format = "table"
	FormatWide  Format = "wide"
	FormatJSON  Format = "json"
	FormatYAML  Format = "yaml"
)

// Formats lists the accepted -o values, for help texts and completion.
var Formats = []string{string(FormatTable), string(FormatWide), string(FormatJSON), string(FormatYAML)}

// ParseFormat checks an -o value.
func ParseFormat(s string) (Format, error) {
	switch f := Format(s); f {
	case FormatTable, FormatWide, FormatJSON, FormatYAML:
		return f, nil
	case "":
		return FormatTable, nil
	}
	return "", fmt.Errorf("-o %q: want table, wide, json or yaml", s)
}

// Structured reports whether f prints the API's document rather than a
// table.
func (f Format) Structured() bool { return f == FormatJSON || f == FormatYAML }

// WriteJSON writes v as indented JSON: the API's own document (v is the
// decoded answer, re-encoded with the same field names), so `| jq` works.
func WriteJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode JSON: %w", err)
	}
	b = append(b, '\n')
	_, err = w.Write(b)
	return err
}

// WriteYAML writes v as YAML with the JSON document's field names and
// order: it goes through JSON (so the API's json tags decide the names)
// and parses that as YAML, which keeps keys in the order the API sends
// them instead of sorting them.
func WriteYAML(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode YAML: %w", err)
	}
	var node yaml.Node
	if err := yaml.Unmarshal(b, &node); err != nil {
		return fmt.Errorf("encode YAML: %w", err)
	}
	blockStyle(&node)
	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(&node); err != nil {
		return fmt.Errorf("encode YAML: %w", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("encode YAML: %w", err)
	}
	_, err = w.Write(out.Bytes())
	return err
}

// blockStyle turns JSON's flow style ({...}, [...], "quoted") into YAML's
// block style, keeping strings quoted only where YAML needs it.
func blockStyle(n *yaml.Node) {
	switch n.Kind {
	case yaml.MappingNode, yaml.SequenceNode:
		if len(n.Content) > 0 {
			n.Style = 0
		}
	case yaml.ScalarNode:
		if n.Style == yaml.DoubleQuotedStyle {
			n.Style = 0
		}
	}
	for _, c := range n.Content {
		blockStyle(c)
	}
}

// WriteDoc writes v in a structured format (json or yaml).
func WriteDoc(w io.Writer, f Format, v any) error {
	if f == FormatYAML {
		return WriteYAML(w, v)
	}
	return WriteJSON(w, v)
}
