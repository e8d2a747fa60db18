package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/outsider-sec/outsider/internal/iostreams"
	"github.com/outsider-sec/outsider/internal/textsafe"
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

// usageError is a mistake in how the command was called: exit 2, one
// line, then its hints (by default: where the command's help is).
type usageError struct {
	cmd   string
	msg   string
	hints []string
}

func (e *usageError) Error() string { return e.msg }

func usagef(cmd, format string, args ...any) error {
	return &usageError{cmd: cmd, msg: fmt.Sprintf(format, args...)}
}

// hintError is an error with what to do about it: exitCode prints the
// error, then one "hint:" line per hint. Hints are data, not text glued
// into the message, so that the message stays one line and a test can
// ask for a hint by itself.
type hintError struct {
	err   error
	hints []string
}

func (e *hintError) Error() string { return e.err.Error() }
func (e *hintError) Unwrap() error { return e.err }

// withHints adds hints to err (nil stays nil; no hint, no wrapper).
func withHints(err error, hints ...string) error {
	if err == nil || len(hints) == 0 {
		return err
	}
	return &hintError{err: err, hints: hints}
}

// errFinding says an identity reached --fail-on: exit 3. The report has
// been written; nothing else is printed.
var errFinding = errors.New("an identity is at or above --fail-on")

// errNothingJudged says the input supported no answer (no record, no
// sign-in, or the filters left none): exit 4. The report, which says why,
// has been written; so has the reason on stderr.
var errNothingJudged = errors.New("nothing was judged")

// errUsageShown says the usage has been printed on stderr in place of an
// error line (outsider with no command): exit 2, nothing more.
var errUsageShown = errors.New("usage shown")

// exitStatusHelp is the exit status paragraph of the root help; each
// command's help says which of these it uses.
const exitStatusHelp = `Exit status: 0 done; 1 error; 2 usage; 3 an identity at or above --fail-on
(diff: the reports differ, with --fail-on-change); 4 nothing judged (no
record, no sign-in, or the filters left none); 130 interrupted.`

// factory is what every command is built from: the streams and the
// environment, injected so that tests vary them without touching the
// process's own.
type factory struct {
	IO     *iostreams.IOStreams
	Getenv func(string) string
	// args are the arguments as given to Main, for a report's provenance.
	args []string
}

// Main runs outsider with args (without the program name) and returns the
// exit status. It is the only place that decides one.
func Main(args []string, ios *iostreams.IOStreams) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return run(ctx, args, &factory{IO: ios, Getenv: os.Getenv})
}

// run is Main with the context and the factory given.
func run(ctx context.Context, args []string, f *factory) int {
	f.args = args
	root := newCmdRoot(f)
	args = longFlagsWithOneDash(root, args)
	if err := checkCommand(root, args); err != nil {
		return exitCode(f.IO, root, err, ctx)
	}
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	return exitCode(f.IO, cmd, err, ctx)
}

// exitCode maps a command's error to the exit status and prints it once:
// one "outsider: error:" line and its hint lines.
func exitCode(ios *iostreams.IOStreams, cmd *cobra.Command, err error, ctx context.Context) int {
	var ue *usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errUsageShown):
		return exitUsage
	case errors.Is(err, errFinding):
		return exitFinding
	case errors.Is(err, errNothingJudged):
		return exitNothing
	case errors.As(err, &ue):
		fmt.Fprintf(ios.ErrOut, "outsider: error: %s\n", textsafe.Line(ue.msg))
		hints := ue.hints
		if hints == nil {
			path := ue.cmd
			if path == "" && cmd != nil {
				path = strings.TrimPrefix(strings.TrimPrefix(cmd.CommandPath(), "outsider"), " ")
			}
			hints = []string{helpHint(path)}
		}
		printHints(ios, hints)
		return exitUsage
	case ctx.Err() != nil && errors.Is(err, context.Canceled):
		fmt.Fprintln(ios.ErrOut, "outsider: interrupted")
		return exitCancelled
	}
	for _, e := range joined(err) {
		fmt.Fprintf(ios.ErrOut, "outsider: error: %s\n", textsafe.Line(e.Error()))
	}
	var he *hintError
	if errors.As(err, &he) {
		printHints(ios, he.hints)
	}
	return exitError
}

