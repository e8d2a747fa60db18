package main

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/outsider-sec/outsider/internal/iostreams"
)

// TestJoinedErrorsOneLineEach: several sources failing in one run
// (errors.Join) are said one "outsider: error:" line each, not one line
// with escaped newlines; a newline inside one part's text stays escaped,
// and an error that wraps several with its own words stays whole.
func TestJoinedErrorsOneLineEach(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{errors.Join(errors.New("ual: refused"), errors.New("signins: 403 for 2026-10-01T00\noutsider: error: forged")),
			"outsider: error: ual: refused\noutsider: error: signins: 403 for 2026-10-01T00\\x0aoutsider: error: forged\n"},
		{fmt.Errorf("state: %w; archive: %w", errors.New("a"), errors.New("b")),
			"outsider: error: state: a; archive: b\n"},
		{errors.Join(errors.New("one")), "outsider: error: one\n"},
	} {
		ios, _, _, errOut := iostreams.Test()
		if code := exitCode(ios, nil, c.err, context.Background()); code != exitError {
			t.Errorf("%q: exit %d", c.err, code)
		}
		if got := errOut.String(); got != c.want {
			t.Errorf("%q said\n%s\nwant\n%s", c.err, got, c.want)
		}
	}
}
