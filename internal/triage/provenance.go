package triage

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
)

// TimeZoneRule is what a report says of the times it shows: every time is
// the record's own UTC time, never converted to a local zone. A sign-in
// CSV's or OfficeActivity export's time column is UTC too ("Date (UTC)",
// "TimeGenerated [UTC]"), but saved again in Excel it holds the region's
// dates, which are read (day or month first, as the file's other dates or
// --date-order say): the rule names that rather than deny it.
const TimeZoneRule = "all times are UTC as the logs write them (CreationTime, createdDateTime, a CSV's UTC " +
	"time column, whose locale dates are read day or month first as the file's other dates or " +
	"--date-order show), never converted to a local zone"

// Provenance says how a report was made, for a case file: which build of
// the tool, which command line, which inputs (by size and hash), which
// time rule. The command-line tool fills it in (Run never does: the engine
// knows neither its own version nor its command line), so a report made
// by the engine directly carries none.
type Provenance struct {
	// Version and Commit name the build (as `outsider version` says).
	Version string `json:"version"`
	Commit  string `json:"commit"`
	// Command is the command line, secrets redacted.
	Command []string `json:"command"`
	// Inputs are the inputs as named on the command line (after folders
	// and globs were expanded); a zip is one input, hashed whole.
	Inputs []ProvenanceInput `json:"inputs"`
	// Source names where records came from when they were not files: the
	// ClickHouse DSN (redacted) for triage --clickhouse.
	Source string `json:"source,omitempty"`
	// TimeZone is TimeZoneRule.
	TimeZone string `json:"time_zone"`
	// Generated is when the report was made (RFC 3339, UTC), only with
	// --stamp: without it the same inputs give a byte-identical report.
	Generated string `json:"generated,omitempty"`
}

// ProvenanceInput is one input file (or "-", standard input): its size in
// bytes as read and, with --hash-inputs, the SHA-256 of its bytes as on
// disk (before decompression).
type ProvenanceInput struct {
	Path   string `json:"path"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256,omitempty"`
}

// HashInput is an input file's size and SHA-256 as it lies on disk
// (compressed files and zips hashed whole, as they lie in a case file):
// for a report's provenance (--hash-inputs) and for watch, which knows a
// file by its content.
func HashInput(path string) (ProvenanceInput, error) {
	in := ProvenanceInput{Path: path}
	f, err := os.Open(path)
	if err != nil {
		return in, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return in, err
	}
	in.Bytes, in.SHA256 = n, hex.EncodeToString(h.Sum(nil))
	return in, nil
}