// joined splits an error made by errors.Join (several sources failing in
// one run) into its parts, each said on a line of its own; printed whole,
// its newlines came out escaped as "\x0a" in one long line. The split
// follows the error's structure, never a newline in its text: a newline
// inside a value (a file name, a record's field) stays escaped and cannot
// start a line of its own.
func joined(err error) []error {
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return []error{err}
	}
	parts := j.Unwrap()
	texts := make([]string, len(parts))
	for i, p := range parts {
		texts[i] = p.Error()
	}
	if len(parts) < 2 || err.Error() != strings.Join(texts, "\n") {
		return []error{err} // not errors.Join's shape: fmt.Errorf with several %w
	}
	var out []error
	for _, p := range parts {
		out = append(out, joined(p)...)
	}
	return out
}

func printHints(ios *iostreams.IOStreams, hints []string) {
	for _, h := range hints {
		fmt.Fprintf(ios.ErrOut, "hint: %s\n", textsafe.Line(h))
	}
}

// helpHint points at a command's help ("" for the root).
func helpHint(path string) string {
	if path == "" {
		return "run 'outsider --help'"
	}
	return "run 'outsider " + path + " --help'"
}

// Command groups of the root help.
const (
	groupMain  = "main"
	groupLive  = "live"
	groupOther = "other"
)

// newCmdRoot builds the command tree. Every command is built here, from
// f, so that help, completion, man pages and docs/cli.md all come from
// the same definitions.
func newCmdRoot(f *factory) *cobra.Command {
	// Commands list in the order they are added (triage first), not
	// sorted: the order says what matters most.
	cobra.EnableCommandSorting = false
	var showVersion bool
	root := &cobra.Command{
		Use:   "outsider <command> [flags] [arguments]",
		Short: "triage sign-ins to Microsoft 365 by accounts from outside the organisation",
		Long: `outsider reads Microsoft 365 Unified Audit Log exports and Entra ID sign-in
logs, finds the sign-ins by accounts from other tenants, and judges each
outside identity: who it was, whether there was a breach, what it accessed.

` + exitStatusHelp,
		Example: `  outsider triage exports/
  outsider triage UAL-*.csv -o report.html
  outsider explain export.json --id 5b7e1c9a-2f3d-4e8b-9a61-0c4d2e7f8a13
  outsider help triage`,
		SilenceErrors: true,
		SilenceUsage:  true,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 { // checkCommand has usually said so already
				return unknownCommand(cmd, args[0])
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if showVersion {
				return printVersion(f)
			}
			writeHelp(f.IO.ErrOut, cmd, f.IO.TerminalWidth())
			return errUsageShown
		},
	}
	root.Flags().BoolVar(&showVersion, "version", false, "print outsider's version")
	root.AddGroup(
		&cobra.Group{ID: groupMain, Title: "Commands:"},
		&cobra.Group{ID: groupLive, Title: "Live collection:"},
		&cobra.Group{ID: groupOther, Title: "Other commands:"},
	)
	for _, c := range []struct {
		group string
		cmd   *cobra.Command
	}{
		{groupMain, newCmdTriage(f, nil)},
		{groupMain, newCmdExplain(f, nil)},
		{groupMain, newCmdHunt(f, nil)},
		{groupMain, newCmdDiff(f, nil)},
		{groupMain, newCmdApps(f, nil)},
		{groupMain, newCmdGenerate(f, nil)},
		{groupMain, newCmdLoad(f, nil)},
		{groupLive, newCmdCollect(f, nil)},
		{groupLive, newCmdWatch(f, nil)},
		{groupLive, newCmdDispose(f, nil)},
		{groupLive, newCmdStatus(f, nil)},
		{groupOther, newCmdConfig(f)},
		{groupOther, newCmdCompletion(f)},
		{groupOther, newCmdDocs(f)},
		{groupOther, newCmdVersion(f)},
	} {
		c.cmd.GroupID = c.group
		root.AddCommand(c.cmd)
	}
	help := newCmdHelp(f, root)
	help.GroupID = groupOther
	root.SetHelpCommand(help)
	root.SetHelpCommandGroupID(groupOther)
	root.CompletionOptions.DisableDefaultCmd = true // newCmdCompletion
	root.SetFlagErrorFunc(flagError)
	root.SetHelpFunc(func(cmd *cobra.Command, _ []string) {
		writeHelp(cmd.OutOrStdout(), cmd, f.IO.TerminalWidth())
	})
	root.SetUsageFunc(func(cmd *cobra.Command) error {
		writeHelp(cmd.ErrOrStderr(), cmd, f.IO.TerminalWidth())
		return nil
	})
	root.SetIn(f.IO.In)
	root.SetOut(f.IO.Out)
	root.SetErr(f.IO.ErrOut)
	var addHelp func(c *cobra.Command)
	addHelp = func(c *cobra.Command) {
		c.Flags().BoolP("help", "h", false, "show this help")
		// Flags in the order they are declared, which puts what matters
		// most first; and suggestions for a mistyped command name.
		c.Flags().SortFlags = false
		c.SuggestionsMinimumDistance = 2
		for _, s := range c.Commands() {
			addHelp(s)
		}
	}
	addHelp(root)
	root.DisableAutoGenTag = true // docs/cli.md and man pages carry no date
	root.InitDefaultHelpCmd()     // so that checkCommand finds 'help' too
	return root
}

