package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/outsider-sec/outsider/internal/directory"
	"github.com/outsider-sec/outsider/internal/enrich"
	"github.com/outsider-sec/outsider/internal/iostreams"
	"github.com/outsider-sec/outsider/internal/progress"
	"github.com/outsider-sec/outsider/internal/report"
	"github.com/outsider-sec/outsider/internal/source"
	"github.com/outsider-sec/outsider/internal/tenant"
	"github.com/outsider-sec/outsider/internal/triage"
)

// TriageOptions are the flags and arguments of 'outsider triage'.
type TriageOptions struct {
	Paths       []string
	Tenants     []string
	Domains     []string
	InputFormat source.Format
	Format      report.Format
	Color       report.ColorMode
	Output      string
	Since       time.Time
	Until       time.Time
	FailOn      string
	MaxEvidence int
	Strict      bool
	Workers     int
	Quiet       bool
	CPUProfile  string
	MemProfile  string
	TempDir     string
	Directory   string
	GeoIP       []string
	// ClickHouse and AllTenants: triage the records 'outsider load'
	// stored instead of files (cmd_triage_clickhouse.go).
	ClickHouse string
	AllTenants bool
}

var triageUsage = `Usage: outsider triage [flags] PATH...
       outsider triage --clickhouse DSN [--tenant T | --all-tenants] [flags]

Reads Unified Audit Log exports and Entra ID sign-in logs (files, folders,
globs, .gz, .zip, or - for stdin; the format is sniffed from the content),
classifies every sign-in actor, and judges each outside identity by
Microsoft's due diligence: did the account or its IPs do anything besides
signing in, and did someone share something with it? --directory says
whether each account exists in the tenant; --geoip adds where its IPs are.

Input formats (--input-format, default auto):
  ` + wrappedFormatList + `
Output formats (--format): text (default), json (schema outsider/triage/v1),
csv, md (Markdown for tickets and wikis), html (one self-contained page)

Colour (--color): text on a terminal is coloured unless NO_COLOR is set;
CLICOLOR_FORCE forces it on stdout. Files (-o) and other formats never are.

With --clickhouse, the records are those 'outsider load' stored in
ClickHouse and the due diligence runs there; the report is the same.
--all-tenants judges each tenant against its own records: one report per
tenant, one after the other, or with -o DIR one file per tenant in DIR.

` + exitStatusHelp + `

Flags:
`

var inputFormatList = func() string {
	var names []string
	for _, f := range source.Formats {
		names = append(names, string(f))
	}
	return strings.Join(names, ", ")
}()

// wrappedFormatList is inputFormatList broken into lines for help text.
var wrappedFormatList = func() string {
	var b strings.Builder
	col := 0
	for i, f := range source.Formats {
		s := string(f)
		if i < len(source.Formats)-1 {
			s += ","
		}
		if col+len(s)+1 > 72 {
			b.WriteString("\n  ")
			col = 2
		} else if i > 0 {
			b.WriteByte(' ')
			col++
		}
		b.WriteString(s)
		col += len(s)
	}
	return b.String()
}()

func runTriageCmd(ctx context.Context, ios *iostreams.IOStreams, args []string) error {
	opts, err := parseTriageFlags(ios, args)
	if err != nil {
		return err
	}
	return runTriage(ctx, ios, opts)
}

