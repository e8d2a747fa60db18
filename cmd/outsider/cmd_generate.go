package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"slices"
	"strings"

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

const generateUsage = `Usage: outsider generate [flags]

Writes a synthetic tenant's Unified Audit Log: members, B2B guests,
pass-through outsiders in every verdict scenario, consumer accounts,
sharing, mailbox and file activity, IPs in every notation, and decoys.
Seeded and deterministic; streams, so any size up to many GB.
--expected writes the answers (every outside identity's verdict and
counts) for tests and benchmarks. --signin-log also writes the tenant's
Entra ID sign-in log (Graph signIn pages: the twin of every UAL sign-in,
and a few only that log has); the answers are then for both logs.

As a Microsoft Sentinel analyst exports them: --format
sentinel-officeactivity-csv writes the OfficeActivity table as the Log
Analytics portal's CSV export, and --signin-log-format la-query-api the
sign-in log as Log Analytics query API responses (SigninLogs and
AADNonInteractiveUserSignInLogs rows). The export's columns do not name
the application a sign-in was to, so its answers hold read with the
sign-in log, as an analyst exports both.

Exit status: 0 done; 1 error; 2 usage.

Flags:
`

func runGenerateCmd(ctx context.Context, ios *iostreams.IOStreams, args []string) error {
	fs := newFlagSet("generate", generateUsage, ios.Out)
	formats := append(slices.Clone(synth.Formats), synth.SentinelFormats...)
	format := fs.String("format", "jsonl", "output format: "+strings.Join(formats, ", "))
	size := fs.String("size", "0", "approximate output size, e.g. 50MB or 1GB (0: the small example)")
	seed := fs.Int64("seed", 1, "random seed: the same seed and flags give byte-identical output")
	start := fs.String("start", "2026-10-01", "time of the first record (RFC 3339 or YYYY-MM-DD, UTC)")
	days := fs.Int("days", 14, "days the records span")
	dups := fs.Int("duplicates", 0, "write every Nth record twice, like overlapping exports (0: none)")
	output := fs.String("o", "", "write to this file (atomically) instead of stdout")
	fs.StringVar(output, "output", "", "same as -o")
	expected := fs.String("expected", "", "write the expected verdicts (JSON) to this file")
	signInLog := fs.String("signin-log", "", "also write the Entra ID sign-in log (Graph signIn JSON) to this file")
	signInLogFormat := fs.String("signin-log-format", synth.SignInLogGraph, "the sign-in log's shape: "+strings.Join(synth.SignInLogFormats, ", "))
	pos, err := parseArgs(fs, "generate", args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("generate", "unexpected argument %q (write to a file with -o)", pos[0])
	}
	if !slices.Contains(formats, *format) {
		return usagef("generate", "--format %q: want one of %s", *format, strings.Join(formats, ", "))
	}
	if !slices.Contains(synth.SignInLogFormats, *signInLogFormat) {
		return usagef("generate", "--signin-log-format %q: want one of %s", *signInLogFormat, strings.Join(synth.SignInLogFormats, ", "))
	}
	n, err := parseSize(*size)
	if err != nil {
		return usagef("generate", "--size: %s", err)
	}
	st, err := parseTimeFlag(*start)
	if err != nil {
		return usagef("generate", "--start: %s", err)
	}
	if *days < 1 {
		return usagef("generate", "--days must be at least 1")
	}
	if *dups < 0 {
		return usagef("generate", "--duplicates must not be negative")
	}
	o := &GenerateOptions{
		Synth: synth.Options{Seed: *seed, Format: *format, Size: n, Start: st, Days: *days, Duplicates: *dups,
			SignInLogFormat: *signInLogFormat},
		Output:    *output,
		Expected:  *expected,
		SignInLog: *signInLog,
	}
	return runGenerate(ctx, ios, o)
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
