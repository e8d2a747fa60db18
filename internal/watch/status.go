package watch

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/outsider-sec/outsider/internal/state"
)

// Status is what 'outsider status' shows: per source the last window and
// how far behind now it is, the latest runs, and the open findings.
type Status struct {
	Time        string         `json:"time"`
	State       string         `json:"state"`
	Sources     []SourceStatus `json:"sources"`
	LastCollect *RunStatus     `json:"last_collect"`
	LastWatch   *RunStatus     `json:"last_watch"`
	Identities  int            `json:"identities"`
	Disposed    int            `json:"disposed"`
	Open        []OpenFinding  `json:"open_findings"`
	// Held counts the identities whose finding is held back, per reason
	// (state.HeldMinSeverity, state.HeldTenant; every reason, 0 included).
	Held []HeldCount `json:"held_back"`
	// Tenants are the home tenants disposed of.
	Tenants []TenantStatus `json:"disposed_tenants"`
	// Problems are the latest expired or quarantined blobs.
	Problems []Problem `json:"problems"`
}

// SourceStatus is one source's progress.
type SourceStatus struct {
	Source string `json:"source"`
	// LastWindowEnd is the end of the newest window handled; LagSeconds
	// how long before Time that is.
	LastWindowEnd string `json:"last_window_end"`
	LagSeconds    int64  `json:"lag_seconds"`
	Windows       int64  `json:"windows"`
	Blobs         int64  `json:"blobs"`
	Records       int64  `json:"records"`
	Expired       int64  `json:"expired"`
	Quarantined   int64  `json:"quarantined"`
}

// RunStatus is the latest run of a kind.
type RunStatus struct {
	Finished string `json:"finished"`
	OK       bool   `json:"ok"`
	Summary  string `json:"summary"`
}

// OpenFinding is an identity reported and not disposed of since.
type OpenFinding struct {
	User       string `json:"user"`
	Verdict    string `json:"verdict"`
	Severity   string `json:"severity"`
	ReportedAt string `json:"reported_at"`
}

// HeldCount is how many identities a reason holds back.
type HeldCount struct {
	Reason     string `json:"reason"`
	Identities int    `json:"identities"`
}

// TenantStatus is a home tenant's disposition and how many known
// identities it covers.
type TenantStatus struct {
	Tenant     string `json:"tenant"`
	As         string `json:"as"`
	Note       string `json:"note"`
	At         string `json:"at"`
	Identities int    `json:"identities"`
}

// Problem is an expired or quarantined blob.
type Problem struct {
	Source    string `json:"source"`
	ContentID string `json:"content_id"`
	Status    string `json:"status"`
	Path      string `json:"path"`
	Detail    string `json:"detail"`
}

// GetStatus reads the status from the state.
func GetStatus(ctx context.Context, st *state.DB, now time.Time) (*Status, error) {
	s := &Status{Time: now.UTC().Format(time.RFC3339), State: st.Path(), Sources: []SourceStatus{}, Open: []OpenFinding{}, Problems: []Problem{}}
	srcs, err := st.Sources(ctx)
	if err != nil {
		return nil, err
	}
	for _, src := range srcs {
		ss := SourceStatus{Source: src.Source, Windows: src.Windows, Blobs: src.Blobs, Records: src.Records, Expired: src.Expired, Quarantined: src.Quarantined}
		if !src.Last.End.IsZero() {
			end := src.Last.End
			if !src.Last.FetchedTo.IsZero() && src.Last.FetchedTo.Before(end) {
				end = src.Last.FetchedTo // the current hour, asked for up to then
			} else if src.Source == state.SourceSignins && src.Last.FetchedTo.IsZero() && end.After(src.Last.DoneAt) {
				end = src.Last.DoneAt // recorded before FetchedTo was kept
			}
			ss.LastWindowEnd = end.UTC().Format(time.RFC3339)
			ss.LagSeconds = int64(now.Sub(end) / time.Second)
		}
		s.Sources = append(s.Sources, ss)
	}
	for kind, dst := range map[string]**RunStatus{"collect": &s.LastCollect, "watch": &s.LastWatch} {
		r, ok, err := st.LastRun(ctx, kind)
		if err != nil {
			return nil, err
		}
		if ok {
			sum := r.Summary
			if len(sum) > 600 {
				sum = sum[:600] + "…"
			}
			*dst = &RunStatus{Finished: r.Finished.UTC().Format(time.RFC3339), OK: r.OK, Summary: sum}
		}
	}
	ids, err := st.Identities(ctx)
	if err != nil {
		return nil, err
	}
	s.Identities = len(ids)
	held := map[string]int{}
	perTenant := map[string]int{}
	for _, id := range ids {
		if id.Held != "" {
			held[id.Held]++
		}
		perTenant[strings.ToLower(id.HomeTenant)]++
	}
	for _, r := range []string{state.HeldMinSeverity, state.HeldTenant} {
		s.Held = append(s.Held, HeldCount{Reason: r, Identities: held[r]})
	}
	tenants, err := st.Tenants(ctx)
	if err != nil {
		return nil, err
	}
	s.Tenants = []TenantStatus{}
	for _, t := range tenants {
		s.Tenants = append(s.Tenants, TenantStatus{Tenant: t.HomeTenant, As: t.Disposition, Note: t.Note,
			At: t.DisposedAt.UTC().Format(time.RFC3339), Identities: perTenant[t.HomeTenant]})
	}
	for _, id := range ids {
		if id.Disposition != "" {
			s.Disposed++
			continue
		}
		if !id.ReportedAt.IsZero() {
			s.Open = append(s.Open, OpenFinding{User: id.User, Verdict: id.Verdict, Severity: id.Severity, ReportedAt: id.ReportedAt.UTC().Format(time.RFC3339)})
		}
	}
	probs, err := st.Problems(ctx, 20)
	if err != nil {
		return nil, err
	}
	for _, p := range probs {
		s.Problems = append(s.Problems, Problem{Source: p.ContentType, ContentID: p.ContentID, Status: p.Status, Path: p.Path, Detail: p.Detail})
	}
	return s, nil
}

