package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
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
30 days, evaluated when the queries run).

With --from REPORT (a 'outsider triage --format json' report, or - for
stdin): targeted queries for exactly its identities and IPs, over
--since/--until (default: the report's own period). Every value from the
report is quoted for the target language.

-o FILE.json without --format writes the JSON form.

Exit status: 0 done; 1 error; 2 usage.`

func newCmdHunt(f *factory, runF func(context.Context, *HuntOptions) error) *cobra.Command {
	o := &HuntOptions{}
	var siem string
	var period periodFlags
	cmd := &cobra.Command{
		Use:   "hunt --siem SIEM [--from report.json] [flags]",
		Short: "write the due diligence as KQL, SPL or PowerShell for where the logs live",
		Long:  huntLong,
		Example: `  outsider hunt --siem sentinel
  outsider triage export.json -o report.json && outsider hunt --siem splunk --from report.json`,
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
			if o.Output != "" {
				if err := checkOutputDir("-o", o.Output); err != nil {
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
	return cmd
}

func runHunt(ctx context.Context, ios *iostreams.IOStreams, o *HuntOptions) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	hopts := hunt.Options{Since: o.Since, Until: o.Until}
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
	write := func(w io.Writer) error {
		if o.Format == "json" {
			return hunt.WriteJSON(w, set.Queries)
		}
		return hunt.WriteText(w, set)
	}
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
