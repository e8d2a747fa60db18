package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/outsider-sec/outsider/internal/directory"
	"github.com/outsider-sec/outsider/internal/enrich"
	"github.com/outsider-sec/outsider/internal/iostreams"
	"github.com/outsider-sec/outsider/internal/progress"
	"github.com/outsider-sec/outsider/internal/report"
	"github.com/outsider-sec/outsider/internal/source"
	"github.com/outsider-sec/outsider/internal/textsafe"
	"github.com/outsider-sec/outsider/internal/triage"
)

// TriageOptions are the flags and arguments of 'outsider triage'.
type TriageOptions struct {
	Paths   []string
	Tenants []string
	Domains []string
	readOptions
	Format      report.Format
	Color       report.ColorMode
	Output      string
	Since       time.Time
	Until       time.Time
	FailOn      string
	MaxEvidence int
	// NoAccessed leaves out what each identity touched (--no-accessed).
	NoAccessed bool
	Quiet      bool
	CPUProfile string
	MemProfile string
	TempDir    string
	Directory  string
	GeoIP      []string
	// PartnerNames is --partner-names: a CSV of tenant id,name that names
	// home tenants over what their accounts' domains suggest.
	PartnerNames string
	// ClickHouse and AllTenants: triage the records 'outsider load'
	// stored instead of files (cmd_triage_clickhouse.go).
	ClickHouse string
	AllTenants bool
	// Config is --config: the config file to take defaults from.
	Config string
	// Settings are the defaults from the environment and the config
	// file, with where each came from.
	Settings *settings

	// HashInputs puts each input file's SHA-256 in the report's
	// provenance (--hash-inputs); Stamp the time it was made (--stamp).
	HashInputs bool
	Stamp      bool
	// now is the clock --stamp reads (tests set it).
	now func() time.Time

	// All shows every identity's full block in text (--all); otherwise
	// those below severity low are in the table only.
	All bool
	// NoPager writes text to a terminal directly (--no-pager).
	NoPager bool

	// partnerNames are the names read from PartnerNames.
	partnerNames map[string]string

	// colored: text with ANSI colour (decided from --color, the
	// environment and the terminal when the flags are read).
	colored bool
	// width is what text is laid out for: $COLUMNS, else the terminal's
	// width; 0 (a pipe or a file) means the report's default, 100.
	width int
	// pager is the command text on a terminal goes through ($OUTSIDER_PAGER,
	// $PAGER, else less -FRX); nil when there is none to use.
	pager []string

	// args are the command line as given to Main (provenance).
	args []string

	format, color, failOn string
	period                periodFlags
}

const triageLong = `Reads Unified Audit Log exports and Entra ID sign-in logs (files, folders,
globs, .gz, .zip, or - for stdin; the format is sniffed from the content),
classifies every sign-in actor, and judges each outside identity by
Microsoft's due diligence: did the account or its IPs do anything besides
signing in, and did someone share something with it? --directory says
whether each account exists in the tenant; --geoip adds where its IPs are.

Input formats (--input-format, default auto):
  ` + "%s" + `

Output formats (-f, --format): text (default), json (schema
outsider/triage/v1), csv, md (Markdown for tickets and wikis), html (one
self-contained page). Without --format, -o's extension chooses: .txt,
.json, .csv, .md, .html; --format and a different extension are a usage
error. -o writes into a folder that exists (it is never created), and
says what it wrote on stderr when that is a terminal.

Colour (--color): text on a terminal is coloured unless NO_COLOR is set;
CLICOLOR_FORCE forces it on stdout. Files (-o) and other formats never are.

Text answers first: the three questions in plain words, then a table of
every identity sized to the terminal ($COLUMNS, else its width), most
severe first; then the full block of each identity at or above severity
low (--all: every one). On a terminal it goes through a pager:
$OUTSIDER_PAGER, else $PAGER, else 'less -FRX' (--no-pager, or
OUTSIDER_PAGER=cat, writes directly).

Defaults: --tenant, --domain, --directory, --geoip and --partner-names may
come from OUTSIDER_TENANT, OUTSIDER_DOMAIN, OUTSIDER_DIRECTORY,
OUTSIDER_GEOIP and OUTSIDER_PARTNER_NAMES, then from the config file
($XDG_CONFIG_HOME/outsider/config.json, or --config); a flag wins. 'outsider config show' prints what is in force.

With --clickhouse, the records are those 'outsider load' stored in
ClickHouse and the due diligence runs there; the report is the same.
--all-tenants judges each tenant against its own records: one report per
tenant, one after the other, or with -o DIR one file per tenant in DIR
(created if need be).

Exit status: 0 done; 1 error; 2 usage; 3 an identity at or above --fail-on;
4 nothing judged (no record, no sign-in, or the filters left none);
130 interrupted.`

