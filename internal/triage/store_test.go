package triage

import (
	"bytes"
	"context"
	"encoding/json"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/outsider-sec/outsider/internal/audit"
	"github.com/outsider-sec/outsider/internal/source"
	"github.com/outsider-sec/outsider/internal/synth"
	"github.com/outsider-sec/outsider/internal/testutil"
)

// storedRow is a record as a store outside the process keeps it: what
// Stream gives, normalised once, nothing aliasing the batch.
type storedRow struct {
	id, user, rawUser, op, app, ua, actorTenant, org, object, target, shareTo string
	guestHost, cross, userType, location, ca, risk, clientApp, appName        string
	t                                                                         int64
	file                                                                      int
	line                                                                      int64
	kind                                                                      audit.Kind
	userKind                                                                  audit.UserKind
	outcome                                                                   audit.Outcome
	cats                                                                      audit.Category
	ips                                                                       []netip.Addr
	copy, guest, actorUnknown                                                 bool
	movedFrom                                                                 audit.Outcome
	interactive                                                               *bool
	workload                                                                  audit.Workload
	objects                                                                   ObjectFields
}

func storeRow(d Decoded) storedRow {
	ev := d.Event
	r := storedRow{id: string(ev.ID), rawUser: string(ev.UserID), op: string(ev.Operation), app: string(ev.AppID),
		ua: string(ev.UserAgent), actorTenant: string(ev.ActorTenant), org: string(ev.OrgID), object: string(ev.ObjectID),
		target: string(ev.Target), t: ev.Time, file: d.File, line: d.Line, kind: ev.Kind, userKind: ev.UserKind,
		outcome: ev.Outcome(), copy: d.Fate == SigninCopy, movedFrom: d.MovedFrom, actorUnknown: ev.ActorUnknown,
		cross: string(ev.CrossTenantAccessType), userType: string(ev.UserTypeName), ca: string(ev.ConditionalAccessStatus),
		risk: string(ev.RiskLevel), clientApp: string(ev.ClientApp), appName: SigninAppName(ev)}
	r.workload = ev.WorkloadOf()
	r.ips = slices.Clone(ev.IPList())
	slices.SortFunc(r.ips, func(a, b netip.Addr) int { return a.Compare(b) })
	if ev.Interactive != nil {
		v := *ev.Interactive
		r.interactive = &v
	}
	if len(ev.Country)+len(ev.State)+len(ev.City) > 0 {
		r.location = string(ev.Country) + "|" + string(ev.State) + "|" + string(ev.City)
	}
	if r.outcome != audit.NotSignin {
		r.user = SigninAccount(ev)
		r.guest = ev.UserKind == audit.UserGuest || ev.UserType == 10
		if ev.UserKind == audit.UserGuest {
			r.guestHost = string(audit.GuestHostDomain(ev.UserID))
		}
		return r
	}
	r.user = string(ev.User)
	r.objects = d.Objects()
	r.cats = ev.Categorize()
	if r.cats&audit.CatSharing != 0 {
		if t, kind, _ := audit.Canonical(ev.Target, nil); kind != audit.UserUnusable && len(t) > 0 {
			r.shareTo = string(t)
		}
	}
	return r
}

func (r *storedRow) ref(signin bool) Ref {
	ref := Ref{Time: r.t, ID: r.id, File: r.file, Line: r.line, Op: r.op, User: r.rawUser, Object: r.object}
	if signin {
		ref.Object = r.app
	}
	if len(r.ips) > 0 {
		ref.IP = r.ips[0]
	}
	return ref
}

func add(cs []Count, v string) []Count {
	for i := range cs {
		if cs[i].Value == v {
			cs[i].N++
			return cs
		}
	}
	return append(cs, Count{v, 1})
}

