package directory

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/outsider-sec/outsider/internal/audit"
)

// The JSON reader takes the top-level values of the file one after the
// other, so every framing people save GET /users in reads the same way:
//
//   - a page as Graph returns it, {"@odata.context": "…/$metadata#users",
//     "value": [users…], "@odata.nextLink": "…$skiptoken=…"} (response
//     format: https://learn.microsoft.com/graph/api/user-list and
//     https://learn.microsoft.com/graph/paging), alone, or several
//     concatenated (with or without a newline between them), or one per
//     line;
//   - a bare array of users (jq '.value', ConvertTo-Json of Get-MgUser),
//     or an array of pages;
//   - JSON Lines: one user object per line.
//
// A top-level object is a page when it has a "value" array and a user
// otherwise. The elements of "value" are read one by one, so a file cut
// short keeps the users before the cut. After malformed JSON the reader
// resumes at the next record (see resume): the next line of JSON Lines,
// the next page, or the next element of a pretty-printed array, found by
// its indentation so that nested objects are not mistaken for one.

// rawUser holds the fields of a user object undecoded, so that a field of
// the wrong type costs that field only. encoding/json matches the tags
// case-insensitively, which also reads PowerShell's PascalCase.
type rawUser struct {
	ID                json.RawMessage `json:"id"`
	UPN               json.RawMessage `json:"userPrincipalName"`
	DisplayName       json.RawMessage `json:"displayName"`
	CompanyName       json.RawMessage `json:"companyName"`
	Mail              json.RawMessage `json:"mail"`
	OtherMails        json.RawMessage `json:"otherMails"`
	ProxyAddresses    json.RawMessage `json:"proxyAddresses"`
	UserType          json.RawMessage `json:"userType"`
	CreationType      json.RawMessage `json:"creationType"`
	ExternalUserState json.RawMessage `json:"externalUserState"`
	Identities        json.RawMessage `json:"identities"`
	AccountEnabled    json.RawMessage `json:"accountEnabled"`
	// Value is a page's users, when an array holds pages.
	Value json.RawMessage `json:"value"`
	// Error is Graph's error body ({"error": {"code", "message"}}),
	// saved instead of a page when the request failed.
	Error json.RawMessage `json:"error"`
}

// set stores a field read from a streamed top-level object, matching keys
// the way encoding/json matches the tags above.
func (r *rawUser) set(key string, v json.RawMessage) {
	var dst *json.RawMessage
	switch strings.ToLower(key) {
	case "id":
		dst = &r.ID
	case "userprincipalname":
		dst = &r.UPN
	case "displayname":
		dst = &r.DisplayName
	case "companyname":
		dst = &r.CompanyName
	case "mail":
		dst = &r.Mail
	case "othermails":
		dst = &r.OtherMails
	case "proxyaddresses":
		dst = &r.ProxyAddresses
	case "usertype":
		dst = &r.UserType
	case "creationtype":
		dst = &r.CreationType
	case "externaluserstate":
		dst = &r.ExternalUserState
	case "identities":
		dst = &r.Identities
	case "accountenabled":
		dst = &r.AccountEnabled
	case "error":
		dst = &r.Error
	default:
		return
	}
	*dst = v
}

// rawIdentity is one objectIdentity, undecoded for the same reason.
type rawIdentity struct {
	SignInType       json.RawMessage `json:"signInType"`
	Issuer           json.RawMessage `json:"issuer"`
	IssuerAssignedID json.RawMessage `json:"issuerAssignedId"`
}

// jsonReader reads the top-level values of one file.
type jsonReader struct {
	l    *loader
	data []byte
	// base is the offset in data where dec's input starts.
	base int
	dec  *json.Decoder
	// rec is the offset of the record being read: the element of a
	// "value" array, or the top-level value; problems cite its line.
	rec int
	// openPage is the line of the last page read if it had an
	// @odata.nextLink (0 otherwise): a file whose last page still links
	// to a next one is missing pages.
	openPage int
}

