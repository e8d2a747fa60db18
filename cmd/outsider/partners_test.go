package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/outsider-sec/outsider/internal/iostreams"
	"github.com/outsider-sec/outsider/internal/triage"
)

// TestPartnerNamesFlag: --partner-names names a home tenant over its
// domains, a bad row is reported with file and row and the run goes on,
// and a file that cannot be read is an error.
func TestPartnerNamesFlag(t *testing.T) {
	in, err := filepath.Abs(filepath.Join("..", "..", "internal", "report", "testdata", "tenant.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	dir := chdir(t)
	names := filepath.Join(dir, "names.csv")
	writeFile(t, names, "tenant id,name\n0D1E2F3A-4B5C-4D6E-8F70-8192A3B4C5D6,\"Fabrikam, Inc.\"\nnot-a-tenant,X\n")
	ios, _, out, errOut := iostreams.Test()
	run(context.Background(), []string{"triage", in, "--partner-names", names, "--format", "json"}, &factory{IO: ios, Getenv: testEnv(t, nil)})
	var r triage.Report
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("%v\nstderr %s", err, errOut)
	}
	if !strings.Contains(errOut.String(), "outsider: skipped: "+names+": row 3: tenant id is not a GUID") {
		t.Errorf("stderr %q: no problem for row 3", errOut)
	}
	got := map[string]string{}
	for _, p := range r.Partners {
		got[p.TenantID] = p.Name + " (" + p.NameSource + ")"
	}
	if got["0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6"] != "Fabrikam, Inc. (partner-names)" || got["7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d"] != "northwind.example (domain)" {
		t.Errorf("partners %q", got)
	}
	for _, id := range r.Identities {
		if id.HomeTenant == "0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6" && id.Partner != "Fabrikam, Inc." {
			t.Errorf("%s: partner %q", id.User, id.Partner)
		}
	}

	ios, _, _, errOut = iostreams.Test()
	code := run(context.Background(), []string{"triage", in, "--partner-names", filepath.Join(dir, "none.csv")}, &factory{IO: ios, Getenv: testEnv(t, nil)})
	if code == 0 || !strings.Contains(errOut.String(), "--partner-names: ") || !strings.Contains(errOut.String(), "none.csv") {
		t.Errorf("missing file: exit %d, stderr %q", code, errOut)
	}
}