// rebuild groups stored rows the way internal/clickhouse's SQL does and
// fills Aggregates with them: the specification that SQL follows.
func rebuild(rows []storedRow, files []FileInfo, aliases []AliasPair, dups int64, opts Options) *Report {
	fill := func(x *Aggregates, full func(string) bool) {
		var kept, minT, maxT int64
		users := map[string]*User{}
		type wd struct {
			w audit.Workload
			d int32
		}
		type cov struct{ n, first, last int64 }
		covers := map[wd]*cov{}
		for i := range rows {
			r := &rows[i]
			kept++
			k := wd{r.workload, UTCDay(r.t)}
			if c := covers[k]; c == nil {
				covers[k] = &cov{1, r.t, r.t}
			} else {
				c.n++
				c.first, c.last = min(c.first, r.t), max(c.last, r.t)
			}
			if !r.copy {
				if minT == 0 || r.t < minT {
					minT = r.t
				}
				maxT = max(maxT, r.t)
				if r.org != "" {
					x.AddOrg(r.org, 1)
				}
			}
			if r.outcome == audit.NotSignin {
				continue
			}
			u := users[r.user]
			if u == nil {
				u = &User{Name: r.user}
				users[r.user] = u
			}
			u.Unusable = u.Unusable || r.userKind == audit.UserUnusable
			u.Sources |= 1 << r.kind
			if r.kind == audit.KindSignIn {
				if r.cross != "" {
					u.CrossTenant = add(u.CrossTenant, r.cross)
				}
				u.GuestType = u.GuestType || r.userType == "guest"
				u.MemberType = u.MemberType || r.userType == "member"
				if full(r.user) {
					if r.location != "" {
						u.Locations = add(u.Locations, r.location)
					}
					if r.ca != "" {
						u.ConditionalAccess = add(u.ConditionalAccess, r.ca)
					}
					if r.risk != "" {
						u.RiskLevels = add(u.RiskLevels, r.risk)
					}
					if r.clientApp != "" {
						u.ClientApps = add(u.ClientApps, r.clientApp)
					}
					if r.interactive != nil {
						if *r.interactive {
							u.Interactive++
						} else {
							u.NonInteractive++
						}
					}
				}
			}
			// The log's names of the apps: every copy counts.
			if r.appName != "" && full(r.user) {
				j := slices.IndexFunc(u.Apps, func(a UserApp) bool { return a.ID == r.app })
				if j < 0 {
					u.Apps = append(u.Apps, UserApp{ID: r.app})
					j = len(u.Apps) - 1
				}
				u.Apps[j].Names = add(u.Apps[j].Names, r.appName)
			}
			app := func(id string) *UserApp {
				j := slices.IndexFunc(u.Apps, func(a UserApp) bool { return a.ID == id })
				if j < 0 {
					u.Apps = append(u.Apps, UserApp{ID: id})
					j = len(u.Apps) - 1
				}
				return &u.Apps[j]
			}
			outcome := func(o audit.Outcome, n int64) {
				switch o {
				case audit.Success:
					u.Success += n
				case audit.Interrupted:
					u.Interrupted += n
				default:
					u.Failure += n
				}
			}
			// signIn counts the sign-in in its application.
			signIn := func(ap *UserApp) {
				ap.Count++
				if r.outcome == audit.Success {
					ap.Success++
					ref := r.ref(true)
					if f := ap.FirstSuccess; f == nil || before(ref, *f) {
						ap.FirstSuccess = &ref
					}
				}
			}
			if r.copy {
				// A copy that gives the counted sign-in its application
				// and outcome takes it from the empty application and the
				// counted outcome.
				if r.movedFrom != audit.NotSignin {
					outcome(r.movedFrom, -1)
					outcome(r.outcome, 1)
				}
				if r.movedFrom != audit.NotSignin && full(r.user) {
					signIn(app(r.app))
					from := app("")
					from.Count--
					if r.movedFrom == audit.Success {
						from.Success--
					}
				}
				continue
			}
			outcome(r.outcome, 1)
			if r.actorTenant != "" {
				u.Tenants = add(u.Tenants, r.actorTenant)
			}
			u.Guest = u.Guest || r.guest
			u.ActorUnknown = u.ActorUnknown || r.actorUnknown
			if r.guestHost != "" {
				x.AddGuestHost(r.guestHost)
			}
			if !full(r.user) {
				continue
			}
			if u.First == 0 || r.t < u.First {
				u.First = r.t
			}
			u.Last = max(u.Last, r.t)
			if d := UTCDay(r.t); !slices.Contains(u.SigninDays, d) {
				u.SigninDays = append(u.SigninDays, d)
			}
			for _, ip := range r.ips {
				if !slices.Contains(u.IPs, ip) {
					u.IPs = append(u.IPs, ip)
				}
			}
			if r.ua != "" && !slices.Contains(u.UserAgents, r.ua) {
				u.UserAgents = append(u.UserAgents, r.ua)
			}
			signIn(app(r.app))
		}
		x.SetTotals(kept, dups, 0, minT, maxT)
		for k, c := range covers {
			x.AddCoverage(k.w, k.d, c.n, c.first, c.last)
		}
		for _, p := range aliases {
			x.AddAlias(p)
		}
		for _, u := range users {
			x.AddUser(u)
		}
	}
	light := NewAggregates(opts.MaxEvidence)
	fill(light, func(string) bool { return false })
	names := light.Externals(opts)
	full := func(u string) bool { _, ok := slices.BinarySearch(names, u); return ok }
	x := NewAggregates(opts.MaxEvidence)
	fill(x, full)

	// Buckets: the externals' own records and every record from their IPs.
	ips := map[netip.Addr]bool{}
	for i := range rows {
		if r := &rows[i]; !r.copy && r.outcome != audit.NotSignin && full(r.user) {
			for _, ip := range r.ips {
				ips[ip] = true
			}
		}
	}
	buckets := map[string]*Bucket{}
	shares := map[string]*Shared{}
	for i := range rows {
		r := &rows[i]
		if r.copy {
			continue
		}
		if r.shareTo != "" && full(r.shareTo) {
			s := shares[r.shareTo]
			if s == nil {
				s = &Shared{Target: r.shareTo}
				shares[r.shareTo] = s
			}
			s.Count++
			ref := r.ref(false)
			ref.Target = r.target
			s.Evidence = append(s.Evidence, ref)
		}
		if !full(r.user) && !slices.ContainsFunc(r.ips, func(ip netip.Addr) bool { return ips[ip] }) {
			continue
		}
		var key strings.Builder
		key.WriteString(r.user)
		for _, ip := range r.ips {
			key.WriteString(" " + ip.String())
		}
		b := buckets[key.String()]
		if b == nil {
			b = &Bucket{User: r.user, Kind: r.userKind, IPs: r.ips}
			buckets[key.String()] = b
		}
		if r.outcome != audit.NotSignin {
			b.Signins++
			b.SigninOps = add(b.SigninOps, r.op)
			b.SigninEvidence = append(b.SigninEvidence, r.ref(true))
			continue
		}
		b.NonSignin++
		b.Cats |= r.cats
		b.Ops = add(b.Ops, r.op)
		ref := r.ref(false)
		b.Evidence = append(b.Evidence, ref)
		first := func(f **Ref) {
			if *f == nil || before(ref, **f) {
				c := ref
				*f = &c
			}
		}
		if r.cats&audit.CatAccess == 0 {
			b.NonAccess++
			first(&b.FirstNonAccess)
		}
		if r.cats&audit.CatAnonLinkUsed != 0 {
			b.AnonUsed++
		}
		if r.cats&audit.CatMailbox != 0 {
			first(&b.FirstMailbox)
		}
		if r.cats&audit.CatAdmin != 0 {
			first(&b.FirstAdmin)
		}
	}
	for _, b := range buckets {
		x.AddBucket(b)
	}
	for _, s := range shares {
		x.AddShared(s)
	}
	return x.Finish(files, opts)
}

