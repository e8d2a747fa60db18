package directory

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
)

// The CSV reader takes the Entra admin center's Users > All users >
// Download users file, and the same columns under the other names they go
// by. Headers are matched case-insensitively, ignoring spaces and
// punctuation, so "userPrincipalName", "UserPrincipalName" and "User
// principal name" are one column. Where they come from:
//
//   - Microsoft's page on the download lists its attributes by their
//     property names: userPrincipalName, displayName, surname, mail,
//     givenName, objectId, userType, jobTitle, department, accountEnabled,
//     …, alternateEmailAddress, ageGroup, …
//     (https://learn.microsoft.com/entra/identity/users/users-bulk-download,
//     MicrosoftDocs/entra-docs docs/identity/users/users-bulk-download.md).
//   - A downloaded file published by Y-Security ("Microsoft Azure Portal –
//     CSV Injection", 2021-12-06,
//     https://www.y-security.de/news-en/microsoft-azure-portal-csv-injection/index.html)
//     has the header userPrincipalName, displayName, surname, mail,
//     givenName, id, userType, jobTitle, department, accountEnabled,
//     usageLocation, streetAddress, state, country, officeLocation, city,
//     postalCode, telephoneNumber, mobilePhone, alternateEmailAddress,
//     ageGroup, consentProvidedForMinor, legalAgeGroupClassification,
//     companyName, creationType, directorySynced, invitationState,
//     identityIssuer, createdDateTime: "id" where the page says objectId,
//     plus creationType, invitationState and identityIssuer; its fields
//     are not quoted (hence the tolerance for quotes inside them below).
//   - The portal's display labels ("User principal name", "Display name",
//     "User type", "Creation type", "Invitation state", "Object Id") are
//     accepted as variants of the same columns; no public sample of a
//     download with these labels was found.
//   - The Microsoft 365 admin center's Active users > Export users file
//     (columns "Display name", "User principal name", "Object Id", "Block
//     credential", "Proxy addresses" joined with "+"), as shown in the
//     README of the openidsync project (openidsync.org), reads too.
//   - Bulk-operation template headers of the form "User name
//     [userPrincipalName] Required" are matched by their bracketed
//     property name.
//
// Columns not listed in csvColumns are ignored.

// csvField is a column the reader uses.
type csvField int

// The fields; numCols counts them.
const (
	colID csvField = iota
	colUPN
	colDisplayName
	colCompany
	colMail
	colOtherMails
	colProxyAddresses
	colUserType
	colCreationType
	colState
	colEnabled
	colBlocked
	colIssuer
	numCols
)

// csvColumns maps normalised header names (see normHeader) to fields.
var csvColumns = map[string]csvField{
	"id":                colID,
	"objectid":          colID,
	"userprincipalname": colUPN,
	"upn":               colUPN,
	"displayname":       colDisplayName,
	"companyname":       colCompany,
	"mail":              colMail,
	"email":             colMail,
	"othermails":        colOtherMails,
	// The download's alternateEmailAddress is Graph's otherMails (MSOnline
	// called it AlternateEmailAddresses); in the Y-Security sample the
	// account made from an outlook.com address carries that address here.
	"alternateemailaddress":   colOtherMails,
	"alternateemailaddresses": colOtherMails,
	"alternateemail":          colOtherMails,
	"proxyaddresses":          colProxyAddresses,
	"usertype":                colUserType,
	"creationtype":            colCreationType,
	"externaluserstate":       colState,
	"invitationstate":         colState,
	"accountenabled":          colEnabled,
	"blockcredential":         colBlocked, // true means sign-in is blocked
	"identityissuer":          colIssuer,
}

// csvHeader is where each field is in a row.
type csvHeader struct {
	col [numCols]int // -1: absent
	n   int          // columns in the header
}

