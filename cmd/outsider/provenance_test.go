package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/outsider-sec/outsider/internal/iostreams"
	"github.com/outsider-sec/outsider/internal/triage"
)

// TestRedactArgs: no secret survives in a report's command line, whatever
// form the flag takes, and every other value is kept as given.
func TestRedactArgs(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"plain", []string{"triage", "a.json", "--since", "2026-10-01"},
			[]string{"outsider", "triage", "a.json", "--since", "2026-10-01"}},
		{"dsn with password", []string{"triage", "--clickhouse", "http://alice:s3cret@ch:8123/outsider"},
			[]string{"outsider", "triage", "--clickhouse", "http://alice:REDACTED@ch:8123/outsider"}},
		{"dsn with =", []string{"triage", "--clickhouse=https://alice:s3cret@ch/db"},
			[]string{"outsider", "triage", "--clickhouse=https://alice:REDACTED@ch/db"}},
		{"dsn, one dash", []string{"triage", "-clickhouse=http://u:s3cret@h/db"},
			[]string{"outsider", "triage", "-clickhouse=http://u:REDACTED@h/db"}},
		{"dsn with user only", []string{"triage", "--clickhouse", "http://alice@ch/db"},
			[]string{"outsider", "triage", "--clickhouse", "http://alice@ch/db"}},
		{"dsn with empty password", []string{"--clickhouse", "http://alice:@ch/db"},
			[]string{"outsider", "--clickhouse", "http://alice:REDACTED@ch/db"}},
		{"password with @ and /", []string{"--clickhouse", "http://u:12/s3@cret@ch/db"},
			[]string{"outsider", "--clickhouse", "http://REDACTED@ch/db"}},
		{"password with a space (no URL)", []string{"--clickhouse", "http://u:s3 cret@ch/db"},
			[]string{"outsider", "--clickhouse", "http://REDACTED@ch/db"}},
		{"password in the query", []string{"--clickhouse", "http://ch/db?user=u&password=s3cret"},
			[]string{"outsider", "--clickhouse", "http://ch/db?password=REDACTED&user=u"}},
		{"token in the query, any case", []string{"--clickhouse", "http://ch/db?Access_Token=s3cret"},
			[]string{"outsider", "--clickhouse", "http://ch/db?Access_Token=REDACTED"}},
		{"bad query escape", []string{"--clickhouse", "http://ch/db?password=%zz-s3cret"},
			[]string{"outsider", "--clickhouse", "http://ch/db?REDACTED"}},
		{"secret flags", []string{"--api-key", "s3cret", "--client-secret=s3cret", "--TOKEN", "-s3cret", "--password"},
			[]string{"outsider", "--api-key", "REDACTED", "--client-secret=REDACTED", "--TOKEN", "REDACTED", "--password"}},
		{"a path holding a URL's password", []string{"triage", "ftp://u:s3cret@host/x.json"},
			[]string{"outsider", "triage", "ftp://u:REDACTED@host/x.json"}},
		{"after --, still no URL password", []string{"triage", "--", "--token", "http://u:s3cret@h/"},
			[]string{"outsider", "triage", "--", "--token", "http://u:REDACTED@h/"}},
		{"other values kept", []string{"triage", "--tenant", "x", "--geoip", "key.mmdb", "-o", "r.json"},
			[]string{"outsider", "triage", "--tenant", "x", "--geoip", "key.mmdb", "-o", "r.json"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := redactArgs(tc.args)
			if !slices.Equal(got, tc.want) {
				t.Errorf("redactArgs(%q)\n got %q\nwant %q", tc.args, got, tc.want)
			}
			if strings.Contains(strings.Join(got, " "), "s3") {
				t.Errorf("a secret survives: %q", got)
			}
		})
	}
}

// runTriageJSON runs 'outsider triage ARGS --format json' in-process with
// stdin and returns the report's provenance and the whole output.
func runTriageJSON(t *testing.T, stdin []byte, args ...string) (*triage.Provenance, []byte) {
	t.Helper()
	ios, in, out, errOut := iostreams.Test()
	in.Write(stdin)
	f := &factory{IO: ios, Getenv: testEnv(t, nil)}
	args = append(append([]string{"triage"}, args...), "--format", "json")
	if code := run(context.Background(), args, f); code != 0 {
		t.Fatalf("triage %q: exit %d: %s", args, code, errOut)
	}
	var doc struct{ Provenance *triage.Provenance }
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Provenance == nil {
		t.Fatalf("no provenance in %s", out)
	}
	return doc.Provenance, out.Bytes()
}

