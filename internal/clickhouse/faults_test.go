package clickhouse

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/outsider-sec/outsider/internal/testutil"
	"github.com/outsider-sec/outsider/internal/triage"
)

// TestMain lets a test run Load in a child process it can kill.
func TestMain(m *testing.M) {
	if spec := os.Getenv("OUTSIDER_CH_CHILD_LOAD"); spec != "" {
		parts := strings.Split(spec, "\n")
		c, err := Open(parts[0])
		if err == nil {
			_, err = Load(context.Background(), c, parts[1:], LoadOptions{Workers: 1, BatchBytes: 16 << 10})
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func count(t *testing.T, c *Client, query string) int64 {
	t.Helper()
	var n int64
	if err := c.Query(context.Background(), query+" FORMAT TSV", nil, func(f []string) error {
		var err error
		n, err = strconv.ParseInt(f[0], 10, 64)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestKilledLoad: a load killed half-way (SIGKILL, through a Distributed
// table over two shards) and run again leaves every record once: the
// tables replace what the second run stores again, and the report is the
// engine's.
func TestKilledLoad(t *testing.T) {
	t.Parallel()
	servers := initServers(t, 2)
	c := servers[0].client
	a := genTenants(t, 12<<20)[0]
	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), "OUTSIDER_CH_CHILD_LOAD="+fmt.Sprintf("http://127.0.0.1:%d/default", servers[0].http)+"\n"+strings.Join(a.paths, "\n"))
	var stderr bytes.Buffer
	child.Stderr = &stderr
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for count(t, c, "SELECT count() FROM "+EventsTable) < 2000 {
		if time.Now().After(deadline) {
			child.Process.Kill()
			t.Fatalf("the child stored nothing: %s", stderr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	child.Process.Kill()
	child.Wait()
	if n := count(t, c, "SELECT count() FROM "+FilesTable); n != 0 {
		t.Fatalf("the load finished before it was killed (%d files): the test shows nothing", n)
	}
	partial := count(t, c, "SELECT count() FROM "+EventsTable)

	res := load(t, c, a.paths)
	t.Logf("killed after %d of %d rows; second run stored %d", partial, res.Rows, res.Rows)
	if got := count(t, c, "SELECT count() FROM "+EventsTable+" FINAL"); got != res.Rows {
		t.Errorf("%d events after the rerun, want %d", got, res.Rows)
	}
	if got := count(t, c, "SELECT count() FROM "+DuplicatesTable+" FINAL"); got != res.Duplicates {
		t.Errorf("%d duplicates after the rerun, want %d", got, res.Duplicates)
	}
	sameJSON(t, "after a killed load", engine(t, a.paths, triage.Options{}), onClickHouse(t, c, TriageOptions{})[a.id])
}

// TestShardDown: with a shard down, triage fails with an error that says
// so; it never reports from the shards that answered. A load retries, then
// fails the same way.
func TestShardDown(t *testing.T) {
	t.Parallel()
	servers := initServers(t, 2)
	c := servers[0].client
	a := genTenants(t, 0)[0]
	load(t, c, a.paths)
	servers[1].stop()
	reps, err := Triage(context.Background(), c, TriageOptions{})
	if err == nil {
		t.Fatalf("a shard down gave %d report(s)", len(reps))
	}
	if reps != nil {
		t.Fatal("a report came back with the error")
	}
	if h := Hint(err); !strings.Contains(h, "shard") {
		t.Errorf("error %q, hint %q: want a hint about a shard", err, h)
	}
	t.Logf("triage: %v (hint: %s)", err, Hint(err))
	_, err = Load(context.Background(), c, a.paths, LoadOptions{Retries: 2, Backoff: 10 * time.Millisecond})
	if err == nil {
		t.Fatal("a load with a shard down succeeded")
	}
	t.Logf("load: %v", err)
}

// TestInsertRetried: an INSERT cut off mid-stream (the connection dropped
// after some rows) is sent again, and nothing is stored twice.
func TestInsertRetried(t *testing.T) {
	t.Parallel()
	s := initServers(t, 1)[0]
	target, _ := url.Parse(fmt.Sprintf("http://127.0.0.1:%d", s.http))
	var inserts, cut atomic.Int64
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Query().Get("query"), "INSERT INTO `"+EventsTable+"`") && inserts.Add(1)%3 == 1 {
			// Pass some rows on, then drop the connection.
			head := make([]byte, 4096)
			n, _ := io.ReadFull(r.Body, head)
			fwd, _ := http.NewRequest(http.MethodPost, target.String()+r.URL.RequestURI(), bytes.NewReader(head[:bytes.LastIndexByte(head[:n], '\n')+1]))
			if resp, err := http.DefaultClient.Do(fwd); err == nil {
				resp.Body.Close()
			}
			cut.Add(1)
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.(*net.TCPConn).SetLinger(0)
				conn.Close()
			}
			return
		}
		fwd, _ := http.NewRequest(http.MethodPost, target.String()+r.URL.RequestURI(), r.Body)
		fwd.Header = r.Header.Clone()
		resp, err := http.DefaultClient.Do(fwd)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	}))
	defer proxy.Close()
	c, err := Open(proxy.URL + "/default")
	if err != nil {
		t.Fatal(err)
	}
	a := genTenants(t, 2<<20)[0]
	res, err := Load(context.Background(), c, a.paths, LoadOptions{Workers: 2, BatchBytes: 128 << 10, Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if cut.Load() == 0 || res.Retried == 0 {
		t.Fatalf("%d inserts cut, %d retried: the test shows nothing", cut.Load(), res.Retried)
	}
	if got := count(t, s.client, "SELECT count() FROM "+EventsTable+" FINAL"); got != res.Rows {
		t.Errorf("%d events, want %d", got, res.Rows)
	}
	sameJSON(t, "after retried inserts", engine(t, a.paths, triage.Options{}), onClickHouse(t, s.client, TriageOptions{})[a.id])
}

// TestHostileValues: a UPN and a tenant id built to break out of a string
// literal (quotes, backslashes, tabs, newlines, a comment, a second
// statement) are data, never SQL: the identities they name are judged as
// the engine judges them, and the queries still select exactly their
// records. The hostile OrganizationId is not a tenant id, so it names no
// tenant (the engine keeps its records whatever --tenant says, and so does
// every scope here); given as --tenant it is still only a literal.
func TestHostileValues(t *testing.T) {
	t.Parallel()
	s := initServers(t, 1)[0]
	const evilUPN = "x' OR 1=1) OR user IN ('a\\'--\t\n;DROP TABLE outsider_events; SELECT '$SCOPE $K \\x27@evil.example"
	const evilTenant = "t' OR tenant != '' OR '\\"
	// What it touched is named as hostilely: every object field the
	// object columns carry, the folders' JSON included.
	const evilObject = "x'); DROP TABLE outsider_events; --\t\n\\ \"] '$KEYS"
	touched := testutil.SPO(2, "FileModified", evilUPN, "86.138.113.66", "https://contoso.sharepoint.com/x.docx")
	touched["SiteUrl"], touched["SourceRelativeUrl"], touched["SourceFileName"] = "https://contoso.sharepoint.com/sites/"+evilObject, evilObject, evilObject
	touched["MailboxOwnerUPN"], touched["TeamName"], touched["ChannelName"] = evilObject, evilObject, evilObject
	touched["Folders"] = []rec{{"Path": evilObject}, {"Path": "\\Inbox\u0000\u202e"}}
	// Its ObjectId with blanks around, which the object parser trims: not
	// the object column's, so stored apart (objects_read 1).
	touched["ObjectId"] = " https://contoso.sharepoint.com/sites/" + evilObject + "/x.docx\t"
	dir := t.TempDir()
	recs := []rec{
		testutil.SignIn(0, "bob@contoso.com", ourTenant, "95.91.100.20", sharePointApp, true),
		testutil.SignIn(1, evilUPN, fabrikam, "86.138.113.66", sharePointApp, true),
		touched,
		testutil.Share(3, "SharingInvitationCreated", "bob@contoso.com", evilUPN, "https://contoso.sharepoint.com/y.docx"),
		testutil.SignIn(4, "clean@fabrikam.example", fabrikam, "86.138.113.67", sharePointApp, true),
	}
	evil := []rec{
		testutil.SignIn(5, "carol@other.example", ourTenant, "95.91.100.30", sharePointApp, true),
		testutil.SignIn(6, evilUPN, fabrikam, "86.138.113.66", sharePointApp, true),
	}
	for _, r := range evil {
		r["OrganizationId"] = evilTenant
	}
	pathA := testutil.WriteJSONL(t, dir, "a.jsonl", recs...)
	pathB := testutil.WriteJSONL(t, dir, "evil.jsonl", evil...)
	// Entra sign-ins to a third-party app whose names (the log's, so the
	// app owner's) are built to break the TSV and the SQL, one longer than
	// the engine keeps; the most frequent must win as in the engine. The
	// same names name the home tenant (homeTenantName, the home tenant's
	// choice), and so the partner.
	evilNames := []string{"HR\tPortal'); DROP TABLE outsider_events; --\n\\", "HR\tPortal'); DROP TABLE outsider_events; --\n\\",
		"nul\u0000 \u202e" + strings.Repeat("é", 200), "Zed"}
	var sig []string
	for i, n := range evilNames {
		j, err := json.Marshal(map[string]any{"id": fmt.Sprint("sig-", i), "createdDateTime": testutil.At(10+i) + "Z",
			"userPrincipalName": "dave@fabrikam.example", "appId": "7f3e2a10-5b6c-4d7e-8f90-a1b2c3d4e5f6", "appDisplayName": n,
			"ipAddress": "203.0.113.68", "homeTenantId": fabrikam, "homeTenantName": n, "resourceTenantId": ourTenant, "status": map[string]any{"errorCode": 0}})
		if err != nil {
			t.Fatal(err)
		}
		sig = append(sig, string(j))
	}
	pathS := testutil.WriteFile(t, dir, "signins.json", []byte("["+strings.Join(sig, ",")+"]"))
	load(t, s.client, []string{pathA, pathB, pathS})
	if n := count(t, s.client, "SELECT count() FROM "+EventsTable); n != int64(len(recs)+len(evil)+len(sig)) {
		t.Fatalf("%d rows stored", n)
	}
	if n := count(t, s.client, "SELECT count() FROM "+EventsTable+" WHERE outcome = 0 AND objects_read = 1 AND object_id != ''"); n != 1 {
		t.Errorf("%d records with an ObjectId of their own, want 1", n)
	}
	reps := onClickHouse(t, s.client, TriageOptions{AllTenants: true})
	if len(reps) != 1 {
		t.Errorf("%d tenants, want 1: a hostile OrganizationId is no tenant", len(reps))
	}
	// Records of no tenant (the hostile OrganizationId is none) are kept
	// with --tenant, as the engine keeps them.
	want := engine(t, []string{pathA, pathB, pathS}, triage.Options{Tenants: []string{ourTenant}})
	if !bytes.Contains(want, []byte(`"name": "HR\tPortal'); DROP TABLE outsider_events; --\n\\",`)) {
		t.Errorf("the engine does not show the most frequent hostile name:\n%s", want)
	}
	if !bytes.Contains(want, []byte(`"name": "HR\tPortal'); DROP TABLE outsider_events; --\n\\",
      "name_source": "sign-in log"`)) {
		t.Errorf("the engine does not name the partner by the most frequent hostile name:\n%s", want)
	}
	for _, kind := range triage.ObjectKinds {
		if !bytes.Contains(want, []byte(`"kind": "`+kind+`"`)) {
			t.Errorf("the engine reports no hostile %s touched", kind)
		}
	}
	sameJSON(t, "hostile UPN, app, tenant and object names", want, reps[ourTenant])
	asTenant := onClickHouse(t, s.client, TriageOptions{Triage: triage.Options{Tenants: []string{evilTenant}}})
	sameJSON(t, "hostile tenant", engine(t, []string{pathB}, triage.Options{Tenants: []string{evilTenant}}), asTenant[strings.ToLower(evilTenant)])
	// The hostile identity was judged on its own records: activity, not
	// everything in the table.
	r, err := Triage(context.Background(), s.client, TriageOptions{Triage: triage.Options{Tenants: []string{ourTenant}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range r[0].Report.Identities {
		if strings.HasPrefix(id.User, "x' or") && (id.Activity.ByUser != 1 || id.Activity.ByIP != 0 || len(id.Sharing) != 1) {
			t.Errorf("hostile identity: by_user %d, by_ip %d, %d sharing", id.Activity.ByUser, id.Activity.ByIP, len(id.Sharing))
		}
	}
	if len(r[0].Report.Identities) != 3 {
		t.Errorf("%d identities, want 3", len(r[0].Report.Identities))
	}
}

// TestQuote: Quote and the TSV escaping carry every byte through the
// server unchanged.
func TestQuote(t *testing.T) {
	t.Parallel()
	s := startServers(t, 1)[0]
	values := []string{"", "plain", "it's", `back\slash`, "tab\there", "new\nline", "nul\x00byte", "é ü 😀", "\xff\xfe", "'); DROP TABLE x; --", `\'`, "$SCOPE"}
	for _, v := range values {
		var got string
		var tsv []byte
		tsv = AppendTSV(tsv, []byte(v))
		err := s.client.Query(context.Background(), "SELECT "+Quote(v)+", user FROM "+extNames+" FORMAT TSV",
			[]External{{Name: extNames, Structure: "user String", Rows: append(tsv, '\n')}}, func(f []string) error {
				if f[0] != f[1] {
					return fmt.Errorf("literal %q, external data %q", f[0], f[1])
				}
				got = f[0]
				return nil
			})
		if err != nil {
			t.Fatalf("%q: %v", v, err)
		}
		if got != v {
			t.Errorf("%q came back as %q", v, got)
		}
	}
}

// TestErrors: the messages and hints a user sees.
func TestErrors(t *testing.T) {
	t.Parallel()
	s := startServers(t, 1)[0]
	_, err := Triage(context.Background(), s.client, TriageOptions{})
	var e *Error
	if !errors.As(err, &e) || e.Code != codeUnknownTable || !strings.Contains(Hint(err), "--init") {
		t.Errorf("no tables: %v (hint %q)", err, Hint(err))
	}
	dead, _ := Open("http://127.0.0.1:" + strconv.Itoa(freePort(t)))
	if _, err := dead.Ping(context.Background()); err == nil || !strings.Contains(Hint(err), "running") {
		t.Errorf("no server: %v (hint %q)", err, Hint(err))
	}
	if _, err := Open("postgres://x"); err == nil {
		t.Error("a postgres DSN was accepted")
	}
}
