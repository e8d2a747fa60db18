package triage

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/outsider-sec/outsider/internal/source"
	"github.com/outsider-sec/outsider/internal/testutil"
)

// runSamples runs the engine over the public sample logs called name, or
// skips when they are absent: they are not part of the repository.
func runSamples(t *testing.T, name string) *Report {
	t.Helper()
	paths, err := source.Expand([]string{testutil.SharedSamples(t, name)})
	if err != nil {
		t.Fatal(err)
	}
	r, err := Run(context.Background(), paths, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestDetEngSamples runs the whole engine over blueteam0ps/det-eng-samples:
// 39 data files (and a LICENSE) in three formats, 125 records of which 115 are distinct, and no
// outside identity (every actor there is a member of its tenant).
func TestDetEngSamples(t *testing.T) {
	r := runSamples(t, "det-eng-samples")
	var read int64
	files := 0
	for _, f := range r.Input.Files {
		if filepath.Base(f.Path) == "LICENSE" {
			continue
		}
		files++
		read += f.Records
		if f.Skipped != 0 {
			t.Errorf("%s: %d skipped", f.Path, f.Skipped)
		}
	}
	for _, p := range r.Problems {
		if filepath.Base(p.Path) != "LICENSE" {
			t.Errorf("problem: %s", p.Error())
		}
	}
	if files != 39 || read != 125 {
		t.Errorf("read %d records from %d files, want 125 from 39", read, files)
	}
	if r.Input.Records != 115 || r.Input.Duplicates != 10 {
		t.Errorf("distinct %d, duplicates %d; want 115 and 10", r.Input.Records, r.Input.Duplicates)
	}
	if len(r.Identities) != 0 {
		for _, id := range r.Identities {
			t.Errorf("reported %s (%s, %s): %v", id.User, id.Class, id.Verdict, id.Reasons)
		}
	}
}

// TestElasticSamples reads the Elastic beats test files: STS logons by a
// member, SharePoint sharing records, and every ClientIP notation.
func TestElasticSamples(t *testing.T) {
	r := runSamples(t, "elastic-beats")
	if len(r.Identities) != 0 {
		for _, id := range r.Identities {
			t.Errorf("reported %s (%s, %s): %v", id.User, id.Class, id.Verdict, id.Reasons)
		}
	}
	if r.Input.Records == 0 {
		t.Error("no records read")
	}
	for _, p := range r.Problems {
		t.Logf("problem: %s", p.Error())
	}
}

// TestSentinelOfficeActivity reads a Microsoft Sentinel OfficeActivity
// export (OTRF Security-Datasets), whose renamed columns (TimeGenerated,
// OfficeWorkload, Client_IPAddress, OfficeId) the decoder maps back.
func TestSentinelOfficeActivity(t *testing.T) {
	p := filepath.Join(testutil.SharedSamples(t, "otrf-security-datasets"), "OfficeActivityEvents.json")
	r, err := Run(context.Background(), []string{p}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Input.Records != 1 || r.Input.Skipped != 0 || len(r.Identities) != 0 {
		t.Errorf("records %d skipped %d identities %d; want 1, 0, 0 (problems: %v)", r.Input.Records, r.Input.Skipped, len(r.Identities), r.Problems)
	}
}
