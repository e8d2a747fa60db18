package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/outsider-sec/outsider/internal/collect"
	"github.com/outsider-sec/outsider/internal/iostreams"
	"github.com/outsider-sec/outsider/internal/textsafe"
	"github.com/outsider-sec/outsider/internal/triage"
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
	// Check runs collect's preflight check instead of watching.
	Check bool
	// MinSeverity is the least severity that raises a finding.
	MinSeverity string
	redact      func(string) string
}

const watchLong = `Every --interval: collects into DIR (as 'outsider collect'), triages the
last --lookback of it (DIR/ual and DIR/signins), and writes a finding (one
JSON line, schema outsider/finding/v1, to stdout or --findings FILE, and
POSTed to --webhook) for each outside identity that is new or whose verdict
got worse. Identities and verdicts are kept in DIR's state database; an
identity disposed of with 'outsider dispose' stays quiet until new
activity makes its verdict worse.

Findings below --min-severity (default low: info, i.e. signin-only
identities) are held back: the identity is recorded in the state and is
reported once its verdict reaches that severity. Identities of a home
tenant disposed of as benign ('outsider dispose --tenant GUID') are held
back too, except at high severity: a known partner never hides a breach.
'outsider status' counts what is held back.

A cycle's findings are those of a triage of the whole lookback (DIR/ual
and DIR/signins, files in the order they arrived; it starts at 00:00
UTC of the day --lookback ago), but it reads only what is new: a cycle in
which no archive file changed reuses the last triage
(watch-cycle.cache), and one after new files continues the last triage
from the engine snapshot (watch-engine.snapshot) and reads only the new
files. Both are beside the state database, private (mode 0600), and
rebuilt from the archive when damaged. Records aging out of the lookback
make the next cycle a full triage, once a day.

A cycle whose collection fails still triages what the archive holds; a
source that fails every cycle for --give-up-after (default 1h here) ends
the watch with exit 1, saying which and why. --check runs collect's
preflight check and exits.

Credentials and collection flags are those of 'outsider collect'.

Exit status: 0 done (--once; --check: collection can work); 1 error (with
--once, also when collection failed; a source gave up; --check: a check
failed); 2 usage; 130 interrupted (the normal end of a watch).`

