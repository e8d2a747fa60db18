package main

import (
	"context"
	"fmt"
	"time"

	"github.com/outsider-sec/outsider/internal/clickhouse"
	"github.com/outsider-sec/outsider/internal/iostreams"
	"github.com/outsider-sec/outsider/internal/progress"
	"github.com/outsider-sec/outsider/internal/report"
	"github.com/outsider-sec/outsider/internal/source"
)

// LoadOptions are the flags and arguments of 'outsider load'.
type LoadOptions struct {
	Paths       []string
	ClickHouse  []string
	Init        bool
	Cluster     string
	InputFormat source.Format
	Workers     int
	Strict      bool
	Quiet       bool
	BatchBytes  int64
}

var loadUsage = `Usage: outsider load --clickhouse DSN [--init [--cluster NAME]] [flags] [PATH...]

Reads audit-log exports and Entra ID sign-in logs exactly as 'outsider
triage' does (same formats, decoding and deduplication) and stores the
records, normalised, in ClickHouse, for 'outsider triage --clickhouse' over
tenants and periods larger than one machine holds. A file loaded again, or
a load killed and run again, adds nothing twice.

DSN: http://[user[:password]@]host:8123[/database] (https:// too). --init
creates the tables (on every --clickhouse given: repeat it for each server
of a cluster); with --cluster NAME each server gets local tables and
Distributed tables over the cluster NAME of its config (remote_servers).

Exit status: 0 done; 1 error; 2 usage; 130 interrupted.

Flags:
`

func runLoadCmd(ctx context.Context, ios *iostreams.IOStreams, args []string) error {
	opts, err := parseLoadFlags(ios, args)
	if err != nil {
		return err
	}
	return runLoad(ctx, ios, opts)
}

func parseLoadFlags(ios *iostreams.IOStreams, args []string) (*LoadOptions, error) {
	fs := newFlagSet("load", loadUsage, ios.Out)
	var dsns listFlag
	fs.Var(&dsns, "clickhouse", "ClickHouse HTTP interface, http://host:8123/database (repeatable with --init: each server)")
	initTables := fs.Bool("init", false, "create the tables first (those that exist are kept)")
	cluster := fs.String("cluster", "", "with --init: the cluster (remote_servers) to create Distributed tables over")
	inputFormat := fs.String("input-format", "auto", "force the input format instead of sniffing it")
	workers := fs.Int("workers", 0, "decoding workers, and compressed files inflated at once (default: one per CPU)")
	strict := fs.Bool("strict", false, "stop at the first unreadable record or file")
	quiet := fs.Bool("quiet", false, "do not list input problems or the summary on stderr")
	batch := fs.String("batch-size", "32MB", "rows sent in one INSERT (and kept for a retry)")
	pos, err := parseArgs(fs, "load", args)
	if err != nil {
		return nil, err
	}
	o := &LoadOptions{Paths: pos, ClickHouse: dsns, Init: *initTables, Cluster: *cluster, Workers: *workers, Strict: *strict, Quiet: *quiet}
	if len(dsns) == 0 {
		return nil, usagef("load", "--clickhouse is required")
	}
	if len(pos) == 0 && !o.Init {
		return nil, usagef("load", "no input: name files, folders or - for stdin (or --init alone to create the tables)")
	}
	if len(dsns) > 1 && !o.Init {
		return nil, usagef("load", "several --clickhouse are for --init (a load goes through one server)")
	}
	if o.Cluster != "" {
		if !o.Init {
			return nil, usagef("load", "--cluster goes with --init (loads and queries use the Distributed tables it creates)")
		}
		if err := clickhouse.ValidateCluster(o.Cluster); err != nil {
			return nil, usagef("load", "--cluster: %s", err)
		}
	}
	for _, d := range dsns {
		if _, err := clickhouse.Open(d); err != nil {
			return nil, usagef("load", "--clickhouse: %s", err)
		}
	}
	if o.InputFormat, err = source.ParseFormat(*inputFormat); err != nil {
		return nil, usagef("load", "--input-format: %s (want auto or one of %s)", err, inputFormatList)
	}
	if o.BatchBytes, err = parseSize(*batch); err != nil || o.BatchBytes < 1<<10 || o.BatchBytes > 1<<30 {
		return nil, usagef("load", "--batch-size %q: want a size between 1KB and 1GB", *batch)
	}
	if o.Workers < 0 {
		return nil, usagef("load", "--workers must not be negative")
	}
	return o, nil
}

func runLoad(ctx context.Context, ios *iostreams.IOStreams, o *LoadOptions) error {
	var servers []*clickhouse.Client
	for _, d := range o.ClickHouse {
		c, _ := clickhouse.Open(d) // checked by parseLoadFlags
		servers = append(servers, c)
	}
	c := servers[0]
	if o.Init {
		if err := clickhouse.Init(ctx, servers, o.Cluster); err != nil {
			return withHint(err)
		}
		if !o.Quiet {
			for _, s := range servers {
				fmt.Fprintf(ios.ErrOut, "outsider: tables ready on %s\n", s)
			}
		}
		if len(o.Paths) == 0 {
			return nil
		}
	}
	paths, err := source.Expand(o.Paths)
	if err != nil {
		return err
	}
	if _, err := c.Ping(ctx); err != nil {
		return withHint(err)
	}
	var counters *progress.Counters
	stopProgress := func() {}
	if ios.StderrTTY && !o.Quiet {
		counters = &progress.Counters{}
		stopProgress = progress.Start(ios.ErrOut, counters, inputSize(paths), 200*time.Millisecond)
		defer stopProgress()
	}
	lo := clickhouse.LoadOptions{
		Source: source.Options{Format: o.InputFormat, Stdin: ios.In}, Workers: o.Workers, Strict: o.Strict,
		BatchBytes: int(o.BatchBytes), Progress: counters,
	}
	if !o.Quiet {
		lo.OnProblem = func(p source.Problem) {
			kind := "skipped"
			if p.Warning {
				kind = "warning"
			}
			fmt.Fprintf(ios.ErrOut, "outsider: %s: %s\n", kind, report.Clean(p.Error()))
		}
	}
	start := time.Now()
	res, err := clickhouse.Load(ctx, c, paths, lo)
	stopProgress()
	if err != nil {
		return withHint(err)
	}
	if !o.Quiet {
		var skipped int64
		for _, f := range res.Files {
			skipped += f.Skipped
		}
		took := time.Since(start)
		fmt.Fprintf(ios.ErrOut, "outsider: loaded %d records from %d file(s) into %s in %s (%.0f records/s; %d duplicates dropped, %d unreadable skipped, %d inserts, %d retried)\n",
			res.Rows, len(res.Files), c, took.Round(time.Millisecond), float64(res.Rows)/max(took.Seconds(), 1e-9),
			res.Duplicates, skipped, res.Inserts, res.Retried)
	}
	return nil
}

// withHint adds what to do about a ClickHouse error, when there is
// something to say, as a "hint:" line after the error.
func withHint(err error) error {
	if h := clickhouse.Hint(err); h != "" {
		return fmt.Errorf("%w\nhint: %s", err, h)
	}
	return err
}
