package collect

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Archive folders.
const (
	DirUAL        = "ual"
	DirSignins    = "signins"
	DirQuarantine = "quarantine"
	// DirState is hidden so that 'outsider triage ARCHIVE' skips it.
	DirState = ".outsider"
)

// tmpPrefix starts the names of files being written. They are hidden, so
// a reader that lists the archive (triage skips dot files) never takes a
// half-written file for data, and a killed run's leftovers are swept by
// the next one.
const tmpPrefix = ".tmp-"

// fileStem makes a file name from a content type and content id. Content
// ids are opaque and hold '$' and other characters that are awkward in
// file names; they are kept readable where they are plain, and a hash of
// the exact id is always appended so that two ids never map to one file.
func fileStem(contentType, contentID string) string {
	var b strings.Builder
	for _, r := range contentID {
		if len(b.String()) >= 100 {
			break
		}
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	sum := sha256.Sum256([]byte(contentType + "\x00" + contentID))
	return contentType + "-" + b.String() + "-" + hex.EncodeToString(sum[:6])
}

// ualPath is the archive-relative file of a content blob, partitioned by
// the day (UTC) the content was created: a function of the listing alone,
// so a refetch writes the same file.
func ualPath(contentType, contentID string, created time.Time) string {
	return filepath.Join(DirUAL, created.UTC().Format("2006-01-02"), fileStem(contentType, contentID)+".jsonl.gz")
}

// signinPath is the archive-relative file of the sign-ins created in the
// hour starting at hour.
func signinPath(hour time.Time) string {
	h := hour.UTC()
	return filepath.Join(DirSignins, h.Format("2006-01-02"), "signins-"+h.Format("2006-01-02T15")+".jsonl.gz")
}

func quarantinePath(contentType, contentID string) string {
	return filepath.Join(DirQuarantine, fileStem(contentType, contentID)+".json.gz")
}

// writeAtomic writes path (gzip-compressed) through a hidden temporary
// file in the same folder that is synced, renamed over path and followed
// by a sync of the folder: once writeAtomic returns, the file is complete
// and durable, and until then path is either absent or its previous
// complete version. write gets the uncompressed stream.
func writeAtomic(path string, write func(io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, tmpPrefix+"*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	bw := bufio.NewWriterSize(f, 256<<10)
	zw, _ := gzip.NewWriterLevel(bw, gzip.DefaultCompression)
	if err = write(zw); err != nil {
		return err
	}
	if err = zw.Close(); err != nil {
		return err
	}
	if err = bw.Flush(); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Chmod(f.Name(), 0o644); err != nil {
		return err
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return err
	}
	return syncDir(dir)
}

// syncDir makes a rename in dir durable (a no-op where directories cannot
// be synced).
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) && !errors.Is(err, errors.ErrUnsupported) {
		return nil // some file systems refuse; the rename itself stands
	}
	return nil
}

// blobRecords checks that a content blob is a JSON array of objects and
// returns each record compacted to one line. Anything else is
// errMalformed: the blob is quarantined, never half-archived.
func blobRecords(body []byte) ([][]byte, error) {
	body = bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))
	var raw []json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, fmt.Errorf("%w: not a JSON array of records: %v", errMalformed, err)
	}
	out := make([][]byte, 0, len(raw))
	for i, r := range raw {
		r = bytes.TrimSpace(r)
		if len(r) == 0 || r[0] != '{' {
			return nil, fmt.Errorf("%w: element %d is not a record object", errMalformed, i+1)
		}
		var b bytes.Buffer
		if err := json.Compact(&b, r); err != nil {
			return nil, fmt.Errorf("%w: element %d: %v", errMalformed, i+1, err)
		}
		out = append(out, b.Bytes())
	}
	return out, nil
}

// writeLines writes records one per line.
func writeLines(w io.Writer, recs [][]byte) error {
	for _, r := range recs {
		if _, err := w.Write(r); err != nil {
			return err
		}
		if _, err := w.Write([]byte{'\n'}); err != nil {
			return err
		}
	}
	return nil
}

// sweepTemp removes temporary files a killed run left in the archive.
// It runs under the archive lock, so no other run is writing them.
func sweepTemp(root string) (int, error) {
	n := 0
	for _, d := range []string{DirUAL, DirSignins, DirQuarantine} {
		err := filepath.WalkDir(filepath.Join(root, d), func(p string, e fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return nil
				}
				return err
			}
			if !e.IsDir() && strings.HasPrefix(e.Name(), tmpPrefix) {
				if err := os.Remove(p); err != nil {
					return err
				}
				n++
			}
			return nil
		})
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
