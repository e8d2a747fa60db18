package main

import (
	"bytes"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"io/fs"
	"log"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/outsider-sec/outsider/internal/collect/fakems"
	"github.com/outsider-sec/outsider/internal/iostreams"
	"github.com/outsider-sec/outsider/internal/synth"
	"github.com/outsider-sec/outsider/internal/testutil"
	"github.com/outsider-sec/outsider/internal/triage"
	"github.com/outsider-sec/outsider/internal/watch"
)

const liveSecret = "cli-Secret.value~9d8f7a6b5c4d3e2f1"

// TestLiveCLI drives the four commands end to end against the in-process
// fake of Microsoft's services over TLS (its certificate given with
// --ca-file): collect, triage of the archive, watch --once, dispose,
// status; and checks that the client secret and the access tokens appear
// in no output, archive file or state.
func TestLiveCLI(t *testing.T) {
	start := time.Now().UTC().Truncate(time.Hour).Add(-6*24*time.Hour - 6*time.Hour)
	var buf bytes.Buffer
	exp, err := synth.Generate(&buf, synth.Options{Seed: 1, Days: 6, Start: start})
	if err != nil {
		t.Fatal(err)
	}
	blobs, signins, _, err := fakems.Split(&buf, fakems.SplitOptions{DuplicateEvery: 25})
	if err != nil {
		t.Fatal(err)
	}
	fake := &fakems.Server{Tenant: exp.TenantID, ClientID: "app-1", Secret: liveSecret,
		ManageResource: "https://manage.office.com", GraphResource: "https://graph.microsoft.com", PageSize: 20, GraphPageSize: 100}
	fake.AddBlobs(blobs...)
	fake.AddSignIns(signins...)
	srv := httptest.NewTLSServer(fake)
	defer srv.Close()

	set := newLiveSetUp(t, srv, exp.TenantID)
	tmp, secretFile, archive, common := set.tmp, set.secretFile, set.archive, set.common

	var outputs []string
	run := func(want int, args ...string) string {
		t.Helper()
		ios, _, out, errOut := iostreams.Test()
		code := Main(args, ios)
		outputs = append(outputs, out.String(), errOut.String())
		if code != want {
			t.Fatalf("outsider %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, want, out, errOut)
		}
		return out.String()
	}

	out := run(0, append([]string{"collect", "--client-secret-file", secretFile}, common...)...)
	for _, want := range []string{"Audit.SharePoint", "signins", "ok"} {
		if !strings.Contains(out, want) {
			t.Errorf("collect summary lacks %q:\n%s", want, out)
		}
	}
	// triage reads the archive's ual folder as it is.
	out = run(0, "triage", filepath.Join(archive, "ual"), "--format", "json")
	var rep triage.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Identities) != len(exp.Identities) || rep.Input.Records != exp.Records {
		t.Errorf("triage of the archive: %d identities, %d records; want %d, %d", len(rep.Identities), rep.Input.Records, len(exp.Identities), exp.Records)
	}

	// watch --once with the secret from the environment, findings to a
	// file.
	t.Setenv("OUTSIDER_CLIENT_SECRET", liveSecret)
	findings := filepath.Join(tmp, "findings.jsonl")
	run(0, append([]string{"watch", "--once", "--findings", findings}, common...)...)
	lines := readLines(t, findings)
	info := 0
	for _, id := range exp.Identities {
		if id.Severity == triage.SeverityInfo {
			info++
		}
	}
	if len(lines) != len(exp.Identities)-info {
		t.Fatalf("%d findings, want %d (info held back by default)", len(lines), len(exp.Identities)-info)
	}
	var f watch.Finding
	json.Unmarshal([]byte(lines[0]), &f)
	if f.Schema != watch.FindingSchema || f.Kind != "new" {
		t.Errorf("finding: %s", lines[0])
	}
	// A second cycle with --min-severity info reports the held ones.
	run(0, append([]string{"watch", "--once", "--findings", findings, "--min-severity", "INFO"}, common...)...)
	if n := len(readLines(t, findings)); n != len(exp.Identities) {
		t.Errorf("second cycle: %d finding lines in all, want %d", n, len(exp.Identities))
	}
	run(2, append([]string{"watch", "--once", "--min-severity", "severe"}, common...)...)
	// Triage-only watch needs no credentials.
	t.Setenv("OUTSIDER_CLIENT_SECRET", "")
	run(0, "watch", "--once", "--no-collect", "--archive", archive, "--findings", findings)

	out = run(0, "dispose", strings.ToUpper(f.User), "--as", "benign", "--note", "partner tenant", "--archive", archive)
	if !strings.Contains(out, f.User) || !strings.Contains(out, "benign") {
		t.Errorf("dispose said: %s", out)
	}
	run(1, "dispose", "nobody@nowhere.example", "--as", "malicious", "--archive", archive)
	out = run(0, "dispose", "--tenant", strings.ToUpper(f.HomeTenant), "--as", "benign", "--note", "partner", "--archive", archive)
	if !strings.Contains(out, f.HomeTenant) || !strings.Contains(out, "below high") {
		t.Errorf("dispose --tenant said: %s", out)
	}
	run(2, "dispose", "--tenant", f.HomeTenant, "--as", "malicious", "--archive", archive)
	run(2, "dispose", "--tenant", "not-a-guid", "--as", "benign", "--archive", archive)
	run(2, "dispose", f.User, "--tenant", f.HomeTenant, "--as", "benign", "--archive", archive)
	if out = run(0, "status", "--archive", archive); !strings.Contains(out, f.HomeTenant) || !strings.Contains(out, "Held back") {
		t.Errorf("status lacks the tenant disposition:\n%s", out)
	}
	run(0, "dispose", "--tenant", f.HomeTenant, "--withdraw", "--archive", archive)
	run(1, "dispose", "--tenant", f.HomeTenant, "--withdraw", "--archive", archive)
	out = run(0, "status", "--archive", archive)
	for _, want := range []string{"Audit.AzureActiveDirectory", "signins", "LAG", "1 disposed", "open finding"} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
	out = run(0, "status", "--archive", archive, "--format", "json")
	var st watch.Status
	if err := json.Unmarshal([]byte(out), &st); err != nil || st.Disposed != 1 || len(st.Open) != len(exp.Identities)-1 {
		t.Errorf("status json: %v %+v", err, st)
	}

	// A wrong secret fails with Entra's reason and no secret.
	bad := filepath.Join(tmp, "bad")
	os.WriteFile(bad, []byte(liveSecret+"-wrong"), 0o600)
	run(1, append([]string{"collect", "--client-secret-file", bad, "--no-signins", "--content-types", "Audit.Exchange"}, common...)...)
	if !strings.Contains(outputs[len(outputs)-1], "AADSTS7000215") {
		t.Errorf("wrong secret: %s", outputs[len(outputs)-1])
	}

	needles := append([]string{liveSecret}, fake.IssuedTokens()...)
	for _, o := range outputs {
		for _, n := range needles {
			if strings.Contains(o, n) {
				t.Fatalf("a secret or token was printed: %q", o)
			}
		}
	}
	testutil.AssertNotInDir(t, archive, needles, 10)
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

// TestCollectKilled runs 'outsider collect' as a real process and kills
// it (SIGKILL: no deferred cleanup, no flush) at random moments, again and
// again, then lets one run finish: the archive then holds every record
// exactly once per blob and every sign-in exactly once, and no leftover.
func TestCollectKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	start := time.Now().UTC().Truncate(time.Hour).Add(-6*24*time.Hour - 6*time.Hour)
	var buf bytes.Buffer
	exp, err := synth.Generate(&buf, synth.Options{Seed: 2, Days: 6, Start: start})
	if err != nil {
		t.Fatal(err)
	}
	blobs, signins, _, err := fakems.Split(&buf, fakems.SplitOptions{MaxRecords: 3, DuplicateEvery: 30})
	if err != nil {
		t.Fatal(err)
	}
	fake := &fakems.Server{Tenant: exp.TenantID, ClientID: "app-1", Secret: liveSecret,
		ManageResource: "https://manage.office.com", GraphResource: "https://graph.microsoft.com", PageSize: 4, GraphPageSize: 3,
	}
	fake.AddBlobs(blobs...)
	fake.AddSignIns(signins...)
	// The hook is set before the server starts: the server's goroutines
	// then see it (set later, the race detector rightly objects).
	var served atomic.Int64
	var victim atomic.Pointer[os.Process]
	var at atomic.Int64
	fake.OnRequest = func(int) {
		// Kill at the at-th request of this run, wherever the run is.
		if served.Add(1) == at.Load() {
			if p := victim.Load(); p != nil {
				p.Kill()
			}
		}
	}
	srv := httptest.NewUnstartedServer(fake)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // killed clients break handshakes
	srv.StartTLS()
	defer srv.Close()
	set := newLiveSetUp(t, srv, exp.TenantID)
	archive := set.archive
	args := append([]string{"collect", "--quiet"}, set.common...)
	env := append(os.Environ(), "OUTSIDER_CLIENT_SECRET="+liveSecret)

	rnd := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	killed := 0
	for i := 0; i < 10; i++ {
		cmd := exec.Command("outsider", args...)
		cmd.Env = env
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		served.Store(0)
		at.Store(int64(1 + rnd.IntN(200)))
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		victim.Store(cmd.Process)
		err := cmd.Wait()
		victim.Store(nil)
		if err != nil {
			if ee, ok := err.(*exec.ExitError); !ok || ee.Success() || !strings.Contains(ee.String(), "killed") {
				t.Fatalf("run %d: %v\n%s", i, err, stderr.String())
			}
			killed++
		}
		checkArchive(t, archive, blobs, signins, false)
	}
	fake.OnRequest = nil
	ios, _, _, errOut := iostreams.Test()
	t.Setenv("OUTSIDER_CLIENT_SECRET", liveSecret)
	if code := Main(args, ios); code != 0 {
		t.Fatalf("final run: exit %d\n%s", code, errOut)
	}
	t.Logf("%d of 10 runs killed", killed)
	if killed == 0 {
		t.Error("no run was killed")
	}
	checkArchive(t, archive, blobs, signins, true)
}

