// Package clickhouse runs outsider's triage on ClickHouse, for tenants and
// periods that outgrow one machine: Load streams the records, normalised by
// the engine's own code (triage.Stream), into a table of events; Triage
// pushes the due diligence down as SQL so that only identities, their sets
// and capped evidence come back, and judges them with the engine's own code
// (triage.Aggregates), so the report is byte-identical to the in-process
// engine's on the same records.
//
// It speaks ClickHouse's HTTP interface with net/http and keeps to the SQL
// that both Debian's ClickHouse 18.16 and current ClickHouse accept
// (../shared/reference/clickhouse.md): the official Go client needs 25.8
// or later and its HTTP mode fails on 18.16, while plain HTTP works on
// every version measured, at the same speed, with no dependency.
package clickhouse

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Client talks to one ClickHouse server over HTTP.
type Client struct {
	base     *url.URL // scheme, host and path of the HTTP interface
	user     string
	password string
	hasAuth  bool
	// Database is the database the tables live in.
	Database string
	settings url.Values
	http     *http.Client
}

// maxURL is below the limit of 18.16's HTTP server (its requests fail with
// 400 somewhere between 5 and 20 KB of URL): a query sent with external
// data travels in the URL, so it must stay short; every value list goes
// in the body.
const maxURL = 15000

// Open parses a DSN: http(s)://[user[:password]@]host[:port][/database][?setting=value...]
// (clickhouse:// means http://; the default port is 8123). Settings in the
// query string are sent with every request.
func Open(dsn string) (*Client, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return nil, fmt.Errorf("clickhouse DSN: %w", err)
	}
	switch u.Scheme {
	case "http", "https":
	case "clickhouse":
		u.Scheme = "http"
	default:
		return nil, fmt.Errorf("clickhouse DSN %q: want http://host:8123/database (or https://, clickhouse://)", redact(dsn))
	}
	if u.Host == "" {
		return nil, fmt.Errorf("clickhouse DSN %q: no host", redact(dsn))
	}
	if u.Port() == "" {
		u.Host += ":8123"
	}
	// Idle connections are dropped after 2 s: 18.16 closes them after 3 s
	// (keep_alive_timeout), and a request sent on one it is closing fails.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.IdleConnTimeout = 2 * time.Second
	c := &Client{Database: "default", settings: u.Query(), http: &http.Client{Transport: tr}}
	if db := strings.Trim(u.Path, "/"); db != "" {
		c.Database = db
	}
	if u.User != nil {
		c.user = u.User.Username()
		c.password, _ = u.User.Password()
		c.hasAuth = true
	}
	c.base = &url.URL{Scheme: u.Scheme, Host: u.Host, Path: "/"}
	return c, nil
}

// String names the server without credentials, for messages.
func (c *Client) String() string { return c.base.Scheme + "://" + c.base.Host + "/" + c.Database }

// redact hides a password in a DSN for messages.
func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		return dsn
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// Error is an error ClickHouse returned: its code and message.
type Error struct {
	Server  string
	Code    int
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("clickhouse %s: %s", e.Server, e.Message)
}

// ClickHouse error codes the package explains.
const (
	codeUnknownTable        = 60
	codeNetworkError        = 210
	codeAllConnectionFailed = 279
	codeAllReplicasLost     = 598
	codeSocketTimeout       = 209
)

// Hint says what to do about an error, or "".
func Hint(err error) string {
	var e *Error
	if !errors.As(err, &e) {
		var ne *netError
		if errors.As(err, &ne) {
			return "is ClickHouse running and is --clickhouse its HTTP interface (port 8123)?"
		}
		return ""
	}
	switch e.Code {
	case codeUnknownTable:
		return "create the tables first: outsider load --init --clickhouse DSN"
	case codeNetworkError, codeAllConnectionFailed, codeAllReplicasLost, codeSocketTimeout:
		return "a shard of the cluster did not answer; nothing was reported, run again once every shard is up"
	}
	return ""
}

// netError is a failure to reach the server at all.
type netError struct {
	server string
	err    error
}

func (e *netError) Error() string { return fmt.Sprintf("clickhouse %s: %v", e.server, e.err) }
func (e *netError) Unwrap() error { return e.err }