func newCmdTriage(f *factory, runF func(context.Context, *TriageOptions) error) *cobra.Command {
	o := &TriageOptions{}
	cmd := &cobra.Command{
		Use:   "triage [flags] PATH...",
		Short: "judge every outside sign-in in audit-log exports",
		Long:  fmt.Sprintf(triageLong, wrappedFormatList),
		Example: `  outsider triage exports/
  outsider triage UAL-*.csv -o report.html
  outsider triage audit.jsonl.gz --since 2026-10-01 --fail-on high
  Search-UnifiedAuditLog ... | ConvertTo-Json | outsider triage -`,
		Annotations: map[string]string{annotationUsage: "outsider triage [flags] PATH...\n" +
			"outsider triage --clickhouse DSN [--tenant T | --all-tenants] [flags]"},
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Paths, o.args = args, f.args
			if err := o.complete(f, cmd); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runTriage(cmd.Context(), f.IO, o)
		},
	}
	fs := cmd.Flags()
	addTenantFlag(fs, &o.Tenants, "our tenant id (`GUID`, repeatable); default: inferred from the records' OrganizationId")
	addListFlag(fs, &o.Domains, "domain", "our UPN `domain` (repeatable); default: inferred from member sign-ins")
	fs.StringVar(&o.Directory, "directory", "", "our directory snapshot `file`: a Graph /users export (JSON, JSON Lines) or the portal's users CSV")
	fs.StringVar(&o.PartnerNames, "partner-names", "", "name partners (home tenants) from this CSV `file` of tenant id,name rows (header optional), over the names the sign-in log, the directory or their accounts' domains give")
	addListFlag(fs, &o.GeoIP, "geoip", "a MaxMind database (`.mmdb`: City, Country, ASN or Anonymous-IP; repeatable) to enrich IPs, offline")
	fs.StringVar(&o.Config, "config", "", "take defaults from this config `file` instead of $XDG_CONFIG_HOME/outsider/config.json")
	addFormatFlag(cmd, &o.format, "", formatNames(), "output `format`: text, json, csv, md or html (default: from -o's extension, else text)")
	addOutputFlag(fs, &o.Output, "write the report to this `file` (atomically) instead of stdout")
	fs.StringVar(&o.color, "color", "auto", "colour text output (`when`): auto (on a terminal, unless NO_COLOR is set), always or never")
	completeValues(cmd, "color", "auto", "always", "never")
	o.period.add(fs, "only records at or after this `time` (RFC 3339 or YYYY-MM-DD, UTC)",
		"only records before this `time` (RFC 3339 or YYYY-MM-DD, UTC)")
	fs.StringVar(&o.failOn, "fail-on", "none", "exit 3 when an identity's severity is at or above this `severity`: high, medium, low, info or none")
	completeValues(cmd, "fail-on", "high", "medium", "low", "info", "none")
	fs.IntVar(&o.MaxEvidence, "max-evidence", triage.DefaultMaxEvidence, "evidence and sharing records listed per identity (counts stay exact)")
	fs.BoolVar(&o.NoAccessed, "no-accessed", false, "do not read the inputs again for the sites, files, mailboxes and teams each identity touched (faster on large gzip exports; the report says they were not computed)")
	o.readOptions.add(cmd)
	fs.BoolVarP(&o.Quiet, "quiet", "q", false, "do not list input problems on stderr (the report still counts them), nor what -o wrote")
	fs.BoolVarP(&o.All, "all", "a", false, "text: show every identity in full, not only those at or above severity low (the table lists all)")
	fs.BoolVar(&o.NoPager, "no-pager", false, "text on a terminal: write directly instead of through $OUTSIDER_PAGER, $PAGER or less")
	fs.StringVar(&o.CPUProfile, "cpuprofile", "", "write a CPU profile to this `file` (for reporting slowness)")
	fs.StringVar(&o.MemProfile, "memprofile", "", "write a heap profile, taken when every input has been read (the run's peak), to this `file` (for reporting memory use)")
	fs.StringVar(&o.TempDir, "temp-dir", "", "`folder` where large runs spill record Ids, sharing records and gzip/zip restart points (default: $TMPDIR or /tmp; use a disk, not a tmpfs, to save memory)")
	fs.StringVar(&o.ClickHouse, "clickhouse", "", "triage the records stored by 'outsider load' in this ClickHouse (`DSN`: http://host:8123/database) instead of files")
	fs.BoolVar(&o.HashInputs, "hash-inputs", false, "put each input file's SHA-256 in the report's provenance (reads every file once more after the run)")
	fs.BoolVar(&o.Stamp, "stamp", false, "put the time the report was made in its provenance (without it, the same input gives a byte-identical report)")
	fs.BoolVar(&o.AllTenants, "all-tenants", false, "with --clickhouse: one report per tenant, each judged against its own records")
	return cmd
}

