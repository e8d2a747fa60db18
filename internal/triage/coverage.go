package triage

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/outsider-sec/outsider/internal/audit"
)

// This file holds what the engine knows about the input's coverage: per
// workload, how many records it holds and on which UTC days. An outside
// identity is judged signin-only or shared only when the input
// demonstrably holds the tenant's other activity around its sign-ins
// (docs/rules.md "Coverage"); otherwise the input cannot support the
// answer and the verdict is unverified.

// CoverageWindowDays is how far, in UTC days, a workload's records may lie
// from a sign-in day and still show that the input covers it: a record on
// a day in [D-3, D] and one on a day in [D, D+3]. Three days bridge a
// weekend or a short holiday in a quiet tenant; asking for a record on
// each side shows the export spans the sign-in, where an export that ends
// (or starts) near it would otherwise pass.
const CoverageWindowDays = 3

// coverageWorkloads are the workloads that must cover every sign-in day
// of an identity before an empty U and P may be believed: where outsiders
// act (files and sites, mail) and where sharing is recorded.
var coverageWorkloads = []audit.Workload{audit.WorkloadExchange, audit.WorkloadSharePoint}

// day is a UTC day: days since 1970-01-01.
type day int32

const nsPerDay = int64(24 * time.Hour)

// dayOf is the UTC day of a time in Unix nanoseconds.
func dayOf(t int64) day {
	d := t / nsPerDay
	if t < 0 && t%nsPerDay != 0 {
		d--
	}
	return day(d)
}

// String is the day as 2006-01-02.
func (d day) String() string {
	return time.Unix(int64(d)*86400, 0).UTC().Format(time.DateOnly)
}

// coverage counts records per workload and UTC day. Records arrive in
// runs of one day (exports are sorted by time, or nearly): the count of
// the current day of each workload is kept apart and folded into the map
// when the day changes, so most records cost no map access.
type coverage struct {
	n           [audit.NumWorkloads]int64
	first, last [audit.NumWorkloads]int64
	days        [audit.NumWorkloads]map[day]int64

	curDay [audit.NumWorkloads]day
	cur    [audit.NumWorkloads]int64
}

// add counts one record of workload w at time t.
func (c *coverage) add(w audit.Workload, t int64) {
	if c.n[w] == 0 || t < c.first[w] {
		c.first[w] = t
	}
	if c.n[w] == 0 || t > c.last[w] {
		c.last[w] = t
	}
	c.n[w]++
	d := dayOf(t)
	if c.cur[w] > 0 && c.curDay[w] == d {
		c.cur[w]++
		return
	}
	c.flushDay(w)
	c.curDay[w], c.cur[w] = d, 1
}

// addDays counts n records of workload w on day d, the earliest at first
// and the latest at last (Aggregates, from a store's grouping).
func (c *coverage) addDays(w audit.Workload, d day, n, first, last int64) {
	if n <= 0 {
		return
	}
	if c.n[w] == 0 || first < c.first[w] {
		c.first[w] = first
	}
	if c.n[w] == 0 || last > c.last[w] {
		c.last[w] = last
	}
	c.n[w] += n
	c.flushDay(w)
	if c.days[w] == nil {
		c.days[w] = map[day]int64{}
	}
	c.days[w][d] += n
}

// flushDay folds the current day's count of w into the map.
func (c *coverage) flushDay(w audit.Workload) {
	if c.cur[w] == 0 {
		return
	}
	if c.days[w] == nil {
		c.days[w] = map[day]int64{}
	}
	c.days[w][c.curDay[w]] += c.cur[w]
	c.cur[w] = 0
}

// flush folds every current day into the maps.
func (c *coverage) flush() {
	for w := range audit.NumWorkloads {
		c.flushDay(w)
	}
}

// merge folds o into c.
func (c *coverage) merge(o *coverage) {
	c.flush()
	o.flush()
	for w := range audit.NumWorkloads {
		if o.n[w] == 0 {
			continue
		}
		if c.n[w] == 0 || o.first[w] < c.first[w] {
			c.first[w] = o.first[w]
		}
		if c.n[w] == 0 || o.last[w] > c.last[w] {
			c.last[w] = o.last[w]
		}
		c.n[w] += o.n[w]
		if c.days[w] == nil {
			c.days[w] = map[day]int64{}
		}
		for d, n := range o.days[w] {
			c.days[w][d] += n
		}
	}
}