// parseError reads ClickHouse's error body: "Code: 60, e.displayText() =
// DB::Exception: ..., e.what() = DB::Exception" on 18.16, "Code: 60.
// DB::Exception: ... (UNKNOWN_TABLE) (version ...)" on current versions.
func (c *Client) parseError(status int, body []byte) error {
	// One line: 18.16 puts the log of every connection try in the text.
	msg := strings.Join(strings.Fields(string(body)), " ")
	e := &Error{Server: c.String(), Message: msg}
	if rest, ok := strings.CutPrefix(msg, "Code: "); ok {
		end := strings.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' })
		if end > 0 {
			e.Code, _ = strconv.Atoi(rest[:end])
		}
		m := rest[end:]
		m = strings.TrimLeft(m, ",. ")
		m = strings.TrimPrefix(m, "e.displayText() = ")
		m = strings.TrimPrefix(m, "DB::Exception: ")
		if i := strings.Index(m, ", e.what() = "); i >= 0 {
			m = m[:i]
		}
		e.Message = fmt.Sprintf("%s (code %d)", m, e.Code)
	}
	if e.Message == "" {
		e.Message = fmt.Sprintf("HTTP %d", status)
	}
	return e
}

// External is a table sent with a query as external data (ClickHouse's
// "external data for query processing"): values travel in the request
// body as TSV, never in the SQL text, and the server ships the table to
// every shard a distributed query reaches.
type External struct {
	Name string
	// Structure is its columns: "user String".
	Structure string
	// Rows are TSV lines, already escaped (see AppendTSV).
	Rows []byte
}

// request builds a request for query (in the URL when external tables
// travel in the body, else in the body after any data).
func (c *Client) request(ctx context.Context, query string, settings map[string]string, body io.Reader, ext []External) (*http.Request, error) {
	params := url.Values{}
	for k, v := range c.settings {
		params[k] = v
	}
	params.Set("database", c.Database)
	for k, v := range settings {
		params.Set(k, v)
	}
	var contentType string
	if len(ext) > 0 {
		if body != nil {
			return nil, errors.New("clickhouse: external data and a body in one request")
		}
		params.Set("query", query)
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		for _, e := range ext {
			params.Set(e.Name+"_structure", e.Structure)
			params.Set(e.Name+"_format", "TSV")
			w, err := mw.CreateFormFile(e.Name, e.Name+".tsv")
			if err != nil {
				return nil, err
			}
			w.Write(e.Rows)
		}
		mw.Close()
		body, contentType = &b, mw.FormDataContentType()
	} else if body == nil {
		body = strings.NewReader(query)
	} else {
		params.Set("query", query)
	}
	u := *c.base
	u.RawQuery = params.Encode()
	if len(u.String()) > maxURL {
		return nil, fmt.Errorf("clickhouse: query too long for the URL (%d bytes)", len(u.String()))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), body)
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.hasAuth {
		req.SetBasicAuth(c.user, c.password)
	}
	return req, nil
}

// do sends query (see request) and returns the response body on success.
func (c *Client) do(ctx context.Context, query string, settings map[string]string, body io.Reader, ext []External) (io.ReadCloser, error) {
	req, err := c.request(ctx, query, settings, body, ext)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctxErr := req.Context().Err(); ctxErr != nil {
			return nil, ctxErr
		}
		return nil, &netError{server: c.String(), err: err}
	}
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		return nil, c.parseError(resp.StatusCode, body)
	}
	return resp.Body, nil
}

// Exec runs a statement that returns nothing (DDL).
func (c *Client) Exec(ctx context.Context, query string) error {
	return c.exec(ctx, query, nil, nil)
}

// exec sends a statement (with body, if any, as its data) and drains the
// answer, which such a statement does not have.
func (c *Client) exec(ctx context.Context, query string, settings map[string]string, body io.Reader) error {
	resp, err := c.do(ctx, query, settings, body, nil)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp)
	return resp.Close()
}

// querySettings make a SELECT's failure visible as an HTTP error: without
// wait_end_of_query the server may have sent "200 OK" and half the rows
// before a shard fails, and the error would arrive as text in the data.
// skip_unavailable_shards=0 says explicitly that a missing shard is an
// error, never a smaller answer.
var querySettings = map[string]string{
	"wait_end_of_query":       "1",
	"skip_unavailable_shards": "0",
}