// formatNames are the report formats, for help and completion.
func formatNames() []string {
	var names []string
	for _, f := range report.Formats {
		names = append(names, string(f))
	}
	return names
}

// complete checks the flags and fills in what they imply: defaults from
// the environment and the config file, the format from -o's name, the
// colour from the terminal.
func (o *TriageOptions) complete(f *factory, cmd *cobra.Command) error {
	fs := cmd.Flags()
	if err := checkClickHouseFlags(o); err != nil {
		return err
	}
	if len(o.Paths) == 0 && o.ClickHouse == "" {
		return usagef("triage", "no input: name files, folders or - for stdin")
	}
	var err error
	if o.Settings, err = loadSettings(f.Getenv, o.Config); err != nil {
		return err
	}
	o.Settings.printWarnings(f.IO)
	for _, d := range []struct {
		st  *setting
		dst *[]string
	}{{&o.Settings.Tenant, &o.Tenants}, {&o.Settings.Domain, &o.Domains}, {&o.Settings.GeoIP, &o.GeoIP}} {
		switch {
		case fs.Changed(d.st.Key):
			d.st.Values, d.st.Source = *d.dst, "flag --"+d.st.Key
		case d.st.Key == "tenant" && o.AllTenants:
			// --all-tenants is a flag too, and wins over a default tenant.
		default:
			*d.dst = d.st.Values
		}
	}
	for _, d := range []struct {
		st  *setting
		dst *string
	}{{&o.Settings.Directory, &o.Directory}, {&o.Settings.PartnerNames, &o.PartnerNames}} {
		if fs.Changed(d.st.Key) {
			d.st.Values, d.st.Source = []string{*d.dst}, "flag --"+d.st.Key
		} else if v := d.st.Values; len(v) > 0 {
			*d.dst = v[0]
		}
	}
	if err := checkTenants("triage", o.Settings.from("tenant"), o.Tenants); err != nil {
		return err
	}
	if err := o.readOptions.parse("triage"); err != nil {
		return err
	}
	if o.Format, err = reportFormat(o.format, fs.Changed("format"), o.Output, o.AllTenants); err != nil {
		return err
	}
	if o.Color, err = report.ParseColorMode(enumValue(o.color)); err != nil {
		return usagef("triage", "--color: %s", err)
	}
	if o.Since, o.Until, err = o.period.parse("triage"); err != nil {
		return err
	}
	switch v := enumValue(o.failOn); v {
	case "none", "":
		o.FailOn = ""
	case triage.SeverityHigh, triage.SeverityMedium, triage.SeverityLow, triage.SeverityInfo:
		o.FailOn = v
	default:
		return usagef("triage", "--fail-on %q: want high, medium, low, info or none", o.failOn)
	}
	if o.MaxEvidence < 1 {
		return usagef("triage", "--max-evidence must be at least 1")
	}
	if o.Output != "" && !o.AllTenants {
		if err := checkOutputDir("-o", o.Output); err != nil {
			return err
		}
	}
	o.colored = report.UseColor(o.Color, o.Format, o.Output != "", f.IO.StdoutTTY, f.Getenv)
	o.width = textWidth(f.IO, f.Getenv)
	if o.Output == "" && o.Format == report.Text && f.IO.StdoutTTY && !o.NoPager {
		o.pager = pagerCommand(f.Getenv)
	}
	return nil
}