// before orders Refs as the engine orders evidence.
func before(x, y Ref) bool {
	a := ref{time: x.Time, id: x.ID, file: int32(x.File), line: x.Line}
	b := ref{time: y.Time, id: y.ID, file: int32(y.File), line: y.Line}
	return refBefore(&a, &b)
}

// TestStreamRebuild: records taken out of the engine with Stream, grouped
// the way a database groups them and put back with Aggregates, give the
// report Run gives, byte for byte, what was touched included (from the
// object fields Decoded.Objects read): the hooks carry everything the
// judge and the accessed lists read. Generated tenants with duplicates, and the UAL with the Entra
// sign-in log (sign-in copies, aliases).
func TestStreamRebuild(t *testing.T) {
	dir := t.TempDir()
	ualPath, sigPath, _, _ := generateWithSignIns(t, dir, synth.Options{Seed: 4, Duplicates: 13})
	small, _ := generate(t, synth.Options{Seed: 9, Size: 2 << 20, Duplicates: 7})
	// Many records on one line (a compact array), and records named by
	// columns (OfficeActivity): Decoded.Objects must read each its own.
	array, _ := generate(t, synth.Options{Seed: 5, Format: synth.FormatJSON, Duplicates: 11})
	office, _ := generate(t, synth.Options{Seed: 6, Format: synth.FormatSentinelCSV, Duplicates: 9})
	// OfficeActivity's sign-ins name no application: read before the
	// sign-in log, their copies there give it (Decoded.MovedFrom).
	var officeSig bytes.Buffer
	officeWith, _ := generate(t, synth.Options{Seed: 6, Format: synth.FormatSentinelCSV, Duplicates: 9, SignInLog: &officeSig})
	cases := []struct {
		name  string
		paths []string
		opts  Options
	}{
		{"ual+signin-log", []string{ualPath, sigPath}, Options{}},
		{"2MB, 3 evidence", []string{testutil.WriteFile(t, dir, "t.jsonl", small)}, Options{MaxEvidence: 3}},
		{"one-line array", []string{testutil.WriteFile(t, dir, "a.json", array)}, Options{}},
		{"OfficeActivity", []string{testutil.WriteFile(t, dir, "o.csv", office)}, Options{}},
		{"OfficeActivity+signin-log", []string{testutil.WriteFile(t, dir, "ow.csv", officeWith),
			testutil.WriteFile(t, dir, "ow-signins.json", officeSig.Bytes())}, Options{}},
	}
	for _, c := range cases {
		c.opts.Workers = 3
		want, err := Run(context.Background(), c.paths, c.opts)
		if err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		var rows []storedRow
		var dups, moved int64
		st, err := Stream(context.Background(), c.paths, c.opts, func(recs []Decoded) error {
			mu.Lock()
			defer mu.Unlock()
			for _, d := range recs {
				if d.Fate == Duplicate {
					dups++
					continue
				}
				rows = append(rows, storeRow(d))
				if d.MovedFrom != audit.NotSignin {
					moved++
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		got := rebuild(rows, st.Files, st.Aliases, dups, c.opts)
		// Until the store gives the objects of the records the lists are
		// made from, they are not computed, and say so.
		if len(want.AccessedSummary) == 0 || got.AccessedSummary != nil || got.AccessedScope != "not computed: "+AccessedFromDatabase {
			t.Errorf("%s: Run found %d objects touched, the rebuilt report %v, %q (want none, not computed)", c.name, len(want.AccessedSummary), got.AccessedSummary, got.AccessedScope)
		}
		objects := map[RecordKey]ObjectFields{}
		for _, r := range rows {
			objects[RecordKey{File: r.file, Line: r.line, ID: r.id}] = r.objects
		}
		keys := got.AccessedRecords()
		if len(keys) == 0 {
			t.Errorf("%s: no records to read objects from", c.name)
		}
		for _, k := range keys {
			if _, ok := objects[k]; !ok {
				t.Errorf("%s: record %v, which the lists are made from, was not stored", c.name, k)
			}
		}
		got.FillAccessed(objects)
		wj, _ := json.MarshalIndent(want, "", " ")
		gj, _ := json.MarshalIndent(got, "", " ")
		if !bytes.Equal(wj, gj) {
			t.Errorf("%s: rebuilt report differs from Run's:\n%s", c.name, firstDiff(string(wj), string(gj)))
		}
		// Filled once, the lists stay.
		got.FillAccessed(nil)
		if gj2, _ := json.MarshalIndent(got, "", " "); !bytes.Equal(gj, gj2) {
			t.Errorf("%s: a second FillAccessed changed the report", c.name)
		}
		if want.Input.Duplicates == 0 || len(want.Identities) < 10 {
			t.Errorf("%s: the case is too thin: %d duplicates, %d identities", c.name, want.Input.Duplicates, len(want.Identities))
		}
		if strings.HasPrefix(c.name, "OfficeActivity+") && moved == 0 {
			t.Errorf("%s: no sign-in copy gave its application", c.name)
		}
	}
}

// firstDiff shows the lines around the first difference of two texts.
func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			lo := max(0, i-3)
			return "want:\n" + strings.Join(al[lo:min(len(al), i+3)], "\n") + "\ngot:\n" + strings.Join(bl[lo:min(len(bl), i+3)], "\n")
		}
	}
	return "lengths differ"
}

// TestStreamKeepsNoWindows: Stream, which never reads an input again,
// and a run without the second look (watch's) note no checkpoints of a
// gzip input, so no window reaches a temporary file (which, on Windows,
// where it cannot be unlinked while open, could stay behind a run that
// ends first); a run with the second look, the only reader of them,
// spills them past the budget, and lets go of the file when it returns.
// Linux only: the file, unlinked at once, is seen among the process's
// descriptors.
func TestStreamKeepsNoWindows(t *testing.T) {
	if _, err := os.Stat("/proc/self/fd"); err != nil {
		t.Skip("no /proc/self/fd")
	}
	var ual bytes.Buffer
	if _, err := synth.Generate(&ual, synth.Options{Seed: 3}); err != nil {
		t.Fatal(err)
	}
	defer source.SetGzipCheckpointSpacing(8 << 10)()
	defer source.SetWindowBudget(16 << 10)()
	path := testutil.WriteFile(t, t.TempDir(), "ual.jsonl.gz", testutil.Gzip(ual.Bytes()))
	for _, c := range []struct {
		name   string
		stream bool
		skip   bool
		spills bool
	}{
		{"stream", true, false, false},
		{"run without the second look", false, true, false},
		{"run", false, false, true},
	} {
		tmp := t.TempDir()
		atPeak := 0
		opts := Options{TempDir: tmp, SkipAccessed: c.skip, AtPeak: func() { atPeak = testutil.OpenIn(tmp) }}
		var err error
		if c.stream {
			_, err = Stream(context.Background(), []string{path}, opts, func([]Decoded) error { return nil })
		} else {
			_, err = Run(context.Background(), []string{path}, opts)
		}
		if err != nil {
			t.Fatal(err)
		}
		if spilled := atPeak > 0; spilled != c.spills {
			t.Errorf("%s: %d files open in %s once the input was read, want spilled %v", c.name, atPeak, tmp, c.spills)
		}
		if n := testutil.OpenIn(tmp); n != 0 {
			t.Errorf("%s: %d files of %s still open after it returned", c.name, n, tmp)
		}
	}
}