func newCmdWatch(f *factory, runF func(context.Context, *WatchOptions) error) *cobra.Command {
	o := &WatchOptions{}
	var (
		l                    liveFlags
		interval, lookback   string
		webhook, webhookFile string
		noCollect            bool
	)
	cmd := &cobra.Command{
		Use:   "watch --archive DIR [flags]",
		Short: "collect and triage on an interval; report identities that are new or got worse",
		Long:  watchLong,
		Example: `  outsider watch --archive /var/lib/outsider --config outsider.json --webhook-file hook.txt
  outsider watch --archive /var/lib/outsider --no-collect --once`,
		Args: noArgs("watch", ": name the archive with --archive"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.State = l.state
			o.redact = func(s string) string { return s }
			var err error
			if o.Interval, err = parseDuration(interval); err != nil || o.Interval < time.Second {
				return usagef("watch", "--interval: want a duration of at least 1s, such as 5m")
			}
			if o.Lookback, err = parseDuration(lookback); err != nil || o.Lookback <= 0 {
				return usagef("watch", "--lookback: want a duration such as 30d")
			}
			o.MinSeverity = enumValue(o.MinSeverity)
			if triage.SeverityRank(o.MinSeverity) < 0 {
				return usagef("watch", "--min-severity %q: want info, low, medium or high", o.MinSeverity)
			}
			if err := checkTenants("watch", "--tenant", o.Tenants); err != nil {
				return err
			}
			if webhook != "" && webhookFile != "" {
				return usagef("watch", "give --webhook or --webhook-file, not both")
			}
			o.Webhook = webhook
			if webhookFile != "" {
				b, err := os.ReadFile(webhookFile)
				if err != nil {
					return fmt.Errorf("--webhook-file: %w", err)
				}
				o.Webhook = strings.TrimSpace(string(b))
			}
			if o.Webhook != "" {
				if _, err := watch.NewWebhook(o.Webhook); err != nil {
					return usagef("watch", "%s", err)
				}
			}
			o.Check = l.check
			if o.Check && noCollect {
				return usagef("watch", "--check checks collection: it does not go with --no-collect")
			}
			if noCollect {
				if o.Archive, err = archiveDir("watch", f.Getenv, l.archive, ""); err != nil {
					return err
				}
			} else {
				archive, cfg, err := l.resolve("watch", f)
				if err != nil {
					return err
				}
				o.Archive, o.Collect, o.redact = archive, &cfg, cfg.Credentials.Redact
				if len(o.Tenants) == 0 {
					o.Tenants = []string{strings.ToLower(cfg.Credentials.TenantID)}
				}
			}
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			if o.Check {
				return runCheck(cmd.Context(), f.IO, o.Archive, *o.Collect, "text")
			}
			return runWatch(cmd.Context(), f.IO, o)
		},
	}
	l.add(cmd)
	fs := cmd.Flags()
	// A watch rides out outages shorter than this; collect's 10 minutes
	// would end it at the first lost connection of a network change.
	l.giveUpAfter = "1h"
	fs.Lookup("give-up-after").DefValue = "1h"
	fs.StringVar(&interval, "interval", "5m", "time between cycles (a `duration`)")
	fs.BoolVar(&o.Once, "once", false, "run one cycle and exit")
	fs.StringVar(&o.Findings, "findings", "", "append findings to this `file` instead of stdout")
	fs.StringVar(&webhook, "webhook", "", "also POST each finding to this `URL` (https, or http to a loopback address)")
	fs.StringVar(&webhookFile, "webhook-file", "", "read the webhook URL from this `file` (for URLs that carry a token)")
	fs.StringVar(&lookback, "lookback", "30d", "how far back each cycle triages (a `duration`; from 00:00 UTC of that day)")
	fs.BoolVar(&noCollect, "no-collect", false, "only triage what the archive holds (no credentials needed)")
	addTenantFlag(fs, &o.Tenants, "our tenant id for triage (`GUID`, repeatable; default: the collect tenant, else inferred)")
	addListFlag(fs, &o.Domains, "domain", "our UPN `domain` (repeatable; default: inferred from member sign-ins)")
	fs.IntVar(&o.Workers, "workers", 0, "triage `workers` (default: one per CPU)")
	fs.StringVar(&o.MinSeverity, "min-severity", triage.SeverityLow, "least `severity` that raises a finding: info, low, medium or high")
	completeValues(cmd, "min-severity", triage.SeverityInfo, triage.SeverityLow, triage.SeverityMedium, triage.SeverityHigh)
	return cmd
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
	wo := watch.Options{Archive: a, Tenants: o.Tenants, Domains: o.Domains, Lookback: o.Lookback, Workers: o.Workers, Findings: out, Log: logw, MinSeverity: o.MinSeverity}
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
	// A source that fails every cycle for --give-up-after ends the watch
	// (exit 1, saying which and why): a watch that goes on triaging an
	// archive nothing reaches any more would look healthy while blind.
	loopCtx, stop := context.WithCancel(ctx)
	defer stop()
	var giveUp error
	streak := &failStreak{since: map[string]time.Time{}}
	report := func(c *watch.Cycle, err error) {
		if err != nil {
			fmt.Fprintf(logw, "outsider: watch: cycle failed: %s\n", textsafe.Line(err.Error()))
			return
		}
		findings := "findings"
		if len(c.Findings) == 1 {
			findings = "finding"
		}
		note := c.ReuseNote()
		if note != "" {
			note = " (" + note + ")"
		}
		fmt.Fprintf(logw, "outsider: watch: %s: %d files, %d records, %d identities, %d new %s%s\n",
			time.Now().UTC().Format(time.RFC3339), c.Files, c.Records, c.Identities, len(c.Findings), findings, note)
		if o.Collect != nil && o.Collect.GiveUpAfter > 0 {
			if giveUp = streak.update(c.Collected, c.CollectErr, time.Now(), o.Collect.GiveUpAfter); giveUp != nil {
				stop()
			}
		}
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
	err = watch.Loop(loopCtx, wo, o.Interval, report)
	if giveUp != nil && ctx.Err() == nil {
		return withHints(giveUp, "find the cause with 'outsider watch --check' (same flags), fix it, and start the watch again")
	}
	return err
}

// failStreak follows, across watch cycles, since when each source has
// failed every cycle.
type failStreak struct {
	since map[string]time.Time
}

// update takes one cycle's collection result and returns an error when a
// source has failed every cycle for at least limit.
func (f *failStreak) update(sum *collect.Summary, collectErr error, now time.Time, limit time.Duration) error {
	failed := map[string]string{}
	if sum != nil {
		for _, s := range sum.Sources {
			if s.Error != "" {
				failed[s.Source] = s.Error
			}
		}
	}
	if collectErr != nil && len(failed) == 0 {
		failed["collect"] = collectErr.Error()
	}
	for src := range f.since {
		if _, ok := failed[src]; !ok {
			delete(f.since, src)
		}
	}
	var srcs []string
	for src := range failed {
		if _, ok := f.since[src]; !ok {
			f.since[src] = now
		}
		if now.Sub(f.since[src]) >= limit {
			srcs = append(srcs, src)
		}
	}
	if len(srcs) == 0 {
		return nil
	}
	sort.Strings(srcs)
	src := srcs[0]
	return fmt.Errorf("giving up: %s has failed every cycle since %s (--give-up-after %s); last error: %s",
		strings.Join(srcs, ", "), f.since[src].UTC().Format(time.RFC3339), limit, failed[src])
}
