package source

import (
	"bytes"
	"strconv"
)

// frameJSONLines frames one record per line. It does not look inside the
// lines (the decoder validates them), so it is a memchr for '\n' and a
// few comparisons per record. line is the number of the line at f.start.
// The size limit applies to the raw line (blanks included), so that the
// outcome never depends on where buffer boundaries fall.
func frameJSONLines(f *feed, line int64) error {
	limit := f.r.opts.MaxRecordBytes
	start := f.start // start of the current line
	scan := start    // where the search for its newline resumes
	// An over-long line is discarded as it streams by: discarded counts
	// its bytes so far, and nothing of it is kept in the buffer.
	discarding := false
	var discarded int64
	f.mark(start, line)
	for {
		buf := f.buf
		for {
			i := bytes.IndexByte(buf[scan:], '\n')
			if i < 0 {
				break
			}
			end := scan + i
			if discarding {
				f.overLimit("line", line, discarded+int64(end-start))
				discarding = false
			} else if end-start > limit {
				f.overLimit("line", line, int64(end-start))
			} else if s, e := trimLine(buf, start, end); e > s {
				f.add(s, e, line)
			}
			line++
			start = end + 1
			scan = start
		}
		scan = len(buf)
		if !discarding && scan-start > limit {
			discarding, discarded = true, 0
		}
		if discarding {
			discarded += int64(scan - start)
			start = scan
		}
		f.start = start
		if !discarding {
			f.mark(start, line)
		}
		delta, ok, err := f.more()
		if err != nil {
			return err
		}
		start -= delta
		scan -= delta
		if !ok {
			break
		}
	}
	if f.rerr != nil {
		// The stream broke: the unfinished last line is a fragment.
		s, e := trimLine(f.buf, start, len(f.buf))
		f.failReadAt("line", line, discarding || e > s)
		return nil
	}
	if discarding {
		f.overLimit("line", line, discarded)
	} else if len(f.buf)-start > limit {
		f.overLimit("line", line, int64(len(f.buf)-start))
	} else if s, e := trimLine(f.buf, start, len(f.buf)); e > s {
		f.add(s, e, line)
	}
	return nil
}

// trimLine trims blanks around buf[s:e], and a byte order mark at its
// start (files concatenated with cat keep theirs).
func trimLine(buf []byte, s, e int) (int, int) {
	for e > s && (buf[e-1] == '\r' || buf[e-1] == ' ' || buf[e-1] == '\t') {
		e--
	}
	for s < e && (buf[s] == ' ' || buf[s] == '\t' || buf[s] == '\r') {
		s++
	}
	if e-s >= 3 && buf[s] == 0xef && buf[s+1] == 0xbb && buf[s+2] == 0xbf {
		s += 3
	}
	return s, e
}

// overLimit reports a record skipped for its size.
func (f *feed) overLimit(unit string, line, size int64) {
	what := "record"
	if unit == "row" {
		what = "row"
	}
	f.r.report(f.file, Problem{
		Path: f.path, Unit: unit, Line: line, Records: 1,
		Reason: what + " is " + strconv.FormatInt(size, 10) + " bytes, over the limit of " + strconv.Itoa(f.r.opts.MaxRecordBytes),
	})
}
