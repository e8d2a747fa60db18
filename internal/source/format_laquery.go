package source

import (
	"encoding/json"
	"strconv"
	"strings"
)

// frameQueryTables frames the rows of a Log Analytics query API response
// (https://learn.microsoft.com/azure/azure-monitor/logs/api/response-format):
//
//	{"tables": [{"name": "PrimaryResult",
//	             "columns": [{"name": "TimeGenerated", "type": "datetime"}, ...],
//	             "rows": [["2021-04-28T15:05:26Z", ...], ...]}, ...],
//	 "error": {...}}
//
// Each row (the JSON array of its values, in the order of the columns) is
// a record; the batches of a table carry its column names in Header and
// what it holds in Table, told from the column names as a CSV export's
// are (OfficeActivity, or a sign-in log). A table of other columns is
// skipped with one problem that counts its rows; an "error" member (the
// API's partial-error report) is a warning. Several responses may follow
// one another in one input.
//
// The scanner tracks strings and bracket depth only, as the other JSON
// framers do, and keeps nothing but the row (or the small columns array)
// being framed; values are checked when the row is decoded.
func frameQueryTables(f *feed, line int64) error {
	return frameResponses(f, line, (*queryFramer).response, func(c byte) string {
		what := "a JSON array (rows as objects? give them as sentinel-officeactivity-json or entra-signin-la)"
		if c != '[' {
			what = quoteByte(c)
		}
		return "not a Log Analytics query API response ({\"tables\":[...]}): found " + what
	})
}

// frameResponses frames the API responses of the input, JSON objects one
// after another, each read by response; notResponse says what else is
// found where a response should start (its first byte c), which ends
// framing.
func frameResponses(f *feed, line int64, response func(*queryFramer) error, notResponse func(c byte) string) error {
	f.trackLines = true
	f.lineNo, f.linePos = line, f.start
	q := &queryFramer{f: f, pos: f.start, mark: -1, limit: f.r.opts.MaxRecordBytes}
	err := q.top(response, notResponse)
	if err == errStopFraming {
		err = nil
	}
	return err
}

// errStopFraming ends framing early (the input cannot be read further);
// the reason was reported.
var errStopFraming = errorString("stop framing")

type errorString string

func (e errorString) Error() string { return string(e) }

type queryFramer struct {
	f     *feed
	pos   int // the next byte to look at in f.buf
	mark  int // the start of bytes that must stay buffered, or -1
	limit int
	// dropped counts the bytes of a value over the limit already let go
	// (mark then follows pos).
	dropped int64
	over    bool
}

// fill reads more input, keeping buf[mark:] (or nothing before pos). It
// returns false once the input is exhausted. A marked value that grows
// over the limit is let go (over), so that no hostile value is held whole.
func (q *queryFramer) fill() (bool, error) {
	f := q.f
	if q.mark >= 0 && q.pos-q.mark > q.limit {
		q.dropped += int64(q.pos - q.mark)
		q.mark, q.over = q.pos, true
	}
	f.start = q.pos
	if q.mark >= 0 {
		f.start = q.mark
	}
	delta, ok, err := f.more()
	if err != nil {
		return false, err
	}
	q.pos -= delta
	if q.mark >= 0 {
		q.mark -= delta
	}
	return ok, nil
}

// release ends a marked value (mark to pos): its bytes, unless it grew
// over the limit (whether or not fill saw it grow: that depends on where
// buffers end, and what is framed must not), and its size.
func (q *queryFramer) release() (data []byte, size int64, over bool) {
	size = q.dropped + int64(q.pos-q.mark)
	over = q.over || size > int64(q.limit)
	if !over {
		data = q.f.buf[q.mark:q.pos]
	}
	q.mark, q.over, q.dropped = -1, false, 0
	return data, size, over
}

// next skips whitespace and returns the byte at pos without consuming it;
// ok is false at the end of input.
func (q *queryFramer) next() (c byte, ok bool, err error) {
	for {
		buf := q.f.buf
		for q.pos < len(buf) {
			switch c := buf[q.pos]; c {
			case ' ', '\t', '\r', '\n':
				q.pos++
			default:
				return c, true, nil
			}
		}
		if ok, err := q.fill(); err != nil || !ok {
			return 0, false, err
		}
	}
}

