package report

import (
	"encoding/json"
	"io"

	"github.com/outsider-sec/outsider/internal/triage"
)

// RenderJSON writes the outsider/triage/v1 document, indented, with a final
// newline. encoding/json sorts map keys, so the bytes depend only on the
// report. HTML-significant characters stay escaped (\u003c) so the output
// is inert if a tool pastes it into a web page.
func RenderJSON(w io.Writer, r *triage.Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
