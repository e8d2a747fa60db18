package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/outsider-sec/outsider/internal/localedate"
	"github.com/outsider-sec/outsider/internal/source"
	"github.com/outsider-sec/outsider/internal/tenant"
)

// The flags several commands share are declared here, once each, so that
// a flag means the same and reads the same in every command's help.

// listValue is a repeatable flag; values may also be comma-separated.
type listValue struct{ dst *[]string }

func (l listValue) String() string { return strings.Join(*l.dst, ",") }
func (l listValue) Type() string   { return "list" }

func (l listValue) Set(s string) error {
	*l.dst = append(*l.dst, splitList(s)...)
	return nil
}

// splitList splits a comma-separated list, dropping blanks: one reading
// for flags, OUTSIDER_* variables and their repeats.
func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// addListFlag declares a repeatable, comma-separated flag bound to dst.
func addListFlag(fs *pflag.FlagSet, dst *[]string, name, usage string) {
	fs.Var(listValue{dst}, name, usage)
}

// addOutputFlag declares -o/--output: a file written atomically.
func addOutputFlag(fs *pflag.FlagSet, dst *string, usage string) {
	fs.StringVarP(dst, "output", "o", "", usage)
}

// addFormatFlag declares -f/--format with its values, which the shells
// complete. Values are read in any case (JSON, Json, json).
func addFormatFlag(cmd *cobra.Command, dst *string, def string, values []string, usage string) {
	cmd.Flags().StringVarP(dst, "format", "f", def, usage)
	completeValues(cmd, "format", values...)
}

// completeValues makes the shells complete flag name with values.
func completeValues(cmd *cobra.Command, name string, values ...string) {
	cmd.RegisterFlagCompletionFunc(name, cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp))
}

// enumValue reads a flag value that is one of a fixed set, in any case:
// --format JSON and --siem Sentinel mean what the lower case does.
func enumValue(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// addTenantFlag declares --tenant: our tenant ids.
func addTenantFlag(fs *pflag.FlagSet, dst *[]string, usage string) {
	addListFlag(fs, dst, "tenant", usage)
}

// checkTenants refuses a tenant id that is not a GUID, naming where it
// came from.
func checkTenants(cmd, from string, ids []string) error {
	for _, t := range ids {
		if err := tenant.ValidateID(t); err != nil {
			return usagef(cmd, "%s: %s", from, err)
		}
	}
	return nil
}

// periodFlags are --since and --until, as given.
type periodFlags struct{ since, until string }

func (p *periodFlags) add(fs *pflag.FlagSet, since, until string) {
	fs.StringVar(&p.since, "since", "", since)
	fs.StringVar(&p.until, "until", "", until)
}

// parse reads both; --since must come before --until.
func (p *periodFlags) parse(cmd string) (since, until time.Time, err error) {
	if p.since != "" {
		if since, err = parseTimeFlag(p.since); err != nil {
			return since, until, usagef(cmd, "--since: %s", err)
		}
	}
	if p.until != "" {
		if until, err = parseTimeFlag(p.until); err != nil {
			return since, until, usagef(cmd, "--until: %s", err)
		}
	}
	if !since.IsZero() && !until.IsZero() && !since.Before(until) {
		return since, until, usagef(cmd, "--since must be before --until")
	}
	return since, until, nil
}

// readOptions are how triage and load read their inputs.
type readOptions struct {
	InputFormat source.Format
	Workers     int
	Strict      bool
	// DateOrder is --date-order (addDateOrderFlag).
	DateOrder localedate.Order

	inputFormat string
	dateOrder   string
}

// addDateOrderFlag declares --date-order: the order of the locale dates
// whose day and month are both 12 or less in a sign-in or OfficeActivity
// CSV whose other dates show none (a US analyst's Log Analytics export of
// a month's first twelve days has no number over 12 to show it, and is
// otherwise skipped); the file's own dates outrank it (docs/formats.md).
func addDateOrderFlag(cmd *cobra.Command, dst *string) {
	cmd.Flags().StringVar(dst, "date-order", "", "read locale dates whose day and month are both 12 or less in this `order`, "+
		"day-first or month-first, when no other date of the file shows one (a CSV's own dates outrank the flag)")
	completeValues(cmd, "date-order", "day-first", "month-first")
}

// parseDateOrder reads --date-order.
func parseDateOrder(cmd, s string) (localedate.Order, error) {
	switch enumValue(s) {
	case "":
		return 0, nil
	case "day-first":
		return localedate.DayFirst, nil
	case "month-first":
		return localedate.MonthFirst, nil
	}
	return 0, usagef(cmd, "--date-order: %q is not an order (want day-first or month-first)", s)
}

func (r *readOptions) add(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&r.inputFormat, "input-format", "auto", "force the input `format` instead of sniffing it (see above)")
	fs.IntVar(&r.Workers, "workers", 0, "decoding `workers`, and compressed files inflated at once (default: one per CPU)")
	fs.BoolVar(&r.Strict, "strict", false, "stop at the first unreadable record or file")
	addDateOrderFlag(cmd, &r.dateOrder)
	names := []string{"auto"}
	for _, f := range source.Formats {
		names = append(names, string(f))
	}
	completeValues(cmd, "input-format", names...)
}

