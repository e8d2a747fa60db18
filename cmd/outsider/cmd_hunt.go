package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/outsider-sec/outsider/internal/hunt"
	"github.com/outsider-sec/outsider/internal/iostreams"
	"github.com/outsider-sec/outsider/internal/triage"
)

// HuntOptions are the flags of 'outsider hunt'.
type HuntOptions struct {
	SIEM hunt.SIEM
	// From is a triage report (JSON) to follow up, "-" for stdin; "" asks
	// for the whole triage as queries.
	From   string
	Since  time.Time
	Until  time.Time
	Format string
	Output string
	// Query names the one query to print ("" for all); OutDir is a folder
	// to write one file per query into.
	Query  string
	OutDir string
	// Indexes and Macro scope the Splunk searches (one is required).
	Indexes []string
	Macro   string
}

const huntLong = `Writes outsider's due diligence as queries for the place where the logs
already live, instead of exporting them:

  sentinel  KQL over OfficeActivity, SigninLogs, AADNonInteractiveUserSignInLogs
  defender  KQL for Defender XDR advanced hunting (CloudAppEvents, EntraIdSignInEvents)
  splunk    SPL over o365:management:activity and azure:monitor:aad
  purview   a PowerShell script around Search-UnifiedAuditLog, chunked under its
            5,000-per-call and 50,000-per-search limits, that collects the
            records for 'outsider triage'

Without --from: the whole triage as queries (find the sign-ins from outside
the organisation by tenant, then the due diligence by user, by IP and by
sharing, ending in the verdicts), over --since/--until (default: the last
30 days, evaluated when the queries run; --until alone: the 30 days before
it). Queries: outside-signins, by-user, by-ip, sharing, verdicts.

With --from REPORT (a 'outsider triage --format json' report, or - for
stdin): targeted queries for exactly its identities and IPs, from the
report's start until the queries run (so what they did since shows too);
--since/--until replace either end. Every value from the report is quoted
for the target language. Queries: signins, by-user, by-ip, sharing.

Splunk searches need --index NAME (repeatable: the indexes holding
o365:management:activity and azure:monitor:aad) or --macro NAME (a search
macro you define to expand to them, e.g. outsider_o365): a search without
index= reads only your default indexes and finds nothing, which would read
as an all-clear, so outsider never writes one.

--query NAME prints one query with a header (what it answers, the period,
how to run and read it, the rule). --out DIR writes every query to its own
file in DIR, which must exist: <siem>-<triage|followup>-<n>-<name>.kql,
.spl, or for Purview the whole script as one .ps1 (its steps run in order);
it prints the paths written. -o FILE.json without --format writes the JSON
form.

Exit status: 0 done; 1 error; 2 usage.`

