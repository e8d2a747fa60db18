// Package report renders a triage.Report: text for people, JSON for
// machines (the outsider/triage/v1 contract), CSV for spreadsheets. One file
// per format; each renderer escapes attacker-controlled fields for its own
// medium (control characters in text, formulas in CSV).
package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/outsider-sec/outsider/internal/triage"
)

// Format names an output format.
type Format string

// Output formats.
const (
	Text Format = "text"
	JSON Format = "json"
	CSV  Format = "csv"
)

// Formats lists the output formats, for help and validation.
var Formats = []Format{Text, JSON, CSV}

// ParseFormat validates a --format value.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats {
		if string(f) == s {
			return f, nil
		}
	}
	names := make([]string, len(Formats))
	for i, f := range Formats {
		names[i] = string(f)
	}
	return "", fmt.Errorf("unknown format %q (want one of %s)", s, strings.Join(names, ", "))
}

// Render writes r to w in format f.
func Render(w io.Writer, f Format, r *triage.Report) error {
	switch f {
	case JSON:
		return RenderJSON(w, r)
	case CSV:
		return RenderCSV(w, r)
	case Text:
		return RenderText(w, r)
	}
	return fmt.Errorf("unknown format %q", f)
}
