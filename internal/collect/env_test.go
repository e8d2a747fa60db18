package collect

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io/fs"
	"math/big"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/outsider-sec/outsider/internal/collect/fakems"
	"github.com/outsider-sec/outsider/internal/synth"
	"github.com/outsider-sec/outsider/internal/testutil"
)

// The secret the tests use; no output, log, archive file or state may hold
// it.
const testSecret = "s3cr3t~Q8w.VALUE-never-printed_7Zk"

const testClientID = "0b1c2d3e-4f50-4617-8a9b-0c1d2e3f4a5b"

// clock is a settable clock shared by the fake service and the collector.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// testData is a synthetic tenant cut into content blobs and sign-ins,
// made once.
type testData struct {
	expected   *synth.Expected
	blobs      []*fakems.Blob
	signins    []fakems.SignIn
	duplicates int
	// now is the service's time: six hours after the last record.
	now time.Time
}

var (
	dataOnce sync.Once
	data     testData
)

func getData(t *testing.T) testData {
	t.Helper()
	dataOnce.Do(func() {
		var buf bytes.Buffer
		exp, err := synth.Generate(&buf, synth.Options{Seed: 1, Days: 6})
		if err != nil {
			panic(err)
		}
		blobs, signins, dups, err := fakems.Split(&buf, fakems.SplitOptions{DuplicateEvery: 40})
		if err != nil {
			panic(err)
		}
		data = testData{expected: exp, blobs: blobs, signins: signins, duplicates: dups,
			now: synth.DefaultStart.Add(6*24*time.Hour + 6*time.Hour)}
	})
	return data
}

// env is a fake Microsoft behind TLS and a collector configured for it.
type env struct {
	t     *testing.T
	data  testData
	fake  *fakems.Server
	srv   *httptest.Server
	clock *clock
	dir   string
	log   *testutil.SyncBuffer
	// sleeps records the waits the collector asked for.
	sleepMu sync.Mutex
	sleeps  []time.Duration
	// blobs are the fake's blobs; skip the ids marked expired or
	// malformed.
	blobs []*fakems.Blob
	skip  map[string]bool
}

func newEnv(t *testing.T) *env {
	t.Helper()
	d := getData(t)
	e := &env{t: t, data: d, clock: &clock{t: d.now}, dir: t.TempDir(), log: &testutil.SyncBuffer{}, skip: map[string]bool{}}
	// Fresh blob values: tests mark some expired or malformed.
	var blobs []*fakems.Blob
	for _, b := range d.blobs {
		c := *b
		blobs = append(blobs, &c)
	}
	e.fake = &fakems.Server{
		Tenant: d.expected.TenantID, ClientID: testClientID, Secret: testSecret,
		ManageResource: "https://manage.office.com", GraphResource: "https://graph.microsoft.com",
		Now: e.clock.Now, PageSize: 7, GraphPageSize: 4,
	}
	e.fake.AddBlobs(blobs...)
	e.blobs = blobs
	e.fake.AddSignIns(d.signins...)
	e.srv = httptest.NewTLSServer(e.fake)
	t.Cleanup(e.srv.Close)
	return e
}

// config points a collector at the fake, with tiny backoffs.
func (e *env) config() Config {
	return Config{
		Cloud: Cloud{
			Name: "test", LoginURL: e.srv.URL,
			ManageURL: e.srv.URL, ManageResource: "https://manage.office.com",
			GraphURL: e.srv.URL, GraphResource: "https://graph.microsoft.com",
		},
		Credentials: &Credentials{TenantID: e.data.expected.TenantID, ClientID: testClientID, Secret: NewSecret(testSecret)},
		Signins:     true,
		HTTPClient:  e.srv.Client(),
		Timeout:     5 * time.Second,
		Retry:       Retry{Attempts: 8, Base: time.Millisecond, Max: 4 * time.Millisecond, MaxRetryAfter: time.Hour},
		Now:         e.clock.Now,
		Sleep: func(ctx context.Context, d time.Duration) error {
			e.sleepMu.Lock()
			e.sleeps = append(e.sleeps, d)
			e.sleepMu.Unlock()
			return ctx.Err()
		},
		Log: e.log,
	}
}