func parseTriageFlags(ios *iostreams.IOStreams, args []string) (*TriageOptions, error) {
	fs := newFlagSet("triage", triageUsage, ios.Out)
	var tenants, domains listFlag
	fs.Var(&tenants, "tenant", "our tenant id (repeatable); default: inferred from the records' OrganizationId")
	fs.Var(&domains, "domain", "our UPN domain (repeatable); default: inferred from member sign-ins")
	inputFormat := fs.String("input-format", "auto", "force the input format instead of sniffing it")
	format := fs.String("format", "text", "output format: text, json, csv, md or html")
	color := fs.String("color", "auto", "colour text output: auto (on a terminal, unless NO_COLOR is set), always or never")
	output := fs.String("o", "", "write the report to this file (atomically) instead of stdout")
	fs.StringVar(output, "output", "", "same as -o")
	since := fs.String("since", "", "only records at or after this time (RFC 3339 or YYYY-MM-DD, UTC)")
	until := fs.String("until", "", "only records before this time (RFC 3339 or YYYY-MM-DD, UTC)")
	failOn := fs.String("fail-on", "none", "exit 3 when an identity's severity is at or above this: high, medium, low, info or none")
	maxEvidence := fs.Int("max-evidence", triage.DefaultMaxEvidence, "evidence and sharing records listed per identity (counts stay exact)")
	strict := fs.Bool("strict", false, "stop at the first unreadable record or file")
	workers := fs.Int("workers", 0, "decoding workers, and compressed files inflated at once (default: one per CPU)")
	quiet := fs.Bool("quiet", false, "do not list input problems on stderr (the report still counts them)")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile to this file (for reporting slowness)")
	memprofile := fs.String("memprofile", "", "write a heap profile, taken when every input has been read (the run's peak), to this file (for reporting memory use)")
	tempDir := fs.String("temp-dir", "", "where large runs spill record Ids and sharing records (default: $TMPDIR or /tmp; use a disk, not a tmpfs, to save memory)")
	dirFile := fs.String("directory", "", "our directory snapshot: a Graph /users export (JSON, JSON Lines) or the portal's users CSV")
	var geoip listFlag
	fs.Var(&geoip, "geoip", "a MaxMind database (.mmdb: City, Country, ASN or Anonymous-IP; repeatable) to enrich IPs, offline")
	chDSN := fs.String("clickhouse", "", "triage the records stored by 'outsider load' in this ClickHouse (http://host:8123/database) instead of files")
	allTenants := fs.Bool("all-tenants", false, "with --clickhouse: one report per tenant, each judged against its own records")
	pos, err := parseArgs(fs, "triage", args)
	if err != nil {
		return nil, err
	}
	o := &TriageOptions{Paths: pos, Tenants: tenants, Domains: domains, Output: *output, MaxEvidence: *maxEvidence,
		Strict: *strict, Workers: *workers, Quiet: *quiet, CPUProfile: *cpuprofile, MemProfile: *memprofile, TempDir: *tempDir, Directory: *dirFile, GeoIP: geoip}
	o.ClickHouse, o.AllTenants = *chDSN, *allTenants
	if err := checkClickHouseFlags(o); err != nil {
		return nil, err
	}
	if len(pos) == 0 && o.ClickHouse == "" {
		return nil, usagef("triage", "no input: name files, folders or - for stdin")
	}
	for _, t := range tenants {
		if err := tenant.ValidateID(t); err != nil {
			return nil, usagef("triage", "--tenant: %s", err)
		}
	}
	if o.InputFormat, err = source.ParseFormat(*inputFormat); err != nil {
		return nil, usagef("triage", "--input-format: %s (want auto or one of %s)", err, inputFormatList)
	}
	if o.Format, err = report.ParseFormat(*format); err != nil {
		return nil, usagef("triage", "--format: %s", err)
	}
	if o.Color, err = report.ParseColorMode(*color); err != nil {
		return nil, usagef("triage", "--color: %s", err)
	}
	if *since != "" {
		if o.Since, err = parseTimeFlag(*since); err != nil {
			return nil, usagef("triage", "--since: %s", err)
		}
	}
	if *until != "" {
		if o.Until, err = parseTimeFlag(*until); err != nil {
			return nil, usagef("triage", "--until: %s", err)
		}
	}
	if !o.Since.IsZero() && !o.Until.IsZero() && !o.Since.Before(o.Until) {
		return nil, usagef("triage", "--since must be before --until")
	}
	switch *failOn {
	case "none", "":
	case triage.SeverityHigh, triage.SeverityMedium, triage.SeverityLow, triage.SeverityInfo:
		o.FailOn = *failOn
	default:
		return nil, usagef("triage", "--fail-on %q: want high, medium, low, info or none", *failOn)
	}
	if o.MaxEvidence < 1 {
		return nil, usagef("triage", "--max-evidence must be at least 1")
	}
	if o.Workers < 0 {
		return nil, usagef("triage", "--workers must not be negative")
	}
	return o, nil
}

