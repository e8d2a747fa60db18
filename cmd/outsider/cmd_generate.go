package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/outsider-sec/outsider/internal/iostreams"
	"github.com/outsider-sec/outsider/internal/synth"
)

// GenerateOptions are the flags of 'outsider generate'.
type GenerateOptions struct {
	Synth    synth.Options
	Output   string
	Expected string
	// SignInLog, when set, is where the tenant's Entra ID sign-in log
	// (Microsoft Graph signIn pages) goes.
	SignInLog string
}

const generateLong = `Writes a synthetic tenant's Unified Audit Log: members, B2B guests,
pass-through outsiders in every verdict scenario, consumer accounts,
sharing, mailbox and file activity, IPs in every notation, and decoys.
Seeded and deterministic; streams, so any size up to many GB.
--expected writes the answers (every outside identity's verdict and
counts) for tests and benchmarks. --signin-log also writes the tenant's
Entra ID sign-in log (Graph signIn pages: the twin of every UAL sign-in,
and a few only that log has); the answers are then for both logs.
--signin-log-format entra-csv writes it instead as the Entra admin
center's CSV download (Sign-in logs > Download > CSV: "Date (UTC)" in
ISO 8601, "Request ID", "Username", ...), which is what most analysts
have; the answers are the same. The download has no column telling
interactive sign-ins from non-interactive ones: both are in the file.

The fixed scenarios make about 22 outside identities. --partners N and
--outsiders N add more, at the scale of a tenant with hundreds of
partners: N identities spread round-robin over N partner tenants
(distinct domains and home tenants drawn from the seed), each partner's
first a pass-through account of its own domain, the rest over every
verdict and class (anomalous, activity, shared, signin-only; guests,
consumer accounts, external-unknown), with their answers in --expected.
--outsiders below --partners is a usage error; --partners alone adds one
identity per partner, --outsiders alone uses half as many partners.

As a Microsoft Sentinel analyst exports them: --format
sentinel-officeactivity-csv writes the OfficeActivity table as the Log
Analytics portal's CSV export, and --signin-log-format la-query-api the
sign-in log as Log Analytics query API responses (SigninLogs and
AADNonInteractiveUserSignInLogs rows). The export's columns do not name
the application a sign-in was to, so its answers hold read with the
sign-in log, as an analyst exports both.

As a Microsoft Defender XDR analyst exports them: --format
defender-cloudappevents-csv writes the CloudAppEvents table as the
Defender portal's export of an advanced hunting query, and
defender-cloudappevents-json as the advanced hunting API's responses
(Graph runHuntingQuery); each row's RawEventData is the audit record, so
the answers are the UAL's.

Exit status: 0 done; 1 error; 2 usage.`

