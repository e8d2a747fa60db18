package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/outsider-sec/outsider/internal/apps"
	"github.com/outsider-sec/outsider/internal/iostreams"
	"github.com/outsider-sec/outsider/internal/report"
)

// AppsOptions are the flags and arguments of 'outsider apps'.
type AppsOptions struct {
	Query string
	JSON  bool
}

const appsUsage = `Usage: outsider apps [flags] [QUERY]

Searches the embedded catalogue of Microsoft first-party application ids
(case-insensitive substring of id, name, aliases or family). Pass-through
sign-ins are allowed only to these applications. With no QUERY, lists all.

Exit status: 0 found; 1 nothing matched; 2 usage.

Flags:
`

func runAppsCmd(ctx context.Context, ios *iostreams.IOStreams, args []string) error {
	fs := newFlagSet("apps", appsUsage, ios.Out)
	asJSON := fs.Bool("json", false, "print JSON Lines instead of a table")
	pos, err := parseArgs(fs, "apps", args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return usagef("apps", "give at most one QUERY (quote it if it has spaces)")
	}
	o := &AppsOptions{JSON: *asJSON}
	if len(pos) == 1 {
		o.Query = pos[0]
	}
	return runApps(ios, o)
}

func runApps(ios *iostreams.IOStreams, o *AppsOptions) error {
	found := apps.Search(o.Query)
	w := bufio.NewWriter(ios.Out)
	defer w.Flush()
	if o.JSON {
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
			fmt.Fprintf(w, "%s  %s%s  (%s)\n", a.ID, report.Clean(name), extra, strings.Join(a.Sources, ","))
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

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
