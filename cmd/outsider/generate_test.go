package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/outsider-sec/outsider/internal/iostreams"
	"github.com/outsider-sec/outsider/internal/report"
	"github.com/outsider-sec/outsider/internal/synth"
	"github.com/outsider-sec/outsider/internal/triage"
)

// generateCmd runs 'outsider generate ARGS' for real.
func generateCmd(t *testing.T, args ...string) error {
	t.Helper()
	ios, _, _, _ := iostreams.Test()
	cmd := newCmdGenerate(&factory{IO: ios, Getenv: testEnv(t, nil)}, nil)
	cmd.SetFlagErrorFunc(flagError)
	cmd.SetArgs(args)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	return cmd.Execute()
}

// TestGeneratePartners: 'generate --partners 200 --outsiders 450' writes a
// tenant whose answers (--expected) are what triage reports, read in the
// JSON and the CSV report, for a JSON and a CSV export of it; the same
// flags give the same bytes.
func TestGeneratePartners(t *testing.T) {
	chdir(t)
	for _, format := range []string{"jsonl", "purview-csv"} {
		if err := generateCmd(t, "--partners", "200", "--outsiders", "450", "--format", format, "-o", "t."+format, "--expected", "e.json"); err != nil {
			t.Fatal(err)
		}
		var exp synth.Expected
		b, _ := os.ReadFile("e.json")
		if err := json.Unmarshal(b, &exp); err != nil {
			t.Fatal(err)
		}
		partnerIDs := 0
		want := map[string]string{}
		for _, id := range exp.Identities {
			want[id.User] = id.Verdict + "/" + id.Severity
			if strings.HasPrefix(id.Scenario, synth.ScenarioPartnerPrefix) {
				partnerIDs++
			}
		}
		if partnerIDs != 450 {
			t.Errorf("%s: %d partner identities, want 450", format, partnerIDs)
		}
		r, err := triage.Run(context.Background(), []string{"t." + format}, triage.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var js, cs bytes.Buffer
		if err := report.RenderOptions(&js, report.JSON, r, report.Options{}); err != nil {
			t.Fatal(err)
		}
		if err := report.RenderOptions(&cs, report.CSV, r, report.Options{}); err != nil {
			t.Fatal(err)
		}
		var jr struct {
			Identities []struct{ User, Verdict, Severity string }
		}
		if err := json.Unmarshal(js.Bytes(), &jr); err != nil {
			t.Fatal(err)
		}
		gotJSON := map[string]string{}
		for _, id := range jr.Identities {
			gotJSON[id.User] = id.Verdict + "/" + id.Severity
		}
		rows, err := csv.NewReader(&cs).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		col := map[string]int{}
		for i, h := range rows[0] {
			col[h] = i
		}
		gotCSV := map[string]string{}
		for _, row := range rows[1:] {
			gotCSV[row[col["user"]]] = row[col["verdict"]] + "/" + row[col["severity"]]
		}
		for name, got := range map[string]map[string]string{"json": gotJSON, "csv": gotCSV} {
			if len(got) != len(want) {
				t.Errorf("%s export, %s report: %d identities, want %d", format, name, len(got), len(want))
			}
			for u, w := range want {
				if got[u] != w {
					t.Errorf("%s export, %s report: %s is %q, want %q", format, name, u, got[u], w)
				}
			}
		}
	}
	a, _ := os.ReadFile("t.purview-csv")
	if err := generateCmd(t, "--partners", "200", "--outsiders", "450", "--format", "purview-csv", "-o", "again.csv"); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile("again.csv"); !bytes.Equal(a, b) {
		t.Error("same flags, different output")
	}
}

// TestGenerateFlagErrors: --outsiders below --partners, or negative, is a
// usage error.
func TestGenerateFlagErrors(t *testing.T) {
	chdir(t)
	for _, args := range [][]string{
		{"--partners", "5", "--outsiders", "3"},
		{"--partners", "-1"},
		{"--outsiders", "-2"},
	} {
		err := generateCmd(t, append(args, "-o", "x.jsonl")...)
		var ue *usageError
		if !errors.As(err, &ue) {
			t.Errorf("generate %v: %v, want a usage error", args, err)
		}
	}
}