// has reports whether workload w holds a record on a day in [from, to].
func (c *coverage) has(w audit.Workload, from, to day) bool {
	if c.cur[w] > 0 && c.curDay[w] >= from && c.curDay[w] <= to {
		return true
	}
	m := c.days[w]
	if len(m) == 0 {
		return false
	}
	for d := from; d <= to; d++ {
		if m[d] > 0 {
			return true
		}
	}
	return false
}

// covers reports whether workload w covers sign-in day d: a record within
// CoverageWindowDays before or on it, and one on or after it.
func (c *coverage) covers(w audit.Workload, d day) bool {
	return c.has(w, d-CoverageWindowDays, d) && c.has(w, d, d+CoverageWindowDays)
}

// report is the input's coverage as the report shows it, every workload
// in order, empty ones included: what is missing is the point.
func (c *coverage) report() []Coverage {
	c.flush()
	out := make([]Coverage, 0, audit.NumWorkloads)
	for w := range audit.NumWorkloads {
		cv := Coverage{Workload: w.String(), Label: w.Label(), Records: c.n[w], Days: len(c.days[w])}
		if c.n[w] > 0 {
			cv.First, cv.Last = audit.FormatTime(c.first[w]), audit.FormatTime(c.last[w])
		}
		out = append(out, cv)
	}
	return out
}

// signinDays keeps the UTC days an account signed in on. The day of the
// last sign-in is remembered apart: an account's sign-ins cluster in days.
type signinDays struct {
	set     map[day]struct{}
	last    day
	hasLast bool
}

func (s *signinDays) add(t int64) {
	d := dayOf(t)
	if s.hasLast && s.last == d {
		return
	}
	s.last, s.hasLast = d, true
	if s.set == nil {
		s.set = map[day]struct{}{}
	}
	s.set[d] = struct{}{}
}

func (s *signinDays) merge(o *signinDays) {
	for d := range o.set {
		if s.set == nil {
			s.set = map[day]struct{}{}
		}
		s.set[d] = struct{}{}
	}
}

// sorted lists the days in order.
func (s *signinDays) sorted() []day {
	ds := make([]day, 0, len(s.set))
	for d := range s.set {
		ds = append(ds, d)
	}
	slices.Sort(ds)
	return ds
}

// coverageGap is what the input lacks around an identity's sign-ins: per
// workload, the sign-in days it does not cover.
type coverageGap struct {
	missing map[audit.Workload][]day
	days    int // sign-in days
}

func (g *coverageGap) empty() bool { return len(g.missing) == 0 }

// gapFor checks every sign-in day of an account against the workloads
// that must cover it.
func (c *coverage) gapFor(s *signinDays) coverageGap {
	days := s.sorted()
	g := coverageGap{days: len(days)}
	for _, w := range coverageWorkloads {
		for _, d := range days {
			if !c.covers(w, d) {
				if g.missing == nil {
					g.missing = map[audit.Workload][]day{}
				}
				g.missing[w] = append(g.missing[w], d)
			}
		}
	}
	return g
}

// describe says in words what is missing and what to export, for the
// identity's reasons: which workloads, on which of its sign-in days, and
// the dates an export must span.
func (g *coverageGap) describe() string {
	var parts []string
	var lo, hi day
	firstDay := true
	for _, w := range coverageWorkloads {
		ds := g.missing[w]
		if len(ds) == 0 {
			continue
		}
		if firstDay || ds[0] < lo {
			lo = ds[0]
		}
		if firstDay || ds[len(ds)-1] > hi {
			hi = ds[len(ds)-1]
		}
		firstDay = false
		parts = append(parts, fmt.Sprintf("no %s records around %s", w.Label(), dayList(ds, g.days)))
	}
	return fmt.Sprintf("the input has %s; export every record type (not only UserLoggedIn) of Exchange and SharePoint/OneDrive for %s to %s (UTC) and triage it with the sign-ins",
		strings.Join(parts, " and "), lo-CoverageWindowDays, hi+CoverageWindowDays)
}

// dayList names the days, or how many of the identity's sign-in days they
// are when there are many.
func dayList(ds []day, of int) string {
	if len(ds) == of && of > 1 {
		return fmt.Sprintf("any of its %d sign-in days (%s to %s)", of, ds[0], ds[len(ds)-1])
	}
	if len(ds) <= 3 {
		names := make([]string, len(ds))
		for i, d := range ds {
			names[i] = d.String()
		}
		if len(ds) == 1 {
			return "its sign-in day " + names[0]
		}
		return "its sign-in days " + strings.Join(names, ", ")
	}
	return fmt.Sprintf("%d of its %d sign-in days (%s to %s)", len(ds), of, ds[0], ds[len(ds)-1])
}