// newCmdHelp is 'outsider help [COMMAND]': the command's help on stdout,
// and a usage error (not the root help) for a command that does not exist.
func newCmdHelp(f *factory, root *cobra.Command) *cobra.Command {
	return &cobra.Command{
		Use:   "help [command]",
		Short: "show a command's help",
		Long:  "Shows the help of a command: what it does, its flags and its exit status.",
		Args:  cobra.ArbitraryArgs,
		ValidArgsFunction: func(_ *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			target, _, err := root.Find(args)
			if err != nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			var names []string
			for _, c := range target.Commands() {
				if c.IsAvailableCommand() && strings.HasPrefix(c.Name(), toComplete) {
					names = append(names, c.Name()+"\t"+c.Short)
				}
			}
			return names, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			target := root
			for _, a := range args {
				next := subcommand(target, a)
				if next == nil {
					return unknownCommand(target, a)
				}
				target = next
			}
			writeHelp(f.IO.Out, target, f.IO.TerminalWidth())
			return nil
		},
	}
}

// subcommand is parent's command called name (or an alias), or nil.
func subcommand(parent *cobra.Command, name string) *cobra.Command {
	for _, c := range parent.Commands() {
		if c.Name() == name || c.HasAlias(name) {
			return c
		}
	}
	return nil
}

// unknownCommand is the usage error for a command name that parent does
// not have, with the nearest names as the hint.
func unknownCommand(parent *cobra.Command, name string) error {
	path := strings.TrimPrefix(strings.TrimPrefix(parent.CommandPath(), "outsider"), " ")
	msg := fmt.Sprintf("unknown command %q", name)
	if path != "" {
		msg = fmt.Sprintf("unknown command %q for 'outsider %s'", name, path)
	}
	hint := "run 'outsider help' for the commands"
	if path != "" {
		hint = helpHint(path)
	}
	if s := parent.SuggestionsFor(name); len(s) > 0 {
		prefix := "outsider "
		if path != "" {
			prefix += path + " "
		}
		hint = "did you mean '" + prefix + s[0] + "'?"
	}
	return &usageError{cmd: path, msg: msg, hints: []string{hint}}
}

// checkCommand finds the command args call before any flag is parsed, so
// that 'outsider tirage --format json' says the command is unknown rather
// than the flag.
func checkCommand(root *cobra.Command, args []string) error {
	if len(args) > 0 && strings.HasPrefix(args[0], "__complete") {
		return nil // cobra's hidden completion entry point
	}
	cmd, rest, err := root.Find(args)
	if err != nil || !cmd.HasAvailableSubCommands() {
		return nil
	}
	for _, a := range rest {
		if a == "--" {
			return nil
		}
		if !strings.HasPrefix(a, "-") {
			return unknownCommand(cmd, a)
		}
	}
	return nil
}

// newGroupCmd is a command that only holds others (config, docs): called
// alone it is a usage error naming them, not a help text with exit 0.
func newGroupCmd(use, short, long string) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: short,
		Long:  long + groupExitStatus,
		Args:  cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return unknownCommand(cmd, args[0])
			}
			var names []string
			for _, c := range cmd.Commands() {
				if c.IsAvailableCommand() {
					names = append(names, c.Name())
				}
			}
			return usagef(cmd.Name(), "'outsider %s' needs a command: %s", cmd.Name(), strings.Join(names, ", "))
		},
	}
}

// groupExitStatus ends the help of a command that holds others.
const groupExitStatus = "\n\nExit status: 2 usage (a command is missing or unknown); see each command's."

// newCmdVersion is 'outsider version', the same as 'outsider --version'.
func newCmdVersion(f *factory) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "print outsider's version",
		Long:  "Prints outsider's version; the same as 'outsider --version'.\n\nExit status: 0 done; 2 usage.",
		Args:  noArgs("version", ""),
		RunE:  func(*cobra.Command, []string) error { return printVersion(f) },
	}
}

func printVersion(f *factory) error {
	_, err := fmt.Fprint(f.IO.Out, versionInfo())
	return err
}
