package zoocfg

import (
	"reflect"
	"strings"
	"testing"
)

func TestReadProperties(t *testing.T) {
	tests := []struct {
		name, in string
		want     []property
	}{
		{"equals", "a=1\n", []property{{"a", "1", 1}}},
		{"colon", "a:1", []property{{"a", "1", 1}}},
		{"whitespace separator", "a 1", []property{{"a", "1", 1}}},
		{"spaces around separator", "  a  =  1  \n", []property{{"a", "1", 1}}},
		{"whitespace then colon", "a \t: 1", []property{{"a", "1", 1}}},
		{"second separator is value", "a==1", []property{{"a", "=1", 1}}},
		{"colon in value", "server.1=zoo1:2888:3888", []property{{"server.1", "zoo1:2888:3888", 1}}},
		{"empty value", "dataDir=\n", []property{{"dataDir", "", 1}}},
		{"key only", "flag\n", []property{{"flag", "", 1}}},
		{"comments and blanks", "# c\n\n   ! bang\n\t#indented\nk=v\n", []property{{"k", "v", 5}}},
		{"hash inside value is data", "k=a#b", []property{{"k", "a#b", 1}}},
		{"crlf and cr", "a=1\r\nb=2\rc=3", []property{{"a", "1", 1}, {"b", "2", 2}, {"c", "3", 3}}},
		{"continuation", "k=a,\\\n    b,\\\n\tc\nz=1", []property{{"k", "a,b,c", 1}, {"z", "1", 4}}},
		{"escaped backslash does not continue", "k=a\\\\\nz=1", []property{{"k", `a\`, 1}, {"z", "1", 2}}},
		{"continuation at end of file", "k=a\\", []property{{"k", "a", 1}}},
		{"comment does not continue", "# x \\\nk=v", []property{{"k", "v", 2}}},
		{"escapes", `k=a\t\u0041\:\=\q`, []property{{"k", "a\tA:=q", 1}}},
		{"escaped whitespace is trimmed too, as String.trim does", `k=\t x \t`, []property{{"k", "x", 1}}},
		{"escaped separator in key", `a\=b=c`, []property{{"a=b", "c", 1}}},
		{"escaped space in key", `a\ b c`, []property{{"a b", "c", 1}}},
		{"windows path loses backslashes as in Java", `dataDir=C:\zk\data`, []property{{"dataDir", "C:zkdata", 1}}},
		{"repeated keys all kept", "a=1\na=2", []property{{"a", "1", 1}, {"a", "2", 2}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readProperties(strings.NewReader(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("readProperties(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestReadPropertiesMalformedUnicode(t *testing.T) {
	for _, in := range []string{"k=\\u12", "k=\\uZZZZ", "\\u00=1"} {
		_, err := readProperties(strings.NewReader("ok=1\n" + in))
		if err == nil || !strings.Contains(err.Error(), "line 2") {
			t.Errorf("readProperties(%q) error = %v, want one naming line 2", in, err)
		}
	}
}

func TestLastWins(t *testing.T) {
	got := lastWins([]property{{"a", "1", 1}, {"b", "x", 2}, {"a", "2", 3}})
	want := []property{{"b", "x", 2}, {"a", "2", 3}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("lastWins = %+v, want %+v", got, want)
	}
}
