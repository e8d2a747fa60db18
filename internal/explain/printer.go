package explain

import (
	"fmt"
	"strings"

	"github.com/outsider-sec/outsider/internal/audit"
	"github.com/outsider-sec/outsider/internal/textsafe"
)

// Indents of the walk: explanations under a field, list items, and
// explanations under an item.
const (
	indentSay     = "    "
	indentItem    = "    - "
	indentItemSay = "      "
)

// maxItems caps how many entries of one array the walk describes,
// maxRepeat how many copies of one repeated field, and maxOthers how many
// names the "also present" line lists: a hostile record can hold millions.
const (
	maxItems  = 20
	maxRepeat = 3
	maxOthers = 60
)

// printer accumulates the explanation.
type printer struct {
	b strings.Builder
}

// line writes one line as is; callers pass text already cleaned.
func (p *printer) line(s string) {
	p.b.WriteString(s)
	p.b.WriteByte('\n')
}

// field writes "Name: value".
func (p *printer) field(name, shown string) {
	if shown == "" {
		p.line(textsafe.Terminal(name) + ":")
		return
	}
	p.line(textsafe.Terminal(name) + ": " + shown)
}

// say writes a wrapped explanation under a field.
func (p *printer) say(format string, args ...any) {
	p.b.WriteString(wrap(fmt.Sprintf(format, args...), indentSay))
}

// warn writes an explanation that must not be missed.
func (p *printer) warn(format string, args ...any) {
	p.b.WriteString(wrap("WARNING: "+fmt.Sprintf(format, args...), indentSay))
}

// item writes a list entry under a field, and itemSay its explanation.
func (p *printer) item(shown string) { p.line(indentItem + shown) }

func (p *printer) itemSay(format string, args ...any) {
	p.b.WriteString(wrap(fmt.Sprintf(format, args...), indentItemSay))
}

// para writes a paragraph of the conclusion.
func (p *printer) para(format string, args ...any) {
	p.b.WriteString(wrap(fmt.Sprintf(format, args...), indentSay))
	p.b.WriteByte('\n')
}