// skip passes over the value at pos (not blank). It returns false when the
// input ends inside it. Brackets are counted, not matched: the decoder
// checks what it reads.
func (q *queryFramer) skip() (bool, error) {
	depth, inStr, esc, scalar := 0, false, false, false
	for {
		buf := q.f.buf
		for ; q.pos < len(buf); q.pos++ {
			c := buf[q.pos]
			switch {
			case inStr:
				if stringEnds(c, &esc) {
					inStr = false
					if depth == 0 {
						q.pos++
						return true, nil
					}
				}
			case scalar:
				switch c {
				case ' ', '\t', '\r', '\n', ',', ':', ']', '}', '[', '{', '"':
					return true, nil
				}
			default:
				switch c {
				case '"':
					inStr = true
				case '[', '{':
					depth++
					if depth > MaxDepth {
						q.problem("JSON nested deeper than "+strconv.Itoa(MaxDepth)+" levels, the rest of the input is skipped", 1)
						return false, errStopFraming
					}
				case ']', '}':
					depth--
					if depth <= 0 {
						q.pos++
						return true, nil
					}
				case ' ', '\t', '\r', '\n':
				default:
					if depth == 0 {
						scalar = true
					}
				}
			}
		}
		ok, err := q.fill()
		if err != nil {
			return false, err
		}
		if !ok {
			return scalar, nil
		}
	}
}

// problem reports a problem at the line of pos.
func (q *queryFramer) problem(reason string, records int64) {
	f := q.f
	f.r.report(f.file, Problem{Path: f.path, Unit: "line", Line: f.lineAt(q.pos), Reason: reason, Records: records})
}

// truncated reports the end of input inside something that starts at line.
func (q *queryFramer) truncated(line int64, what string, records int64) {
	f := q.f
	if f.rerr != nil {
		f.failReadAt("line", line, records > 0)
		return
	}
	f.r.report(f.file, Problem{Path: f.path, Unit: "line", Line: line, Records: records,
		Reason: "truncated JSON: the " + what + " that starts here does not end before the end of the input"})
}

// member reads an object member's key and colon, the key as a string if it
// is short (the names looked for are), or "" for a longer one. done is
// true at the object's closing brace (consumed); ok false at the end of
// input.
func (q *queryFramer) member(first bool) (key string, done, ok bool, err error) {
	c, ok, err := q.next()
	if err != nil || !ok {
		return "", false, false, err
	}
	if c == '}' {
		q.pos++
		return "", true, true, nil
	}
	if !first {
		if c != ',' {
			q.problem("expected ',' or '}', found "+quoteByte(c)+", the rest of the input is skipped", 0)
			return "", false, false, errStopFraming
		}
		q.pos++
		if c, ok, err = q.next(); err != nil || !ok {
			return "", false, false, err
		}
	}
	if c != '"' {
		q.problem("expected a member name, found "+quoteByte(c)+", the rest of the input is skipped", 0)
		return "", false, false, errStopFraming
	}
	q.mark = q.pos
	ok, err = q.skip()
	if err != nil || !ok {
		q.mark = -1
		return "", false, false, err
	}
	if k, size, _ := q.release(); size <= 34 {
		key, _ = strconv.Unquote(string(k))
	}
	if c, ok, err = q.next(); err != nil || !ok {
		return "", false, false, err
	}
	if c != ':' {
		q.problem("expected ':' after a member name, found "+quoteByte(c)+", the rest of the input is skipped", 0)
		return "", false, false, errStopFraming
	}
	q.pos++
	_, ok, err = q.next()
	return key, false, ok, err
}

// top reads the responses of the input (see frameResponses).
func (q *queryFramer) top(response func(*queryFramer) error, notResponse func(c byte) string) error {
	for {
		c, ok, err := q.next()
		if err != nil || !ok {
			if err == nil && q.f.rerr != nil {
				q.f.failReadAt("line", q.f.lineAt(len(q.f.buf)), false)
			}
			return err
		}
		if c != '{' {
			q.problem(notResponse(c)+", the rest of the input is skipped", 1)
			return nil
		}
		if err := response(q); err != nil {
			return err
		}
	}
}

// members walks the object at pos (a '{'), calling member with each
// key and the first byte of its value; member consumes the value. what
// names the object in problems.
func (q *queryFramer) members(what string, member func(key string, c byte) error) error {
	line := q.f.lineAt(q.pos)
	q.pos++
	for first := true; ; first = false {
		key, done, ok, err := q.member(first)
		if err != nil {
			return err
		}
		if !ok {
			q.truncated(line, what, 0)
			return errStopFraming
		}
		if done {
			return nil
		}
		if err := member(key, q.f.buf[q.pos]); err != nil {
			return err
		}
	}
}