// reportExtensions are the file name extensions -o understands.
var reportExtensions = map[string]report.Format{
	".txt": report.Text, ".text": report.Text,
	".json": report.JSON,
	".csv":  report.CSV,
	".md":   report.Markdown, ".markdown": report.Markdown,
	".html": report.HTML, ".htm": report.HTML,
}

// reportFormat is the report's format: --format if given, else the one
// -o's extension names, else text. A --format that -o's extension
// contradicts, an extension that names no format, and without --format a
// file named after a format (-o json, surely meant as --format json) are
// usage errors: each would otherwise write something other than what was
// asked for.
// With --all-tenants, -o names a folder and says nothing of the format.
func reportFormat(flag string, given bool, output string, allTenants bool) (report.Format, error) {
	format := report.Text
	if given {
		f, err := report.ParseFormat(enumValue(flag))
		if err != nil {
			return "", usagef("triage", "--format: %s", err)
		}
		format = f
	}
	if output == "" || allTenants {
		return format, nil
	}
	base := filepath.Base(output)
	ext := strings.ToLower(filepath.Ext(base))
	byExt, known := reportExtensions[ext]
	switch {
	case ext == "":
		name := strings.ToLower(base)
		if name == "txt" {
			name = string(report.Text)
		}
		if _, err := report.ParseFormat(name); err == nil && !given {
			return "", &usageError{cmd: "triage", msg: fmt.Sprintf("-o %s writes a file named %q", output, base),
				hints: []string{fmt.Sprintf("for the %s format, give --format %s (or name the file report.%s)", name, name, extension(report.Format(name)))}}
		}
		return format, nil
	case !known && !given:
		return "", &usageError{cmd: "triage", msg: fmt.Sprintf("-o %s: cannot tell the format from %q", output, ext),
			hints: []string{"give --format (text, json, csv, md or html), or end the name in .txt, .json, .csv, .md or .html"}}
	case known && given && byExt != format:
		return "", &usageError{cmd: "triage", msg: fmt.Sprintf("--format %s does not match -o %s (a %s name)", format, output, ext),
			hints: []string{"drop --format (the extension chooses), or make them agree"}}
	case known:
		return byExt, nil
	}
	return format, nil
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
		var passed []source.Passed
		if paths, passed, err = source.ExpandNoting(o.Paths); err != nil {
			return err
		}
		notePassed(ios, o.Quiet, passed)
	}
	var dir *directory.Directory
	if o.Directory != "" {
		var probs []directory.Problem
		if dir, probs, err = directory.Load(o.Directory); err != nil {
			return fmt.Errorf("%s: %w", o.Settings.from("directory"), err)
		}
		if !o.Quiet {
			for _, p := range probs {
				fmt.Fprintf(ios.ErrOut, "outsider: skipped: %s\n", textsafe.Line(p.String()))
			}
		}
	}
	if o.PartnerNames != "" {
		names, probs, err := triage.LoadPartnerNames(o.PartnerNames)
		if err != nil {
			return fmt.Errorf("%s: %w", o.Settings.from("partner-names"), err)
		}
		if !o.Quiet {
			for _, p := range probs {
				fmt.Fprintf(ios.ErrOut, "outsider: skipped: %s\n", textsafe.Line(p.String()))
			}
		}
		o.partnerNames = names
	}
	var geo *enrich.DB
	if len(o.GeoIP) > 0 {
		if geo, err = enrich.Open(o.GeoIP...); err != nil {
			return fmt.Errorf("%s: %w", o.Settings.from("geoip"), err)
		}
		defer geo.Close()
	}
	if o.ClickHouse != "" {
		return runTriageClickHouse(ctx, ios, o, dir, geo)
	}
	delayFirstGC()
	counters, stopProgress := startProgress(ios, o.Quiet, paths)
	defer stopProgress()
	// Standard input is measured (and with --hash-inputs hashed) as the
	// run reads it: it cannot be read again afterwards.
	var stdin io.Reader
	var stdinRec *stdinRecorder
	if ios.In != nil {
		stdinRec = &stdinRecorder{r: ios.In}
		if o.HashInputs {
			stdinRec.h = sha256.New()
		}
		stdin = stdinRec
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
		Progress:     counters,
		Tenants:      o.Tenants,
		Domains:      o.Domains,
		Since:        o.Since,
		Until:        o.Until,
		MaxEvidence:  o.MaxEvidence,
		SkipAccessed: o.NoAccessed,
		Strict:       o.Strict,
		Workers:      o.Workers,
		TempDir:      o.TempDir,
		Source:       source.Options{Format: o.InputFormat, Stdin: stdin, DateOrder: o.DateOrder},
		Directory:    dir, DirectoryPath: o.Directory,
		GeoIP:        geo,
		AtPeak:       atPeak,
		PartnerNames: o.partnerNames,
	})
	stopProgress() // the final line, before problems and the report
	if err == nil && memErr != nil {
		err = fmt.Errorf("--memprofile: %w", memErr)
	}
	if err != nil {
		return err
	}
	if rep.Provenance, err = o.provenance(o.args, paths, stdinRec); err != nil {
		return err
	}
	if !o.Quiet {
		printProblems(ios.ErrOut, rep)
	}
	reps := []tenantReport{{report: rep}}
	if err := writeReports(ios, o, reps); err != nil {
		return err
	}
	return outcome(ios, o, reps)
}