// readJSON reads every top-level value of data, resuming after malformed
// ones.
func (l *loader) readJSON(data []byte) {
	j := &jsonReader{l: l, data: data}
	// Resuming after an error may re-read text that the failed attempt
	// had read; spent bounds that work to a few times the file, so that
	// no input makes Load quadratic.
	spent, budget := 0, 4*len(data)+(1<<20)
	resumed := false
	for pos := 0; ; {
		pos = skipSpace(data, pos)
		// After resuming inside an array, its separators and the
		// closing brackets of the array and of its page remain.
		for resumed && pos < len(data) && (data[pos] == ',' || data[pos] == ']' || data[pos] == '}') {
			pos = skipSpace(data, pos+1)
		}
		if pos >= len(data) {
			break
		}
		end, err := j.top(pos)
		if err == nil {
			pos = end
			continue
		}
		errAt := j.errOffset(err)
		spent += errAt - pos
		line := l.lines.line(j.rec)
		next := j.resume(j.rec)
		reason := j.describe(err, errAt)
		if errAt == j.rec && j.rec > pos && errAt < len(data) && (data[errAt] == '{' || data[errAt] == '[') {
			// Only the separator before this record is missing (two
			// elements without a comma): the record itself is read.
			next = j.rec
		} else {
			reason += " (record skipped)"
		}
		switch {
		case next < len(data):
			reason += fmt.Sprintf("; reading resumes at line %d", l.lines.line(next))
		case skipSpace(data, errAt) < len(data):
			reason += "; nothing after it could be read"
		}
		l.problem(line, "%s", reason)
		// Whether the broken value was the last page or linked to one
		// is unknown; its own problem already says the file is damaged.
		j.openPage = 0
		if spent > budget && next < len(data) {
			l.problem(l.lines.line(next), "too much malformed JSON: the rest of the file was not read")
			break
		}
		pos, resumed = next, true
	}
	if j.openPage > 0 {
		l.problem(j.openPage, "this page has an @odata.nextLink but no page follows it: the export is incomplete (save every page, following @odata.nextLink until there is none)")
	}
}

// abs turns an offset of the decoder's input into an offset of data.
func (j *jsonReader) abs(off int64) int { return j.base + int(off) }

// next is the offset of the first byte of the next value in an array:
// the decoder stands after the previous token, before white space and the
// comma that separates elements.
func (j *jsonReader) next() int {
	i := skipSpace(j.data, j.abs(j.dec.InputOffset()))
	if i < len(j.data) && j.data[i] == ',' {
		i = skipSpace(j.data, i+1)
	}
	return i
}

// top reads the top-level value at pos and returns the offset after it.
func (j *jsonReader) top(pos int) (int, error) {
	j.base, j.rec = pos, pos
	j.dec = json.NewDecoder(bytes.NewReader(j.data[pos:]))
	line := j.l.lines.line(pos)
	tok, err := j.dec.Token()
	if err != nil {
		return 0, err
	}
	switch tok {
	case json.Delim('['):
		j.openPage = 0
		err = j.array(false)
	case json.Delim('{'):
		err = j.object(pos, line)
	default:
		j.openPage = 0
		j.l.problem(line, "%s, not a user object or a page of users (skipped)", kindOf(j.data[pos]))
	}
	if err != nil {
		return 0, err
	}
	return j.abs(j.dec.InputOffset()), nil
}

// array reads the elements of an array whose '[' was just read, up to and
// including its ']'. Elements are users, or (top level only) pages.
func (j *jsonReader) array(inPage bool) error {
	for j.dec.More() {
		start := j.next()
		j.rec = start
		line := j.l.lines.line(start)
		if start < len(j.data) && j.data[start] != '{' {
			var skip json.RawMessage
			if err := j.dec.Decode(&skip); err != nil {
				return err
			}
			j.l.problem(line, "%s, not a user object (skipped)", kindOf(j.data[start]))
			continue
		}
		var ru rawUser
		if err := j.dec.Decode(&ru); err != nil {
			return err
		}
		if !inPage && len(ru.UPN) == 0 && isArray(ru.Value) {
			j.nestedPage(ru.Value, line)
			continue
		}
		j.l.addJSON(&ru, line)
	}
	_, err := j.dec.Token() // ']'
	return err
}