// normHeader reduces a header cell to lower-case letters and digits,
// taking the bracketed property name of template-style headers.
func normHeader(h string) string {
	if i := strings.IndexByte(h, '['); i >= 0 {
		if j := strings.IndexByte(h[i:], ']'); j > 1 {
			h = h[i+1 : i+j]
		}
	}
	var b strings.Builder
	for _, r := range strings.ToLower(h) {
		if ('a' <= r && r <= 'z') || ('0' <= r && r <= '9') {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// parseHeader maps a header row to fields; nil when no column is the
// userPrincipalName, which every reading needs.
func parseHeader(rec []string) *csvHeader {
	h := &csvHeader{n: len(rec)}
	for i := range h.col {
		h.col[i] = -1
	}
	for i, name := range rec {
		if f, ok := csvColumns[normHeader(name)]; ok && h.col[f] < 0 {
			h.col[f] = i
		}
	}
	if h.col[colUPN] < 0 {
		return nil
	}
	return h
}

// findHeader looks for the header among the first three records (a
// "#TYPE …" line from Export-Csv or an Excel "sep=" line may come first),
// trying comma, then semicolon (Excel in locales with a decimal comma),
// then tab. It returns the header, the separator and the offset of the
// first data row.
func findHeader(data []byte) (*csvHeader, rune, int) {
	for _, comma := range []rune{',', ';', '\t'} {
		r := csv.NewReader(bytes.NewReader(data))
		r.Comma, r.FieldsPerRecord, r.LazyQuotes = comma, -1, true
		for range 3 {
			rec, err := r.Read()
			if err != nil {
				break
			}
			if h := parseHeader(rec); h != nil {
				return h, comma, int(r.InputOffset())
			}
		}
	}
	return nil, 0, 0
}

// readCSV reads the rows under the header. After an unbalanced quote it
// resumes at the line after the broken row's first line: a quote left open
// swallows the lines after it, which are usually rows of their own.
func (l *loader) readCSV(data []byte) {
	h, comma, pos := findHeader(data)
	if h == nil {
		l.fatal = "neither JSON nor a users CSV: no header row names a userPrincipalName column (expected a Graph /users JSON export or the Entra admin center's Download users CSV)"
		return
	}
	// As in readJSON: resuming re-reads text, and spent bounds that work.
	spent, budget := 0, 4*len(data)+(1<<20)
	for pos < len(data) {
		r := csv.NewReader(bytes.NewReader(data[pos:]))
		r.Comma, r.FieldsPerRecord, r.ReuseRecord = comma, -1, true
		base := l.lines.line(pos) - 1 // r's line 1 is the file's line base+1
		resumeAt := -1
		for resumeAt < 0 {
			before := r.InputOffset()
			rec, err := r.Read()
			if err == io.EOF {
				return
			}
			var pe *csv.ParseError
			if err != nil && !errors.As(err, &pe) {
				l.problem(0, "%v", err) // not expected from a bytes.Reader
				return
			}
			if err != nil {
				start := base + pe.StartLine
				resumeAt = l.nextLine(start)
				spent += max(0, l.lines.startOr(base+pe.Line, len(data))-(pos+int(before)))
				if pe.Err == csv.ErrBareQuote && pe.StartLine == pe.Line {
					// A quote inside an unquoted field, as in an
					// unquoted display name: read the line leniently,
					// and keep it only if it fits the header exactly.
					if rec, ok := lenientLine(data, l.lines, start, comma); ok && len(rec) == h.n {
						l.addCSV(h, rec, start)
						continue
					}
				}
				l.problem(start, "%s (record skipped)%s", csvReason(pe, base), l.resumeNote(resumeAt))
				continue
			}
			line, _ := r.FieldPos(0)
			line += base
			if spansLines(rec) {
				// No user attribute holds a line break: a quote opened
				// in this row and closed in a later one merged rows.
				resumeAt = l.nextLine(line)
				spent += int(r.InputOffset() - before)
				l.problem(line, "a quoted field runs over several lines, probably an unbalanced quote (record skipped)%s", l.resumeNote(resumeAt))
				continue
			}
			l.addCSV(h, rec, line)
		}
		if spent > budget && resumeAt < len(data) {
			l.problem(l.lines.line(resumeAt), "too many malformed rows: the rest of the file was not read")
			return
		}
		pos = resumeAt
	}
}

// nextLine is the offset of the line after line n, or the end of the text.
func (l *loader) nextLine(n int) int {
	return l.lines.startOr(n+1, len(l.text))
}

// startOr is x.start(n), or def past the end.
func (x lineIndex) startOr(n, def int) int {
	if s := x.start(n); s >= 0 {
		return s
	}
	return def
}

// resumeNote tells where reading goes on after a bad row, if anywhere.
func (l *loader) resumeNote(at int) string {
	if at >= len(l.text) {
		return ""
	}
	return fmt.Sprintf("; reading resumes at line %d", l.lines.line(at))
}

// csvReason explains a parse error; base turns the reader's line numbers
// into the file's.
func csvReason(pe *csv.ParseError, base int) string {
	switch {
	case errors.Is(pe.Err, csv.ErrQuote):
		return fmt.Sprintf("unbalanced quote: a quoted field opened here is not closed properly (found at line %d, column %d)", base+pe.Line, pe.Column)
	case errors.Is(pe.Err, csv.ErrBareQuote):
		return fmt.Sprintf("a quote inside an unquoted field (line %d, column %d)", base+pe.Line, pe.Column)
	}
	return pe.Err.Error()
}

// lenientLine reads line n alone with lazy quotes, and succeeds when it
// is exactly one record.
func lenientLine(data []byte, lines lineIndex, n int, comma rune) ([]string, bool) {
	s := lines.start(n)
	if s < 0 {
		return nil, false
	}
	e := lines.startOr(n+1, len(data))
	r := csv.NewReader(bytes.NewReader(data[s:e]))
	r.Comma, r.FieldsPerRecord, r.LazyQuotes = comma, -1, true
	rec, err := r.Read()
	if err != nil || spansLines(rec) {
		return nil, false
	}
	if _, err := r.Read(); err != io.EOF {
		return nil, false
	}
	return rec, true
}

// spansLines reports whether a field of rec holds a line break.
func spansLines(rec []string) bool {
	for _, f := range rec {
		if strings.ContainsAny(f, "\r\n") {
			return true
		}
	}
	return false
}

// addCSV turns a row into an entry. A row with more fields than the header
// is skipped: an unquoted comma has shifted its columns, so no value in it
// can be trusted to be what its column says. A row with fewer is kept (a
// truncated or trimmed row still names its account) and reported.
func (l *loader) addCSV(h *csvHeader, rec []string, line int) {
	blank := true
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			blank = false
			break
		}
	}
	if blank {
		return
	}
	if len(rec) > h.n {
		l.problem(line, "%d fields where the header has %d: its columns are shifted (record skipped)", len(rec), h.n)
		return
	}
	get := func(f csvField) string {
		if i := h.col[f]; i >= 0 && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	upn := get(colUPN)
	if csvColumns[normHeader(upn)] == colUPN && strings.IndexByte(upn, '@') < 0 {
		// The header again: files downloaded twice and concatenated.
		return
	}
	if upn == "" {
		l.problem(line, "no userPrincipalName (record skipped)")
		return
	}
	if !strings.Contains(upn, "@") {
		// Every UPN is alias@domain: anything else is a stray line.
		l.problem(line, `userPrincipalName "%s" is not of the form alias@domain (record skipped)`, upn)
		return
	}
	if len(rec) < h.n {
		l.problem(line, "%d fields where the header has %d: the missing ones are taken as empty", len(rec), h.n)
	}
	e := Entry{
		ID:                get(colID),
		UPN:               upn,
		DisplayName:       get(colDisplayName),
		CompanyName:       get(colCompany),
		Mail:              get(colMail),
		OtherMails:        splitList(get(colOtherMails), false),
		ProxyAddresses:    splitList(get(colProxyAddresses), true),
		UserType:          get(colUserType),
		CreationType:      get(colCreationType),
		ExternalUserState: get(colState),
		Line:              line,
	}
	if iss := get(colIssuer); iss != "" {
		e.Identities = []Identity{{Issuer: iss}}
	}
	if v := get(colEnabled); v != "" || h.col[colBlocked] < 0 {
		e.Enabled = l.csvBool(line, "accountEnabled", v, false)
	} else {
		e.Enabled = l.csvBool(line, "Block credential", get(colBlocked), true)
	}
	l.entries = append(l.entries, e)
}

// csvBool reads True/False (PowerShell and the portal), yes/no or 1/0;
// invert is for "Block credential", which is true when sign-in is off.
func (l *loader) csvBool(line int, name, v string, invert bool) *bool {
	var b bool
	switch strings.ToLower(v) {
	case "":
		return nil
	case "true", "yes", "1":
		b = true
	case "false", "no", "0":
		b = false
	default:
		l.problem(line, `%s is "%s", not true or false (field ignored)`, name, v)
		return nil
	}
	b = b != invert
	return &b
}

// splitList splits a multi-valued cell: the portal and PowerShell join
// values with ";" or ",", the Microsoft 365 admin center joins proxy
// addresses with "+" (split only before a type prefix such as "smtp:",
// since "+" is legal in an address). PowerShell's placeholder for an array
// it could not flatten ("System.String[]") is dropped.
func splitList(s string, proxy bool) []string {
	var out []string
	for _, tok := range strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == ',' }) {
		parts := []string{tok}
		if proxy {
			parts = splitProxies(tok)
		}
		for _, p := range parts {
			p = strings.TrimSpace(p)
			if p == "" || (strings.HasPrefix(p, "System.") && strings.HasSuffix(p, "]")) {
				continue
			}
			out = append(out, p)
		}
	}
	return out
}

// splitProxies splits "SMTP:a@x.com+smtp:b@x.com" at each "+" that is
// followed by a type prefix (letters and digits, then ':').
func splitProxies(s string) []string {
	var out []string
	for {
		cut := -1
		for i := 0; i < len(s); i++ {
			if s[i] == '+' && isTypePrefix(s[i+1:]) {
				cut = i
				break
			}
		}
		if cut < 0 {
			return append(out, s)
		}
		out = append(out, s[:cut])
		s = s[cut+1:]
	}
}

// isTypePrefix reports whether s starts with a proxy address type such as
// "smtp:" or "X500:" (up to 16 letters or digits, then a colon).
func isTypePrefix(s string) bool {
	for i := 0; i < len(s) && i <= 16; i++ {
		c := s[i]
		switch {
		case c == ':':
			return i > 0
		case ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9'):
		default:
			return false
		}
	}
	return false
}