// tenantReport is one report to write, and the tenant it judged ("" when
// the run judged one tenant, or several at once).
type tenantReport struct {
	tenant string
	report *triage.Report
}

// writeReports writes the reports of a run, from files or from
// ClickHouse alike: to -o (atomically; with --all-tenants, one file per
// tenant in the folder -o names), else to stdout one after the other.
// What -o wrote is confirmed on stderr when a person is watching it.
func writeReports(ios *iostreams.IOStreams, o *TriageOptions, reps []tenantReport) error {
	ro := report.Options{Color: o.colored, All: o.All}
	if o.Output == "" {
		ro.Width = o.width
	}
	render := func(reps ...tenantReport) func(io.Writer) error {
		return func(w io.Writer) error {
			for _, r := range reps {
				if err := report.RenderOptions(w, o.Format, r.report, ro); err != nil {
					return err
				}
			}
			return nil
		}
	}
	switch {
	case o.Output != "" && o.AllTenants:
		// The one place -o's folder is created: it is a folder of the
		// run's own making, named for that (see the help).
		if err := os.MkdirAll(o.Output, 0o755); err != nil {
			return fmt.Errorf("cannot write %s: %w", o.Output, err)
		}
		for _, r := range reps {
			path := filepath.Join(o.Output, tenantFileName(r.tenant)+"."+extension(o.Format))
			if err := writeOutput(path, render(r)); err != nil {
				return err
			}
			o.confirm(ios, path, r)
		}
		return nil
	case o.Output != "":
		if err := writeOutput(o.Output, render(reps...)); err != nil {
			return err
		}
		o.confirm(ios, o.Output, reps...)
		return nil
	}
	// stdout, through the pager when text goes to a terminal.
	if p := startPager(ios, o.pager); p != nil {
		bw := bufio.NewWriterSize(p, 64<<10)
		err := render(reps...)(bw)
		if err == nil {
			err = bw.Flush()
		}
		return p.close(err)
	}
	bw := bufio.NewWriterSize(ios.Out, 64<<10)
	if err := render(reps...)(bw); err != nil {
		return err
	}
	return bw.Flush()
}