// object reads a top-level object whose '{' was just read: a page when it
// has a "value" array, else a user.
func (j *jsonReader) object(pos, line int) error {
	var ru rawUser
	page, nextLink, sawValue := false, false, false
	for j.dec.More() {
		tok, err := j.dec.Token()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		switch {
		case strings.EqualFold(key, "value"):
			sawValue = true
			start := j.valueStart()
			if start < len(j.data) && j.data[start] == '[' {
				if _, err := j.dec.Token(); err != nil {
					return err
				}
				page = true
				if err := j.array(true); err != nil {
					return err
				}
				j.rec = pos
				continue
			}
			var v json.RawMessage
			if err := j.dec.Decode(&v); err != nil {
				return err
			}
			if start < len(j.data) && j.data[start] != 'n' {
				j.l.problem(line, "\"value\" is %s, not an array of users (ignored)", kindOf(j.data[start]))
			}
		default:
			var v json.RawMessage
			if err := j.dec.Decode(&v); err != nil {
				return err
			}
			if strings.EqualFold(key, "@odata.nextLink") && len(v) > 0 && v[0] == '"' {
				nextLink = true
			}
			ru.set(key, v)
		}
	}
	if _, err := j.dec.Token(); err != nil { // '}'
		return err
	}
	if page {
		j.openPage = 0
		if nextLink {
			j.openPage = line
		}
		return nil
	}
	if len(ru.UPN) == 0 && (nextLink || sawValue) {
		// A page whose "value" was null or not an array (reported
		// above): still a page, not a user without a UPN.
		j.openPage = 0
		if nextLink {
			j.openPage = line
		}
		return nil
	}
	j.openPage = 0
	j.l.addJSON(&ru, line)
	return nil
}

// valueStart is the offset of the value after a key just read: past the
// colon the decoder has not consumed yet.
func (j *jsonReader) valueStart() int {
	i := skipSpace(j.data, j.abs(j.dec.InputOffset()))
	if i < len(j.data) && j.data[i] == ':' {
		i = skipSpace(j.data, i+1)
	}
	return i
}

// nestedPage reads the users of a page found inside an array. Its
// elements are reported at the page's line: their own offsets are not
// known once the page is decoded.
func (j *jsonReader) nestedPage(value json.RawMessage, line int) {
	var elems []json.RawMessage
	if err := json.Unmarshal(value, &elems); err != nil {
		j.l.problem(line, "page: %v (skipped)", err)
		return
	}
	for i, e := range elems {
		if len(e) == 0 || e[0] != '{' {
			j.l.problem(line, "page element %d: %s, not a user object (skipped)", i, kindOf(firstByte(e)))
			continue
		}
		var ru rawUser
		if err := json.Unmarshal(e, &ru); err != nil {
			j.l.problem(line, "page element %d: %v (skipped)", i, err)
			continue
		}
		j.l.addJSON(&ru, line)
	}
}

// errOffset is the offset in data of the byte where err was found; a
// truncated value is found at the end. A json.Decoder's SyntaxError
// offsets are not usable for this: those from Token count from the start
// of the stream, those from Decode count only the bytes Decode itself has
// scanned. So the top-level value is scanned again by a fresh decoder,
// whose offset counts from the value's start; the first invalid byte of a
// value is the same whoever looks for it.
func (j *jsonReader) errOffset(err error) int {
	if !errors.As(err, new(*json.SyntaxError)) {
		return len(j.data)
	}
	var v json.RawMessage
	var se *json.SyntaxError
	if errors.As(json.NewDecoder(bytes.NewReader(j.data[j.base:])).Decode(&v), &se) && se.Offset > 0 {
		return min(j.base+int(se.Offset)-1, len(j.data))
	}
	return len(j.data)
}

// describe says what is wrong with the JSON, citing at, the line of the
// first invalid byte.
func (j *jsonReader) describe(err error, at int) string {
	var se *json.SyntaxError
	switch {
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return "truncated JSON: the file ends inside this record"
	case errors.As(err, &se):
		return fmt.Sprintf("malformed JSON at line %d: %s", j.l.lines.line(at), se.Error())
	}
	return fmt.Sprintf("malformed JSON: %v", err)
}

