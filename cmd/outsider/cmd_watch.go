package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/outsider-sec/outsider/internal/collect"
	"github.com/outsider-sec/outsider/internal/iostreams"
	"github.com/outsider-sec/outsider/internal/tenant"
	"github.com/outsider-sec/outsider/internal/watch"
)

// WatchOptions are the flags of 'outsider watch'.
type WatchOptions struct {
	Archive  string
	State    string
	Collect  *collect.Config // nil with --no-collect
	Interval time.Duration
	Once     bool
	Findings string
	Webhook  string
	Lookback time.Duration
	Tenants  []string
	Domains  []string
	Workers  int
	redact   func(string) string
}

const watchUsage = `Usage: outsider watch --archive DIR [flags]

Every --interval: collects into DIR (as 'outsider collect'), triages the
last --lookback of it, and writes a finding (one JSON line, schema
outsider/finding/v1, to stdout or --findings FILE, and POSTed to
--webhook) for each outside identity that is new or whose verdict got
worse. Identities and verdicts are kept in DIR's state database; an
identity disposed of with 'outsider dispose' stays quiet until new
activity makes its verdict worse.

Each cycle triages the lookback in full (fast: the archive is read at
hundreds of MB/s), so it always agrees with 'outsider triage DIR/ual'.
Sign-ins (DIR/signins) are archived but not triaged yet.

Credentials and collection flags are those of 'outsider collect'.

Exit status: 0 done (--once); 1 error (with --once, also when collection
failed); 2 usage; 130 interrupted (the normal end of a watch).

Flags:
`

func runWatchCmd(ctx context.Context, ios *iostreams.IOStreams, args []string) error {
	opts, err := parseWatchFlags(ios, args)
	if err != nil {
		return err
	}
	return runWatch(ctx, ios, opts)
}

func parseWatchFlags(ios *iostreams.IOStreams, args []string) (*WatchOptions, error) {
	fs := newFlagSet("watch", watchUsage, ios.Out)
	l := addLiveFlags(fs)
	interval := fs.String("interval", "5m", "time between cycles")
	once := fs.Bool("once", false, "run one cycle and exit")
	findings := fs.String("findings", "", "append findings to this file instead of stdout")
	webhook := fs.String("webhook", "", "also POST each finding to this URL (https, or http to a loopback address)")
	webhookFile := fs.String("webhook-file", "", "read the webhook URL from this file (for URLs that carry a token)")
	lookback := fs.String("lookback", "30d", "how far back each cycle triages")
	noCollect := fs.Bool("no-collect", false, "only triage what the archive holds (no credentials needed)")
	var tenants, domains listFlag
	fs.Var(&tenants, "tenant", "our tenant id for triage (repeatable; default: the collect tenant, else inferred)")
	fs.Var(&domains, "domain", "our UPN domain (repeatable; default: inferred from member sign-ins)")
	workers := fs.Int("workers", 0, "triage workers (default: one per CPU)")
	pos, err := parseArgs(fs, "watch", args)
	if err != nil {
		return nil, err
	}
	if len(pos) > 0 {
		return nil, usagef("watch", "unexpected argument %q: name the archive with --archive", pos[0])
	}
	o := &WatchOptions{State: *l.state, Once: *once, Findings: *findings, Tenants: tenants, Domains: domains, Workers: *workers,
		redact: func(s string) string { return s }}
	if o.Interval, err = parseDuration(*interval); err != nil || o.Interval < time.Second {
		return nil, usagef("watch", "--interval: want a duration of at least 1s, such as 5m")
	}
	if o.Lookback, err = parseDuration(*lookback); err != nil || o.Lookback <= 0 {
		return nil, usagef("watch", "--lookback: want a duration such as 30d")
	}
	for _, t := range tenants {
		if err := tenant.ValidateID(t); err != nil {
			return nil, usagef("watch", "--tenant: %s", err)
		}
	}
	if *webhook != "" && *webhookFile != "" {
		return nil, usagef("watch", "give --webhook or --webhook-file, not both")
	}
	o.Webhook = *webhook
	if *webhookFile != "" {
		b, err := os.ReadFile(*webhookFile)
		if err != nil {
			return nil, fmt.Errorf("--webhook-file: %w", err)
		}
		o.Webhook = strings.TrimSpace(string(b))
	}
	if o.Webhook != "" {
		if _, err := watch.NewWebhook(o.Webhook); err != nil {
			return nil, usagef("watch", "%s", err)
		}
	}
	if *noCollect {
		if o.Archive, err = archiveDir("watch", *l.archive, ""); err != nil {
			return nil, err
		}
		return o, nil
	}
	archive, cfg, err := l.resolve("watch", ios.ErrOut)
	if err != nil {
		return nil, err
	}
	o.Archive, o.Collect, o.redact = archive, &cfg, cfg.Credentials.Redact
	if len(o.Tenants) == 0 {
		o.Tenants = []string{strings.ToLower(cfg.Credentials.TenantID)}
	}
	return o, nil
}

func runWatch(ctx context.Context, ios *iostreams.IOStreams, o *WatchOptions) (err error) {
	defer func() {
		if err != nil {
			err = redactedError{err, o.redact}
		}
	}()
	logw := redactWriter{ios.ErrOut, o.redact}
	a, err := collect.OpenArchive(ctx, o.Archive, o.State)
	if err != nil {
		return err
	}
	defer a.Close()
	var out io.Writer = ios.Out
	if o.Findings != "" {
		f, err := os.OpenFile(o.Findings, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return fmt.Errorf("--findings: %w", err)
		}
		defer f.Close()
		out = f
	}
	wo := watch.Options{Archive: a, Tenants: o.Tenants, Domains: o.Domains, Lookback: o.Lookback, Workers: o.Workers, Findings: out, Log: logw}
	if o.Collect != nil {
		cfg := *o.Collect
		cfg.Log = logw
		wo.Collect = func(ctx context.Context) (*collect.Summary, error) { return collect.Run(ctx, a, cfg) }
	}
	if o.Webhook != "" {
		if wo.Webhook, err = watch.NewWebhook(o.Webhook); err != nil {
			return err
		}
	}
	report := func(c *watch.Cycle, err error) {
		if err != nil {
			fmt.Fprintf(logw, "outsider: watch: cycle failed: %v\n", err)
			return
		}
		fmt.Fprintf(logw, "outsider: watch: %s: %d files, %d records, %d identities, %d new finding(s)\n",
			time.Now().UTC().Format(time.RFC3339), c.Files, c.Records, c.Identities, len(c.Findings))
	}
	if o.Once {
		c, err := watch.Once(ctx, wo)
		if err != nil {
			return err
		}
		report(c, nil)
		if c.CollectErr != nil {
			return fmt.Errorf("collect: %w", c.CollectErr)
		}
		return nil
	}
	return watch.Loop(ctx, wo, o.Interval, report)
}