// confirm says on stderr what was written to path, when stderr is a
// terminal: "wrote report.html (html, 23 identities, 4 high)". Piped or
// --quiet, nothing: scripts check the exit status.
func (o *TriageOptions) confirm(ios *iostreams.IOStreams, path string, reps ...tenantReport) {
	if !ios.StderrTTY || o.Quiet {
		return
	}
	fmt.Fprintf(ios.ErrOut, "wrote %s (%s)\n", textsafe.Line(path), writtenWords(o.Format, reps))
}

// writtenWords is the parenthesis of the confirmation line.
func writtenWords(f report.Format, reps []tenantReport) string {
	ids, high, judged := 0, 0, false
	for _, r := range reps {
		ids += len(r.report.Identities)
		high += r.report.CountSeverity(triage.SeverityHigh)
		judged = judged || r.report.Summary.NothingJudged == ""
	}
	if !judged {
		return fmt.Sprintf("%s, nothing judged", f)
	}
	return fmt.Sprintf("%s, %s, %d high", f, plural(ids, "identity", "identities"), high)
}

// plural is "1 identity", "2 identities".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// outcome is the exit status the reports call for: 3 when an identity is
// at or above --fail-on (the threshold wins over everything else, as
// scripts gate on it), else 4 when a report judged nothing (its reason
// also goes to stderr, unless the text report on stdout already led with
// it), else 0.
func outcome(ios *iostreams.IOStreams, o *TriageOptions, reps []tenantReport) error {
	if o.FailOn != "" {
		for _, r := range reps {
			if r.report.Reaches(o.FailOn) {
				return errFinding
			}
		}
	}
	nothing := false
	for _, r := range reps {
		if why := r.report.Summary.NothingJudged; why != "" {
			nothing = true
			if o.Output != "" || o.Format != report.Text {
				fmt.Fprintf(ios.ErrOut, "outsider: cannot tell: %s\n", textsafe.Line(why))
			}
		}
	}
	if nothing {
		return errNothingJudged
	}
	return nil
}

// notePassed says on stderr what the folders given held that is not
// read (hidden entries, pipes, links to folders): an export saved under a
// hidden name must not vanish without a word.
func notePassed(ios *iostreams.IOStreams, quiet bool, passed []source.Passed) {
	if quiet {
		return
	}
	for _, p := range passed {
		fmt.Fprintf(ios.ErrOut, "outsider: %s\n", textsafe.Line(p.String()))
	}
}