// marked passes over the value at pos and returns its bytes, unless it is
// over the limit; the end of input inside it ends framing.
func (q *queryFramer) marked(line int64, what string) (data []byte, over bool, err error) {
	start, _, over, err := q.passValue(line, what, 0)
	if err != nil || over {
		return nil, over, err
	}
	return q.f.buf[start:q.pos], false, nil
}

// passValue passes over the value at pos, marked so that it stays
// buffered, and returns where it starts and, as release does, its size and
// whether it is over the limit. The end of input inside it is reported
// (as records records) and ends framing.
func (q *queryFramer) passValue(line int64, what string, records int64) (start int, size int64, over bool, err error) {
	q.mark = q.pos
	ok, err := q.skip()
	if err != nil || !ok {
		q.mark = -1
		if err == nil {
			q.truncated(line, what, records)
			err = errStopFraming
		}
		return 0, 0, false, err
	}
	start = q.mark
	_, size, over = q.release()
	return start, size, over, nil
}

// response reads one {"tables":[...], "error":{...}} object.
func (q *queryFramer) response() error {
	f := q.f
	line := f.lineAt(q.pos)
	tables := false
	err := q.members("response", func(key string, c byte) error {
		switch {
		case key == "tables" && c == '[':
			tables = true
			return q.tables()
		case key == "error" && c == '{':
			return q.errorMember()
		}
		return q.skipElem(line, "response")
	})
	if err != nil {
		return err
	}
	if !tables {
		f.r.report(f.file, Problem{Path: f.path, Unit: "line", Line: line, Records: 1,
			Reason: `object has no "tables" array: not a Log Analytics query API response`})
	}
	return nil
}

// errorMember reports the API's error object (a partial result) as a
// warning: the rows that came are read, but there may be more.
func (q *queryFramer) errorMember() error {
	line := q.f.lineAt(q.pos)
	data, over, err := q.marked(line, "error object")
	if err != nil {
		return err
	}
	var e struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	if !over {
		_ = json.Unmarshal(data, &e)
	}
	f := q.f
	f.r.report(f.file, Problem{Path: f.path, Unit: "line", Line: line, Warning: true,
		Reason: "the response reports an error (" + clipText(e.Code+": "+e.Message, 200) + "): its tables may hold only part of the result"})
	return nil
}