// display is how a value appears after "Name: ".
func display(v *value) string {
	switch v.kind {
	case kString:
		if v.text == "" {
			return `""`
		}
		return show(v.text)
	case kObject:
		return fmt.Sprintf("(an object with %s)", plural(len(v.members), "field"))
	case kArray:
		return fmt.Sprintf("(%s)", plural(len(v.elems), "entry"))
	}
	return v.text
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	if strings.HasSuffix(word, "y") {
		return fmt.Sprintf("%d %sies", n, word[:len(word)-1])
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// handler explains one field: it writes the "Name: value" line and the
// explanation under it.
type handler func(p *printer, f *facts, name string, v *value)

// explain writes the whole walk.
func (p *printer) explain(f *facts) {
	p.headline(f)
	if f.envKey != "" {
		p.line("")
		p.line("The envelope, field by field:")
		p.walk(f, f.top, envelopeFields, "Also present in the envelope")
		p.line("")
		p.line(fmt.Sprintf("The record (%s), field by field:", f.envKey))
	} else {
		p.line("")
		p.line("The record, field by field:")
	}
	p.walk(f, f.rec, recordFields, "Also present")
	p.line("")
	p.line("What this means:")
	p.meaning(f)
}

// walk explains the fields of obj that have a handler, in the record's
// order, then lists the others.
func (p *printer) walk(f *facts, obj *value, handlers map[string]handler, alsoLabel string) {
	p.walkBy(f, obj, func(name string) (handler, string) { return handlers[name], name }, alsoLabel)
}

// walkBy is walk with the handler found by a function, which also names
// the fact the field gives: the sign-in log spells one fact several ways
// (userPrincipalName, UserPrincipalName, Username), and two spellings of
// one fact in one record are a repeat.
func (p *printer) walkBy(f *facts, obj *value, lookup func(string) (handler, string), alsoLabel string) {
	seen := map[string]int{}
	kept := map[string]*value{}  // the copy the decoder keeps, by fact
	names := map[string]string{} // the fact's first spelling
	var others, repeated, empty []string
	nOthers, nEmpty := 0, 0
	for _, m := range obj.members {
		if f.si.csv && m.val.kind == kString && m.val.text == "" {
			// Most columns of a sign-in download are empty in any row.
			if seen[m.name]++; seen[m.name] == 1 {
				nEmpty++
				if len(empty) < maxOthers {
					empty = append(empty, textsafe.Terminal(m.name))
				}
			}
			continue
		}
		h, key := lookup(m.name)
		if h == nil {
			if seen[m.name]++; seen[m.name] == 1 {
				nOthers++
				if len(others) < maxOthers {
					others = append(others, textsafe.Terminal(m.name))
				}
			}
			continue
		}
		key = "\x00" + key // facts never collide with unexplained names
		seen[key]++
		if _, ok := kept[key]; !ok {
			names[key] = m.name
			kept[key] = m.val
		} else if !f.si.csv {
			kept[key] = m.val
		}
		switch n := seen[key]; {
		case n > maxRepeat:
			continue
		case n == maxRepeat:
			repeated = append(repeated, key)
		}
		h(p, f, m.name, m.val)
		switch {
		case seen[key] != 2:
		case f.si.csv:
			p.warn("the header names the column %s more than once; outsider reads the first "+
				"one. A repeated column the download does not repeat is unusual and may be meant "+
				"to mislead one tool or another.", textsafe.Terminal(m.name))
		default:
			p.warn("%s appears more than once in this record. JSON readers differ on which copy "+
				"they keep (outsider keeps the last one); a repeated field is unusual and may be "+
				"meant to mislead one tool or another.", textsafe.Terminal(m.name))
		}
	}
	for _, key := range repeated {
		if n := seen[key]; n > maxRepeat {
			which := "last"
			if f.si.csv {
				which = "first"
			}
			p.b.WriteString(wrap(fmt.Sprintf("%s appears %d times; the first %d are shown above. "+
				"outsider keeps the %s one: %s", textsafe.Terminal(names[key]), n, maxRepeat, which, display(kept[key])), ""))
		}
	}
	if nOthers > len(others) {
		others = append(others, fmt.Sprintf("and %d more", nOthers-len(others)))
	}
	if len(others) > 0 {
		p.b.WriteString(wrap(alsoLabel+": "+strings.Join(others, ", "), ""))
	}
	if nEmpty > len(empty) {
		empty = append(empty, fmt.Sprintf("and %d more", nEmpty-len(empty)))
	}
	if len(empty) > 0 {
		p.b.WriteString(wrap("Empty in this row: "+strings.Join(empty, ", "), ""))
	}
}

// more reports whether item i of n is past the listing limit, and says
// how many are left out when it is: every list the walk shows stops at
// maxItems the same way.
func (p *printer) more(i, n int) bool {
	if i != maxItems {
		return false
	}
	p.item(fmt.Sprintf("... and %d more", n-maxItems))
	return true
}

// eachObject calls fn for each object of the list arr, up to the listing
// limit; an element that is not an object is listed with notWhat.
func (p *printer) eachObject(arr *value, notWhat string, fn func(e *value)) {
	for i, e := range arr.elems {
		if p.more(i, len(arr.elems)) {
			break
		}
		if e.kind != kObject {
			p.entry(e, notWhat)
			continue
		}
		fn(e)
	}
}

// entry lists a list element that is not of the expected kind, with why
// it is not explained.
func (p *printer) entry(e *value, why string) {
	p.item(display(e))
	p.itemSay("%s", why)
}

// whoAndWhen is the part of a headline after "by": the account, named by
// userField, and the time t ("" when unknown).
func whoAndWhen(f *facts, userField, t string) string {
	var who string
	switch {
	case !f.hasUserID:
		who = "an unnamed account (no " + userField + ")"
	case f.userKind == audit.UserUnusable:
		who = "an unnamed account (" + userField + " " + quote(f.userRaw) + ")"
	default:
		who = show(strings.TrimSpace(f.userRaw))
	}
	if t == "" {
		return who + " at an unknown time"
	}
	return who + " at " + t
}

// headline says what the record is, in one line.
func (p *printer) headline(f *facts) {
	var b strings.Builder
	if f.op != "" {
		b.WriteString(show(f.op))
	} else {
		b.WriteString("A record with no Operation")
	}
	b.WriteString(" by ")
	b.WriteString(whoAndWhen(f, "UserId", recordTime(f)))
	if rt := f.rec.get("RecordType"); rt != nil {
		if n, ok := intOf(rt); ok {
			name := recordTypes[n]
			if name == "" {
				name = "not a documented type"
			}
			fmt.Fprintf(&b, " (RecordType %d, %s)", n, name)
		} else if s, ok := rt.scalar(); ok {
			fmt.Fprintf(&b, " (RecordType %s)", show(s))
		}
	}
	p.line(b.String())
	if f.envKey != "" {
		form := "as an object"
		if f.envStr {
			form = "as a JSON string"
		}
		p.line(fmt.Sprintf("Found inside %s; the record is its %s field, %s.", envelopeName(f), f.envKey, form))
	}
}

func envelopeName(f *facts) string {
	if f.envKey == "auditData" {
		return "a Microsoft Graph auditLogRecord"
	}
	return "a PowerShell Search-UnifiedAuditLog result"
}

// recordTime is the record's time in UTC as the engine reads it.
func recordTime(f *facts) string {
	if f.evOK {
		return audit.FormatTime(f.ev.Time)
	}
	for _, v := range []*value{f.rec.get("CreationTime"), f.top.get("CreationDate"), f.top.get("createdDateTime")} {
		if v != nil && v.kind == kString {
			if ns, ok := audit.ParseTime([]byte(v.text)); ok && ns != 0 {
				return audit.FormatTime(ns)
			}
		}
	}
	return ""
}

// intOf reads an integer field written as a number or a string of digits,
// as the audit decoder does.
func intOf(v *value) (int, bool) {
	if v == nil || (v.kind != kNumber && v.kind != kString) {
		return 0, false
	}
	s := v.text
	if len(s) == 0 || len(s) > 10 {
		return 0, false
	}
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	if s == "" {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}
