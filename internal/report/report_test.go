package report

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/outsider-sec/outsider/internal/triage"
)

var update = flag.Bool("update", false, "rewrite golden files")

// fixture triages testdata/tenant.jsonl: a small tenant with one identity
// per verdict, hostile fields (ANSI escapes, bidi overrides, a formula, a
// script tag) and one broken line.
func fixture(t *testing.T) *triage.Report {
	t.Helper()
	r, err := triage.Run(context.Background(), []string{filepath.Join("testdata", "tenant.jsonl")}, triage.Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/report -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run with -update and review the diff):\n%s", name, got)
	}
}

func TestGolden(t *testing.T) {
	r := fixture(t)
	for _, f := range Formats {
		t.Run(string(f), func(t *testing.T) {
			var b bytes.Buffer
			if err := Render(&b, f, r); err != nil {
				t.Fatal(err)
			}
			golden(t, "tenant."+string(f)+".golden", b.Bytes())
		})
	}
}

func TestJSONContract(t *testing.T) {
	var b bytes.Buffer
	if err := RenderJSON(&b, fixture(t)); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc["schema"] != "outsider/triage/v1" {
		t.Errorf("schema = %v", doc["schema"])
	}
	keys := func(m any) []string {
		var out []string
		for k := range m.(map[string]any) {
			out = append(out, k)
		}
		return out
	}
	want := map[string][]string{
		"":         {"schema", "tenant", "input", "summary", "identities"},
		"tenant":   {"ids", "domains", "inferred"},
		"input":    {"files", "records", "duplicates", "skipped", "from", "to"},
		"summary":  {"identities", "by_verdict"},
		"identity": {"user", "class", "home_tenant", "consumer", "verdict", "severity", "reasons", "signins", "activity", "sharing", "ip_also_used_by"},
		"signins":  {"success", "failure", "first", "last", "ips", "user_agents", "apps"},
		"activity": {"by_user", "by_ip", "operations", "evidence"},
		"evidence": {"time", "operation", "user", "ip", "object", "record_id", "source"},
		"file":     {"path", "format", "records", "skipped"},
	}
	id := doc["identities"].([]any)[0].(map[string]any)
	objs := map[string]any{
		"": doc, "tenant": doc["tenant"], "input": doc["input"], "summary": doc["summary"], "identity": id,
		"signins": id["signins"], "activity": id["activity"],
		"evidence": id["activity"].(map[string]any)["evidence"].([]any)[0],
		"file":     doc["input"].(map[string]any)["files"].([]any)[0],
	}
	for name, fields := range want {
		got := keys(objs[name])
		if len(got) != len(fields) {
			t.Errorf("%s has fields %v, want exactly %v", name, got, fields)
			continue
		}
		for _, f := range fields {
			if _, ok := objs[name].(map[string]any)[f]; !ok {
				t.Errorf("%s lacks field %q", name, f)
			}
		}
	}
	bv := doc["summary"].(map[string]any)["by_verdict"].(map[string]any)
	for _, v := range []string{"anomalous", "activity", "shared", "signin-only"} {
		if _, ok := bv[v]; !ok {
			t.Errorf("by_verdict lacks %q", v)
		}
	}
	if bytes.Contains(b.Bytes(), []byte("<script>")) {
		t.Error("JSON carries a raw <script> tag; HTML characters must stay escaped")
	}
}

func TestHostileText(t *testing.T) {
	var b bytes.Buffer
	if err := RenderText(&b, fixture(t)); err != nil {
		t.Fatal(err)
	}
	for i, c := range b.Bytes() {
		if (c < 0x20 && c != '\n') || c == 0x7f {
			t.Fatalf("raw control byte 0x%02x at offset %d in text output", c, i)
		}
	}
	for _, bad := range []string{"\u202e", "\u0007"} {
		if strings.Contains(b.String(), bad) {
			t.Errorf("text output carries %q", bad)
		}
	}
	if !strings.Contains(b.String(), `mallory\x1b[31m@evil.example`) {
		t.Error("escaped UPN not shown")
	}
}

func TestCSVFormulaSafe(t *testing.T) {
	var b bytes.Buffer
	if err := RenderCSV(&b, fixture(t)); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range rows {
		for _, cell := range row {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("cell starts with a formula character: %q", cell)
			}
		}
	}
	if len(rows) != 1+len(fixture(t).Identities) {
		t.Errorf("%d rows", len(rows))
	}
}

func TestCleanAndCSVSafe(t *testing.T) {
	cases := map[string]string{
		"plain@x.com":          "plain@x.com",
		"a\x1b[2Jb":            `a\x1b[2Jb`,
		"rtl\u202eevil":        `rtl\u202eevil`,
		"bad\xffutf8":          `bad\xffutf8`,
		"c1\u009bx":            `c1\x9bx`,
		"élodie 😀":             "élodie 😀",
		"tab\there":            `tab\x09here`,
		"zero\u200bwidth? ok.": `zero\u200bwidth? ok.`,
	}
	for in, want := range cases {
		if got := Clean(in); got != want {
			t.Errorf("Clean(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"=1+1": "'=1+1", "+x": "'+x", "-x": "'-x", "@x": "'@x", "ok": "ok", "": "", "a\x00b": "ab"} {
		if got := CSVSafe(in); got != want {
			t.Errorf("CSVSafe(%q) = %q, want %q", in, got, want)
		}
	}
}
