// Package synth generates a realistic synthetic Microsoft 365 tenant's
// Unified Audit Log with known answers, for tests, benchmarks and the
// bundled example.
//
// The output is member noise (sign-ins with their failures, interrupts
// and redirects; SharePoint and OneDrive file and page activity; mailbox
// access; Exchange cmdlets; directory changes; Teams; sharing between
// colleagues; SharePoint's own app@sharepoint records) with a fixed set of
// scenarios woven in at seed-chosen times. Each scenario is one outside
// identity (the Scenario* names): pass-through accounts that only sign in,
// fail to, or sign in as consumers; that were shared files and opened
// them (by secure link, invitation, anonymous link); that edit, search or
// read a mailbox; that sign in to a third-party application; that share an
// egress address; B2B guests; accounts with no usable name; and decoys
// that must not be reported. Options.Partners and Outsiders add hundreds
// more identities from as many partner tenants, over every verdict
// (partners.go). The same address is written in every
// notation the services use, so correlation has to normalise.
//
// Generate returns the answers (Expected): for every outside identity its
// class, verdict, severity and the exact counts docs/rules.md defines. They
// are derived from the scenario records as written, and each scenario's
// intent is checked against them. Noise uses members' accounts and
// address pools only, so it cannot change an answer; the tests confirm
// that with a second implementation of the rules run over whole outputs.
//
// The package is the engine's independent oracle: it imports no other
// package of this module.
//
// Generation streams: memory stays flat whatever the Size (a PowerShell or
// Export-Csv result session of at most 8 MB, a Graph page, is the most it
// holds), and records come out in time order, ascending for the JSON
// formats and descending for the CSV formats, as the Purview portal and
// Search-UnifiedAuditLog export them.
package synth

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"time"
)

// Options control Generate. Zero values mean the defaults noted.
type Options struct {
	// Seed makes the output reproducible: the same seed and options give
	// byte-identical output.
	Seed int64
	// Format is one of Formats; "" means "jsonl".
	Format string
	// Size is the approximate output size in bytes (within one record).
	// The scenarios are always written and member noise fills up to Size.
	// 0 means the small example: the scenarios and a few hundred noise
	// records.
	Size int64
	// Start is the time of the first record (default 2026-10-01T00:00:00Z);
	// records span Days days from it.
	Start time.Time
	// Days is the length of the period (default 14).
	Days int
	// Duplicates writes every Nth record twice (N > 0), as overlapping
	// exports and the Management Activity API do; 0 means none.
	Duplicates int
	// SignInLog, when set, receives the tenant's Entra ID sign-in log in
	// Microsoft Graph format (signin.go): the twin of every UAL STS
	// sign-in, plus the sign-ins only that log has. Expected then states
	// the answers for the UAL and the sign-in log read together, with each
	// identity's sources. The UAL output is byte-identical either way.
	SignInLog io.Writer
	// SignInLogFormat is the sign-in log's shape, one of SignInLogFormats;
	// "" means SignInLogGraph.
	SignInLogFormat string
	// Partners and Outsiders add, to the fixed scenarios, Outsiders outside
	// identities from Partners partner tenants (distinct domains and home
	// tenants drawn from the seed), spread round-robin over the partners
	// and across every verdict and class (partners.go says how the two
	// combine). 0 and 0 mean none: the output is then the same as before
	// they existed.
	Partners  int
	Outsiders int
}

// Formats lists the Format values Generate accepts.
var Formats = []string{
	FormatJSONL, FormatJSON, FormatPSJSON, FormatGraph,
	FormatPurviewCSV, FormatPurviewCSVLegacy, FormatExportCSV,
}

// The output formats.
const (
	// FormatJSONL is JSON Lines of raw AuditData (Microsoft-Extractor-Suite
	// JSONL, Splunk, Elastic).
	FormatJSONL = "jsonl"
	// FormatJSON is one compact JSON array, as a Management Activity API
	// content blob.
	FormatJSON = "json"
	// FormatPSJSON is Windows PowerShell's ConvertTo-Json of
	// Search-UnifiedAuditLog objects: a pretty array with CRLF line ends,
	// AuditData nested as an object, CreationDate as "\/Date(ms)\/".
	FormatPSJSON = "ps-json"
	// FormatGraph is Microsoft Graph auditLogRecord pages, one JSON object
	// per line: {"@odata.context":...,"@odata.nextLink":...,"value":[...]},
	// at most 1000 records a page, auditData nested.
	FormatGraph = "graph-audit"
	// FormatPurviewCSV is the current Purview portal export (8 columns).
	FormatPurviewCSV = "purview-csv"
	// FormatPurviewCSVLegacy is the Security & Compliance Center export
	// (4 columns).
	FormatPurviewCSVLegacy = "purview-csv-legacy"
	// FormatExportCSV is Search-UnifiedAuditLog | Export-Csv (10 columns,
	// every field quoted, US dates).
	FormatExportCSV = "ual-export-csv"
)