// WriteText renders the status for people; fields from logs go through
// clean, which the caller gives (textsafe.Terminal for a terminal).
func WriteText(w io.Writer, s *Status, clean func(string) string) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "state\t%s\n", clean(s.State))
	for _, r := range []struct {
		name string
		r    *RunStatus
	}{{"last collect", s.LastCollect}, {"last watch", s.LastWatch}} {
		if r.r == nil {
			fmt.Fprintf(tw, "%s\tnever\n", r.name)
			continue
		}
		ok, summary := "ok", r.r.Summary
		if !r.r.OK {
			ok = "FAILED"
			if rest, cut := strings.CutPrefix(summary, state.InterruptedSummary); cut {
				ok, summary = "interrupted", rest
			}
		}
		fmt.Fprintf(tw, "%s\t%s %s: %s\n", r.name, r.r.Finished, ok, clean(summary))
	}
	tw.Flush()
	fmt.Fprintln(w)
	if len(s.Sources) == 0 {
		fmt.Fprintln(w, "No source collected yet.")
	} else {
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SOURCE\tLAST WINDOW END\tLAG\tWINDOWS\tBLOBS\tRECORDS\tEXPIRED\tQUARANTINED")
		for _, src := range s.Sources {
			last, lag := src.LastWindowEnd, humanLag(src.LagSeconds)
			if last == "" {
				last, lag = "-", "-"
			}
			blobs := fmt.Sprint(src.Blobs)
			if src.Source == state.SourceSignins {
				blobs = "-"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%d\t%d\t%d\n", src.Source, last, lag, src.Windows, blobs, src.Records, src.Expired, src.Quarantined)
		}
		tw.Flush()
	}
	fmt.Fprintf(w, "\nIdentities: %d known, %d disposed, %s\n", s.Identities, s.Disposed, nouns(len(s.Open), "open finding", "open findings"))
	if len(s.Open) > 0 {
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "USER\tVERDICT\tSEVERITY\tREPORTED")
		for _, o := range s.Open {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", clean(o.User), o.Verdict, o.Severity, o.ReportedAt)
		}
		tw.Flush()
	}
	fmt.Fprintf(w, "Held back (recorded, no finding): %s below the minimum severity, %s of tenants disposed of as benign\n",
		nouns(heldOf(s, state.HeldMinSeverity), "identity", "identities"), nouns(heldOf(s, state.HeldTenant), "identity", "identities"))
	if len(s.Tenants) > 0 {
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "\nTENANT\tDISPOSED AS\tAT\tIDENTITIES\tNOTE")
		for _, t := range s.Tenants {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", clean(t.Tenant), t.As, t.At, t.Identities, clean(t.Note))
		}
		tw.Flush()
	}
	if len(s.Problems) > 0 {
		fmt.Fprintln(w, "\nContent not archived (latest first):")
		for _, p := range s.Problems {
			line := fmt.Sprintf("  %s %s %s: %s", p.Status, p.Source, p.ContentID, p.Detail)
			if p.Path != "" {
				line += " (" + p.Path + ")"
			}
			fmt.Fprintln(w, clean(strings.TrimSpace(line)))
		}
	}
	return nil
}

func heldOf(s *Status, reason string) int {
	for _, h := range s.Held {
		if h.Reason == reason {
			return h.Identities
		}
	}
	return 0
}

// humanLag shows a lag as 5m, 3h12m or 2d4h.
func humanLag(secs int64) string {
	d := time.Duration(secs) * time.Second
	switch {
	case d < 0:
		return "0s"
	case d < time.Minute:
		return fmt.Sprintf("%ds", secs)
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd%dh", int(d.Hours())/24, int(d.Hours())%24)
}