// clipText shortens s for a message.
func clipText(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// elements walks the array at pos (a '['), calling elem at the first
// byte of each element (not blank); elem consumes the element. what names
// the array in problems.
func (q *queryFramer) elements(what string, elem func(c byte) error) error {
	line := q.f.lineAt(q.pos)
	q.pos++
	for first := true; ; first = false {
		c, ok, err := q.next()
		if err == nil && ok && !first {
			if c != ',' && c != ']' {
				q.problem("expected ',' or ']' in the "+what+", found "+quoteByte(c)+", the rest of the input is skipped", 0)
				return errStopFraming
			}
			if c == ',' {
				q.pos++
				c, ok, err = q.next()
			}
		}
		if err != nil {
			return err
		}
		if !ok {
			q.truncated(line, what, 0)
			return errStopFraming
		}
		if c == ']' {
			q.pos++
			return nil
		}
		if err := elem(c); err != nil {
			return err
		}
	}
}

// skipElem skips an element that is not read; the end of input inside it
// ends framing.
func (q *queryFramer) skipElem(line int64, what string) error {
	ok, err := q.skip()
	if err == nil && !ok {
		q.truncated(line, what, 0)
		err = errStopFraming
	}
	return err
}

// tables reads the array of tables.
func (q *queryFramer) tables() error {
	line := q.f.lineAt(q.pos)
	return q.elements("tables array", func(c byte) error {
		if c != '{' {
			q.problem("tables element is not a table object", 1)
			return q.skipElem(line, "tables array")
		}
		return q.table()
	})
}

// table reads one table: its name, columns and rows.
func (q *queryFramer) table() error {
	f := q.f
	line := f.lineAt(q.pos)
	name := ""
	var header []string
	table := Auto // what the rows hold, once the columns are known
	why := ""     // why the rows cannot be read
	var skipped int64
	skipWhy := "" // why the rows counted in skipped were skipped
	err := q.members("table", func(key string, c byte) error {
		switch {
		case key == "name" && c == '"':
			data, over, err := q.marked(line, "table")
			if err == nil && !over {
				name, _ = strconv.Unquote(string(data))
			}
			return err
		case key == "columns" && c == '[':
			data, over, err := q.marked(f.lineAt(q.pos), "columns array")
			if err != nil {
				return err
			}
			header, table, why = nil, Auto, ""
			if over {
				why = "its columns array is over " + strconv.Itoa(q.limit) + " bytes"
			} else {
				header, table, why = tableColumns(data)
			}
			return nil
		case key == "rows" && c == '[':
			reason := why
			if header == nil && reason == "" {
				reason = "its rows come before its columns"
			}
			n, err := q.rows(header, table)
			if n > 0 && skipWhy == "" {
				skipWhy = reason
			}
			skipped += n
			return err
		}
		return q.skipElem(line, "table")
	})
	// The rows skipped are counted even when the input ends in the table.
	if skipped > 0 {
		label := "table"
		if name != "" {
			label = "table " + strconv.Quote(clipText(name, 80))
		}
		f.r.report(f.file, Problem{Path: f.path, Unit: "line", Line: line, Records: skipped,
			Reason: label + ": " + skipWhy + ": " + strconv.FormatInt(skipped, 10) + " rows skipped"})
	}
	return err
}

// tableColumns reads a columns array and tells what the table holds by
// its column names, as a CSV export's header is told (officeCSV,
// signInCSV); why says why its rows cannot be read.
func tableColumns(data []byte) (header []string, table Format, why string) {
	var cols []struct {
		Name string `json:"name"`
	}
	if err := json.Unmarshal(data, &cols); err != nil {
		return nil, Auto, "its columns array is not a list of {\"name\",\"type\"} objects"
	}
	names := make(map[string]bool, len(cols))
	header = make([]string, len(cols))
	for i, c := range cols {
		header[i] = c.Name
		n := strings.ToLower(strings.TrimSpace(c.Name))
		names[n] = true
		if b, ok := strings.CutSuffix(n, " [utc]"); ok {
			names[b] = true
		}
	}
	if format, w := signInCSV(names); format != Auto {
		return header, EntraSignInLA, ""
	} else if w != "" {
		return nil, Auto, strings.Replace(w, "csv header", "its columns", 1)
	}
	if format, w := officeCSV(names); format != Auto {
		return header, SentinelOfficeJSON, ""
	} else if w != "" {
		return nil, Auto, strings.Replace(w, "csv header", "its columns", 1)
	}
	shown := header
	if len(shown) > 8 {
		shown = append(shown[:8:8], "...")
	}
	return nil, Auto, "its columns (" + clipText(strings.Join(shown, ", "), 200) + ") are neither OfficeActivity's " +
		"(it needs OfficeWorkload or OfficeId, Operation and TimeGenerated) nor a sign-in log's (SigninLogs, " +
		"AADNonInteractiveUserSignInLogs: it needs UserPrincipalName, ResultType and TimeGenerated)"
}

// rows frames the rows array at pos: each element a record of the table
// (header, table), or, when the table cannot be read (header nil),
// counted. It returns how many rows were skipped that way.
func (q *queryFramer) rows(header []string, table Format) (skipped int64, err error) {
	f := q.f
	line := f.lineAt(q.pos)
	if header != nil && (!sameSlice(f.header, header) || f.table != table) {
		// A batch holds the rows of one table: hand over what the batch
		// holds before labelling the next ones.
		if len(f.b.Records) > 0 {
			f.start = q.pos
			delta, err := f.rotate(0)
			if err != nil {
				return 0, err
			}
			q.pos -= delta
		}
		f.header, f.table = header, table
	}
	err = q.elements("rows array", func(c byte) error {
		rline := f.lineAt(q.pos)
		if c != '[' {
			if header != nil {
				q.problem("row is "+valueKind(c)+", not an array of values", 1)
			} else {
				skipped++
			}
			return q.skipElem(line, "rows array")
		}
		start, size, over, err := q.passValue(rline, "row", 1)
		if err != nil {
			return err
		}
		switch {
		case header == nil:
			skipped++
		case over:
			f.overLimit("line", rline, size)
		default:
			f.add(start, q.pos, rline)
		}
		return nil
	})
	return skipped, err
}

// sameSlice reports whether a and b are the same slice.
func sameSlice(a, b []string) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// valueKind names the kind of JSON value that starts with c.
func valueKind(c byte) string {
	switch c {
	case '{':
		return "an object"
	case '"':
		return "a string"
	}
	return scalarKind(c)
}
