package synth

import (
	"io"
)

// formatter writes records in one output format. add renders the record
// at once (the event is reused by the caller); formats that need to know
// what follows (a page's nextLink, a result block's ResultCount) keep the
// rendered text of one page or block, a bounded amount.
type formatter interface {
	begin()
	add(e *event, js []byte)
	end()
	// estimate is the number of bytes add would write for the record.
	estimate(e *event, js []byte) int64
	// size is the number of bytes written so far, buffered ones included.
	size() int64
	err() error
	// descending reports whether records go out newest first.
	descending() bool
}

func newFormatter(format string, w io.Writer, seed int64) formatter {
	s := sink{w: w, buf: make([]byte, 0, flushAt+64<<10)}
	switch format {
	case FormatJSON:
		return &jsonArray{sink: s}
	case FormatPSJSON:
		return newBlocked(s, true, seed)
	case FormatGraph:
		return newGraph(s, seed)
	case FormatPurviewCSV, FormatPurviewCSVLegacy:
		f := &purviewCSV{legacy: format == FormatPurviewCSVLegacy}
		f.csvRows = csvRows{sink: s, row: f.render, newestFirst: true}
		return f
	case FormatExportCSV:
		return newBlocked(s, false, seed)
	case FormatSentinelCSV:
		f := &officeCSV{}
		f.csvRows = csvRows{sink: s, row: f.render, newestFirst: true}
		return f
	case FormatDefenderCSV:
		f := &defenderCSV{}
		f.csvRows = csvRows{sink: s, row: f.render}
		return f
	case FormatDefenderJSON:
		return &defenderJSON{sink: s}
	}
	return &jsonLines{sink: s}
}

const flushAt = 1 << 20

// sink buffers output and counts it.
type sink struct {
	w       io.Writer
	buf     []byte
	flushed int64
	e       error
}

func (s *sink) maybeFlush() {
	if len(s.buf) >= flushAt {
		s.flush()
	}
}

func (s *sink) flush() {
	if s.e == nil && len(s.buf) > 0 {
		_, s.e = s.w.Write(s.buf)
	}
	s.flushed += int64(len(s.buf))
	s.buf = s.buf[:0]
}

func (s *sink) size() int64 { return s.flushed + int64(len(s.buf)) }
func (s *sink) err() error  { return s.e }

// csvRows writes a CSV export's rows, one a record, each rendered by row
// (the format's render); they go out newest first when newestFirst.
type csvRows struct {
	sink
	row         func(b []byte, e *event, js []byte) []byte
	newestFirst bool
}

func (f *csvRows) add(e *event, js []byte) {
	f.buf = f.row(f.buf, e, js)
	f.maybeFlush()
}
func (f *csvRows) end()             { f.flush() }
func (f *csvRows) descending() bool { return f.newestFirst }
func (f *csvRows) estimate(e *event, js []byte) int64 {
	return int64(len(f.row(nil, e, js)))
}

// bomHeader writes a UTF-8 byte order mark and a header row of names, as
// the Microsoft portals' exports begin.
func (s *sink) bomHeader(names []string) {
	s.buf = append(s.buf, "\xef\xbb\xbf"...)
	for i, c := range names {
		if i > 0 {
			s.buf = append(s.buf, ',')
		}
		s.buf = appendCSVMin(s.buf, []byte(c))
	}
	s.buf = append(s.buf, '\r', '\n')
}

// jsonLines: one record per line, LF.
type jsonLines struct{ sink }

func (f *jsonLines) begin() {}
func (f *jsonLines) add(e *event, js []byte) {
	f.buf = append(f.buf, js...)
	f.buf = append(f.buf, '\n')
	f.maybeFlush()
}
func (f *jsonLines) end()                               { f.flush() }
func (f *jsonLines) estimate(e *event, js []byte) int64 { return int64(len(js)) + 1 }
func (f *jsonLines) descending() bool                   { return false }

// jsonArray: one compact array, as a Management Activity API content blob.
type jsonArray struct {
	sink
	n int
}

func (f *jsonArray) begin() { f.buf = append(f.buf, '[') }
func (f *jsonArray) add(e *event, js []byte) {
	if f.n > 0 {
		f.buf = append(f.buf, ',')
	}
	f.n++
	f.buf = append(f.buf, js...)
	f.maybeFlush()
}
func (f *jsonArray) end() {
	f.buf = append(f.buf, ']')
	f.flush()
}
func (f *jsonArray) estimate(e *event, js []byte) int64 { return int64(len(js)) + 1 }
func (f *jsonArray) descending() bool                   { return false }