// closedAddr is a local host:port that nobody listens on: one that was
// listened on a moment ago and closed.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// failingConfig makes every request to e's fake fail with a server
// error and returns a configuration that collects one content type and no
// sign-ins: the set-up of the tests of giving up.
func (e *env) failingConfig() Config {
	e.fake.Faults = fakems.Faults{ServerErrorEvery: 1}
	cfg := e.config()
	cfg.Signins = false
	cfg.ContentTypes = []string{"Audit.Exchange"}
	return cfg
}

// certConfig is e's configuration signing in with a new test certificate
// that the fake service accepts.
func (e *env) certConfig(t *testing.T) Config {
	t.Helper()
	certPath, cert := testCert(t, t.TempDir())
	e.fake.Cert = cert
	c, k, err := ReadCertificate(certPath, "")
	if err != nil {
		t.Fatal(err)
	}
	cfg := e.config()
	cfg.Credentials = &Credentials{TenantID: e.data.expected.TenantID, ClientID: testClientID, Cert: c, Key: k}
	return cfg
}

// run opens the archive, collects and closes it.
func (e *env) run(ctx context.Context, cfg Config) (*Summary, error) {
	e.t.Helper()
	a, err := OpenArchive(ctx, e.dir, "")
	if err != nil {
		e.t.Fatal(err)
	}
	defer a.Close()
	return Run(ctx, a, cfg)
}

// archived reads every record line under sub (ual or signins), by the
// record's id, counting copies, and fails on any hidden leftover file.
func (e *env) archived(sub string) map[string]int {
	e.t.Helper()
	out := map[string]int{}
	root := filepath.Join(e.dir, sub)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return nil
			}
			return err
		}
		if d.IsDir() {
			return nil
		}
		if strings.HasPrefix(d.Name(), ".") {
			e.t.Errorf("leftover hidden file %s", p)
			return nil
		}
		for _, line := range gunzipLines(e.t, p) {
			var r struct {
				Id string `json:"Id"`
				ID string `json:"id"`
			}
			if err := json.Unmarshal(line, &r); err != nil {
				e.t.Fatalf("%s: %v", p, err)
			}
			out[r.Id+r.ID]++
		}
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

func gunzipLines(t *testing.T, path string) [][]byte {
	t.Helper()
	b, err := testutil.Gunzip(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var out [][]byte
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		out = append(out, append([]byte(nil), sc.Bytes()...))
	}
	return out
}

// wantUAL is the record-id multiset the archive must hold: every blob's
// records once (ids repeated across blobs count once per blob), expired
// and malformed blobs left out.
func (e *env) wantUAL() map[string]int {
	want := map[string]int{}
	for _, b := range e.data.blobs {
		if e.skipped(b.ContentID) {
			continue
		}
		for _, r := range b.Records {
			var x struct{ Id string }
			json.Unmarshal(r, &x)
			want[x.Id]++
		}
	}
	return want
}

func (e *env) skipped(id string) bool { return e.skip[id] }

// mark makes the fake answer blob i as expired or malformed.
func (e *env) mark(i int, expired bool) *fakems.Blob {
	b := e.blobs[i]
	if expired {
		b.Expired = true
	} else {
		b.Malformed = true
	}
	e.skip[b.ContentID] = true
	return b
}

func (e *env) wantSignins() map[string]int {
	want := map[string]int{}
	for _, s := range e.data.signins {
		var x struct{ ID string }
		json.Unmarshal(s.JSON, &x)
		want[x.ID]++
	}
	return want
}

func diffCounts(t *testing.T, what string, got, want map[string]int) {
	t.Helper()
	var bad []string
	for k, w := range want {
		if got[k] != w {
			bad = append(bad, k)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			bad = append(bad, k)
		}
	}
	sort.Strings(bad)
	if len(bad) > 0 {
		n := len(bad)
		if n > 5 {
			bad = bad[:5]
		}
		for _, k := range bad {
			t.Errorf("%s: record %s archived %d times, want %d", what, k, got[k], want[k])
		}
		t.Fatalf("%s: %d records wrong (of %d)", what, n, len(want))
	}
}

// testCert makes a self-signed certificate and its key as one PEM file.
func testCert(t *testing.T, dir string) (string, *x509.Certificate) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "outsider-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	kder, _ := x509.MarshalPKCS8PrivateKey(key)
	var b bytes.Buffer
	pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: der})
	pem.Encode(&b, &pem.Block{Type: "PRIVATE KEY", Bytes: kder})
	p := filepath.Join(dir, "cert.pem")
	if err := os.WriteFile(p, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return p, cert
}