// Query runs a SELECT that ends in FORMAT TSV and calls row with the
// fields of each row, unescaped (the slice is reused between calls).
// ext are sent as external data.
func (c *Client) Query(ctx context.Context, query string, ext []External, row func(fields []string) error) error {
	body, err := c.do(ctx, query, querySettings, nil, ext)
	if err != nil {
		return err
	}
	defer body.Close()
	return readTSV(body, row)
}

// readTSV splits TSV into rows and unescaped fields. A row must not be
// empty: an error text appended to a result would be caught there or by
// the callers' field counts.
func readTSV(r io.Reader, row func([]string) error) error {
	br := bufio.NewReaderSize(r, 1<<16)
	var fields []string
	for {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			long := append([]byte(nil), line...)
			for err == bufio.ErrBufferFull {
				line, err = br.ReadSlice('\n')
				long = append(long, line...)
			}
			line = long
		}
		if len(line) > 0 {
			if line[len(line)-1] != '\n' {
				return fmt.Errorf("clickhouse: truncated result (%q)", truncate(string(line), 200))
			}
			line = line[:len(line)-1]
			fields = fields[:0]
			for {
				i := bytes.IndexByte(line, '\t')
				if i < 0 {
					fields = append(fields, unescapeTSV(line))
					break
				}
				fields = append(fields, unescapeTSV(line[:i]))
				line = line[i+1:]
			}
			if err := row(fields); err != nil {
				return err
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// tsvEscapeLetters are the letters ClickHouse's TSV writes after a
// backslash, and tsvEscapeBytes, at the same index, the byte each stands
// for.
const tsvEscapeLetters, tsvEscapeBytes = "ntr0bfav", "\n\t\r\x00\b\f\a\v"

// unescapeTSV undoes ClickHouse's TSV escaping.
func unescapeTSV(b []byte) string {
	if bytes.IndexByte(b, '\\') < 0 {
		return string(b)
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != '\\' || i+1 == len(b) {
			out = append(out, c)
			continue
		}
		i++
		if j := strings.IndexByte(tsvEscapeLetters, b[i]); j >= 0 {
			out = append(out, tsvEscapeBytes[j])
		} else { // \\, \', and anything else stands for itself
			out = append(out, b[i])
		}
	}
	return string(out)
}

// AppendTSV appends s escaped for a TSV field: the separators and the
// escape character itself, and NUL and CR for good measure.
func AppendTSV(dst []byte, s []byte) []byte {
	for _, c := range s {
		switch c {
		case '\\':
			dst = append(dst, '\\', '\\')
		case '\t':
			dst = append(dst, '\\', 't')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case 0:
			dst = append(dst, '\\', '0')
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// Quote returns s as a ClickHouse string literal: every byte that is not
// printable ASCII, and the quote and backslash, written as \xHH, so no
// value can end the literal or smuggle anything the parser reads as SQL,
// whatever bytes it holds.
func Quote(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c < 0x7f && c != '\'' && c != '\\' {
			b.WriteByte(c)
			continue
		}
		b.WriteString(`\x`)
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	b.WriteByte('\'')
	return b.String()
}

// QuoteIdent returns name as a back-quoted identifier.
func QuoteIdent(name string) string {
	return "`" + strings.NewReplacer("\\", "\\\\", "`", "\\`").Replace(name) + "`"
}

// Insert streams TSV rows into table's columns (INSERT INTO t (cols)
// FORMAT TSV), reading body until EOF.
func (c *Client) Insert(ctx context.Context, table string, columns []string, body io.Reader, settings map[string]string) error {
	query := "INSERT INTO " + QuoteIdent(table) + " (" + strings.Join(columns, ", ") + ") FORMAT TSV"
	return c.exec(ctx, query, settings, body)
}

// Ping checks that the server answers, and returns its version.
func (c *Client) Ping(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var v string
	err := c.Query(ctx, "SELECT version() FORMAT TSV", nil, func(f []string) error {
		v = f[0]
		return nil
	})
	return v, err
}
