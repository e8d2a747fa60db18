package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/signal"
	"strings"
	"syscall"

	"github.com/outsider-sec/outsider/internal/iostreams"
)

// Exit codes, one switch for all commands (see exitCode).
const (
	exitOK        = 0
	exitError     = 1
	exitUsage     = 2
	exitFinding   = 3
	exitNothing   = 4
	exitCancelled = 130
)

// usageError is a mistake in how the command was called: exit 2, with a
// hint to the command's help.
type usageError struct {
	cmd string
	msg string
}

func (e *usageError) Error() string { return e.msg }

func usagef(cmd, format string, args ...any) error {
	return &usageError{cmd: cmd, msg: fmt.Sprintf(format, args...)}
}

// errFinding says an identity reached --fail-on: exit 3. The report has
// been written; nothing else is printed.
var errFinding = errors.New("an identity is at or above --fail-on")

// errNothingJudged says the input supported no answer (no record, no
// sign-in, or the filters left none): exit 4. The report, which says why,
// has been written; so has the reason on stderr.
var errNothingJudged = errors.New("nothing was judged")

// exitStatusHelp is the exit status paragraph of every help text.
const exitStatusHelp = `Exit status: 0 done; 1 error; 2 usage; 3 an identity at or above --fail-on;
4 nothing judged (no record, no sign-in, or the filters left none);
130 interrupted.`

// errHelp says help was asked for and printed: exit 0.
var errHelp = errors.New("help requested")

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, ios *iostreams.IOStreams, args []string) error
}

func commands() []command {
	return []command{
		{"triage", "judge every outside sign-in in audit-log exports", runTriageCmd},
		{"load", "store audit-log exports in ClickHouse, normalised, for triage --clickhouse", runLoadCmd},
		{"explain", "walk one audit or sign-in record field by field in plain language", runExplainCmd},
		{"apps", "search the embedded catalogue of Microsoft first-party applications", runAppsCmd},
		{"generate", "write a synthetic tenant's audit log with known answers", runGenerateCmd},
		{"hunt", "write the due diligence as KQL, SPL or PowerShell for where the logs live", runHuntCmd},
		{"collect", "pull audit records and sign-ins from Microsoft's APIs into an archive, resumably", runCollectCmd},
		{"watch", "collect and triage on an interval; report identities that are new or got worse", runWatchCmd},
		{"dispose", "record an analyst's decision about a reported identity", runDisposeCmd},
		{"status", "show live collection's progress, lag and open findings", runStatusCmd},
	}
}

const rootUsage = `outsider: triage sign-ins to Microsoft 365 by accounts from outside the organisation

Usage:
  outsider <command> [flags] [arguments]

Commands:
%s
Run 'outsider <command> --help' for a command's flags.

` + exitStatusHelp + `
`

func printRootUsage(w io.Writer) {
	var b strings.Builder
	for _, c := range commands() {
		fmt.Fprintf(&b, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, rootUsage, b.String())
}

// Main runs outsider with args (without the program name) and returns the
// exit status. It is the only place that decides one.
func Main(args []string, ios *iostreams.IOStreams) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if len(args) == 0 {
		printRootUsage(ios.ErrOut)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		printRootUsage(ios.Out)
		return exitOK
	case "-version", "--version", "version":
		fmt.Fprint(ios.Out, versionInfo())
		return exitOK
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return exitCode(ios, c.name, c.run(ctx, ios, args[1:]), ctx)
		}
	}
	fmt.Fprintf(ios.ErrOut, "outsider: error: unknown command %q\n", args[0])
	printRootUsage(ios.ErrOut)
	return exitUsage
}

// exitCode maps a command's error to the exit status and prints it once.
func exitCode(ios *iostreams.IOStreams, cmd string, err error, ctx context.Context) int {
	var ue *usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errHelp):
		return exitOK
	case errors.Is(err, errFinding):
		return exitFinding
	case errors.Is(err, errNothingJudged):
		return exitNothing
	case errors.As(err, &ue):
		fmt.Fprintf(ios.ErrOut, "outsider: error: %s\nhint: run 'outsider %s --help'\n", ue.msg, cmd)
		return exitUsage
	case ctx.Err() != nil && errors.Is(err, context.Canceled):
		fmt.Fprintln(ios.ErrOut, "outsider: interrupted")
		return exitCancelled
	}
	fmt.Fprintf(ios.ErrOut, "outsider: error: %s\n", err)
	return exitError
}