func newCmdGenerate(f *factory, runF func(context.Context, *GenerateOptions) error) *cobra.Command {
	o := &GenerateOptions{}
	var format, size, start, signInLogFormat string
	formats := append(append(slices.Clone(synth.Formats), synth.SentinelFormats...), synth.DefenderFormats...)
	cmd := &cobra.Command{
		Use:   "generate [flags]",
		Short: "write a synthetic tenant's audit log with known answers",
		Long:  generateLong,
		Example: `  outsider generate -o tenant.jsonl --expected expected.json
  outsider generate --size 1GB --format purview-csv -o big.csv
  outsider generate --partners 200 --outsiders 450 -o partners.jsonl --expected partners.json`,
		Args: noArgs("generate", " (write to a file with -o)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Synth.Format = enumValue(format)
			if !slices.Contains(formats, o.Synth.Format) {
				return usagef("generate", "--format %q: want one of %s", format, strings.Join(formats, ", "))
			}
			o.Synth.SignInLogFormat = enumValue(signInLogFormat)
			if !slices.Contains(synth.SignInLogFormats, o.Synth.SignInLogFormat) {
				return usagef("generate", "--signin-log-format %q: want one of %s", signInLogFormat, strings.Join(synth.SignInLogFormats, ", "))
			}
			var err error
			if o.Synth.Size, err = parseSize(size); err != nil {
				return usagef("generate", "--size: %s", err)
			}
			if o.Synth.Start, err = parseTimeFlag(start); err != nil {
				return usagef("generate", "--start: %s", err)
			}
			if o.Synth.Days < 1 {
				return usagef("generate", "--days must be at least 1")
			}
			if o.Synth.Duplicates < 0 {
				return usagef("generate", "--duplicates must not be negative")
			}
			if o.Synth.Partners < 0 || o.Synth.Outsiders < 0 {
				return usagef("generate", "--partners and --outsiders must not be negative")
			}
			if o.Synth.Partners > 0 && o.Synth.Outsiders > 0 && o.Synth.Outsiders < o.Synth.Partners {
				return usagef("generate", "--outsiders %d is fewer than --partners %d: every partner needs an identity", o.Synth.Outsiders, o.Synth.Partners)
			}
			for _, out := range []struct{ flag, path string }{{"-o", o.Output}, {"--expected", o.Expected}, {"--signin-log", o.SignInLog}} {
				if out.path != "" {
					if err := checkOutputDir(out.flag, out.path); err != nil {
						return err
					}
				}
			}
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runGenerate(cmd.Context(), f.IO, o)
		},
	}
	fs := cmd.Flags()
	addFormatFlag(cmd, &format, "jsonl", formats, "output `format`: "+strings.Join(formats, ", "))
	fs.StringVar(&size, "size", "0", "approximate output `size`, e.g. 50MB or 1GB (0: the small example)")
	fs.Int64Var(&o.Synth.Seed, "seed", 1, "random `seed`: the same seed and flags give byte-identical output")
	fs.StringVar(&start, "start", "2026-10-01", "`time` of the first record (RFC 3339 or YYYY-MM-DD, UTC)")
	fs.IntVar(&o.Synth.Days, "days", 14, "`days` the records span")
	fs.IntVar(&o.Synth.Duplicates, "duplicates", 0, "write every `N`th record twice, like overlapping exports (0: none)")
	fs.IntVar(&o.Synth.Partners, "partners", 0, "add outside identities from `N` partner tenants (0: none; with --outsiders 0, one each)")
	fs.IntVar(&o.Synth.Outsiders, "outsiders", 0, "add `N` outside identities, round-robin over the partners (0: none; with --partners 0, N/2 partners)")
	addOutputFlag(fs, &o.Output, "write to this `file` (atomically) instead of stdout")
	fs.StringVar(&o.Expected, "expected", "", "write the expected verdicts (JSON) to this `file`")
	fs.StringVar(&o.SignInLog, "signin-log", "", "also write the Entra ID sign-in log (in --signin-log-format's shape) to this `file`")
	fs.StringVar(&signInLogFormat, "signin-log-format", synth.SignInLogGraph, "the sign-in log's `shape`: "+strings.Join(synth.SignInLogFormats, ", "))
	completeValues(cmd, "signin-log-format", synth.SignInLogFormats...)
	return cmd
}

func runGenerate(ctx context.Context, ios *iostreams.IOStreams, o *GenerateOptions) error {
	var exp *synth.Expected
	write := func(w io.Writer) error {
		gen := func(sw io.Writer) error {
			bw := bufio.NewWriterSize(w, 1<<20)
			opts := o.Synth
			var sbw *bufio.Writer
			if sw != nil {
				sbw = bufio.NewWriterSize(sw, 1<<20)
				opts.SignInLog = sbw
			}
			var err error
			if exp, err = synth.Generate(bw, opts); err != nil {
				return err
			}
			if sbw != nil {
				if err := sbw.Flush(); err != nil {
					return err
				}
			}
			return bw.Flush()
		}
		if o.SignInLog == "" {
			return gen(nil)
		}
		return writeOutput(o.SignInLog, gen)
	}
	var err error
	if o.Output != "" {
		err = writeOutput(o.Output, write)
	} else {
		err = write(ios.Out)
	}
	if err != nil {
		return err
	}
	if o.Expected != "" {
		return writeOutput(o.Expected, func(w io.Writer) error {
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			return enc.Encode(exp)
		})
	}
	return nil
}