// startProgress draws a progress line on stderr, only for a person
// watching a terminal and not with --quiet (counters is nil then). stop
// draws the final line; calling it again does nothing, so a caller both
// defers it and calls it before writing anything else.
func startProgress(ios *iostreams.IOStreams, quiet bool, paths []string) (counters *progress.Counters, stop func()) {
	if !ios.StderrTTY || quiet {
		return nil, func() {}
	}
	counters = &progress.Counters{}
	return counters, progress.Start(ios.ErrOut, counters, inputSize(paths), 200*time.Millisecond)
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

// printProblems lists input problems on stderr, naming file, line or row,
// and reason; then a count. Problems of one file whose reasons differ only
// in the values they quote (twenty rows of one re-saved export, each with
// its own ambiguous date) are said once, with the first of them in full
// and the others counted on one more line: listed one by one they pushed
// the report's answers off the first screen.
func printProblems(w io.Writer, rep *triage.Report) {
	for _, g := range groupProblems(rep.Problems) {
		p := g[0]
		kind := "skipped"
		if p.Warning {
			kind = "warning"
		}
		if len(g) == 2 {
			// Two lines either way: both said in full.
			fmt.Fprintf(w, "outsider: %s: %s\n", kind, textsafe.Line(p.Error()))
			p = g[1]
			g = g[1:]
		}
		fmt.Fprintf(w, "outsider: %s: %s\n", kind, textsafe.Line(p.Error()))
		if len(g) > 1 {
			values := " (each with its own value)"
			if sameReason(g) {
				values = ""
			}
			fmt.Fprintf(w, "outsider: %s: %s: and %s for the same reason%s\n", kind, textsafe.Line(p.Path), moreLines(g[1:]), values)
		}
	}
	if rep.ProblemsOmitted > 0 {
		fmt.Fprintf(w, "outsider: ... and %d more problems not listed\n", rep.ProblemsOmitted)
	}
	if rep.Input.Skipped > 0 || rep.Input.SkippedFiles > 0 {
		fmt.Fprintf(w, "outsider: %s; the report covers the %d records read\n", skippedWords(rep.Input.Skipped, rep.Input.SkippedFiles), rep.Input.Records)
	}
}

// groupProblems groups problems by file, kind and reason with the values
// the reason quotes left out (reasonShape), in the order each group first
// appears.
func groupProblems(ps []triage.Problem) [][]triage.Problem {
	type key struct {
		path, unit, shape string
		warning           bool
	}
	index := map[key]int{}
	var groups [][]triage.Problem
	for _, p := range ps {
		if p.Unit == "" || p.Line == 0 {
			groups = append(groups, []triage.Problem{p}) // a file's own problem stands alone
			continue
		}
		k := key{p.Path, p.Unit, reasonShape(p.Reason), p.Warning}
		if i, ok := index[k]; ok {
			groups[i] = append(groups[i], p)
			continue
		}
		index[k] = len(groups)
		groups = append(groups, []triage.Problem{p})
	}
	return groups
}

// reasonShape is a reason with what it quotes ("...") emptied: the same
// reason for two records whatever their values.
func reasonShape(reason string) string {
	var b strings.Builder
	in := false
	for _, c := range reason {
		if c == '"' {
			in = !in
			b.WriteRune(c)
			continue
		}
		if !in {
			b.WriteRune(c)
		}
	}
	return b.String()
}

// sameReason reports whether every problem of g has the very same reason.
func sameReason(g []triage.Problem) bool {
	for _, p := range g[1:] {
		if p.Reason != g[0].Reason {
			return false
		}
	}
	return true
}

// moreLines says which lines or rows the rest of a group is at: "19 more
// rows (3 to 21)", or the first three and how many more.
func moreLines(rest []triage.Problem) string {
	unit := rest[0].Unit
	s := strconv.Itoa(len(rest)) + " more " + unit + "s" // never one: two are both said
	contiguous := true
	for i := 1; i < len(rest); i++ {
		contiguous = contiguous && rest[i].Line == rest[i-1].Line+1
	}
	if contiguous {
		return s + " (" + strconv.FormatInt(rest[0].Line, 10) + " to " + strconv.FormatInt(rest[len(rest)-1].Line, 10) + ")"
	}
	var lines []string
	for _, p := range rest[:min(3, len(rest))] {
		lines = append(lines, strconv.FormatInt(p.Line, 10))
	}
	if len(rest) > 3 {
		return s + " (" + strings.Join(lines, ", ") + "...)"
	}
	return s + " (" + strings.Join(lines, ", ") + ")"
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