func (r *readOptions) parse(cmd string) error {
	var err error
	if r.InputFormat, err = source.ParseFormat(enumValue(r.inputFormat)); err != nil {
		return usagef(cmd, "--input-format: %s (want auto or one of %s)", err, inputFormatList)
	}
	if r.DateOrder, err = parseDateOrder(cmd, r.dateOrder); err != nil {
		return err
	}
	if r.Workers < 0 {
		return usagef(cmd, "--workers must not be negative")
	}
	return nil
}

var inputFormatList = func() string {
	var names []string
	for _, f := range source.Formats {
		names = append(names, string(f))
	}
	return strings.Join(names, ", ")
}()

// wrappedFormatList is inputFormatList broken into lines for help text.
var wrappedFormatList = func() string {
	var b strings.Builder
	col := 0
	for i, f := range source.Formats {
		s := string(f)
		if i < len(source.Formats)-1 {
			s += ","
		}
		if col+len(s)+1 > 72 {
			b.WriteString("\n  ")
			col = 2
		} else if i > 0 {
			b.WriteByte(' ')
			col++
		}
		b.WriteString(s)
		col += len(s)
	}
	return b.String()
}()

// archiveFlags are --archive and --state: where live collection keeps
// its records and its state.
type archiveFlags struct{ archive, state string }

func (a *archiveFlags) add(fs *pflag.FlagSet) {
	fs.StringVar(&a.archive, "archive", "", "the archive `folder` (default: $OUTSIDER_ARCHIVE)")
	fs.StringVar(&a.state, "state", "", "the state database `file` (default: ARCHIVE/.outsider/state.db)")
}

// noArgs refuses positional arguments with what to do instead.
func noArgs(cmd, instead string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) > 0 {
			return usagef(cmd, "unexpected argument %q%s", args[0], instead)
		}
		return nil
	}
}

// parseSize reads sizes such as 1GB, 500MB, 64k, 1GiB or plain bytes.
// Decimal and binary units both mean powers of 1024: analysts think of
// "a 1 GB export" and the difference does not matter for a generator.
func parseSize(s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"TIB", 1 << 40}, {"GIB", 1 << 30}, {"MIB", 1 << 20}, {"KIB", 1 << 10}, {"TB", 1 << 40}, {"GB", 1 << 30}, {"MB", 1 << 20}, {"KB", 1 << 10}, {"T", 1 << 40}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}, {"B", 1}} {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || f < 0 {
		return 0, fmt.Errorf("size %q is not a size such as 500MB or 1GB", s)
	}
	return int64(f * float64(mult)), nil
}

// parseTimeFlag reads --since/--until: RFC 3339, or a date (midnight UTC).
func parseTimeFlag(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("time %q is not RFC 3339 (2026-10-01T08:00:00Z) or a date (2026-10-01)", s)
}

// checkOutputDir says, before any work, whether path can be written where
// it is: its folder must exist. outsider does not create folders for -o
// (a typo in a path would otherwise put a report somewhere no one
// looks); --all-tenants -o DIR is the one exception, and does not come
// here.
func checkOutputDir(flag, path string) error {
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return withHints(fmt.Errorf("%s %s: folder %s does not exist", flag, path, dir),
			"create it first (mkdir), or check the path")
	case err != nil:
		return fmt.Errorf("%s %s: %w", flag, path, err)
	case !st.IsDir():
		return fmt.Errorf("%s %s: %s is not a folder", flag, path, dir)
	}
	return nil
}

// writeOutput writes to path atomically (a temporary file in the same
// folder, renamed over the target once complete), so a reader never sees
// half a report and an interrupted run leaves any previous report intact.
// The folder must exist (checkOutputDir).
func writeOutput(path string, write func(io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err = write(f); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	if err = os.Chmod(f.Name(), 0o644); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	return nil
}