// resume returns the offset of the next record after a malformed one
// that starts at offset rec: the first later line that starts with '{' or
// '[' either in column 0 or, indented by white space only, in the column
// where the malformed record started. The first is the next line of JSON
// Lines or the next page; the second is the next element of a
// pretty-printed array (its nested objects are indented further). It
// returns len(data) when there is none.
func (j *jsonReader) resume(rec int) int {
	line := j.l.lines.line(rec)
	col := rec - j.l.lines.start(line)
	for n := line + 1; ; n++ {
		s := j.l.lines.start(n)
		if s < 0 || s >= len(j.data) {
			return len(j.data)
		}
		if c := j.data[s]; c == '{' || c == '[' {
			return s
		}
		if i := s + col; col > 0 && i < len(j.data) && (j.data[i] == '{' || j.data[i] == '[') && isIndent(j.data[s:i]) {
			return i
		}
	}
}

// isIndent reports whether b is only spaces and tabs.
func isIndent(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' {
			return false
		}
	}
	return true
}

// addJSON turns a user object into an entry. A record without a
// userPrincipalName, or with one that is not alias@domain (the form Graph
// documents for it), is skipped: every Graph user has one, so its absence
// means the object is not a user (or its $select left the UPN out) and
// there is nothing reliable to match. A field of the wrong type is
// reported and dropped, and the account kept.
func (l *loader) addJSON(ru *rawUser, line int) {
	f := jsonFields{l: l, line: line}
	upn := f.str("userPrincipalName", ru.UPN, true)
	if upn == "" {
		if len(ru.Error) > 0 && ru.Error[0] == '{' {
			var ge struct{ Code, Message string }
			_ = json.Unmarshal(ru.Error, &ge)
			l.problem(line, `a Graph error response, not users: "%s": "%s" (skipped)`, ge.Code, ge.Message)
			return
		}
		who := ""
		if id := f.quiet(ru.ID); id != "" {
			who = fmt.Sprintf(` (id "%s")`, id)
		}
		if len(ru.UPN) > 0 && firstByte(ru.UPN) != '"' && firstByte(ru.UPN) != 'n' {
			l.problem(line, "userPrincipalName is %s, not a string%s (record skipped)", kindOf(firstByte(ru.UPN)), who)
			return
		}
		l.problem(line, "user object without a userPrincipalName%s (record skipped)", who)
		return
	}
	if !strings.Contains(upn, "@") {
		l.problem(line, `userPrincipalName "%s" is not of the form alias@domain (record skipped)`, upn)
		return
	}
	e := Entry{
		UPN:               upn,
		ID:                f.str("id", ru.ID, false),
		DisplayName:       f.str("displayName", ru.DisplayName, false),
		CompanyName:       f.str("companyName", ru.CompanyName, false),
		Mail:              f.str("mail", ru.Mail, false),
		OtherMails:        f.strs("otherMails", ru.OtherMails),
		ProxyAddresses:    f.strs("proxyAddresses", ru.ProxyAddresses),
		UserType:          f.str("userType", ru.UserType, false),
		CreationType:      f.str("creationType", ru.CreationType, false),
		ExternalUserState: f.str("externalUserState", ru.ExternalUserState, false),
		Identities:        f.identities(ru.Identities),
		Enabled:           f.boolean("accountEnabled", ru.AccountEnabled),
		Line:              line,
	}
	l.entries = append(l.entries, e)
}

// jsonFields decodes the fields of one record, reporting type errors at
// its line.
type jsonFields struct {
	l    *loader
	line int
}

// str decodes a string or null; anything else is reported (unless
// silent, when the caller reports it) and yields "".
func (f jsonFields) str(name string, v json.RawMessage, silent bool) string {
	if len(v) == 0 || v[0] == 'n' {
		return ""
	}
	s, ok := unquote(v)
	if !ok {
		if !silent {
			f.l.problem(f.line, "%s is %s, not a string (field ignored)", name, kindOf(v[0]))
		}
		return ""
	}
	return strings.TrimSpace(s)
}

