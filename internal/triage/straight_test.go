package triage

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/outsider-sec/outsider/internal/audit"
	"github.com/outsider-sec/outsider/internal/source"
	"github.com/outsider-sec/outsider/internal/synth"
	"github.com/outsider-sec/outsider/internal/testutil"
)

// The fast path (framing in batches, the hand-written single-pass decoder,
// parallel workers, the ordered deduplication step, user-sharded aggregates
// merged at the end) must give byte-identical reports to the
// straightforward path: read the file line by line, decode each record
// with encoding/json, deduplicate with a map, fold records into one
// aggregate in file order. Every speed change is checked against it here.

// stdRecord is the subset of a UAL record the engine reads, decoded by
// encoding/json.
type stdRecord struct {
	ID                    string `json:"Id"`
	CreationTime          string
	RecordType            json.RawMessage
	UserType              json.RawMessage
	Operation             string
	Workload              string
	OrganizationID        string `json:"OrganizationId"`
	ActorContextID        string `json:"ActorContextId"`
	UserID                string `json:"UserId"`
	UserKey               string
	ClientIP              string
	ActorIPAddress        string `json:"ActorIpAddress"`
	ClientIPAddress       string
	ApplicationID         string `json:"ApplicationId"`
	ResultStatus          string
	ResultStatusDetail    string
	LogonError            string
	ErrorNumber           json.RawMessage
	UserAgent             string
	ClientInfoString      string
	ObjectID              string `json:"ObjectId"`
	TargetUserOrGroupName string
	UserSharedWith        string
	TargetUserOrGroupType string
	InterSystemsID        string `json:"InterSystemsId"`
	IntraSystemID         string `json:"IntraSystemId"`
	Actor                 []struct {
		ID   string
		Type int
	}
	ExtendedProperties []struct{ Name, Value string }
}

func rawInt(m json.RawMessage) int {
	s := strings.Trim(string(m), `"`)
	n, err := strconv.Atoi(s)
	if err != nil || len(m) == 0 {
		return -1
	}
	return n
}

// stdEvent turns a stdRecord into the engine's Event, field by field as
// docs/rules.md describes them.
func stdEvent(t testing.TB, line []byte) audit.Event {
	t.Helper()
	var r stdRecord
	if err := json.Unmarshal(line, &r); err != nil {
		t.Fatalf("encoding/json: %v", err)
	}
	ev := audit.Event{RecordType: rawInt(r.RecordType), UserType: rawInt(r.UserType)}
	tm, ok := audit.ParseTime([]byte(r.CreationTime))
	if !ok {
		t.Fatalf("time %q", r.CreationTime)
	}
	ev.Time = tm
	b := func(s string) []byte {
		if s == "" {
			return nil
		}
		return []byte(s)
	}
	lower := func(s string) []byte { return b(strings.ToLower(s)) }
	ev.ID, ev.Operation, ev.Workload = b(r.ID), b(r.Operation), b(r.Workload)
	ev.OrgID, ev.ActorTenant, ev.AppID = lower(r.OrganizationID), lower(r.ActorContextID), lower(r.ApplicationID)
	ev.UserID, ev.UserKey = b(r.UserID), b(r.UserKey)
	ev.ResultStatus, ev.ResultStatusDetail, ev.LogonError = b(r.ResultStatus), b(r.ResultStatusDetail), b(r.LogonError)
	ev.ErrorNumber = b(strings.Trim(string(r.ErrorNumber), `"`))
	if string(r.ErrorNumber) == "null" {
		ev.ErrorNumber = nil
	}
	ev.ObjectID, ev.TargetType = b(r.ObjectID), b(r.TargetUserOrGroupType)
	ev.InterSystemsID, ev.IntraSystemID = lower(r.InterSystemsID), lower(r.IntraSystemID)
	ev.UserAgent = b(r.UserAgent)
	if ev.UserAgent == nil {
		ev.UserAgent = b(r.ClientInfoString)
	}
	ev.Target = b(r.TargetUserOrGroupName)
	if ev.Target == nil {
		ev.Target = b(r.UserSharedWith)
	}
	for _, ip := range []string{r.ClientIP, r.ActorIPAddress, r.ClientIPAddress} {
		if a, ok := audit.ParseIP([]byte(ip)); ok && !containsAddr(ev.IPList(), a) {
			ev.IPs[ev.NIPs] = a
			ev.NIPs++
		}
	}
	for _, a := range r.Actor {
		if strings.EqualFold(a.ID, "unknown") {
			ev.ActorUnknown = true
		} else if a.Type == 0 && ev.ActorObject == nil && audit.IsGUID([]byte(a.ID)) {
			ev.ActorObject = []byte(a.ID)
		}
	}
	for _, p := range r.ExtendedProperties {
		switch p.Name {
		case "UserAgent":
			if p.Value != "" {
				ev.UserAgent = []byte(p.Value)
			}
		case "ResultStatusDetail":
			ev.ResultStatusDetail = b(p.Value)
		}
	}
	ev.User, ev.UserKind, _ = audit.Canonical(ev.UserID, nil)
	return ev
}

func containsAddr(list []netip.Addr, a netip.Addr) bool {
	for _, x := range list {
		if x == a {
			return true
		}
	}
	return false
}

// straightforward triages one JSON Lines file the plain way.
func straightforward(t testing.TB, path string, k int) *Report {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	a := newAgg(k)
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	var line int64
	for sc.Scan() {
		line++
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 {
			continue
		}
		ev := stdEvent(t, text)
		a.countFile(0, 1, 0)
		if seen[string(ev.ID)] {
			a.dups++
			continue
		}
		seen[string(ev.ID)] = true
		a.add(&ev, 0, line)
	}
	a.flushOrgs()
	inputs := []source.Input{{Path: path, Format: source.UALJSONL}}
	r := finish(a, inputs, &problems{byFile: map[string][]source.Problem{}}, Options{}, k)
	lookAgain(context.Background(), []string{path}, inputs, r, Options{}, k)
	return r
}

// TestFastPathMatchesStraightforward compares the two paths byte for byte
// on generated tenants (scenarios, member noise, duplicates).
func TestFastPathMatchesStraightforward(t *testing.T) {
	dir := t.TempDir()
	for _, o := range []synth.Options{{Seed: 1}, {Seed: 2, Duplicates: 11}, {Seed: 3, Size: 4 << 20, Duplicates: 97}} {
		data, _ := generate(t, o)
		p := testutil.WriteFile(t, dir, "t.jsonl", data)
		want, _ := json.Marshal(straightforward(t, p, DefaultMaxEvidence))
		for _, workers := range []int{1, 2, 5} {
			r, err := Run(context.Background(), []string{p}, Options{Workers: workers, Source: source.Options{BatchBytes: 256 << 10}})
			if err != nil {
				t.Fatal(err)
			}
			got, _ := json.Marshal(r)
			if !bytes.Equal(got, want) {
				t.Fatalf("seed %d, %d workers: the fast path's report differs from the straightforward one:\nfast: %.600s\nplain: %.600s", o.Seed, workers, got, want)
			}
		}
	}
}