// DefaultStart is the start of the period when Options.Start is zero.
var DefaultStart = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)

const (
	defaultDays = 14
	// exampleNoise is the number of noise records of the small example:
	// enough that the scenarios sit among ordinary traffic, few enough to
	// read the file.
	exampleNoise = 360
)

func (o Options) withDefaults() (Options, error) {
	if o.Format == "" {
		o.Format = FormatJSONL
	}
	known := false
	for _, f := range append(append(Formats[:len(Formats):len(Formats)], SentinelFormats...), DefenderFormats...) {
		known = known || f == o.Format
	}
	if !known {
		return o, fmt.Errorf("unknown format %q (want one of %v, %v or %v)", o.Format, Formats, SentinelFormats, DefenderFormats)
	}
	switch o.SignInLogFormat {
	case "":
		o.SignInLogFormat = SignInLogGraph
	case SignInLogGraph, SignInLogLAQuery, SignInLogEntraCSV:
	default:
		return o, fmt.Errorf("unknown sign-in log format %q (want one of %v)", o.SignInLogFormat, SignInLogFormats)
	}
	if o.Size < 0 {
		return o, errors.New("size must not be negative")
	}
	if o.Days < 0 {
		return o, errors.New("days must not be negative")
	}
	if o.Days == 0 {
		o.Days = defaultDays
	}
	if o.Duplicates < 0 {
		return o, errors.New("duplicates must not be negative")
	}
	if _, _, err := partnerCounts(o.Partners, o.Outsiders); err != nil {
		return o, err
	}
	if o.Start.IsZero() {
		o.Start = DefaultStart
	}
	o.Start = o.Start.UTC().Truncate(time.Second)
	return o, nil
}

// gen holds what every part of one run shares.
type gen struct {
	o     Options
	tn    *tenant
	idKey uint64
	start int64
	end   int64 // exclusive
	cdf   []float64

	// signinDomains are the domains of members whose noise sign-ins were
	// written (for the inferred-domain answer).
	signinDomains map[string]bool
}

func newGen(o Options) *gen {
	g := &gen{
		o:             o,
		tn:            newTenant(o.Seed, o.Size),
		start:         o.Start.Unix(),
		signinDomains: map[string]bool{},
	}
	g.end = g.start + int64(o.Days)*86400
	r := newRng(o.Seed, streamTenant, 1)
	g.idKey = r.u64()
	g.cdf = activityCDF(g.start, o.Days)
	return g
}

// activityCDF is the cumulative activity of the period hour by hour:
// office hours (Europe, UTC) on weekdays are busy, nights and weekends
// quiet. Mapping a fraction of the output through it places records at
// realistic times while keeping them in order.
func activityCDF(start int64, days int) []float64 {
	hours := days * 24
	cdf := make([]float64, hours+1)
	for h := 0; h < hours; h++ {
		t := start + int64(h)*3600
		hod := int(t / 3600 % 24)
		dow := int((t/86400 + 4) % 7) // 0 = Sunday
		w := 1.0
		switch {
		case hod >= 7 && hod < 17:
			w = 10
		case hod == 6 || (hod >= 17 && hod < 21):
			w = 4
		}
		if dow == 0 || dow == 6 {
			w *= 0.25
		}
		cdf[h+1] = cdf[h] + w
	}
	return cdf
}

// timeAt maps f in [0, 1] to a time of the period through the activity
// curve.
func (g *gen) timeAt(f float64) int64 {
	if f < 0 {
		f = 0
	}
	if f > 1 {
		f = 1
	}
	// The explicit conversions forbid fused multiply-add, which some
	// architectures would otherwise use and so move records by a second.
	x := float64(f * g.cdf[len(g.cdf)-1])
	h := sort.SearchFloat64s(g.cdf, x) - 1
	if h < 0 {
		h = 0
	}
	if h >= len(g.cdf)-1 {
		h = len(g.cdf) - 2
	}
	frac := (x - g.cdf[h]) / (g.cdf[h+1] - g.cdf[h])
	t := g.start + int64(h)*3600 + int64(float64(frac*3600))
	if t >= g.end {
		t = g.end - 1
	}
	return t
}