// TestProvenanceInputs: sizes always; with --hash-inputs, the SHA-256 of
// each file as on disk (a .gz hashed compressed), and of what was read
// from stdin; the same command gives the same bytes, --stamp adds the
// time.
func TestProvenanceInputs(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "internal", "report", "testdata", "tenant.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	dir := chdir(t)
	writeFile(t, filepath.Join(dir, "a.jsonl"), string(data))
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(data)
	zw.Close()
	writeFile(t, filepath.Join(dir, "b.jsonl.gz"), gz.String())
	writeFile(t, filepath.Join(dir, "abc.jsonl"), "abc")
	sum := func(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

	p, out := runTriageJSON(t, data, "a.jsonl", "b.jsonl.gz", "-", "abc.jsonl", "--hash-inputs")
	want := []triage.ProvenanceInput{
		{Path: "a.jsonl", Bytes: int64(len(data)), SHA256: sum(data)},
		{Path: "b.jsonl.gz", Bytes: int64(gz.Len()), SHA256: sum(gz.Bytes())},
		{Path: "-", Bytes: int64(len(data)), SHA256: sum(data)},
		// The known answer (FIPS 180-2, "abc"): the hash is SHA-256 itself.
		{Path: "abc.jsonl", Bytes: 3, SHA256: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
	}
	if !slices.Equal(p.Inputs, want) {
		t.Errorf("inputs\n got %+v\nwant %+v", p.Inputs, want)
	}
	if wantCmd := []string{"outsider", "triage", "a.jsonl", "b.jsonl.gz", "-", "abc.jsonl", "--hash-inputs", "--format", "json"}; !slices.Equal(p.Command, wantCmd) {
		t.Errorf("command %q, want %q", p.Command, wantCmd)
	}
	if p.TimeZone != triage.TimeZoneRule || p.Version == "" || p.Commit == "" || p.Generated != "" {
		t.Errorf("provenance %+v: want the UTC rule, a version and a commit, no time without --stamp", p)
	}
	if _, again := runTriageJSON(t, data, "a.jsonl", "b.jsonl.gz", "-", "abc.jsonl", "--hash-inputs"); !bytes.Equal(out, again) {
		t.Error("the same command over the same input gave different bytes")
	}

	// Without --hash-inputs: sizes only (stdin's as read).
	p, _ = runTriageJSON(t, data, "b.jsonl.gz", "-")
	want = []triage.ProvenanceInput{{Path: "b.jsonl.gz", Bytes: int64(gz.Len())}, {Path: "-", Bytes: int64(len(data))}}
	if !slices.Equal(p.Inputs, want) {
		t.Errorf("inputs without --hash-inputs\n got %+v\nwant %+v", p.Inputs, want)
	}

	// --directory is an input too: a case file needs its hash.
	writeFile(t, filepath.Join(dir, "users.csv"), "userPrincipalName,userType\nalice@contoso.com,Member\n")
	p, _ = runTriageJSON(t, nil, "a.jsonl", "--directory", "users.csv", "--hash-inputs")
	users, _ := os.ReadFile(filepath.Join(dir, "users.csv"))
	if got := p.Inputs[len(p.Inputs)-1]; len(p.Inputs) != 2 || got != (triage.ProvenanceInput{Path: "users.csv", Bytes: int64(len(users)), SHA256: sum(users)}) {
		t.Errorf("inputs with --directory: %+v", p.Inputs)
	}

	// --stamp: the time, UTC, to the second.
	before := time.Now().UTC().Truncate(time.Second)
	p, _ = runTriageJSON(t, nil, "a.jsonl", "--stamp")
	at, err := time.Parse(time.RFC3339, p.Generated)
	if err != nil || !strings.HasSuffix(p.Generated, "Z") || at.Before(before) || at.After(time.Now().UTC()) {
		t.Errorf("--stamp: generated %q (%v), want the time of the run in UTC", p.Generated, err)
	}
}

// TestProvenanceClickHouse: the ClickHouse path's provenance names the
// DSN, redacted, and no input file.
func TestProvenanceClickHouse(t *testing.T) {
	o, _, err := triageFlags(t, testEnv(t, nil), "--clickhouse", "http://alice:s3cret@ch:8123/db", "--tenant", "0c6e7c2b-7c5f-4a34-9b0e-4a5a8f8c1d11")
	if err != nil {
		t.Fatal(err)
	}
	p, err := o.provenance([]string{"triage", "--clickhouse", "http://alice:s3cret@ch:8123/db"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.Source != "http://alice:REDACTED@ch:8123/db" || p.Inputs == nil || len(p.Inputs) != 0 {
		t.Errorf("source %q, inputs %#v; want the DSN redacted and an empty list", p.Source, p.Inputs)
	}
	if b, _ := json.Marshal(p); bytes.Contains(b, []byte("s3cret")) {
		t.Errorf("secret in %s", b)
	}
}

// TestProvenanceLocaleDates: a report over a sign-in CSV saved again in
// Excel (de-DE: ';' and "06.10.2026 09:14:03") reads its times from those
// locale dates, so the time rule it states must say so rather than deny
// them: an analyst reads that line to know where the times came from.
func TestProvenanceLocaleDates(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "internal", "source", "testdata", "in", "signin-semicolon.csv"))
	if err != nil {
		t.Fatal(err)
	}
	dir := chdir(t)
	writeFile(t, filepath.Join(dir, "signins.csv"), string(data))
	p, out := runTriageJSON(t, nil, "signins.csv")
	var doc struct {
		Input struct {
			Files []struct {
				Format  string
				Records int
			}
		}
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Input.Files) != 1 || doc.Input.Files[0].Records == 0 || !strings.Contains(doc.Input.Files[0].Format, "semicolon") {
		t.Fatalf("the locale-dated CSV was not read as such: %+v", doc.Input.Files)
	}
	if strings.Contains(p.TimeZone, "no local or CSV locale dates") || !strings.Contains(p.TimeZone, "locale dates") {
		t.Errorf("time rule %q: want it to say how a CSV's locale dates are read, not deny them", p.TimeZone)
	}
}