// liveSetUp is what the commands of a test need to reach a fake of
// Microsoft's services over TLS.
type liveSetUp struct {
	tmp        string // the test's folder
	archive    string // the archive, in tmp
	secretFile string // the client secret, in tmp
	// common are the flags every command of the test gives: the archive,
	// tenant, client app-1, the fake's endpoints and its certificate.
	common []string
}

// newLiveSetUp writes srv's certificate (for --ca-file) and the client
// secret (mode 0600, as a secret file should be) to a fresh folder.
func newLiveSetUp(t *testing.T, srv *httptest.Server, tenant string) liveSetUp {
	t.Helper()
	tmp := t.TempDir()
	ca := filepath.Join(tmp, "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	secretFile := filepath.Join(tmp, "secret")
	if err := os.WriteFile(secretFile, []byte(liveSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(tmp, "archive")
	return liveSetUp{tmp: tmp, archive: archive, secretFile: secretFile,
		common: []string{"--archive", archive, "--tenant-id", tenant, "--client-id", "app-1",
			"--login-endpoint", srv.URL, "--manage-endpoint", srv.URL, "--graph-endpoint", srv.URL, "--ca-file", ca}}
}

// checkArchive counts record ids in the archive: never more than once per
// blob holding them (and, when complete, exactly that), sign-ins never
// twice (and, when complete, all of them); no leftover temporary file
// once complete.
func checkArchive(t *testing.T, archive string, blobs []*fakems.Blob, signins []fakems.SignIn, complete bool) {
	t.Helper()
	want := map[string]int{}
	for _, b := range blobs {
		for _, r := range b.Records {
			var x struct{ Id string }
			json.Unmarshal(r, &x)
			want[x.Id]++
		}
	}
	for _, s := range signins {
		var x struct{ ID string }
		json.Unmarshal(s.JSON, &x)
		want["signin:"+x.ID]++
	}
	got := map[string]int{}
	for _, sub := range []string{"ual", "signins"} {
		filepath.WalkDir(filepath.Join(archive, sub), func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			if strings.HasPrefix(d.Name(), ".") {
				if complete {
					t.Errorf("leftover %s", p)
				}
				return nil
			}
			b, err := testutil.Gunzip(p)
			if err != nil {
				t.Fatalf("%s: %v (a half-written file in place)", p, err)
			}
			for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
				var x map[string]any
				if err := json.Unmarshal([]byte(line), &x); err != nil {
					t.Fatalf("%s: %v", p, err)
				}
				if sub == "signins" {
					got[fmt.Sprint("signin:", x["id"])]++
				} else {
					got[fmt.Sprint(x["Id"])]++
				}
			}
			return nil
		})
	}
	for id, n := range got {
		if n > want[id] {
			t.Fatalf("%s archived %d times, want at most %d", id, n, want[id])
		}
	}
	if complete {
		for id, n := range want {
			if got[id] != n {
				t.Fatalf("%s archived %d times, want %d", id, got[id], n)
			}
		}
	}
}
