package report

import (
	"bytes"
	"encoding/json"
	"io"

	"github.com/outsider-sec/outsider/internal/textsafe"

	"github.com/outsider-sec/outsider/internal/triage"
)

// RenderJSON writes the outsider/triage/v1 document, indented, with a final
// newline. encoding/json sorts map keys, so the bytes depend only on the
// report. HTML-significant characters stay escaped (\u003c) so the output
// is inert if a tool pastes it into a web page, and so do the characters
// encoding/json leaves as they are but a terminal or editor would act on
// (bidi overrides, C1 controls, invisible characters: textsafe.JSON), for
// the names of objects touched as for every other value from the records;
// the values a JSON reader gets are the same.
func RenderJSON(w io.Writer, r *triage.Report) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return err
	}
	_, err := io.WriteString(w, textsafe.JSON(b.String()))
	return err
}
