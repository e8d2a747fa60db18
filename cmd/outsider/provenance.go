package main

import (
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/outsider-sec/outsider/internal/triage"
)

// redacted replaces a secret in a report's command line.
const redacted = "REDACTED"

// secretFlag reports whether a flag's value is a secret by its name alone.
// No triage flag is one today; the rule guards flags to come (and flags
// mistyped or meant for another command, which are still on the line).
func secretFlag(name string) bool {
	name = strings.ToLower(name)
	for _, w := range []string{"secret", "password", "passwd", "token", "key"} {
		if strings.Contains(name, w) {
			return true
		}
	}
	return false
}

// redactArgs is the command line as a report shows it. Values of secret
// flags (secretFlag) become REDACTED, and any URL's password (a
// --clickhouse DSN's user:pass@, or one in its query) is masked wherever
// it stands. The other values are kept on purpose: paths, periods,
// tenants and thresholds decide what the report says, and a case file
// must let a reader run the same command again.
func redactArgs(args []string) []string {
	out := make([]string, 0, len(args)+1)
	out = append(out, "outsider")
	flags := true
	for i := 0; i < len(args); i++ {
		a := args[i]
		if flags && a == "--" {
			flags = false
			out = append(out, a)
			continue
		}
		if flags && strings.HasPrefix(a, "-") && len(a) > 1 {
			name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
			if secretFlag(name) {
				if hasValue {
					out = append(out, a[:len(a)-len(value)]+redacted)
					continue
				}
				out = append(out, a)
				if i+1 < len(args) {
					// Its value, whatever it looks like: a secret that
					// begins with "-" is still a secret.
					i++
					out = append(out, redacted)
				}
				continue
			}
			if hasValue {
				out = append(out, a[:len(a)-len(value)]+redactDSN(value))
				continue
			}
		}
		out = append(out, redactDSN(a))
	}
	return out
}

// redactDSN masks the credentials in a URL-like string: the password of
// user:pass@ (the user name stays, it says which account ran the query)
// and the value of every query parameter whose name is secret-like. A
// string that does not parse as a URL but has "://" and an "@" after it
// loses everything between the two: better too much hidden than a
// password shown.
func redactDSN(s string) string {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return s
	}
	u, err := url.Parse(s)
	if err != nil || u.Opaque != "" {
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			return scheme + "://" + redacted + rest[at:]
		}
		if strings.ContainsAny(rest, "?&") {
			return scheme + "://" + redacted
		}
		return s
	}
	if u.User == nil && strings.Contains(rest, "@") {
		// An "@" the parser took for part of the path or query
		// (user:12/ss@host parses as host "user", port 12): mask up
		// to the last one, as above.
		return scheme + "://" + redacted + rest[strings.LastIndex(rest, "@"):]
	}
	changed := false
	if u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), redacted)
			changed = true
		}
	}
	if u.RawQuery != "" {
		q, err := url.ParseQuery(u.RawQuery)
		if err != nil {
			u.RawQuery = redacted
			changed = true
		} else {
			for k := range q {
				if secretFlag(k) {
					q[k] = []string{redacted}
					changed = true
				}
			}
			if changed {
				u.RawQuery = q.Encode()
			}
		}
	}
	if !changed {
		return s
	}
	return u.String()
}

// stdinRecorder counts (and, with --hash-inputs, hashes) what the run
// reads from standard input: stdin cannot be read twice, so it is
// measured as it is read.
type stdinRecorder struct {
	r io.Reader
	n int64
	h hash.Hash
}

func (s *stdinRecorder) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.n += int64(n)
	if s.h != nil {
		s.h.Write(p[:n])
	}
	return n, err
}

// provenance is the report's provenance for a run over files: paths are
// the expanded inputs, stdin the recorder standard input was read
// through (nil when not read). Files are hashed after the run, with
// --hash-inputs only (see the help of --hash-inputs for why).
func (o *TriageOptions) provenance(args, paths []string, stdin *stdinRecorder) (*triage.Provenance, error) {
	p := o.baseProvenance(args)
	p.Inputs = []triage.ProvenanceInput{}
	for _, path := range slices.Concat(paths, o.sideFiles()) {
		switch {
		case path == "-" && stdin != nil:
			in := triage.ProvenanceInput{Path: path, Bytes: stdin.n}
			if stdin.h != nil {
				in.SHA256 = hex.EncodeToString(stdin.h.Sum(nil))
			}
			p.Inputs = append(p.Inputs, in)
		case o.HashInputs:
			in, err := triage.HashInput(path)
			if err != nil {
				return nil, fmt.Errorf("--hash-inputs: %w", err)
			}
			p.Inputs = append(p.Inputs, in)
		default:
			in := triage.ProvenanceInput{Path: path}
			if fi, err := os.Stat(path); err == nil {
				in.Bytes = fi.Size()
			}
			p.Inputs = append(p.Inputs, in)
		}
	}
	return p, nil
}

// sideFiles are the files besides the logs that decide what the report
// says: the --directory snapshot and the --geoip databases. A case file
// needs their hashes as much as the logs'.
func (o *TriageOptions) sideFiles() []string {
	var files []string
	if o.Directory != "" {
		files = append(files, o.Directory)
	}
	return append(files, o.GeoIP...)
}

// baseProvenance is what every report of the run says of how it was made.
func (o *TriageOptions) baseProvenance(args []string) *triage.Provenance {
	p := &triage.Provenance{Command: redactArgs(args), TimeZone: triage.TimeZoneRule}
	p.Version, p.Commit = buildVersion()
	if o.ClickHouse != "" {
		p.Source = redactDSN(o.ClickHouse)
	}
	if o.Stamp {
		now := time.Now
		if o.now != nil {
			now = o.now
		}
		p.Generated = now().UTC().Format(time.RFC3339)
	}
	return p
}
