package triage

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/outsider-sec/outsider/internal/source"
	"github.com/outsider-sec/outsider/internal/synth"
	"github.com/outsider-sec/outsider/internal/testutil"
)

// TestStrayQuoteSaysRowsJoined: a Purview CSV row cut short inside its
// quoted AuditData makes the rows after it part of that field until a
// later stray quote (here at the start of row 10) pairs with it. The one problem reported must say that the
// row ran over line breaks, so that the analyst knows more than one
// record may be lost there; an intact row says nothing of the kind.
func TestStrayQuoteSaysRowsJoined(t *testing.T) {
	data, _ := generate(t, synth.Options{Seed: 9, Format: "purview-csv"})
	lines := bytes.SplitAfter(data, []byte("\n"))
	if len(lines) < 12 {
		t.Fatalf("only %d lines generated", len(lines))
	}
	// Row 6 (line index 5) loses its end, from the middle of AuditData.
	row := lines[5]
	at := bytes.Index(row, []byte(`""Id""`))
	if at < 0 {
		t.Fatalf("row 6 has no Id: %q", row)
	}
	broken := append(append([][]byte{}, lines[:5]...), append(row[:at:at], '\n'))
	broken = append(broken, lines[6:9]...)
	// Row 10 starts with a stray quote, which pairs with row 6's.
	broken = append(broken, append([]byte{'"'}, lines[9]...))
	broken = append(broken, lines[10:]...)
	p := testutil.WriteFile(t, t.TempDir(), "cut.csv", bytes.Join(broken, nil))

	var probs []source.Problem
	_, err := Run(context.Background(), []string{p}, Options{OnProblem: func(pr source.Problem) { probs = append(probs, pr) }})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, pr := range probs {
		if pr.Line == 6 {
			found = true
			if !strings.Contains(pr.Reason, "the row runs over") || !strings.Contains(pr.Reason, "stray quote") {
				t.Errorf("row 6's problem does not say it ran over line breaks: %s", pr.Error())
			}
		} else if strings.Contains(pr.Reason, "runs over") {
			t.Errorf("a row that did not run over line breaks says so: %s", pr.Error())
		}
	}
	if !found {
		t.Errorf("no problem at row 6: %v", probs)
	}
}
