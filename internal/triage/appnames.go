package triage

import (
	"bytes"
	"unicode/utf8"

	"github.com/outsider-sec/outsider/internal/apps"
	"github.com/outsider-sec/outsider/internal/audit"
)

// The name a sign-in log gives an application (appDisplayName,
// AppDisplayName, the download's Application column) is shown when the
// first-party catalogue has none for its id, marked as the log's: the log's
// name is whatever the application's owner registered, so it says what the
// application calls itself, not what it is.
//
// An account's sign-ins to one application normally carry one name. The
// aggregates keep, per application, the counts of at most maxAppNames
// distinct names: the smallest ones (byte order). That set and its counts
// do not depend on the order the records arrive in or on how workers and
// shards split them (a name among the smallest is never evicted, so its
// count is exact), so the name shown, the most frequent kept one with the
// smallest first on a tie, is the same in every run and in the ClickHouse
// port.

// maxAppNames caps the distinct names kept per account and application:
// names are attacker-chosen.
const maxAppNames = 8

// maxAppNameBytes caps a name's length: a report line is no place for a
// megabyte of it.
const maxAppNameBytes = 256

// logName is a name as the log gives it, trimmed and cut to
// maxAppNameBytes at a character boundary; nil when there is none. It
// aliases b.
func logName(b []byte) []byte {
	b = bytes.TrimSpace(b)
	if len(b) > maxAppNameBytes {
		// Cut before the character that crosses the limit.
		i := maxAppNameBytes
		for i > 0 && !utf8.RuneStart(b[i]) {
			i--
		}
		b = bytes.TrimSpace(b[:i])
	}
	if len(b) == 0 {
		return nil
	}
	return b
}

// appNameOf returns the log's name for the sign-in's application (logName).
func appNameOf(ev *audit.Event) []byte { return logName(ev.AppName) }

// SigninAppName is the name the engine keeps of a sign-in's application as
// the log gives it ("" for none), for a store outside the engine that must
// keep exactly the same.
func SigninAppName(ev *audit.Event) string { return string(appNameOf(ev)) }

// addName counts one sign-in's name, keeping the maxAppNames smallest.
func (h *histogram) addName(a *agg, name []byte) {
	for i := range *h {
		if (*h)[i].op == string(name) {
			(*h)[i].n++
			return
		}
	}
	if len(*h) >= maxAppNames {
		j := h.largest()
		if string(name) >= (*h)[j].op {
			return
		}
		(*h)[j] = opCount{a.str(name), 1}
		return
	}
	*h = append(*h, opCount{a.str(name), 1})
}

// addNameN merges n sign-ins of one name, keeping the maxAppNames
// smallest.
func (h *histogram) addNameN(name string, n int64) {
	for i := range *h {
		if (*h)[i].op == name {
			(*h)[i].n += n
			return
		}
	}
	if len(*h) >= maxAppNames {
		j := h.largest()
		if name >= (*h)[j].op {
			return
		}
		(*h)[j] = opCount{name, n}
		return
	}
	*h = append(*h, opCount{name, n})
}

func (h histogram) largest() int {
	j := 0
	for i := range h {
		if h[i].op > h[j].op {
			j = i
		}
	}
	return j
}

// best is the name to show: the most frequent, the smallest on a tie; ""
// when there is none.
func (h histogram) best() string {
	var name string
	var n int64
	for _, c := range h {
		if c.n > n || c.n == n && c.op < name {
			name, n = c.op, c.n
		}
	}
	return name
}

// noteAppName keeps the name a sign-in gives its application: for a
// counted sign-in on the app's own stats, for the copy of one counted from
// the other log (only the sign-in log has names) on an entry with no
// sign-ins of its own, which the merge joins to the counted one and the
// judge ignores if none is.
func (u *userStats) noteAppName(a *agg, ev *audit.Event, app *appStats) {
	name := appNameOf(ev)
	if name == nil {
		return
	}
	if app == nil {
		if app = u.apps[string(ev.AppID)]; app == nil {
			app = &appStats{}
			u.apps[a.str(ev.AppID)] = app
		}
	}
	app.names.addName(a, name)
}

// appEntry is the report's entry for one application: the catalogue's
// name when it has one, else the log's, marked so.
func appEntry(id string, st *appStats) App {
	a := App{ID: id, Count: st.count}
	if id != "" {
		if info, ok := apps.Lookup(id); ok {
			a.Name, a.FirstParty = info.Name, true
		}
	}
	if a.Name == "" {
		if n := st.names.best(); n != "" {
			a.Name, a.NameSource = n, NameFromLog
		} else if id == "" {
			a.Name = "(not recorded)"
		}
	}
	return a
}

// appReasonLabel names an application in a reason: its id, and the name
// the log gives it when there is one (a third-party application is never
// in the catalogue).
func appReasonLabel(id string, st *appStats) string {
	if n := st.names.best(); n != "" {
		return id + ` ("` + n + `", as the sign-in log names it)`
	}
	return id
}
