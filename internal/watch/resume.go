package watch

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/outsider-sec/outsider/internal/state"
	"github.com/outsider-sec/outsider/internal/triage"
)

// A cycle after new files costs what is new, not the lookback, by
// continuing the last cycle's triage instead of starting again: watch
// triages the archive's files in the order they arrived (arrival: a
// blob's modification time, an hour of sign-ins a fixed time after its
// day; then path), so new files come after every file triaged before,
// and the engine's state after the files triaged so far (a
// triage.Session: aggregates, deduplication keys and aliases) is saved
// beside the state database as the engine snapshot. A cycle whose files
// begin with exactly the snapshot's (same paths and content, same order)
// and whose lookback start lets no record of them leave (the cycle
// cache's rule: no later than the earliest record that passed) loads the
// snapshot and reads only the files after them. That is the triage of all
// the files in that order by construction, because a record's fate
// depends only on the records before it.
//
// Files that have not settled (the sign-ins of today and yesterday, which
// collect may still rewrite, and what arrived in the last minutes) are
// read every cycle but kept out of the snapshot, so that rewriting them
// does not break its prefix. When the prefix does break (a
// settled file rewritten or removed, records aging out of the lookback
// once a day) the cycle triages the lookback in full and saves a new
// snapshot.

// SnapshotFile is the engine snapshot's name, in the state database's
// folder. It holds the identities' aggregates and the deduplication keys
// with their per-run namespaces (which make crafted Ids unable to collide
// with other records'): no credential, but private like the state.
const SnapshotFile = "watch-engine.snapshot"

// snapshotSchema begins the file; a snapshot of any other schema is
// rebuilt from the archive.
const snapshotSchema = "outsider/watch-snapshot/v1\n"

// settleAfter is how long after its arrival a file is taken as settled:
// read every cycle until then but kept out of the snapshot, so that a file
// arriving meanwhile (its arrival is its modification time) cannot come
// before the snapshot's files. The sign-ins of today and yesterday arrive
// in the future (arrival): they are read every cycle.
const settleAfter = 15 * time.Minute

// snapshotMeta is what the snapshot says it continues.
type snapshotMeta struct {
	// Options fingerprints the triage options besides the lookback start.
	Options string `json:"options"`
	// Since is the lookback start it was triaged from (Unix ns).
	Since int64 `json:"since"`
	// Earliest is the session's (triage.Session.Earliest).
	Earliest int64 `json:"earliest"`
	// Files are the files read, in order.
	Files []fileStamp `json:"files"`
}

// errSnapshotStale says the snapshot does not continue into this cycle:
// nothing to report, the cycle triages the lookback.
var errSnapshotStale = errors.New("does not continue into this cycle")

func snapshotPath(st *state.DB) string { return filepath.Join(filepath.Dir(st.Path()), SnapshotFile) }

func optionsKey(o *Options) string { return fmt.Sprintf("%q\x00%q", o.Tenants, o.Domains) }

// settled reports whether f arrived settleAfter or more before now.
func settled(f fileStamp, now time.Time) bool {
	return arrival(f.Path, f.MTime) <= now.Add(-settleAfter).UnixNano()
}

// resumed is a session continued from the snapshot, or started afresh.
type resumed struct {
	s *triage.Session
	// from is the first of the cycle's files the session has not read.
	from int
}

// resume loads the snapshot when it continues into files (the cycle's
// files in order, with their content hashes) from since on; otherwise it
// starts a session, saying why when the snapshot could not be read.
func resume(o *Options, topts triage.Options, files []fileStamp, since time.Time) resumed {
	path := snapshotPath(o.Archive.State)
	// Only a snapshot that continues into files is read past its
	// metadata: a hundred megabytes not loaded for nothing.
	s, meta, err := loadSnapshot(path, topts, func(m *snapshotMeta) bool {
		return m.Options == optionsKey(o) && m.Since <= since.UnixNano() &&
			(m.Earliest == 0 || since.UnixNano() <= m.Earliest) && isPrefix(m.Files, files)
	})
	switch {
	case err == nil:
		return resumed{s: s, from: len(meta.Files)}
	case !errors.Is(err, os.ErrNotExist) && !errors.Is(err, errSnapshotStale):
		fmt.Fprintf(o.Log, "outsider: watch: engine snapshot %s: %v; rebuilding it from the archive\n", path, err)
	}
	return resumed{s: triage.NewSession(topts)}
}

// isPrefix reports whether files begin with the files of p, by path and
// content: what decides a triage (a file touched but not changed stays).
func isPrefix(p, files []fileStamp) bool {
	if len(p) > len(files) {
		return false
	}
	for i := range p {
		if p[i].Path != files[i].Path || p[i].SHA256 != files[i].SHA256 {
			return false
		}
	}
	return true
}