func newCmdHunt(f *factory, runF func(context.Context, *HuntOptions) error) *cobra.Command {
	o := &HuntOptions{}
	var siem string
	var period periodFlags
	cmd := &cobra.Command{
		Use:   "hunt --siem SIEM [--from report.json] [flags]",
		Short: "write the due diligence as KQL, SPL or PowerShell for where the logs live",
		Long:  huntLong,
		Example: `  outsider hunt --siem sentinel --query verdicts
  outsider hunt --siem splunk --index o365 --index azure_aad --out queries/
  outsider triage export.json -o report.json && outsider hunt --siem splunk --macro outsider_o365 --from report.json`,
		Args: noArgs("hunt", " (a report goes after --from)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if siem == "" {
				return usagef("hunt", "--siem is required: sentinel, defender, splunk or purview")
			}
			var err error
			if o.SIEM, err = hunt.ParseSIEM(enumValue(siem)); err != nil {
				return usagef("hunt", "--siem: %s", err)
			}
			if o.Since, o.Until, err = period.parse("hunt"); err != nil {
				return err
			}
			given := cmd.Flags().Changed("format")
			o.Format = enumValue(o.Format)
			switch {
			case o.Format != "text" && o.Format != "json":
				return usagef("hunt", "--format %q: want text or json", o.Format)
			case o.Output != "" && strings.EqualFold(filepath.Ext(o.Output), ".json"):
				if given && o.Format != "json" {
					return &usageError{cmd: "hunt", msg: fmt.Sprintf("--format %s does not match -o %s (a .json name)", o.Format, o.Output),
						hints: []string{"drop --format (the extension chooses), or make them agree"}}
				}
				o.Format = "json"
			}
			if err := checkHuntScope(cmd, o); err != nil {
				return err
			}
			switch {
			case o.OutDir != "" && o.Output != "":
				return usagef("hunt", "--out and -o: give one (--out DIR writes a file per query, -o FILE all of them in one)")
			case o.OutDir != "" && o.Format == "json":
				return usagef("hunt", "--out writes .kql, .spl or .ps1 files; --format json goes with -o or stdout")
			case o.Query != "" && o.SIEM == hunt.Purview:
				return usagef("hunt", "--query: the Purview steps are one script, run in order; drop --query (or use --out DIR for a .ps1 file)")
			}
			if o.Output != "" {
				if err := checkOutputDir("-o", o.Output); err != nil {
					return err
				}
			}
			if o.OutDir != "" {
				if err := checkOutDir(o.OutDir); err != nil {
					return err
				}
			}
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runHunt(cmd.Context(), f.IO, o)
		},
	}
	fs := cmd.Flags()
	fs.StringVarP(&siem, "siem", "s", "", "where the logs are (`SIEM`): sentinel, defender, splunk or purview (required)")
	completeValues(cmd, "siem", "sentinel", "defender", "splunk", "purview")
	fs.StringVar(&o.From, "from", "", "follow up this triage report (`file`: JSON; - for stdin) instead of writing the whole triage")
	period.add(fs, "start of the period (`time`: RFC 3339 or YYYY-MM-DD, UTC)", "end of the period, excluded (`time`: RFC 3339 or YYYY-MM-DD, UTC)")
	addFormatFlag(cmd, &o.Format, "text", []string{"text", "json"}, "output `format`: text (queries with comments) or json (a list of {siem, name, purpose, how_to_read, query})")
	addOutputFlag(fs, &o.Output, "write to this `file` (atomically) instead of stdout")
	fs.StringVar(&o.Query, "query", "", "print only the query of this `name`, with a header (triage: outside-signins, by-user, by-ip, sharing, verdicts; follow-up: signins, by-user, by-ip, sharing)")
	fs.StringVar(&o.OutDir, "out", "", "write each query to its own file in this `folder` (it must exist), and print their paths")
	fs.StringArrayVar(&o.Indexes, "index", nil, "Splunk: an index holding the Office 365 and Entra data (`name`; repeatable); --index or --macro is required for splunk")
	fs.StringVar(&o.Macro, "macro", "", "Splunk: a search macro (`name`, no arguments) you define to expand to the indexes of the data, e.g. outsider_o365")
	return cmd
}

// checkHuntScope checks --index and --macro: Splunk needs exactly one of
// them, the other targets none, and names must be Splunk's.
func checkHuntScope(cmd *cobra.Command, o *HuntOptions) error {
	given := cmd.Flags().Changed("index") || cmd.Flags().Changed("macro")
	if o.SIEM != hunt.Splunk {
		if given {
			return usagef("hunt", "--index and --macro scope Splunk searches; --siem %s has no use for them", o.SIEM)
		}
		return nil
	}
	switch {
	case len(o.Indexes) > 0 && o.Macro != "":
		return usagef("hunt", "--index and --macro: give one (the macro stands for the indexes)")
	case len(o.Indexes) == 0 && o.Macro == "":
		return &usageError{cmd: "hunt", msg: "--siem splunk needs --index NAME or --macro NAME: a search without index= reads only your default indexes and finds nothing where the Office 365 and Entra data sit in their own index, which would read as an all-clear",
			hints: []string{"give the index of o365:management:activity and of azure:monitor:aad (--index o365 --index azure), or define a macro such as outsider_o365 = (index=o365 OR index=azure) and give --macro outsider_o365"}}
	}
	for _, n := range o.Indexes {
		if err := hunt.ValidSplunkIndex(n); err != nil {
			return usagef("hunt", "--index: %s", err)
		}
	}
	if o.Macro != "" {
		if err := hunt.ValidSplunkMacro(o.Macro); err != nil {
			return usagef("hunt", "--macro: %s", err)
		}
	}
	return nil
}

