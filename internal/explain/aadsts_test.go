package explain

import (
	"strings"
	"testing"

	"github.com/outsider-sec/outsider/internal/audit"
)

// TestInterruptsDescribed keeps explain's code descriptions consistent
// with the engine's one table of interrupts: every interrupt is described
// under Entra's name for it, and what explain says of any code it knows
// agrees with how the engine counts it.
func TestInterruptsDescribed(t *testing.T) {
	for _, it := range audit.Interrupts() {
		e, ok := aadsts[it.Code]
		if !ok {
			t.Errorf("interrupt %s (%s) has no description", it.Code, it.Name)
			continue
		}
		if e.name != it.Name {
			t.Errorf("%s: explain names it %q, the interrupt table %q", it.Code, e.name, it.Name)
		}
	}
	for code := range aadsts {
		w := codeWords(code)
		interrupted := strings.Contains(w, "counts it as an interrupted sign-in")
		if interrupted != audit.IsInterruptCode([]byte(code)) {
			t.Errorf("%s: %q disagrees with audit.IsInterruptCode", code, w)
		}
	}
}
