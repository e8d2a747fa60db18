package main

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/outsider-sec/outsider/internal/collect"
	"github.com/outsider-sec/outsider/internal/collect/fakems"
	"github.com/outsider-sec/outsider/internal/iostreams"
)

// TestCheckCLI runs collect --check and watch --check against the fake
// over TLS: exit 0 and "collection can work" for a good set-up, exit 1
// with Entra's reason and a next step for a wrong secret, and never the
// secret in the output.
func TestCheckCLI(t *testing.T) {
	const tenant = "6f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"
	fake := &fakems.Server{Tenant: tenant, ClientID: "app-1", Secret: liveSecret,
		ManageResource: "https://manage.office.com", GraphResource: "https://graph.microsoft.com"}
	for _, ct := range []string{"Audit.AzureActiveDirectory", "Audit.Exchange", "Audit.SharePoint", "Audit.General"} {
		fake.Subscribe(ct)
	}
	srv := httptest.NewTLSServer(fake)
	defer srv.Close()
	set := newLiveSetUp(t, srv, tenant)
	secret := set.secretFile
	wrong := filepath.Join(set.tmp, "wrong")
	os.WriteFile(wrong, []byte(liveSecret+"-wrong\n"), 0o600)
	common := append([]string{"--check"}, set.common...)
	run := func(want int, args ...string) string {
		t.Helper()
		ios, _, out, errOut := iostreams.Test()
		code := Main(args, ios)
		all := out.String() + errOut.String()
		t.Logf("outsider %s → %d\n%s", args[0], code, all)
		if code != want {
			t.Fatalf("exit %d, want %d", code, want)
		}
		if strings.Contains(all, liveSecret) {
			t.Errorf("the secret was printed")
		}
		return all
	}
	out := run(0, append([]string{"collect", "--client-secret-file", secret}, common...)...)
	if !strings.Contains(out, "collection can work") || strings.Contains(out, "FAIL") {
		t.Errorf("good set-up:\n%s", out)
	}
	run(0, append([]string{"watch", "--client-secret-file", secret}, common...)...)
	out = run(0, append([]string{"collect", "--client-secret-file", secret, "--format", "json"}, common...)...)
	var rep collect.CheckReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil || !rep.OK || len(rep.Results) < 8 {
		t.Errorf("--check --format json: %v %+v", err, rep)
	}
	out = run(1, append([]string{"collect", "--client-secret-file", wrong}, common...)...)
	for _, want := range []string{"FAIL  token for Office 365 Management APIs", "AADSTS7000215", "next: the client secret is wrong", "collection cannot work"} {
		if !strings.Contains(out, want) {
			t.Errorf("wrong secret: output lacks %q", want)
		}
	}
	run(2, "watch", "--check", "--no-collect", "--archive", set.archive)

	// A collect with the wrong secret says Entra's reason once, not once
	// per source and hour.
	out = run(1, append([]string{"collect", "--client-secret-file", wrong}, common[1:]...)...)
	if n := strings.Count(out, "AADSTS7000215"); n != 1 {
		t.Errorf("wrong secret: AADSTS7000215 %d times in the output, want 1", n)
	}
}
