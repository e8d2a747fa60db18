package hunt

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// bullet returns the text of the docs/rules.md bullet that starts with
// marker, continuation lines included.
func bullet(t *testing.T, doc, marker string) string {
	t.Helper()
	i := strings.Index(doc, marker)
	if i < 0 {
		t.Fatalf("docs/rules.md has no %q", marker)
	}
	rest := doc[i:]
	var b strings.Builder
	for n, line := range strings.Split(rest, "\n") {
		trimmed := strings.TrimSpace(line)
		if n > 0 && (trimmed == "" || strings.HasPrefix(trimmed, "- ") || strings.HasPrefix(trimmed, "|")) {
			break
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}

var backticked = regexp.MustCompile("`([A-Za-z]+)`")

func names(s string, drop ...string) []string {
	var out []string
	for _, m := range backticked.FindAllStringSubmatch(s, -1) {
		if !slices.Contains(drop, m[1]) && !slices.Contains(out, m[1]) {
			out = append(out, m[1])
		}
	}
	slices.Sort(out)
	return out
}

// TestRulesMatchDocs keeps the lists the queries embed equal to the ones
// docs/rules.md states, so the queries judge by the same rule as the
// engine.
func TestRulesMatchDocs(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "docs", "rules.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)

	check := func(what string, got, want []string) {
		t.Helper()
		got = slices.Sorted(slices.Values(got))
		want = slices.Sorted(slices.Values(want))
		if !slices.Equal(got, want) {
			t.Errorf("%s: queries use %v, docs/rules.md says %v", what, got, want)
		}
	}
	check("sign-in operations", signinOps, names(bullet(t, doc, "- **Sign-in record**"), "Operation"))
	check("interrupt codes", interruptCodes, regexp.MustCompile(`\b[0-9]{5,7}\b`).FindAllString(bullet(t, doc, "  - `interrupted`"), -1))
	check("opening shared content", accessOps(), names(bullet(t, doc, "- **Opening shared content**"), "Workload", "Operation"))
	check("mailbox operations", mailboxOps, names(bullet(t, doc, "- **Mailbox access**"), "Operation"))
	check("admin operations", adminOps, names(bullet(t, doc, "- **Admin operation**"), "Operation"))
	h := bullet(t, doc, "- **H** (`sharing`)")
	h = h[:strings.Index(h, "and whose sharing target")]
	check("sharing operations", sharingOps(), names(h, "sharing", "Operation"))

	for _, rt := range mailboxRecordTypes {
		if !strings.Contains(bullet(t, doc, "- **Mailbox access**"), rt.name) {
			t.Errorf("mailbox record type %d %s not in docs/rules.md", rt.n, rt.name)
		}
	}
	for _, rt := range adminRecordTypes {
		if !strings.Contains(bullet(t, doc, "- **Admin operation**"), rt.name) {
			t.Errorf("admin record type %d %s not in docs/rules.md", rt.n, rt.name)
		}
	}
	// Unusable names: the documented ones, plus the two the engine adds.
	unusable := bullet(t, doc, "  - `\"\"`, `unknown`")
	for _, u := range unusableUsers {
		if u != "" && u != "none" && u != "-" && !strings.Contains(unusable, "`"+u+"`") {
			t.Errorf("unusable user %q not in docs/rules.md", u)
		}
	}
	classify := bullet(t, doc, "5. No sign-in carries an actor tenant")
	for _, d := range consumerDomains {
		if !strings.Contains(classify, d) {
			t.Errorf("consumer domain %s not in docs/rules.md", d)
		}
	}
	if !strings.Contains(doc, consumerTenant) {
		t.Errorf("consumer tenant %s not in docs/rules.md", consumerTenant)
	}
}
