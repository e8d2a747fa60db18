package report

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/outsider-sec/outsider/internal/synth"
	"github.com/outsider-sec/outsider/internal/triage"
)

// TestSharingCountAgrees: the JSON gives each identity's exact count of
// sharing records (|H|), the number text, Markdown, HTML and CSV show,
// even when --max-evidence caps the listed records and when anonymous-link
// use from its IPs (counted in H, listed as evidence) is all there is.
func TestSharingCountAgrees(t *testing.T) {
	// The synthetic tenant has an identity shared with twice and one
	// whose only sharing record is anonymous-link use from its IP.
	var ual bytes.Buffer
	if _, err := synth.Generate(&ual, synth.Options{Seed: 1}); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "tenant.jsonl")
	if err := os.WriteFile(p, ual.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := triage.Run(context.Background(), []string{p}, triage.Options{Workers: 1, MaxEvidence: 1})
	if err != nil {
		t.Fatal(err)
	}
	var js, cs bytes.Buffer
	if err := Render(&js, JSON, r); err != nil {
		t.Fatal(err)
	}
	if err := Render(&cs, CSV, r); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Identities []struct {
			User         string            `json:"user"`
			Sharing      []json.RawMessage `json:"sharing"`
			SharingCount *int64            `json:"sharing_count"`
		} `json:"identities"`
	}
	if err := json.Unmarshal(js.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&cs).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	user, sharing := slices.Index(rows[0], "user"), slices.Index(rows[0], "sharing")
	fromCSV := map[string]string{}
	for _, row := range rows[1:] {
		fromCSV[row[user]] = row[sharing]
	}
	capped := false
	for _, id := range doc.Identities {
		if id.SharingCount == nil {
			t.Fatalf("%s: the JSON has no sharing_count", id.User)
		}
		if got, want := strconv.FormatInt(*id.SharingCount, 10), fromCSV[id.User]; got != want {
			t.Errorf("%s: sharing_count %s, CSV sharing %s", id.User, got, want)
		}
		if int64(len(id.Sharing)) > *id.SharingCount {
			t.Errorf("%s: %d sharing records listed, sharing_count %d", id.User, len(id.Sharing), *id.SharingCount)
		}
		capped = capped || int64(len(id.Sharing)) < *id.SharingCount
	}
	if !capped {
		t.Error("no identity has more sharing records than listed: the test does not check the cap")
	}
}