// csvNeedsQuote reports whether a CSV field must be quoted.
func csvNeedsQuote(s []byte) bool {
	for _, c := range s {
		if c == ',' || c == '"' || c == '\r' || c == '\n' {
			return true
		}
	}
	return len(s) == 0
}

// appendCSV appends a quoted CSV field, doubling quotes.
func appendCSV(b, s []byte) []byte {
	b = append(b, '"')
	start := 0
	for i, c := range s {
		if c == '"' {
			b = append(b, s[start:i+1]...)
			b = append(b, '"')
			start = i + 1
		}
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func appendCSVMin(b, s []byte) []byte {
	if csvNeedsQuote(s) {
		return appendCSV(b, s)
	}
	return append(b, s...)
}

// purviewCSV is the Purview portal's export: 8 columns (or the old 4), CRLF,
// fields quoted only where needed, newest first.
type purviewCSV struct {
	csvRows
	legacy  bool
	scratch []byte
}

func (f *purviewCSV) begin() {
	if f.legacy {
		f.buf = append(f.buf, "CreationDate,UserIds,Operations,AuditData\r\n"...)
	} else {
		f.buf = append(f.buf, "RecordId,CreationDate,RecordType,Operation,UserId,AuditData,AssociatedAdminUnits,AssociatedAdminUnitsNames\r\n"...)
	}
}

func (f *purviewCSV) render(b []byte, e *event, js []byte) []byte {
	if f.legacy {
		// The Security & Compliance Center wrote ISO times with seven
		// fractional digits.
		b = appendISO(b, e.t)
		b = append(b, ".0000000Z,"...)
	} else {
		b = append(b, e.id[:]...)
		b = append(b, ',')
		b = appendUSDate(b, e.t)
		b = append(b, ',')
		b = appendInt(b, e.rt)
		b = append(b, ',')
	}
	first, second := e.userID, e.op // UserIds,Operations
	if !f.legacy {
		first, second = e.op, e.userID // Operation,UserId
	}
	f.scratch = append(f.scratch[:0], first...)
	b = appendCSVMin(b, f.scratch)
	b = append(b, ',')
	f.scratch = append(f.scratch[:0], second...)
	b = appendCSVMin(b, f.scratch)
	b = append(b, ',')
	b = appendCSV(b, js)
	if !f.legacy {
		b = append(b, ",,"...)
	}
	return append(b, '\r', '\n')
}

// blocked writes Search-UnifiedAuditLog results: Export-Csv rows or
// PowerShell ConvertTo-Json objects. Results come in sessions (one per
// query window, as Microsoft-Extractor-Suite pages them): ResultIndex runs
// 1..n within a session and ResultCount is n, so a session's records are
// held until it ends.
type blocked struct {
	sink
	ps     bool
	r      rng
	block  []byte
	splits []int // per record: offset of ResultCount, offset of the end
	want   int
	any    bool
	ps1    psPrinter
}

func newBlocked(s sink, ps bool, seed int64) *blocked {
	b := &blocked{sink: s, ps: ps, r: newRng(seed, streamFormat, 1)}
	b.want = b.sessionSize()
	return b
}

func (f *blocked) sessionSize() int { return f.r.between(1000, 5000) }

func (f *blocked) descending() bool { return !f.ps }

func (f *blocked) begin() {
	if f.ps {
		f.buf = append(f.buf, "[\r\n"...)
	} else {
		f.buf = append(f.buf, `"RecordType","CreationDate","UserIds","Operations","AuditData","ResultIndex","ResultCount","Identity","IsValid","ObjectState"`+"\r\n"...)
	}
}

// render appends one result; split is where the ResultCount value goes.
func (f *blocked) render(b []byte, e *event, js []byte, index int) (out []byte, split int) {
	if f.ps {
		b = append(b, "    {\r\n        \"RecordType\":  \""...)
		b = append(b, rtNames[e.rt]...)
		b = append(b, "\",\r\n        \"CreationDate\":  \"\\/Date("...)
		b = appendInt(b, int(e.t*1000))
		b = append(b, ")\\/\",\r\n        \"UserIds\":  \""...)
		b = appendPSString(b, []byte(e.userID))
		b = append(b, "\",\r\n        \"Operations\":  \""...)
		b = appendPSString(b, []byte(e.op))
		b = append(b, "\",\r\n        \"AuditData\":  "...)
		b = f.ps1.print(b, js, 22)
		b = append(b, ",\r\n        \"ResultIndex\":  "...)
		b = appendInt(b, index)
		b = append(b, ",\r\n        \"ResultCount\":  "...)
		split = len(b)
		b = append(b, ",\r\n        \"Identity\":  \""...)
		b = append(b, e.id[:]...)
		b = append(b, "\",\r\n        \"IsValid\":  true,\r\n        \"ObjectState\":  \"Unchanged\"\r\n    }"...)
		return b, split
	}
	b = append(b, '"')
	b = append(b, rtNames[e.rt]...)
	b = append(b, `","`...)
	b = appendUSDate(b, e.t)
	b = append(b, `",`...)
	b = appendCSV(b, []byte(e.userID))
	b = append(b, ',')
	b = appendCSV(b, []byte(e.op))
	b = append(b, ',')
	b = appendCSV(b, js)
	b = append(b, `,"`...)
	b = appendInt(b, index)
	b = append(b, `",`...)
	split = len(b)
	b = append(b, `,"`...)
	b = append(b, e.id[:]...)
	b = append(b, `","True","Unchanged"`+"\r\n"...)
	return b, split
}

// maxBlock bounds the memory a held session takes (PowerShell records are
// ~4 KB): a session also ends when it reaches this size.
const maxBlock = 8 << 20

func (f *blocked) add(e *event, js []byte) {
	if len(f.splits)/2 == f.want || len(f.block) >= maxBlock {
		f.flushBlock()
	}
	var split int
	f.block, split = f.render(f.block, e, js, len(f.splits)/2+1)
	f.splits = append(f.splits, split, len(f.block))
}

func (f *blocked) flushBlock() {
	n := len(f.splits) / 2
	start := 0
	for i := 0; i < n; i++ {
		split, end := f.splits[2*i], f.splits[2*i+1]
		if f.any && f.ps {
			f.buf = append(f.buf, ",\r\n"...)
		}
		f.any = true
		f.buf = append(f.buf, f.block[start:split]...)
		if f.ps {
			f.buf = appendInt(f.buf, n)
		} else {
			f.buf = append(f.buf, '"')
			f.buf = appendInt(f.buf, n)
			f.buf = append(f.buf, '"')
		}
		f.buf = append(f.buf, f.block[split:end]...)
		start = end
		f.maybeFlush()
	}
	f.block = f.block[:0]
	f.splits = f.splits[:0]
	f.want = f.sessionSize()
}

func (f *blocked) end() {
	f.flushBlock()
	if f.ps {
		f.buf = append(f.buf, "\r\n]\r\n"...)
	}
	f.flush()
}

// countDigits is the width assumed for a ResultCount not yet known.
const countDigits = 4

func (f *blocked) estimate(e *event, js []byte) int64 {
	b, _ := f.render(nil, e, js, 1000)
	n := int64(len(b)) + countDigits
	if f.ps {
		n += 3
	} else {
		n += 2
	}
	return n
}

func (f *blocked) size() int64 {
	n := int64(len(f.splits) / 2)
	extra := n * countDigits
	if f.ps {
		extra += n * 3
	} else {
		extra += n * 2
	}
	return f.sink.size() + int64(len(f.block)) + extra
}

// graph writes Microsoft Graph auditLogRecord pages of at most 1000
// records, one page per line, each but the last with an @odata.nextLink
// (so a page is held until the next record shows whether one follows).
type graph struct {
	sink
	graphPages
	r          rng
	query      string
	headerSize int64
}

// graphPages holds the values of the Graph page being written (the audit
// log's and the sign-in log's pages are framed alike).
type graphPages struct {
	page []byte
	n    int
}

// flushGraphPage writes the page held in g to s: header (with an
// @odata.nextLink when more follow), the values, "]}" and a newline.
func (s *sink) flushGraphPage(g *graphPages, header func([]byte, bool) []byte, more bool) {
	s.buf = header(s.buf, more)
	s.buf = append(s.buf, g.page...)
	s.buf = append(s.buf, "]}\n"...)
	g.page = g.page[:0]
	g.n = 0
	s.flush()
}

const graphPage = 1000

func newGraph(s sink, seed int64) *graph {
	g := &graph{sink: s, r: newRng(seed, streamFormat, 2)}
	g.query = guid(&g.r)
	saved := g.r
	g.headerSize = int64(len(g.header(nil, true))) + int64(len("]}\n"))
	g.r = saved
	return g
}

func (f *graph) descending() bool { return false }
func (f *graph) begin()           {}

func (f *graph) header(b []byte, more bool) []byte {
	b = append(b, `{"@odata.context":"https://graph.microsoft.com/beta/$metadata#security/auditLog/queries('`...)
	b = append(b, f.query...)
	b = append(b, `')/records",`...)
	if more {
		b = append(b, `"@odata.nextLink":"https://graph.microsoft.com/beta/security/auditLog/queries/`...)
		b = append(b, f.query...)
		b = append(b, `/records?$skiptoken=`...)
		for i := 0; i < 3; i++ {
			b = appendHex(b, f.r.u64(), 16)
		}
		b = append(b, `",`...)
	}
	return append(b, `"value":[`...)
}

var graphAuditDataTypes = map[int]string{
	1:  "exchangeAdminAuditRecord",
	4:  "sharePointAuditRecord",
	6:  "sharePointFileOperationAuditRecord",
	7:  "oneDriveAuditRecord",
	8:  "azureActiveDirectoryAuditRecord",
	14: "sharePointSharingOperationAuditRecord",
	15: "azureActiveDirectoryStsLogonAuditRecord",
	25: "microsoftTeamsAuditRecord",
	50: "exchangeAggregatedOperationAuditRecord",
}

func (f *graph) render(b []byte, e *event, js []byte) []byte {
	b = append(b, `{"id":"`...)
	b = append(b, e.id[:]...)
	b = append(b, `","createdDateTime":"`...)
	b = appendISO(b, e.t)
	b = append(b, `Z","auditLogRecordType":"`...)
	b = append(b, graphRecordTypes[e.rt]...)
	b = append(b, `","operation":"`...)
	b = appendGraphJS(b, e.op)
	b = append(b, `","organizationId":"`+TenantID+`","userType":"`...)
	b = append(b, graphUserTypes[e.userType]...)
	b = append(b, `","userId":"`...)
	b = appendGraphJS(b, e.userID)
	b = append(b, `","service":"`...)
	b = append(b, e.workload...)
	b = append(b, `","objectId":"`...)
	b = appendGraphJS(b, e.objectID())
	b = append(b, `","userPrincipalName":"`...)
	b = appendGraphJS(b, e.userID)
	b = append(b, `","clientIp":"`...)
	if e.kind != kDir {
		b = appendGraphJS(b, e.clientIP)
	}
	b = append(b, `","administrativeUnits":[],"auditData":{"@odata.type":"#microsoft.graph.security.`...)
	b = append(b, graphAuditDataTypes[e.rt]...)
	b = append(b, `",`...)
	b = unescapeSlashes(b, js[1:])
	return append(b, '}')
}

func appendGraphJS(b []byte, s string) []byte {
	return unescapeSlashes(b, appendJS(nil, s))
}

// unescapeSlashes copies JSON text turning "\/" into "/": Graph writes
// standard JSON, not the services' escaped slashes.
func unescapeSlashes(b, js []byte) []byte {
	for i := 0; i < len(js); i++ {
		c := js[i]
		if c != '\\' {
			b = append(b, c)
			continue
		}
		if i+1 < len(js) && js[i+1] == '/' {
			b = append(b, '/')
		} else if i+1 < len(js) {
			b = append(b, c, js[i+1])
		}
		i++
	}
	return b
}

func (f *graph) add(e *event, js []byte) {
	if f.n == graphPage {
		f.flushPage(true)
	}
	if f.n > 0 {
		f.page = append(f.page, ',')
	}
	f.page = f.render(f.page, e, js)
	f.n++
}

func (f *graph) flushPage(more bool) { f.flushGraphPage(&f.graphPages, f.header, more) }

func (f *graph) end() { f.flushPage(false) }

func (f *graph) estimate(e *event, js []byte) int64 {
	return int64(len(f.render(nil, e, js))) + 1
}

func (f *graph) size() int64 {
	// A page's header (with nextLink) is counted as soon as it starts.
	n := f.sink.size() + int64(len(f.page))
	if f.n > 0 {
		n += f.headerSize
	}
	return n
}
