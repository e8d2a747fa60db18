package source

import (
	"archive/zip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	// Gzip files and deflated zip members inflate with inflate, a fork of
	// klauspost/compress's decompressor that notes checkpoints (index.go):
	// klauspost's inflates about a third faster than compress/gzip (500
	// against 375 MB/s on this machine, 1 GB of JSON Lines at gzip -6),
	// and a compressed export's triage is limited by inflating, on one
	// core.
	"github.com/outsider-sec/outsider/internal/inflate"
	"github.com/outsider-sec/outsider/internal/localedate"
)

// maxNesting bounds containers inside containers (a .gz in a .zip in a
// .zip...): real exports nest two levels at most, and the bound keeps a
// crafted archive from recursing without end.
const maxNesting = 4

// run is the state of one Read call.
type run struct {
	ctx     context.Context
	opts    Options
	emit    func(*Batch) error
	problem func(Problem)
	pool    *batchPool
	inputs  []Input
	// windows keeps the checkpoints' windows of what is indexed.
	windows *WindowStore

	// heldPeak is the most row bytes held at once for the survey of an
	// input's dates, surveys how many inputs were surveyed by a read of
	// their own (dates.go): what tests check memory by.
	heldPeak int64
	surveys  int
}

// report passes a problem on and counts the records it lost against the
// input it concerns.
func (r *run) report(file int, p Problem) {
	r.inputs[file].Skipped += p.Records
	r.problem(p)
}

// fail records an input that could not be read at all.
func (r *run) fail(path, reason string) {
	r.inputs = append(r.inputs, Input{Path: path})
	r.report(len(r.inputs)-1, Problem{Path: path, Reason: reason, Records: 1})
}