// Generate writes a synthetic tenant's audit log to w in opts.Format and
// returns the answers the triage engine must find in it.
func Generate(w io.Writer, opts Options) (*Expected, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("synth: %w", err)
	}
	g := newGen(o)
	p, err := g.scenarios()
	if err != nil {
		return nil, err
	}
	out := newFormatter(o.Format, w, o.Seed)
	desc := out.descending()
	var sl *signInLog
	if o.SignInLog != nil {
		sl = newSignInLog(o.SignInLog, o.Seed, g.idKey)
		switch o.SignInLogFormat {
		case SignInLogLAQuery:
			sl.la = &laQueryLog{}
		case SignInLogEntraCSV:
			sl.la = &entraCSVLog{}
		}
	}
	// The sign-ins only the sign-in log has go out among the others, in
	// the same time order.
	only := p.only
	if desc {
		only = make([]*event, len(p.only))
		for i, e := range p.only {
			only[len(only)-1-i] = e
		}
	}
	nextOnly := 0
	flushOnly := func(t int64, all bool) {
		for sl != nil && nextOnly < len(only) {
			e := only[nextOnly]
			if !all && (!desc && e.t > t || desc && e.t < t) {
				return
			}
			sl.add(e)
			nextOnly++
		}
	}

	// Scenario records are few: encode them once, both to write them and
	// to know how many bytes are still to come (so noise stops at Size).
	type pending struct {
		e    *event
		js   []byte
		size int64
	}
	scen := make([]pending, len(p.events))
	var pendingBytes int64
	for i, e := range p.events {
		r := newRng(o.Seed, streamScenario, uint64(1000+i))
		js := e.encode(nil, g.idKey, &r)
		sz := out.estimate(e, js)
		scen[i] = pending{e, js, sz}
		pendingBytes += sz
	}
	if desc {
		for i, j := 0, len(scen)-1; i < j; i, j = i+1, j-1 {
			scen[i], scen[j] = scen[j], scen[i]
		}
	}

	var (
		written, dups int64
		first, last   int64 = -1, -1
		next          int
	)
	emit := func(e *event, js []byte) {
		flushOnly(e.t, false)
		out.add(e, js)
		if sl != nil && e.kind == kSignin {
			sl.add(e)
		}
		written++
		if o.Duplicates > 0 && written%int64(o.Duplicates) == 0 {
			out.add(e, js)
			dups++
		}
		if first < 0 {
			first = e.t
		}
		last = e.t
	}
	// flushScenario writes the scenario records due before a noise record
	// at time t (in output order).
	flushScenario := func(t int64, all bool) {
		for next < len(scen) {
			s := scen[next]
			if !all && (!desc && s.e.t > t || desc && s.e.t < t) {
				return
			}
			emit(s.e, s.js)
			pendingBytes -= s.size
			next++
		}
	}

	out.begin()
	var (
		ev    event
		buf   = make([]byte, 0, 8192)
		noise uint64
	)
	writeNoise := func(k uint64, t int64) {
		flushScenario(t, false)
		r := newRng(o.Seed, streamNoise, k)
		g.noise(k, t, &ev, &r)
		buf = ev.encode(buf[:0], g.idKey, &r)
		emit(&ev, buf)
		noise++
	}
	if o.Size == 0 {
		for i := 0; i < exampleNoise; i++ {
			k := uint64(i)
			if desc {
				k = uint64(exampleNoise - 1 - i)
			}
			writeNoise(k, g.timeAt((float64(k)+0.5)/exampleNoise))
		}
	} else {
		var k uint64
		t := g.start
		for ; out.size()+pendingBytes < o.Size && out.err() == nil; k++ {
			f := float64(out.size()) / float64(o.Size)
			if desc {
				f = 1 - f
			}
			t = g.timeAt(f)
			writeNoise(k, t)
		}
		// An export that stops at exactly 5,000, 50,000 or 100,000 rows
		// looks truncated (the caps of Microsoft's export tools) and the
		// engine says so; a generated file should not trip that warning.
		for ; isExportCap(projectedRows(written, dups, len(scen)-next, o.Duplicates)); k++ {
			writeNoise(k, t)
		}
	}
	flushScenario(0, true)
	out.end()
	if err := out.err(); err != nil {
		return nil, fmt.Errorf("synth: write: %w", err)
	}
	if sl != nil {
		flushOnly(0, true)
		sl.end()
		if err := sl.err(); err != nil {
			return nil, fmt.Errorf("synth: write sign-in log: %w", err)
		}
	}

	exp := p.exp
	exp.Format = o.Format
	exp.Seed = o.Seed
	exp.Records = int64(len(scen)) + int64(noise)
	exp.Duplicates = dups
	exp.Bytes = out.size()
	if desc {
		first, last = last, first
	}
	exp.From = time.Unix(first, 0).UTC().Format(time.RFC3339)
	exp.To = time.Unix(last, 0).UTC().Format(time.RFC3339)
	exp.InferredDomains = g.inferredDomains(p)
	if sl != nil {
		exp.SignInLog = &ExpectedSignInLog{Records: sl.twins + sl.only, Twins: sl.twins, OnlyInSignInLog: sl.only, Bytes: sl.size()}
	}
	return exp, nil
}

func isExportCap(rows int64) bool { return rows == 5000 || rows == 50000 || rows == 100000 }

// projectedRows is the number of rows the output will have once the n
// remaining scenario records are written.
func projectedRows(written, dups int64, n, every int) int64 {
	rows := written + dups
	for i := 0; i < n; i++ {
		written++
		rows++
		if every > 0 && written%int64(every) == 0 {
			rows++
		}
	}
	return rows
}
