package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/outsider-sec/outsider/internal/clickhouse"
	"github.com/outsider-sec/outsider/internal/iostreams"
	"github.com/outsider-sec/outsider/internal/source"
	"github.com/outsider-sec/outsider/internal/textsafe"
)

// LoadOptions are the flags and arguments of 'outsider load'.
type LoadOptions struct {
	Paths      []string
	ClickHouse []string
	Init       bool
	Cluster    string
	readOptions
	Quiet      bool
	BatchBytes int64

	batch string
}

const loadLong = `Reads audit-log exports and Entra ID sign-in logs exactly as 'outsider
triage' does (same formats, decoding and deduplication) and stores the
records, normalised, in ClickHouse, for 'outsider triage --clickhouse' over
tenants and periods larger than one machine holds. A file loaded again, or
a load killed and run again, adds nothing twice.

DSN: http://[user[:password]@]host:8123[/database] (https:// too). --init
creates the tables (on every --clickhouse given: repeat it for each server
of a cluster); with --cluster NAME each server gets local tables and
Distributed tables over the cluster NAME of its config (remote_servers).

Exit status: 0 done; 1 error; 2 usage; 130 interrupted.`

func newCmdLoad(f *factory, runF func(context.Context, *LoadOptions) error) *cobra.Command {
	o := &LoadOptions{}
	cmd := &cobra.Command{
		Use:   "load --clickhouse DSN [--init [--cluster NAME]] [flags] [PATH...]",
		Short: "store audit-log exports in ClickHouse, normalised, for triage --clickhouse",
		Long:  loadLong,
		Example: `  outsider load --clickhouse http://localhost:8123/audit --init
  outsider load --clickhouse http://localhost:8123/audit exports/`,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Paths = args
			if err := o.complete(); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runLoad(cmd.Context(), f.IO, o)
		},
	}
	fs := cmd.Flags()
	addListFlag(fs, &o.ClickHouse, "clickhouse", "ClickHouse HTTP interface, `DSN` http://host:8123/database (repeatable with --init: each server)")
	fs.BoolVar(&o.Init, "init", false, "create the tables first (those that exist are kept)")
	fs.StringVar(&o.Cluster, "cluster", "", "with --init: the `cluster` (remote_servers) to create Distributed tables over")
	o.readOptions.add(cmd)
	fs.BoolVarP(&o.Quiet, "quiet", "q", false, "do not list input problems or the summary on stderr")
	fs.StringVar(&o.batch, "batch-size", "32MB", "rows sent in one INSERT (and kept for a retry), as a `size`")
	return cmd
}

func (o *LoadOptions) complete() error {
	if len(o.ClickHouse) == 0 {
		return usagef("load", "--clickhouse is required")
	}
	if len(o.Paths) == 0 && !o.Init {
		return usagef("load", "no input: name files, folders or - for stdin (or --init alone to create the tables)")
	}
	if len(o.ClickHouse) > 1 && !o.Init {
		return usagef("load", "several --clickhouse are for --init (a load goes through one server)")
	}
	if o.Cluster != "" {
		if !o.Init {
			return usagef("load", "--cluster goes with --init (loads and queries use the Distributed tables it creates)")
		}
		if err := clickhouse.ValidateCluster(o.Cluster); err != nil {
			return usagef("load", "--cluster: %s", err)
		}
	}
	for _, d := range o.ClickHouse {
		if _, err := clickhouse.Open(d); err != nil {
			return usagef("load", "--clickhouse: %s", err)
		}
	}
	if err := o.readOptions.parse("load"); err != nil {
		return err
	}
	var err error
	if o.BatchBytes, err = parseSize(o.batch); err != nil || o.BatchBytes < 1<<10 || o.BatchBytes > 1<<30 {
		return usagef("load", "--batch-size %q: want a size between 1KB and 1GB", o.batch)
	}
	return nil
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
			return clickhouseError(err)
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
	paths, passed, err := source.ExpandNoting(o.Paths)
	if err != nil {
		return err
	}
	notePassed(ios, o.Quiet, passed)
	if _, err := c.Ping(ctx); err != nil {
		return clickhouseError(err)
	}
	counters, stopProgress := startProgress(ios, o.Quiet, paths)
	defer stopProgress()
	lo := clickhouse.LoadOptions{
		Source: source.Options{Format: o.InputFormat, Stdin: ios.In, DateOrder: o.DateOrder}, Workers: o.Workers, Strict: o.Strict,
		BatchBytes: int(o.BatchBytes), Progress: counters,
	}
	if !o.Quiet {
		lo.OnProblem = func(p source.Problem) {
			kind := "skipped"
			if p.Warning {
				kind = "warning"
			}
			fmt.Fprintf(ios.ErrOut, "outsider: %s: %s\n", kind, textsafe.Line(p.Error()))
		}
	}
	start := time.Now()
	res, err := clickhouse.Load(ctx, c, paths, lo)
	stopProgress()
	if err != nil {
		return clickhouseError(err)
	}
	if !o.Quiet {
		var skipped int64
		for _, f := range res.Files {
			skipped += f.Skipped
		}
		took := time.Since(start)
		fmt.Fprintf(ios.ErrOut, "outsider: loaded %d records from %s into %s in %s (%.0f records/s; %d duplicates dropped, %d unreadable skipped, %d inserts, %d retried)\n",
			res.Rows, plural(len(res.Files), "file", "files"), c, took.Round(time.Millisecond), float64(res.Rows)/max(took.Seconds(), 1e-9),
			res.Duplicates, skipped, res.Inserts, res.Retried)
	}
	return nil
}

// clickhouseError adds what to do about a ClickHouse error, when there
// is something to say, as a hint.
func clickhouseError(err error) error {
	if h := clickhouse.Hint(err); h != "" {
		return withHints(err, h)
	}
	return err
}
