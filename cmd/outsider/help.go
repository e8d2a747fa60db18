package main

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// annotationUsage holds a command's usage lines when one line is not
// enough (triage from files or from ClickHouse); the first is the main
// form.
const annotationUsage = "outsider/usage"

// writeHelp writes cmd's help: usage, description, commands, flags,
// examples. One layout for every command, written here rather than as a
// cobra template so that it reads as the rest of the code does.
func writeHelp(w io.Writer, cmd *cobra.Command, width int) {
	var b strings.Builder
	usage := []string{cmd.UseLine()}
	if u, ok := cmd.Annotations[annotationUsage]; ok {
		usage = strings.Split(u, "\n")
	}
	for i, u := range usage {
		if i == 0 {
			b.WriteString("Usage: ")
		} else {
			b.WriteString("       ")
		}
		b.WriteString(u + "\n")
	}
	if cmd.Long != "" {
		b.WriteString("\n" + strings.TrimRight(cmd.Long, "\n") + "\n")
	} else if cmd.Short != "" {
		b.WriteString("\n" + cmd.Short + "\n")
	}
	if cmd.HasAvailableSubCommands() {
		writeCommandList(&b, cmd)
	}
	if flags := cmd.LocalFlags(); flags.HasAvailableFlags() {
		b.WriteString("\nFlags:\n" + flags.FlagUsagesWrapped(min(width, 100)))
	}
	if flags := cmd.InheritedFlags(); flags.HasAvailableFlags() {
		b.WriteString("\nGlobal flags:\n" + flags.FlagUsagesWrapped(min(width, 100)))
	}
	if cmd.Example != "" {
		b.WriteString("\nExamples:\n" + strings.TrimRight(cmd.Example, "\n") + "\n")
	}
	if cmd.HasAvailableSubCommands() {
		fmt.Fprintf(&b, "\nRun '%s help' for a command's help and flags.\n", cmd.Root().Name())
	}
	io.WriteString(w, b.String())
}

// writeCommandList lists cmd's commands under their groups' titles.
func writeCommandList(b *strings.Builder, cmd *cobra.Command) {
	var cmds []*cobra.Command
	for _, c := range cmd.Commands() {
		if c.IsAvailableCommand() || c == helpCommandOf(cmd) {
			cmds = append(cmds, c)
		}
	}
	pad := 0
	for _, c := range cmds {
		pad = max(pad, len(c.Name()))
	}
	groups := cmd.Groups()
	if len(groups) == 0 {
		groups = []*cobra.Group{{Title: "Commands:"}}
	}
	for _, g := range groups {
		fmt.Fprintf(b, "\n%s\n", g.Title)
		for _, c := range cmds {
			if c.GroupID == g.ID {
				fmt.Fprintf(b, "  %-*s  %s\n", pad, c.Name(), c.Short)
			}
		}
	}
}

// helpCommandOf is the help command of the root, which cobra keeps out of
// the available commands but the root help lists.
func helpCommandOf(cmd *cobra.Command) *cobra.Command {
	if cmd.HasParent() {
		return nil
	}
	for _, c := range cmd.Commands() {
		if c.Name() == "help" {
			return c
		}
	}
	return nil
}

// commandPath is cmd's path without "outsider ", for hints.
func commandPath(cmd *cobra.Command) string {
	return strings.TrimPrefix(strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()), " ")
}

// flagError turns pflag's errors into one usage line with one hint: the
// nearest flag's name for a typo, else where the help is. The usage is
// never printed: in a pipe to a file it would end up inside the report.
func flagError(cmd *cobra.Command, err error) error {
	path := commandPath(cmd)
	var (
		ne  *pflag.NotExistError
		vr  *pflag.ValueRequiredError
		iv  *pflag.InvalidValueError
		msg = err.Error()
	)
	hint := helpHint(path)
	switch {
	case errors.As(err, &ne):
		name := ne.GetSpecifiedName()
		if group := ne.GetSpecifiedShortnames(); group != "" {
			// group is what was left of a cluster (-qZ gives Z): no
			// more to say than the letter.
			msg = fmt.Sprintf("unknown flag -%s", name)
			break
		}
		msg = "unknown flag --" + name
		if s := suggestFlag(cmd, name); s != "" {
			hint = "did you mean --" + s + "?"
		}
	case errors.As(err, &vr):
		msg = flagNames(vr.GetFlag()) + " needs a value"
	case errors.As(err, &iv):
		want := "want a whole number"
		switch iv.GetFlag().Value.Type() {
		case "int", "int64":
		case "bool":
			want = "want true or false"
		default:
			want = errors.Unwrap(iv).Error()
		}
		msg = fmt.Sprintf("--%s %q: %s", iv.GetFlag().Name, iv.GetValue(), want)
	}
	return &usageError{cmd: path, msg: msg, hints: []string{hint}}
}

// flagNames is how a flag is written: -o/--output or --format.
func flagNames(f *pflag.Flag) string {
	if f.Shorthand != "" {
		return "-" + f.Shorthand + "/--" + f.Name
	}
	return "--" + f.Name
}

// suggestFlag is the visible flag of cmd nearest to the mistyped name
// (at most two edits away, or one the name begins), or "".
func suggestFlag(cmd *cobra.Command, typed string) string {
	best, bestDist := "", 3
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if f.Hidden || f.Deprecated != "" {
			return
		}
		d := editDistance(strings.ToLower(typed), f.Name)
		if len(typed) >= 3 && strings.HasPrefix(f.Name, typed) {
			d = min(d, 1)
		}
		if d < bestDist {
			best, bestDist = f.Name, d
		}
	})
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes
// (flag names are ASCII).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// longFlagsWithOneDash rewrites -name to --name where name is one of the
// command's long flags: outsider's flags were the standard library's
// until it moved to cobra, and their help spelt them -format, so scripts
// written then keep working. Shorthands (-o) and clusters of them are
// left alone, and so is a value that follows a flag (--note -format).
func longFlagsWithOneDash(root *cobra.Command, args []string) []string {
	cmd, _, err := root.Find(args)
	if err != nil || cmd == nil {
		cmd = root
	}
	fs := cmd.Flags()
	takesValue := func(f *pflag.Flag) bool { return f != nil && f.NoOptDefVal == "" }
	out := slices.Clone(args)
	for i := 0; i < len(out); i++ {
		a := out[i]
		if a == "--" {
			break
		}
		if a == "-" || !strings.HasPrefix(a, "-") {
			continue
		}
		if long, ok := strings.CutPrefix(a, "--"); ok {
			name, _, eq := strings.Cut(long, "=")
			if !eq && takesValue(fs.Lookup(name)) {
				i++
			}
			continue
		}
		name, _, eq := strings.Cut(a[1:], "=")
		if len(name) == 1 {
			if !eq && takesValue(fs.ShorthandLookup(name)) {
				i++
			}
			continue
		}
		f := fs.Lookup(name)
		if f == nil {
			continue // shorthands together, or unknown: pflag says which
		}
		out[i] = "-" + a
		if !eq && takesValue(f) {
			i++
		}
	}
	return out
}
