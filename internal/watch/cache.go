package watch

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/outsider-sec/outsider/internal/state"
	"github.com/outsider-sec/outsider/internal/triage"
)

// The cycle cache keeps what the last triage of a cycle found, beside the
// state database, so that a cycle in which nothing changed costs a stat of
// each archive file instead of a triage of the lookback.
//
// Reusing it is exact, not approximate: the triage of the same files (same
// paths and content, in the same order) with the same options keeps the same records whenever the new lookback start lies
// between the cached one and the earliest record that passed the filters
// then (triage.Report.Earliest): no kept record leaves, no filtered one
// comes back. Anything else (a new or rewritten file, a record aging out,
// other options) triages the lookback again and replaces the cache.
//
// The file is one header line (the schema, the body's length and
// SHA-256) and the body (JSON): a cache written by another version is
// never read as this one's, and a damaged one (truncated, altered) is
// detected and rebuilt from the archive.

// cacheSchema names the cache layout; a cache of any other schema is
// rebuilt.
const cacheSchema = "outsider/watch-cache/v1"

// CacheFile is the cycle cache's name, in the state database's folder.
const CacheFile = "watch-cycle.cache"

// cacheHeader is the cache's first line.
type cacheHeader struct {
	Schema string `json:"schema"`
	Length int64  `json:"length"`
	SHA256 string `json:"sha256"`
}

// cycleCache is the cache's body.
type cycleCache struct {
	// Key is the fingerprint of the options and files triaged (cacheKey).
	Key string `json:"key"`
	// Files are the files triaged, each with the content hash the key
	// used.
	Files []fileStamp `json:"files"`
	// Since is the lookback start of that triage, Earliest its report's
	// Earliest (Unix ns).
	Since    int64 `json:"since"`
	Earliest int64 `json:"earliest"`
	// Records and Skipped are the report's input.records and skipped.
	Records    int64             `json:"records"`
	Skipped    int64             `json:"skipped"`
	Identities []triage.Identity `json:"identities"`
}

// errCacheVersion says the cache was written by another version.
var errCacheVersion = errors.New("written by another version of outsider")

// errCacheDamaged says the cache cannot be read as written.
var errCacheDamaged = errors.New("damaged")

func cachePath(st *state.DB) string { return filepath.Join(filepath.Dir(st.Path()), CacheFile) }

// fileStamp is an archive file as the cache saw it: path, size,
// modification time (Unix ns) and the SHA-256 of its content.
type fileStamp struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	MTime  int64  `json:"mtime"`
	SHA256 string `json:"sha256"`
}

// cacheKey fingerprints what decides a triage's report besides the
// lookback start: the options, and each file's path and content in input
// order. A file's content is known by its SHA-256, read again only when
// its size or modification time differs from the stamp in known: collect
// rewrites the current hour's sign-ins every cycle, mostly unchanged, so
// the time alone would make every cycle look new, while hashing only what
// changed keeps an idle cycle's cost to a stat per file and a read of
// what was rewritten.
func cacheKey(o *Options, paths []string, known []fileStamp) (string, []fileStamp, error) {
	byPath := make(map[string]fileStamp, len(known))
	for _, k := range known {
		byPath[k.Path] = k
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%q\x00%q\x00", cacheSchema, o.Tenants, o.Domains)
	stamps := make([]fileStamp, 0, len(paths))
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return "", nil, err
		}
		st := fileStamp{Path: p, Size: fi.Size(), MTime: fi.ModTime().UnixNano()}
		if k, ok := byPath[p]; ok && k.Size == st.Size && k.MTime == st.MTime && len(k.SHA256) == 64 {
			st.SHA256 = k.SHA256
		} else {
			in, err := triage.HashInput(p)
			if err != nil {
				return "", nil, err
			}
			st.SHA256 = in.SHA256
		}
		stamps = append(stamps, st)
		fmt.Fprintf(h, "%s\x00%s\x00", p, st.SHA256)
	}
	return hex.EncodeToString(h.Sum(nil)), stamps, nil
}

// reusable reports whether c answers a triage with key from since on:
// the same files and options, a lookback start no earlier than the
// cached one (no filtered record comes back) and no later than the
// earliest record that passed then (none leaves). Earliest 0 says no
// record passed: none can pass from a later start either.
func (c *cycleCache) reusable(key string, since int64) bool {
	return c.Key == key && c.Since <= since && (c.Earliest == 0 || since <= c.Earliest)
}

// loadCache reads the cache at path; a missing one is fs.ErrNotExist.
func loadCache(path string) (*cycleCache, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := bufio.NewReader(f)
	line, err := r.ReadBytes('\n')
	if err != nil {
		return nil, fmt.Errorf("%w: no header line", errCacheDamaged)
	}
	var h cacheHeader
	if err := json.Unmarshal(line, &h); err != nil {
		return nil, fmt.Errorf("%w: header: %v", errCacheDamaged, err)
	}
	if h.Schema != cacheSchema {
		return nil, fmt.Errorf("%w (schema %s, want %s)", errCacheVersion, strconv.Quote(h.Schema), cacheSchema)
	}
	if h.Length < 0 || h.Length > 1<<34 {
		return nil, fmt.Errorf("%w: length %d", errCacheDamaged, h.Length)
	}
	body, err := io.ReadAll(io.LimitReader(r, h.Length+1))
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(body)
	if int64(len(body)) != h.Length || hex.EncodeToString(sum[:]) != h.SHA256 {
		return nil, fmt.Errorf("%w: %d bytes, want %d with the header's SHA-256", errCacheDamaged, len(body), h.Length)
	}
	c := &cycleCache{}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(c); err != nil {
		return nil, fmt.Errorf("%w: %v", errCacheDamaged, err)
	}
	return c, nil
}

// saveCache writes c to path through a temporary file renamed into
// place: a crash leaves the old cache or the new one, whole. The cache
// names identities, so it is private like the state.
func saveCache(path string, c *cycleCache) error {
	body, err := json.Marshal(c)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(body)
	head, _ := json.Marshal(cacheHeader{Schema: cacheSchema, Length: int64(len(body)), SHA256: hex.EncodeToString(sum[:])})
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+CacheFile+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	w := bufio.NewWriter(tmp)
	w.Write(head)
	w.WriteByte('\n')
	w.Write(body)
	if err := w.Flush(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
