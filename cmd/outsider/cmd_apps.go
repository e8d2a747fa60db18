package main

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/outsider-sec/outsider/internal/apps"
	"github.com/outsider-sec/outsider/internal/iostreams"
	"github.com/outsider-sec/outsider/internal/textsafe"
)

// AppsOptions are the flags and arguments of 'outsider apps'.
type AppsOptions struct {
	Query string
	JSON  bool
	// CSV writes the catalogue as a lookup table (Sentinel watchlist,
	// Splunk lookup).
	CSV bool

	format  string
	oldJSON bool
}

const appsLong = `Searches the embedded catalogue of Microsoft first-party application ids
(case-insensitive substring of id, name, aliases or family). Pass-through
sign-ins are allowed only to these applications. With no QUERY, lists all.
--format json prints JSON Lines, one application a line. --format csv
prints a lookup table for a SIEM (a Microsoft Sentinel watchlist with
SearchKey id, or a Splunk lookup file): a header, then one row per
application with columns id, name, family, owner_tenant, aliases (joined
with "; ") and sources (joined with " "); cells that a spreadsheet would
run as a formula are prefixed with a quote, as in the report CSV.

Exit status: 0 found; 1 nothing matched; 2 usage.`

func newCmdApps(f *factory, runF func(*AppsOptions) error) *cobra.Command {
	o := &AppsOptions{}
	cmd := &cobra.Command{
		Use:   "apps [flags] [QUERY]",
		Short: "search the embedded catalogue of Microsoft first-party applications",
		Long:  appsLong,
		Example: `  outsider apps sharepoint
  outsider apps 00000003-0000-0ff1-ce00-000000000000 --format json
  outsider apps --format csv > outsider_first_party.csv`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usagef("apps", "give at most one QUERY (quote it if it has spaces)")
			}
			if len(args) == 1 {
				o.Query = args[0]
			}
			switch v := enumValue(o.format); {
			case o.oldJSON && cmd.Flags().Changed("format") && v != "json":
				return usagef("apps", "--json and --format %s: give one", v)
			case o.oldJSON:
				fmt.Fprintln(f.IO.ErrOut, "outsider: warning: --json is deprecated; use --format json")
				o.JSON = true
			case v == "json":
				o.JSON = true
			case v == "csv":
				o.CSV = true
			case v != "text":
				return usagef("apps", "--format %q: want text, json or csv", o.format)
			}
			if runF != nil {
				return runF(o)
			}
			return runApps(f.IO, o)
		},
	}
	addFormatFlag(cmd, &o.format, "text", []string{"text", "json", "csv"}, "output `format`: text (a table), json (JSON Lines) or csv (a lookup table for a SIEM)")
	// --json was apps' own spelling before --format json was everyone's.
	cmd.Flags().BoolVar(&o.oldJSON, "json", false, "same as --format json (deprecated)")
	cmd.Flags().MarkHidden("json")
	return cmd
}

func runApps(ios *iostreams.IOStreams, o *AppsOptions) error {
	found := apps.Search(o.Query)
	w := bufio.NewWriter(ios.Out)
	defer w.Flush()
	if o.CSV {
		if err := writeAppsCSV(w, found); err != nil {
			return err
		}
	} else if o.JSON {
		enc := json.NewEncoder(w)
		for _, a := range found {
			if err := enc.Encode(struct {
				ID      string   `json:"id"`
				Name    string   `json:"name"`
				Aliases []string `json:"aliases"`
				Family  string   `json:"family"`
				Owner   string   `json:"owner_tenant"`
				Sources []string `json:"sources"`
			}{a.ID, a.Name, nonNilStrings(a.Aliases), a.Family, a.Owner, nonNilStrings(a.Sources)}); err != nil {
				return err
			}
		}
	} else {
		for _, a := range found {
			name := a.Name
			if name == "" {
				name = "(unnamed)"
			}
			extra := ""
			if a.Family != "" {
				extra = "  [" + a.Family + "]"
			}
			fmt.Fprintf(w, "%s  %s%s  (%s)\n", a.ID, textsafe.Terminal(name), extra, strings.Join(a.Sources, ","))
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if len(found) == 0 {
		return fmt.Errorf("no first-party application matches %q (%d in the catalogue)", o.Query, apps.Len())
	}
	return nil
}

// writeAppsCSV writes the catalogue as a lookup table. The header comes
// even when nothing matched, so the file is still a valid, empty lookup.
func writeAppsCSV(w io.Writer, found []apps.App) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"id", "name", "family", "owner_tenant", "aliases", "sources"}); err != nil {
		return err
	}
	for _, a := range found {
		row := []string{a.ID, a.Name, a.Family, a.Owner, strings.Join(a.Aliases, "; "), strings.Join(a.Sources, " ")}
		// Clean as the text form does (no control or bidi characters: a
		// lookup row is one line), then formula-safe.
		for i, c := range row {
			row[i] = textsafe.CSVCell(textsafe.Terminal(c))
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