// triageSession triages files (in arrival order) as one triage would: it
// continues the snapshot when it can, reads the settled files after it,
// saves the snapshot again if it read any, then reads the rest.
func triageSession(ctx context.Context, o *Options, files []fileStamp, since, now time.Time, cyc *Cycle) (*triage.Report, error) {
	// Findings carry verdicts, not the objects touched: the second look,
	// which reads old archive files again, is left out.
	topts := triage.Options{Tenants: o.Tenants, Domains: o.Domains, Since: since, Workers: o.Workers, SkipAccessed: true}
	r := resume(o, topts, files, since)
	cyc.Resumed = r.from > 0
	end := r.from
	for end < len(files) && settled(files[end], now) {
		end++
	}
	paths := func(fs []fileStamp) []string {
		out := make([]string, len(fs))
		for i, f := range fs {
			out[i] = f.Path
		}
		return out
	}
	cyc.Read = len(files) - r.from
	if end > r.from {
		if err := r.s.Add(ctx, paths(files[r.from:end])); err != nil {
			return nil, fmt.Errorf("triage: %w", err)
		}
		meta := snapshotMeta{Options: optionsKey(o), Since: since.UnixNano(), Earliest: r.s.Earliest(), Files: files[:end]}
		if err := saveSnapshot(snapshotPath(o.Archive.State), &meta, r.s); err != nil {
			fmt.Fprintf(o.Log, "outsider: watch: engine snapshot: %v; the next cycle after new files triages the lookback again\n", err)
			os.Remove(snapshotPath(o.Archive.State))
		}
	}
	if err := r.s.Add(ctx, paths(files[end:])); err != nil {
		return nil, fmt.Errorf("triage: %w", err)
	}
	return r.s.Report(ctx)
}

// The snapshot file is the schema line, the body's length (8 bytes, big
// endian) and CRC-32C (4 bytes: it detects damage, as SHA-256 would, for a
// fraction of the CPU on a hundred megabytes; whoever can write the file
// could forge either), then the body: the metadata (length-prefixed JSON)
// and the saved session. The header is written last, over a placeholder,
// so that the body streams to disk: it is tens of megabytes.
const snapshotHeader = len(snapshotSchema) + 8 + 4

// errSnapshotDamaged says the snapshot cannot be read as written.
var errSnapshotDamaged = errors.New("damaged")

// loadSnapshot reads the snapshot at path for a session with topts, if
// usable (nil: any) accepts its metadata (else errSnapshotStale); a
// missing one is os.ErrNotExist. Whatever the file holds, it returns the
// session it was saved from or an error.
func loadSnapshot(path string, topts triage.Options, usable func(*snapshotMeta) bool) (*triage.Session, *snapshotMeta, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	return readSnapshot(f, topts, usable)
}

func readSnapshot(f io.Reader, topts triage.Options, usable func(*snapshotMeta) bool) (*triage.Session, *snapshotMeta, error) {
	head := make([]byte, snapshotHeader)
	if _, err := io.ReadFull(f, head); err != nil {
		return nil, nil, fmt.Errorf("%w: no header", errSnapshotDamaged)
	}
	if string(head[:len(snapshotSchema)]) != snapshotSchema {
		if i := bytes.IndexByte(head, '\n'); i > 0 && bytes.HasPrefix(head, []byte("outsider/watch-snapshot/")) {
			return nil, nil, fmt.Errorf("%w (schema %q, want %s)", errCacheVersion, head[:i], strings.TrimSpace(snapshotSchema))
		}
		return nil, nil, fmt.Errorf("%w: not a snapshot", errSnapshotDamaged)
	}
	length := int64(binary.BigEndian.Uint64(head[len(snapshotSchema):]))
	sum := head[len(snapshotSchema)+8:]
	if length < 0 || length > 1<<40 {
		return nil, nil, fmt.Errorf("%w: length %d", errSnapshotDamaged, length)
	}
	h := crc32.New(castagnoli)
	body := bufio.NewReaderSize(io.TeeReader(io.LimitReader(f, length), h), 256<<10)
	var n uint64
	if err := binary.Read(body, binary.BigEndian, &n); err != nil || n > uint64(length) || n > 1<<30 {
		return nil, nil, fmt.Errorf("%w: metadata", errSnapshotDamaged)
	}
	mb := make([]byte, n)
	if _, err := io.ReadFull(body, mb); err != nil {
		return nil, nil, fmt.Errorf("%w: metadata", errSnapshotDamaged)
	}
	meta := &snapshotMeta{}
	dec := json.NewDecoder(bytes.NewReader(mb))
	dec.DisallowUnknownFields()
	if err := dec.Decode(meta); err != nil {
		return nil, nil, fmt.Errorf("%w: metadata: %v", errSnapshotDamaged, err)
	}
	if usable != nil && !usable(meta) {
		return nil, meta, errSnapshotStale
	}
	s, err := triage.LoadSession(body, length-8-int64(n), topts)
	if errors.Is(err, triage.ErrSessionVersion) {
		return nil, nil, fmt.Errorf("%w: %v", errCacheVersion, err)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", errSnapshotDamaged, err)
	}
	if rest, _ := io.Copy(io.Discard, body); rest != 0 || !bytes.Equal(h.Sum(nil), sum) {
		s.Close()
		return nil, nil, fmt.Errorf("%w: content does not match the header's length and CRC-32C", errSnapshotDamaged)
	}
	return s, meta, nil
}

// saveSnapshot writes meta and s to path through a temporary file renamed
// into place (mode 0600): a crash leaves the old snapshot or the new one,
// whole.
func saveSnapshot(path string, meta *snapshotMeta, s *triage.Session) error {
	mb, err := json.Marshal(meta)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+SnapshotFile+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	if _, err := tmp.Write(make([]byte, snapshotHeader)); err != nil {
		return err
	}
	h := crc32.New(castagnoli)
	cw := &countWriter{w: io.MultiWriter(tmp, h)}
	w := bufio.NewWriterSize(cw, 256<<10)
	binary.Write(w, binary.BigEndian, uint64(len(mb)))
	w.Write(mb)
	if err := s.Save(w); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	head := append([]byte(snapshotSchema), binary.BigEndian.AppendUint64(nil, uint64(cw.n))...)
	head = h.Sum(head)
	if _, err := tmp.WriteAt(head, 0); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}