// checkOutDir checks --out: like -o's folder, it must exist (nothing is
// created, so a typo cannot scatter files into a new folder).
func checkOutDir(dir string) error {
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return withHints(fmt.Errorf("--out %s: folder does not exist", dir), "create it first (mkdir), or check the path")
	case err != nil:
		return fmt.Errorf("--out %s: %w", dir, err)
	case !st.IsDir():
		return fmt.Errorf("--out %s: not a folder", dir)
	}
	return nil
}

// pickQuery returns the position of --query's query in set, or a usage
// error that lists the names and suggests the nearest.
func pickQuery(set *hunt.Set, name string) (int, error) {
	if i := set.Index(name); i >= 0 {
		return i, nil
	}
	names := set.Names()
	e := &usageError{cmd: "hunt", msg: fmt.Sprintf("--query %q: no such query in the %s (want %s)", name, set.Mode, strings.Join(names, ", "))}
	best, bestDist := "", 3
	for _, n := range names {
		d := editDistance(strings.ToLower(name), n)
		if len(name) >= 3 && strings.HasPrefix(n, strings.ToLower(name)) {
			d = min(d, 1)
		}
		if d < bestDist {
			best, bestDist = n, d
		}
	}
	if best != "" {
		e.hints = []string{"did you mean --query " + best + "?"}
	}
	return -1, e
}

func runHunt(ctx context.Context, ios *iostreams.IOStreams, o *HuntOptions) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	hopts := hunt.Options{Since: o.Since, Until: o.Until, Indexes: o.Indexes, Macro: o.Macro}
	var (
		set *hunt.Set
		err error
	)
	if o.From == "" {
		set, err = hunt.Triage(o.SIEM, hopts)
	} else {
		rep, rerr := readHuntReport(ios, o.From)
		if rerr != nil {
			return rerr
		}
		set, err = hunt.FollowUp(o.SIEM, rep, hopts)
	}
	if err != nil {
		return err
	}
	only := -1
	if o.Query != "" {
		if only, err = pickQuery(set, o.Query); err != nil {
			return err
		}
		if o.OutDir == "" {
			return writeHunt(ios, o, func(w io.Writer) error {
				if o.Format == "json" {
					return hunt.WriteJSON(w, set.Queries[only:only+1])
				}
				return hunt.WriteQuery(w, set, only)
			})
		}
	}
	if o.OutDir != "" {
		return writeHuntFiles(ios, o.OutDir, set, only)
	}
	return writeHunt(ios, o, func(w io.Writer) error {
		if o.Format == "json" {
			return hunt.WriteJSON(w, set.Queries)
		}
		return hunt.WriteText(w, set)
	})
}

// writeHuntFiles writes --out's files, each atomically, and prints their
// paths; only >= 0 writes that query's file alone (its name keeps its
// position in the set).
func writeHuntFiles(ios *iostreams.IOStreams, dir string, set *hunt.Set, only int) error {
	files, err := hunt.Files(set)
	if err != nil {
		return err
	}
	if only >= 0 {
		files = files[only : only+1]
	}
	for _, f := range files {
		path := filepath.Join(dir, f.Name)
		if err := writeOutput(path, func(w io.Writer) error {
			_, err := w.Write(f.Body)
			return err
		}); err != nil {
			return err
		}
		fmt.Fprintln(ios.Out, path)
	}
	return nil
}

// writeHunt writes to -o or stdout.
func writeHunt(ios *iostreams.IOStreams, o *HuntOptions, write func(io.Writer) error) error {
	if o.Output != "" {
		return writeOutput(o.Output, write)
	}
	bw := bufio.NewWriterSize(ios.Out, 64<<10)
	if err := write(bw); err != nil {
		return err
	}
	return bw.Flush()
}

// readHuntReport reads and checks the report to follow up.
func readHuntReport(ios *iostreams.IOStreams, path string) (*triage.Report, error) {
	var r io.Reader = ios.In
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = bufio.NewReader(f)
	}
	rep, err := hunt.DecodeReport(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w (want the JSON of 'outsider triage --format json')", path, err)
	}
	return rep, nil
}