// quiet decodes a string without reporting anything.
func (f jsonFields) quiet(v json.RawMessage) string {
	s, _ := unquote(v)
	return strings.TrimSpace(s)
}

// unquote decodes a JSON string. Most values have no escapes and are
// valid UTF-8, and then are just the bytes between the quotes (v comes
// from the decoder, so it is well-formed): that skips json.Unmarshal's
// second validation pass, which dominated loading time.
func unquote(v json.RawMessage) (string, bool) {
	if len(v) < 2 || v[0] != '"' {
		return "", false
	}
	if in := v[1 : len(v)-1]; bytes.IndexByte(in, '\\') < 0 && utf8.Valid(in) {
		return string(in), true
	}
	var s string
	if json.Unmarshal(v, &s) != nil {
		return "", false
	}
	return s, true
}

// strs decodes an array of strings (null: none). Non-string elements are
// reported and dropped; a value that is not an array is reported and the
// field dropped, even a lone string: Graph never writes one, so it means
// the file was made by something that may have garbled more.
func (f jsonFields) strs(name string, v json.RawMessage) []string {
	if len(v) == 0 || v[0] == 'n' {
		return nil
	}
	var elems []json.RawMessage
	if v[0] != '[' || json.Unmarshal(v, &elems) != nil {
		f.l.problem(f.line, "%s is %s, not an array of strings (field ignored)", name, kindOf(v[0]))
		return nil
	}
	var out []string
	for i, e := range elems {
		s, ok := unquote(e)
		if !ok {
			f.l.problem(f.line, "%s[%d] is %s, not a string (ignored)", name, i, kindOf(firstByte(e)))
			continue
		}
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// boolean decodes true, false or null.
func (f jsonFields) boolean(name string, v json.RawMessage) *bool {
	switch {
	case len(v) == 0 || v[0] == 'n':
		return nil
	case bytes.Equal(v, []byte("true")):
		t := true
		return &t
	case bytes.Equal(v, []byte("false")):
		b := false
		return &b
	}
	f.l.problem(f.line, "%s is %s, not true or false (field ignored)", name, kindOf(v[0]))
	return nil
}

// identities decodes an array of objectIdentity objects.
func (f jsonFields) identities(v json.RawMessage) []Identity {
	if len(v) == 0 || v[0] == 'n' {
		return nil
	}
	var elems []json.RawMessage
	if v[0] != '[' || json.Unmarshal(v, &elems) != nil {
		f.l.problem(f.line, "identities is %s, not an array of objects (field ignored)", kindOf(v[0]))
		return nil
	}
	var out []Identity
	for i, e := range elems {
		var ri rawIdentity
		if len(e) == 0 || e[0] != '{' || json.Unmarshal(e, &ri) != nil {
			f.l.problem(f.line, "identities[%d] is %s, not an object (ignored)", i, kindOf(firstByte(e)))
			continue
		}
		id := Identity{
			SignInType:       f.str(fmt.Sprintf("identities[%d].signInType", i), ri.SignInType, false),
			Issuer:           f.str(fmt.Sprintf("identities[%d].issuer", i), ri.Issuer, false),
			IssuerAssignedID: f.str(fmt.Sprintf("identities[%d].issuerAssignedId", i), ri.IssuerAssignedID, false),
		}
		if id != (Identity{}) {
			out = append(out, id)
		}
	}
	return out
}

// firstByte is b[0], or 0 for an empty b (which kindOf calls "not JSON").
func firstByte(b []byte) byte {
	if len(b) == 0 {
		return 0
	}
	return b[0]
}

// isArray reports whether v is a JSON array.
func isArray(v json.RawMessage) bool { return len(v) > 0 && v[0] == '[' }

// kindOf names the JSON type of a value from its first byte, for
// problems, as the decoder names it.
func kindOf(c byte) string {
	if k := audit.ValueKind(c); k != "" {
		return k
	}
	return "not JSON"
}