func runTriage(ctx context.Context, ios *iostreams.IOStreams, o *TriageOptions) error {
	if o.CPUProfile != "" {
		f, err := os.Create(o.CPUProfile)
		if err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	var paths []string
	var err error
	if o.ClickHouse == "" {
		if paths, err = source.Expand(o.Paths); err != nil {
			return err
		}
	}
	var dir *directory.Directory
	if o.Directory != "" {
		var probs []directory.Problem
		if dir, probs, err = directory.Load(o.Directory); err != nil {
			return fmt.Errorf("--directory: %w", err)
		}
		if !o.Quiet {
			for _, p := range probs {
				fmt.Fprintf(ios.ErrOut, "outsider: skipped: %s\n", report.Clean(p.String()))
			}
		}
	}
	var geo *enrich.DB
	if len(o.GeoIP) > 0 {
		if geo, err = enrich.Open(o.GeoIP...); err != nil {
			return fmt.Errorf("--geoip: %w", err)
		}
		defer geo.Close()
	}
	if o.ClickHouse != "" {
		return runTriageClickHouse(ctx, ios, o, dir, geo)
	}
	// A progress line on stderr, only for a person watching a terminal.
	var counters *progress.Counters
	stopProgress := func() {}
	if ios.StderrTTY && !o.Quiet {
		counters = &progress.Counters{}
		stopProgress = progress.Start(ios.ErrOut, counters, inputSize(paths), 200*time.Millisecond)
		defer stopProgress()
	}
	// --memprofile profiles the heap when it is largest: every input read,
	// the aggregates not yet merged (after the run they are gone, and a
	// profile would show nothing of what the run needed).
	var memErr error
	var atPeak func()
	if o.MemProfile != "" {
		atPeak = func() { memErr = writeHeapProfile(o.MemProfile) }
	}
	rep, err := triage.Run(ctx, paths, triage.Options{
		Progress:    counters,
		Tenants:     o.Tenants,
		Domains:     o.Domains,
		Since:       o.Since,
		Until:       o.Until,
		MaxEvidence: o.MaxEvidence,
		Strict:      o.Strict,
		Workers:     o.Workers,
		TempDir:     o.TempDir,
		Source:      source.Options{Format: o.InputFormat, Stdin: ios.In},
		Directory:   dir, DirectoryPath: o.Directory,
		GeoIP:  geo,
		AtPeak: atPeak,
	})
	stopProgress() // the final line, before problems and the report
	if err == nil && memErr != nil {
		err = fmt.Errorf("--memprofile: %w", memErr)
	}
	if err != nil {
		return err
	}
	if !o.Quiet {
		printProblems(ios.ErrOut, rep)
	}
	ro := report.Options{All: true, Color: report.UseColor(o.Color, o.Format, o.Output != "", ios.StdoutTTY, os.Getenv)}
	write := func(w io.Writer) error { return report.RenderOptions(w, o.Format, rep, ro) }
	if o.Output != "" {
		err = writeOutput(o.Output, write)
	} else {
		bw := bufio.NewWriterSize(ios.Out, 64<<10)
		if err = write(bw); err == nil {
			err = bw.Flush()
		}
	}
	if err != nil {
		return err
	}
	return outcome(ios, o, rep)
}

// outcome is the exit status the reports call for: 3 when an identity is
// at or above --fail-on, else 4 when a report judged nothing (its reason
// also goes to stderr, unless the text report on stdout already led with
// it), else 0.
func outcome(ios *iostreams.IOStreams, o *TriageOptions, reps ...*triage.Report) error {
	if o.FailOn != "" {
		threshold := triage.SeverityRank(o.FailOn)
		for _, rep := range reps {
			for _, id := range rep.Identities {
				if triage.SeverityRank(id.Severity) >= threshold {
					return errFinding
				}
			}
		}
	}
	nothing := false
	for _, rep := range reps {
		if why := rep.Summary.NothingJudged; why != "" {
			nothing = true
			if o.Output != "" || o.Format != report.Text {
				fmt.Fprintf(ios.ErrOut, "outsider: cannot tell: %s\n", report.Clean(why))
			}
		}
	}
	if nothing {
		return errNothingJudged
	}
	return nil
}

// inputSize is the inputs' size on disk, 0 when unknown (stdin).
func inputSize(paths []string) int64 {
	var total int64
	for _, p := range paths {
		if p == "-" {
			return 0
		}
		if fi, err := os.Stat(p); err == nil {
			total += fi.Size()
		}
	}
	return total
}

// printProblems lists input problems on stderr, one line each, naming file,
// line or row, and reason; then a count.
func printProblems(w io.Writer, rep *triage.Report) {
	for _, p := range rep.Problems {
		kind := "skipped"
		if p.Warning {
			kind = "warning"
		}
		fmt.Fprintf(w, "outsider: %s: %s\n", kind, report.Clean(p.Error()))
	}
	if rep.ProblemsOmitted > 0 {
		fmt.Fprintf(w, "outsider: ... and %d more problems not listed\n", rep.ProblemsOmitted)
	}
	if rep.Input.Skipped > 0 || rep.Input.SkippedFiles > 0 {
		fmt.Fprintf(w, "outsider: %s; the report covers the %d records read\n", skippedWords(rep.Input.Skipped, rep.Input.SkippedFiles), rep.Input.Records)
	}
}

// skippedWords counts what was skipped, records and files apart: a file
// that could not be read is not a record.
func skippedWords(records, files int64) string {
	count := func(n int64, one, many string) string {
		if n == 1 {
			return "1 unreadable " + one + " skipped"
		}
		return fmt.Sprintf("%d unreadable %s skipped", n, many)
	}
	var parts []string
	if records > 0 {
		parts = append(parts, count(records, "record", "records"))
	}
	if files > 0 {
		parts = append(parts, count(files, "file", "files"))
	}
	return strings.Join(parts, ", ")
}

// writeHeapProfile writes the live heap (after a collection) to path.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	runtime.GC()
	if err := pprof.WriteHeapProfile(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
