package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// newCmdDocs is 'outsider docs': man pages and the Markdown flag
// reference, from the same command definitions as the help, so that the
// two cannot drift apart (TestCLIReference fails when docs/cli.md does
// not match them).
func newCmdDocs(f *factory) *cobra.Command {
	cmd := newGroupCmd("docs", "write man pages or the Markdown command reference",
		`Writes outsider's documentation from the definitions its help is made
from: man pages (section 1, one per command) or the Markdown reference
that docs/cli.md holds.`)
	cmd.AddCommand(&cobra.Command{
		Use:   "man DIR",
		Short: "write a man page per command into DIR",
		Long: `Writes outsider.1, outsider-triage.1, ... into DIR, which must exist.
The date in the pages is SOURCE_DATE_EPOCH's when it is set (for
reproducible packages), else today's.

Exit status: 0 done; 1 error; 2 usage.`,
		Example: `  mkdir -p man/man1 && outsider docs man man/man1 && man -l man/man1/outsider-triage.1`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("docs man", "name the folder to write the pages into")
			}
			if st, err := os.Stat(args[0]); err != nil || !st.IsDir() {
				return fmt.Errorf("%s is not a folder", args[0])
			}
			date := time.Now().UTC()
			if e := f.Getenv("SOURCE_DATE_EPOCH"); e != "" {
				n, err := strconv.ParseInt(e, 10, 64)
				if err != nil {
					return fmt.Errorf("SOURCE_DATE_EPOCH %q is not a number of seconds", e)
				}
				date = time.Unix(n, 0).UTC()
			}
			return doc.GenManTree(cmd.Root(), &doc.GenManHeader{
				Title: "OUTSIDER", Section: "1", Date: &date,
				Source: strings.SplitN(versionInfo(), "\n", 2)[0], Manual: "outsider manual",
			}, args[0])
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "markdown FILE",
		Short: "write the Markdown command reference (docs/cli.md) to FILE, or - for stdout",
		Long: `Writes every command's usage, description, examples and flags as one
Markdown file, the one kept as docs/cli.md.

Exit status: 0 done; 1 error; 2 usage.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("docs markdown", "name the file to write (or - for stdout)")
			}
			write := func(w io.Writer) error { return writeCLIReference(w, cmd.Root()) }
			if args[0] == "-" {
				return write(f.IO.Out)
			}
			if err := checkOutputDir("docs markdown", args[0]); err != nil {
				return err
			}
			return writeOutput(args[0], write)
		},
	})
	return cmd
}

// writeCLIReference writes the Markdown reference of every command (the
// content of docs/cli.md), in the order of the root help.
func writeCLIReference(w io.Writer, root *cobra.Command) error {
	var b bytes.Buffer
	b.WriteString("# outsider command reference\n\n" +
		"Generated from the command definitions by `outsider docs markdown docs/cli.md`;\n" +
		"`go test ./cmd/outsider` fails when this file is stale (`-update` rewrites it).\n\n")
	var cmds []*cobra.Command
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		cmds = append(cmds, c)
		for _, s := range c.Commands() {
			if s.IsAvailableCommand() && !s.IsAdditionalHelpTopicCommand() {
				walk(s)
			}
		}
	}
	walk(root)
	for _, c := range cmds {
		fmt.Fprintf(&b, "- [%s](#%s)\n", c.CommandPath(), anchor(c.CommandPath()))
	}
	b.WriteString("\n")
	link := func(name string) string {
		return "#" + anchor(strings.ReplaceAll(strings.TrimSuffix(name, ".md"), "_", " "))
	}
	for _, c := range cmds {
		if err := doc.GenMarkdownCustom(c, &b, link); err != nil {
			return err
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

// anchor is the id GitHub gives a heading: lower case, spaces to dashes.
func anchor(heading string) string {
	return strings.ReplaceAll(strings.ToLower(heading), " ", "-")
}