// readPath reads one argument: stdin, a file, or (when Read is handed
// arguments Expand has not seen) a folder or a glob.
func (r *run) readPath(path string) error {
	if err := r.ctx.Err(); err != nil {
		return err
	}
	if path == "-" {
		if r.opts.Stdin == nil {
			r.fail(path, "no standard input to read")
			return nil
		}
		return r.readStream(path, r.counted(r.opts.Stdin), nil, 0, 0, nil)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.IsDir() {
		files, _, err := expandOne(path)
		if err != nil {
			r.fail(path, reasonOf(path, err))
			return nil
		}
		for _, p := range files {
			if err := r.readPath(p); err != nil {
				return err
			}
		}
		return nil
	}
	fh, err := r.openFile(path, fi)
	if err != nil {
		if ctxErr := r.ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		r.fail(path, reasonOf(path, err))
		return nil
	}
	defer fh.Close()
	// Only a regular file gives random access (a zip read in place, an
	// index): a named pipe is a stream, as standard input is.
	var ra io.ReaderAt
	if fi.Mode().IsRegular() {
		ra = fh
	}
	return r.readStream(path, r.counted(fh), ra, fi.Size(), 0, nil)
}

// openFile opens path. Opening a named pipe waits for a writer, and
// reading it waits for the writer's bytes: neither wait may outlast the
// run (a FIFO nobody writes to hung the triage, deaf to Ctrl-C). A pipe is
// therefore opened aside, the run's end stops the wait, and its reads end
// with the run too (a pipe, unlike a regular file, can be given a read
// deadline). Process substitution (`<(zcat x.gz)`) is such a pipe, with
// its writer already there.
func (r *run) openFile(path string, fi fs.FileInfo) (*os.File, error) {
	if fi.Mode()&fs.ModeNamedPipe == 0 {
		return os.Open(path)
	}
	type opened struct {
		fh  *os.File
		err error
	}
	ch := make(chan opened, 1)
	go func() {
		fh, err := os.Open(path)
		ch <- opened{fh, err}
	}()
	select {
	case o := <-ch:
		if o.err == nil {
			context.AfterFunc(r.ctx, func() { o.fh.SetReadDeadline(time.Unix(1, 0)) })
		}
		return o.fh, o.err
	case <-r.ctx.Done():
		// The open goes on until a writer comes, if ever: close what it
		// opens then.
		go func() {
			if o := <-ch; o.fh != nil {
				o.fh.Close()
			}
		}()
		return nil, r.ctx.Err()
	}
}

// counted wraps a reader so that its bytes advance Options.Progress.
func (r *run) counted(rd io.Reader) io.Reader {
	if r.opts.Progress == nil {
		return rd
	}
	return &countingReader{r: rd, n: r.opts.Progress}
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// reasonOf turns an error into a problem reason without repeating the
// path, which Problem.Error prints already.
func reasonOf(path string, err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return strings.TrimPrefix(err.Error(), path+": ")
}

// readStream recognises containers by their magic bytes, never by the
// file name (exports get renamed, and .json files are often gzip), and
// reads what they hold. ra, when not nil, gives random access to the same
// bytes as r (a plain file), which zip needs; without it a zip is
// spooled to a temporary file first. gz, when not nil, is the gzip file
// or zip member on disk whose bytes r is (an input that can be indexed as
// it is read).
func (r *run) readStream(path string, rd io.Reader, ra io.ReaderAt, size int64, level int, gz *gzLeaf) error {
	p := &peeker{r: rd}
	head := p.peek(4)
	switch {
	case len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b:
		if level >= maxNesting {
			r.fail(path, "archives nested too deeply")
			return nil
		}
		// A gzip file (not one in a zip or a gzip) notes checkpoints
		// as it is inflated, for its index (unless nothing is indexed);
		// either way it can be read again for the survey of its dates.
		var every int64
		fh, _ := ra.(*os.File)
		var fi os.FileInfo
		if fh != nil && level == 0 {
			if st, err := fh.Stat(); err == nil && st.Mode().IsRegular() {
				every, fi = r.checkpointSpacing(), st
			}
		}
		zr, err := inflate.NewGzipReader(p, every)
		if err != nil {
			r.fail(path, "corrupt gzip: "+err.Error())
			return nil
		}
		defer zr.Close()
		var leaf *gzLeaf
		if fi != nil {
			leaf = &gzLeaf{fi: fi, ended: zr.EOF}
		}
		if every > 0 {
			zr.SetKeeper(r.windows.put)
			leaf.z = zr
		}
		// Concatenated gzip members (cat a.gz b.gz) are one stream, as
		// gunzip reads them.
		return r.readStream(path, &labelled{r: zr, label: "corrupt gzip"}, nil, 0, level+1, leaf)
	case len(head) == 4 && head[0] == 'P' && head[1] == 'K' &&
		(head[2] == 3 && head[3] == 4 || head[2] == 5 && head[3] == 6):
		if level >= maxNesting {
			r.fail(path, "archives nested too deeply")
			return nil
		}
		if ra == nil {
			return r.spoolZip(path, p, level)
		}
		return r.readZip(path, ra, size, level, true)
	}
	fh, _ := ra.(*os.File) // a plain file (zip members and streams have no ra)
	return r.readLeaf(path, p, fh, gz)
}

// spoolZip copies a zip that arrives as a stream (stdin, a gzip, a zip
// member) to a temporary file, since the zip directory is at the end.
func (r *run) spoolZip(path string, rd io.Reader, level int) error {
	tmp, err := os.CreateTemp("", "outsider-spool-*.zip")
	if err != nil {
		r.fail(path, "cannot spool zip archive: "+err.Error())
		return nil
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	n, err := io.Copy(tmp, ctxReader{r.ctx, rd})
	if err != nil {
		if cerr := r.ctx.Err(); cerr != nil {
			return cerr
		}
		r.fail(path, "cannot spool zip archive: "+err.Error())
		return nil
	}
	return r.readZip(path, tmp, n, level, false)
}

// ctxReader stops a long copy when the run is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// readZip reads each member of an archive as an input of its own, in
// archive order, named "archive.zip!member". onDisk says ra is the file
// path names (not a spooled copy), whose members can then be indexed.
func (r *run) readZip(path string, ra io.ReaderAt, size int64, level int, onDisk bool) error {
	zr, err := zip.NewReader(ra, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		// Insecure names ("../x") only matter to extractors: members
		// are read, never written to disk.
		r.fail(path, "corrupt zip: "+err.Error())
		return nil
	}
	// Members inflate with inflate's fork of klauspost/compress's flate,
	// as gzip files do: about a third faster than compress/flate. The
	// members of a zip on disk are indexed: a deflated one notes
	// checkpoints as it inflates, a stored one needs none.
	var zfi os.FileInfo
	if fh, ok := ra.(*os.File); ok && onDisk && level == 0 {
		if st, err := fh.Stat(); err == nil && st.Mode().IsRegular() {
			zfi = st
		}
	}
	var every int64
	if zfi != nil {
		every = r.checkpointSpacing()
	}
	// archive/zip makes a member's inflater inside Open: opening holds
	// the one made by the last Open (members open in the background too).
	var opening sync.Mutex
	var made *inflate.DeflateReader
	zr.RegisterDecompressor(zip.Deflate, func(rd io.Reader) io.ReadCloser {
		made = inflate.NewDeflateReader(rd, every)
		if every > 0 {
			made.SetKeeper(r.windows.put)
		}
		return made
	})
	open := func(m *zip.File) (io.ReadCloser, *inflate.DeflateReader, error) {
		opening.Lock()
		defer opening.Unlock()
		made = nil
		rc, err := m.Open()
		return rc, made, err
	}
	// leafOf is the index's source for member m, nil when it is not
	// indexed; its inflater d is set once the member is open.
	leafOf := func(m *zip.File) *gzLeaf {
		if zfi == nil || m.Method != zip.Deflate && m.Method != zip.Store {
			return nil
		}
		off, err := m.DataOffset()
		if err != nil {
			return nil
		}
		return &gzLeaf{fi: zfi, part: &zipPart{file: path, off: off, size: int64(m.CompressedSize64), stored: m.Method == zip.Store}}
	}
	var members []*zip.File
	for _, zf := range zr.File {
		if !zf.FileInfo().IsDir() && !skipMember(zf.Name) {
			members = append(members, zf)
		}
	}
	// Compressed members after the one being read are inflated meanwhile
	// (ahead.go), as compressed files are.
	var ahead window
	defer ahead.close()
	startMember := func(j int) *aheadStream {
		m := members[j]
		if m.Method == zip.Store {
			return nil // nothing to inflate
		}
		leaf := leafOf(m)
		a := r.inflateAhead(func() (io.Reader, func(), error) {
			rc, d, err := open(m)
			if err != nil {
				return nil, nil, err
			}
			if leaf != nil && d != nil {
				leaf.z = d // before ready is closed
			}
			return rc, func() { rc.Close() }, nil
		})
		if leaf != nil {
			leaf.ended = func() bool { return a.done == io.EOF }
			a.gz = leaf
		}
		return a
	}
	for i, zf := range members {
		ahead.fill(r, i, len(members), startMember)
		name := path + "!" + zf.Name
		var err error
		if a := ahead.take(i); a != nil {
			err = r.readAheadStream(name, a, "corrupt zip member", level+1)
		} else {
			rc, d, oerr := open(zf)
			if oerr != nil {
				r.fail(name, "corrupt zip member: "+oerr.Error())
				continue
			}
			fr := &fillReader{rd: rc}
			leaf := leafOf(zf)
			if leaf != nil {
				if d != nil {
					leaf.z = d
				}
				// The member was read whole, its checksum checked.
				leaf.ended = func() bool { return fr.err == io.EOF }
			}
			err = r.readStream(name, &labelled{r: fr, label: "corrupt zip member"}, nil, 0, level+1, leaf)
			rc.Close()
		}
		if err != nil {
			return err
		}
	}
	if len(members) == 0 {
		r.inputs = append(r.inputs, Input{Path: path})
		r.report(len(r.inputs)-1, Problem{Path: path, Reason: "zip archive holds no file"})
	}
	return nil
}

// skipMember leaves out what archivers add beside the data: hidden files
// and macOS resource forks (__MACOSX/._name), which would only show up as
// "unknown format" problems.
func skipMember(name string) bool {
	for _, part := range strings.Split(name, "/") {
		if strings.HasPrefix(part, ".") && part != "." && part != ".." || part == "__MACOSX" {
			return true
		}
	}
	return false
}

// labelled names the layer a read error comes from ("corrupt gzip: ..."),
// so that a problem says what is broken rather than just "unexpected EOF".
type labelled struct {
	r     io.Reader
	label string
}

func (l *labelled) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	if err != nil && err != io.EOF {
		err = fmt.Errorf("%s: %w", l.label, err)
	}
	return n, err
}

// peeker lets the first few bytes of a stream be inspected and then read
// again, without a bufio.Reader in the way of the large reads that go
// straight into batch buffers.
type peeker struct {
	r    io.Reader
	head []byte
	hbuf [4]byte
	err  error
}

// peek returns up to n (at most 4) first bytes, fewer at the end of input.
func (p *peeker) peek(n int) []byte {
	if p.head == nil {
		p.head = p.hbuf[:0]
	}
	for len(p.head) < n && p.err == nil {
		m, err := p.r.Read(p.hbuf[len(p.head):n])
		p.head = p.hbuf[:len(p.head)+m]
		if err != nil {
			p.err = err
		} else if m == 0 {
			// A reader returning (0, nil) forever would hang us.
			for i := 0; i < 100 && m == 0 && err == nil; i++ {
				m, err = p.r.Read(p.hbuf[len(p.head):n])
			}
			p.head = p.hbuf[:len(p.head)+m]
			if err != nil {
				p.err = err
			} else if m == 0 {
				p.err = io.ErrNoProgress
			}
		}
	}
	return p.head
}

// skip drops n peeked bytes (a byte order mark).
func (p *peeker) skip(n int) { p.head = p.head[n:] }

func (p *peeker) Read(b []byte) (int, error) {
	if len(p.head) > 0 {
		n := copy(b, p.head)
		p.head = p.head[n:]
		return n, nil
	}
	if p.err != nil {
		return 0, p.err
	}
	return p.r.Read(b)
}

// readLeaf decodes the text encoding of one input, sniffs its format and
// frames it; a plain file (fh not nil) or a gzip file or zip member (gz
// not nil) framed as JSON Lines or CSV rows is indexed (Input.Index).
func (r *run) readLeaf(path string, p *peeker, fh *os.File, gz *gzLeaf) error {
	file := len(r.inputs)
	r.inputs = append(r.inputs, Input{Path: path})
	src, base := text(p)
	f := r.newFeed(file, path, src)
	if (fh != nil || gz != nil) && src == io.Reader(p) && !r.opts.NoIndex {
		f.ix, f.base = &Index{}, base
	}
	// What can be read again from its start has its dates surveyed by a
	// read of its own (dates.go).
	switch {
	case fh != nil:
		f.reopen = func() (io.Reader, func(), error) {
			st, err := fh.Stat()
			if err != nil {
				return nil, nil, err
			}
			return io.NewSectionReader(fh, 0, st.Size()), func() {}, nil
		}
	case gz != nil && gz.fi != nil:
		f.reopen = gz.reopen(path)
	}
	err := r.frame(f)
	if ferr := f.finish(); err == nil {
		err = ferr
	}
	in := &r.inputs[file]
	in.Format, in.Separator, in.Framed = f.format, f.sep, f.framed
	if ix := f.ix; err == nil && ix != nil && len(ix.Points) > 0 && f.rerr == nil {
		var fi os.FileInfo
		switch {
		case gz != nil && gz.ended():
			// The checkpoints are complete only once the stream ended.
			fi, ix.part = gz.fi, gz.part
			if gz.z != nil {
				ix.gz, ix.windows = gz.z.Checkpoints(), r.windows
			}
		case fh != nil:
			fi, _ = fh.Stat()
		}
		if fi != nil {
			ix.Size, ix.ModTime = fi.Size(), fi.ModTime()
			ix.Format, ix.CSVColumn, ix.Header, ix.Dates, ix.Separator = f.format, f.csvCol, f.header, f.dates, f.sep
			in.Index = ix
		}
	}
	if in.Index == nil && gz != nil && gz.z != nil && gz.ended() {
		// No index will restart from these checkpoints: their windows
		// make room for others'.
		r.windows.release(gz.z.Checkpoints())
	}
	if err == nil {
		r.warnCap(file)
	}
	return err
}

// text decodes the text encoding of an input from its first bytes: the
// reader of its UTF-8 text, and how many bytes of p (a byte order mark)
// come before it when it is p itself.
func text(p *peeker) (io.Reader, int64) {
	switch h := p.peek(4); {
	case len(h) >= 3 && h[0] == 0xef && h[1] == 0xbb && h[2] == 0xbf:
		p.skip(3)
		return p, 3
	case len(h) >= 2 && h[0] == 0xff && h[1] == 0xfe:
		p.skip(2)
		return newUTF16Reader(p, false), 0
	case len(h) >= 2 && h[0] == 0xfe && h[1] == 0xff:
		p.skip(2)
		return newUTF16Reader(p, true), 0
	case len(h) == 4 && h[0] != 0 && h[1] == 0 && h[2] != 0 && h[3] == 0:
		// UTF-16 without a byte order mark ("{\0"\0"): rare, but it is
		// what some tools write, and unmistakable for JSON or CSV.
		return newUTF16Reader(p, false), 0
	case len(h) == 4 && h[0] == 0 && h[1] != 0 && h[2] == 0 && h[3] != 0:
		return newUTF16Reader(p, true), 0
	}
	return p, 0
}

// frame sniffs (or takes the forced format) and runs the framer.
func (r *run) frame(f *feed) error {
	s, err := f.sniff(r.opts.Format)
	if err != nil {
		return err
	}
	if s.problem != "" {
		var recs int64 = 1
		if s.empty {
			recs = 0
		}
		if f.rerr != nil {
			// The stream broke before anything could be recognised:
			// say so rather than "empty file".
			f.failRead(true)
			return nil
		}
		r.report(f.file, Problem{Path: f.path, Reason: s.problem, Records: recs})
		return nil
	}
	f.format, f.csvCol, f.header, f.sep = s.format, s.csvCol, s.header, s.sep
	// The order --date-order states holds for every input, surveyed or
	// not: a locale date in a JSON record (a Graph sign-in's
	// createdDateTime re-written by a script) that shows no order is read
	// in it, as the skip reason for such a date says.
	f.dates = localedate.Evidence(0).State(r.opts.DateOrder)
	if s.framing == frameRows && s.header != nil {
		// Read by column names: its locale dates are surveyed first,
		// by a read of their own when the input can be read again,
		// else while its first rows are held (dates.go).
		if f.dateCols = DateColumns(s.header, s.format); len(f.dateCols) > 0 {
			if e, ok := r.surveyAgain(f, s.header); ok {
				f.dates = e
				f.decide()
			} else {
				f.holding, f.rereadFailed = true, f.reopen != nil
			}
		}
	}
	if f.ix != nil {
		switch s.framing {
		case frameLines:
		case frameRows:
			f.ix.csv = true
		default:
			f.ix = nil // JSON values are not indexed
		}
	}
	switch s.framing {
	case frameLines:
		return frameJSONLines(f, s.line)
	case frameJSON, frameWrapped:
		return frameJSONValues(f, s.line, s.framing == frameWrapped)
	case frameRows:
		return frameCSV(f)
	case frameQuery:
		return frameQueryTables(f, s.line)
	case frameDefender:
		return frameDefenderResults(f, s.line)
	}
	return nil
}

// exportCaps are the record counts at which Microsoft's export tools stop
// without saying so.
var exportCaps = []struct {
	n    int64
	text string
}{
	{5000, "5,000 records: exactly the cap of Search-UnifiedAuditLog (5,000 records per call), the export was probably truncated"},
	{50000, "50,000 records: exactly the cap of Purview portal exports and of Search-UnifiedAuditLog sessions (50,000 records per search), the export was probably truncated"},
	{100000, "100,000 records: exactly the cap of Purview audit search exports (100,000 records per search), the export was probably truncated"},
}

// defenderCaps are those of a Defender advanced hunting export: a query
// returns at most 100,000 rows, in the portal as through the API
// (https://learn.microsoft.com/defender-xdr/api-advanced-hunting,
// "Results can return up to 100,000 rows"). The UAL's caps mean nothing
// there: a CloudAppEvents export of 50,000 rows is whole.
var defenderCaps = []struct {
	n    int64
	text string
}{
	{100000, "100,000 rows: exactly the cap of a Defender advanced hunting query (100,000 rows per query), the export was probably truncated; query shorter periods and give every file"},
}

func (r *run) warnCap(file int) {
	in := r.inputs[file]
	n := in.Framed + in.Skipped
	caps := exportCaps
	if in.Format == DefenderCSV || in.Format == DefenderJSON {
		caps = defenderCaps
	}
	for _, c := range caps {
		if n == c.n {
			r.report(file, Problem{Path: in.Path, Reason: c.text, Warning: true})
		}
	}
}

// expandOne expands one argument (see ExpandNoting).
func expandOne(arg string) ([]string, []Passed, error) {
	if arg == "-" {
		return []string{arg}, nil, nil
	}
	fi, err := os.Stat(arg)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && strings.ContainsAny(arg, "*?[") {
			return expandGlob(arg)
		}
		return nil, nil, fmt.Errorf("%s: %w", arg, unwrapPath(err))
	}
	if !fi.IsDir() {
		return []string{arg}, nil, nil
	}
	files, passed, err := walkDir(arg)
	if err != nil {
		return nil, nil, err
	}
	if len(files) == 0 {
		if passed != nil {
			return nil, nil, fmt.Errorf("%w in %s: %s", ErrNoInputs, arg, passed.what())
		}
		return nil, nil, fmt.Errorf("%w in %s", ErrNoInputs, arg)
	}
	return files, passedList(passed), nil
}

func passedList(p *Passed) []Passed {
	if p == nil {
		return nil
	}
	return []Passed{*p}
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func expandGlob(pattern string) ([]string, []Passed, error) {
	matches, err := filepath.Glob(pattern)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: bad pattern: %w", pattern, err)
	}
	sort.Strings(matches)
	var out []string
	var passed []Passed
	for _, m := range matches {
		fi, err := os.Stat(m)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", m, unwrapPath(err))
		}
		if !fi.IsDir() {
			out = append(out, m)
			continue
		}
		files, p, err := walkDir(m)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, files...)
		passed = append(passed, passedList(p)...)
	}
	if len(out) == 0 {
		return nil, nil, fmt.Errorf("%w match %s", ErrNoInputs, pattern)
	}
	return out, passed, nil
}

// walkDir lists the files under root, hidden entries left out, sorted as
// full paths so that the order does not depend on the file system.
func walkDir(root string) ([]string, *Passed, error) {
	var out []string
	var passed *Passed
	pass := func(p string) {
		if passed == nil {
			passed = &Passed{Folder: root}
		}
		passed.Count++
		if len(passed.Examples) < 3 {
			rel, err := filepath.Rel(root, p)
			if err != nil {
				rel = p
			}
			passed.Examples = append(passed.Examples, rel)
		}
	}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("%s: %w", p, unwrapPath(err))
		}
		if p != root && strings.HasPrefix(d.Name(), ".") {
			pass(p)
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		switch {
		case d.IsDir():
		case d.Type().IsRegular():
			out = append(out, p)
		case d.Type()&fs.ModeSymlink != 0:
			// A link to a file is read; a link to a folder is not
			// followed (it could loop).
			if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
				out = append(out, p)
			} else {
				pass(p)
			}
		default:
			pass(p) // a named pipe, a socket, a device
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	sort.Strings(out)
	return out, passed, nil
}
