package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/outsider-sec/outsider/internal/iostreams"
	"github.com/outsider-sec/outsider/internal/reportdiff"
	"github.com/outsider-sec/outsider/internal/triage"
)

// DiffOptions are the flags and arguments of 'outsider diff'.
type DiffOptions struct {
	Old, New string
	// Format is text, json or md.
	Format       string
	Output       string
	FailOnChange bool
}

const diffLong = `Compares two reports written by 'outsider triage --format json' (OLD and
NEW; - reads one of them from stdin): which outside identities are new, which
are gone, which changed verdict, severity or home tenant (with the first
reason of the new judgement), and which home tenants (partners) are new or
gone. For a case file or a weekly review, from the reports alone.

It warns when the reports are of different tenants, when either judged
nothing (summary.nothing_judged: no record, no sign-in, or the filters left
none), and notes when their periods differ (an identity is then "gone" when
it has no sign-in in the new period). Identities are matched by user; a
change of reasons alone (more sign-ins) is not a change.

--format json writes one outsider/diff/v1 document (see docs/reports.md);
md writes Markdown for a case file. -o FILE.json or FILE.md without
--format chooses the format by the extension.

Exit status: 0 compared (whether or not the reports differ); 1 error (a file
that cannot be read or is not a triage report); 2 usage; 3 the reports
differ and --fail-on-change was given; 4 either report judged nothing (the
comparison is written, but it is no all-clear).`

func newCmdDiff(f *factory, runF func(*DiffOptions) error) *cobra.Command {
	o := &DiffOptions{}
	cmd := &cobra.Command{
		Use:   "diff [flags] OLD.json NEW.json",
		Short: "compare two triage reports: new, gone and changed identities and partners",
		Long:  diffLong,
		Example: `  outsider diff week40.json week41.json
  outsider diff week40.json week41.json -o changes.md
  outsider diff --fail-on-change --format json old.json new.json`,
		Args: func(_ *cobra.Command, args []string) error {
			switch {
			case len(args) < 2:
				return usagef("diff", "give two reports, OLD and NEW (got %d)", len(args))
			case len(args) > 2:
				return usagef("diff", "unexpected argument %q (give two reports, OLD and NEW)", args[2])
			case args[0] == "-" && args[1] == "-":
				return usagef("diff", "only one of OLD and NEW can be - (stdin)")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Old, o.New = args[0], args[1]
			given := cmd.Flags().Changed("format")
			o.Format = enumValue(o.Format)
			if o.Format == "markdown" {
				o.Format = "md"
			}
			if o.Format != "text" && o.Format != "json" && o.Format != "md" {
				return usagef("diff", "--format %q: want text, json or md", o.Format)
			}
			if o.Output != "" {
				byExt := map[string]string{".json": "json", ".md": "md", ".markdown": "md"}[strings.ToLower(filepath.Ext(o.Output))]
				switch {
				case byExt != "" && given && byExt != o.Format:
					return &usageError{cmd: "diff", msg: fmt.Sprintf("--format %s does not match -o %s", o.Format, o.Output),
						hints: []string{"drop --format (the extension chooses), or make them agree"}}
				case byExt != "":
					o.Format = byExt
				}
				if err := checkOutputDir("-o", o.Output); err != nil {
					return err
				}
			}
			if runF != nil {
				return runF(o)
			}
			return runDiff(f.IO, o)
		},
	}
	fs := cmd.Flags()
	addFormatFlag(cmd, &o.Format, "text", []string{"text", "json", "md"}, "output `format`: text, json (outsider/diff/v1) or md (Markdown)")
	addOutputFlag(fs, &o.Output, "write to this `file` (atomically) instead of stdout")
	fs.BoolVar(&o.FailOnChange, "fail-on-change", false, "exit 3 when an identity is new, gone or changed")
	return cmd
}

// errChanged is exit 3 (as --fail-on in triage): the comparison has been
// written; nothing else is printed.
var errChanged = fmt.Errorf("the reports differ: %w", errFinding)

func runDiff(ios *iostreams.IOStreams, o *DiffOptions) error {
	old, err := readDiffReport(ios, o.Old)
	if err != nil {
		return err
	}
	new, err := readDiffReport(ios, o.New)
	if err != nil {
		return err
	}
	d := reportdiff.Compare(old, new, o.Old, o.New)
	write := func(w io.Writer) error {
		switch o.Format {
		case "json":
			return reportdiff.WriteJSON(w, d)
		case "md":
			return reportdiff.WriteMarkdown(w, d)
		}
		return reportdiff.WriteText(w, d)
	}
	if o.Output != "" {
		err = writeOutput(o.Output, write)
	} else {
		bw := bufio.NewWriterSize(ios.Out, 64<<10)
		if err = write(bw); err == nil {
			err = bw.Flush()
		}
	}
	switch {
	case err != nil:
		return err
	case d.NothingJudged():
		// The output says which and why; stderr says it too, as triage
		// does, for a script that reads only the status.
		fmt.Fprintln(ios.ErrOut, "outsider: warning: a report judged nothing; the comparison is no all-clear")
		return errNothingJudged
	case o.FailOnChange && d.Differs():
		return errChanged
	}
	return nil
}

// readDiffReport reads one report whole ("-" is stdin) and checks it: an
// error names the file and what is wrong with it.
func readDiffReport(ios *iostreams.IOStreams, path string) (*triage.Report, error) {
	var (
		data []byte
		err  error
	)
	if path == "-" {
		data, err = io.ReadAll(ios.In)
		if err != nil {
			return nil, fmt.Errorf("stdin: %w", err)
		}
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, err
	}
	rep, err := triage.DecodeReport(data)
	if err != nil {
		name := path
		if path == "-" {
			name = "stdin"
		}
		return nil, withHints(fmt.Errorf("%s: %w", name, err), "give reports written by 'outsider triage --format json'")
	}
	return rep, nil
}
