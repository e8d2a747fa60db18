package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"time"

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

const huntUsage = `Usage: outsider hunt --siem SIEM [--from report.json] [flags]

Writes outsider's due diligence as queries for the place where the logs
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

Exit status: 0 done; 1 error; 2 usage.

Flags:
`

func runHuntCmd(ctx context.Context, ios *iostreams.IOStreams, args []string) error {
	opts, err := parseHuntFlags(ios, args)
	if err != nil {
		return err
	}
	return runHunt(ctx, ios, opts)
}

func parseHuntFlags(ios *iostreams.IOStreams, args []string) (*HuntOptions, error) {
	fs := newFlagSet("hunt", huntUsage, ios.Out)
	siem := fs.String("siem", "", "where the logs are: sentinel, defender, splunk or purview (required)")
	from := fs.String("from", "", "follow up this triage report (JSON; - for stdin) instead of writing the whole triage")
	since := fs.String("since", "", "start of the period (RFC 3339 or YYYY-MM-DD, UTC)")
	until := fs.String("until", "", "end of the period, excluded (RFC 3339 or YYYY-MM-DD, UTC)")
	format := fs.String("format", "text", "output format: text (queries with comments) or json (a list of {siem, name, purpose, how_to_read, query})")
	output := fs.String("o", "", "write to this file (atomically) instead of stdout")
	fs.StringVar(output, "output", "", "same as -o")
	pos, err := parseArgs(fs, "hunt", args)
	if err != nil {
		return nil, err
	}
	if len(pos) > 0 {
		return nil, usagef("hunt", "unexpected argument %q (a report goes after --from)", pos[0])
	}
	o := &HuntOptions{From: *from, Format: *format, Output: *output}
	if *siem == "" {
		return nil, usagef("hunt", "--siem is required: sentinel, defender, splunk or purview")
	}
	if o.SIEM, err = hunt.ParseSIEM(*siem); err != nil {
		return nil, usagef("hunt", "--siem: %s", err)
	}
	if *since != "" {
		if o.Since, err = parseTimeFlag(*since); err != nil {
			return nil, usagef("hunt", "--since: %s", err)
		}
	}
	if *until != "" {
		if o.Until, err = parseTimeFlag(*until); err != nil {
			return nil, usagef("hunt", "--until: %s", err)
		}
	}
	if !o.Since.IsZero() && !o.Until.IsZero() && !o.Since.Before(o.Until) {
		return nil, usagef("hunt", "--since must be before --until")
	}
	switch o.Format {
	case "text", "json":
	default:
		return nil, usagef("hunt", "--format %q: want text or json", o.Format)
	}
	return o, nil
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
