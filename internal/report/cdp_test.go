//go:build unix

package report

// The browser test's DevTools session, on chromedp (a test-only
// dependency): it starts Chromium headless, sends protocol commands by
// name and keeps every event in arrival order, so the test can wait for
// one and check all of them afterwards.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto"
	protocdp "github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"
	jsonv2 "github.com/go-json-experiment/json"

	"github.com/outsider-sec/outsider/internal/testutil"
)

// cdpEvent is one protocol event.
type cdpEvent struct {
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
}

// watchedEvents are the events the browser test looks at by name; chromedp
// hands events over decoded, so their names are recovered from their Go
// types. Any other event is kept under its Go type's name.
var watchedEvents = []string{
	"Log.entryAdded", "Network.loadingFailed", "Network.requestWillBeSent",
	"Page.javascriptDialogOpening", "Page.loadEventFired",
	"Runtime.consoleAPICalled", "Runtime.exceptionThrown",
}

// cdp is a DevTools session on one page target.
type cdp struct {
	ctx     context.Context
	names   map[reflect.Type]string
	mu      sync.Mutex
	events  []cdpEvent
	changed chan struct{} // closed and replaced whenever an event arrives
}

// record keeps ev, with its protocol name and parameters as JSON.
func (c *cdp) record(ev any) {
	name, ok := c.names[reflect.TypeOf(ev)]
	if !ok {
		name = fmt.Sprintf("%T", ev)
	}
	params, err := jsonv2.Marshal(ev, chromedp.DefaultMarshalOptions)
	if err != nil {
		params, _ = json.Marshal(err.Error())
	}
	c.mu.Lock()
	c.events = append(c.events, cdpEvent{Method: name, Params: params})
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
}

// call sends a command and waits for its result.
func (c *cdp) call(method string, params any) (json.RawMessage, error) {
	if params == nil {
		params = struct{}{}
	}
	ctx, cancel := context.WithTimeout(c.ctx, 30*time.Second)
	defer cancel()
	var res jsontextValue
	err := chromedp.Run(ctx, chromedp.ActionFunc(func(ctx context.Context) error {
		return protocdp.Execute(ctx, method, params, &res)
	}))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", method, err)
	}
	return json.RawMessage(res), nil
}

// jsontextValue keeps a command's result as raw JSON.
type jsontextValue []byte

// UnmarshalJSON implements json.Unmarshaler.
func (v *jsontextValue) UnmarshalJSON(b []byte) error {
	*v = append((*v)[:0], b...)
	return nil
}

// waitEvent waits for an event named method, at or after index from in
// the event list, and returns its index.
func (c *cdp) waitEvent(method string, from int, timeout time.Duration) (int, error) {
	deadline := time.After(timeout)
	for {
		c.mu.Lock()
		for i := from; i < len(c.events); i++ {
			if c.events[i].Method == method {
				c.mu.Unlock()
				return i, nil
			}
		}
		changed := c.changed
		c.mu.Unlock()
		select {
		case <-changed:
		case <-c.ctx.Done():
			return 0, fmt.Errorf("waiting for %s: %v", method, c.ctx.Err())
		case <-deadline:
			return 0, fmt.Errorf("no %s in %s", method, timeout)
		}
	}
}

// snapshot returns the events received so far.
func (c *cdp) snapshot() []cdpEvent {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]cdpEvent(nil), c.events...)
}

// eval evaluates a JavaScript expression in the page and decodes its
// value (returned by value) into out.
func (c *cdp) eval(expr string, out any) error {
	res, err := c.call("Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true, "awaitPromise": true})
	if err != nil {
		return err
	}
	var r struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	if err := json.Unmarshal(res, &r); err != nil {
		return err
	}
	if r.ExceptionDetails != nil {
		return fmt.Errorf("evaluating %q: %s %s", expr, r.ExceptionDetails.Text, r.ExceptionDetails.Exception.Description)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(r.Result.Value, out)
}

// findChromium returns the browser to test with: $OUTSIDER_CHROMIUM, else
// Debian's chromium (what .ci/run installs) or another Chromium on PATH.
func findChromium() (string, bool) {
	if p := os.Getenv("OUTSIDER_CHROMIUM"); p != "" {
		return p, true
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, true
		}
	}
	return "", false
}

// startChromium starts a headless Chromium with its own empty profile in
// dir and no network activity of its own (this machine has no network and
// a browser that tries floods the log), and returns a session on a new
// page. The browser is stopped when the test ends.
func startChromium(t *testing.T, bin, dir string, width, height int) *cdp {
	t.Helper()
	stderr := &testutil.SyncBuffer{}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(bin), chromedp.UserDataDir(filepath.Join(dir, "profile")),
		chromedp.WindowSize(width, height), chromedp.CombinedOutput(stderr),
	}
	for _, f := range []string{
		"headless", "no-sandbox", "disable-gpu", "disable-dev-shm-usage",
		"disable-background-networking", "disable-component-update", "disable-sync",
		"disable-quic", "disable-extensions", "disable-default-apps", "no-first-run",
		"no-default-browser-check", "mute-audio", "hide-scrollbars",
	} {
		opts = append(opts, chromedp.Flag(f, true))
	}
	// Chromium's helper processes share its process group, killed as one
	// when the test ends, so none is still writing to the profile when the
	// temporary folder is removed.
	var cmd *exec.Cmd
	opts = append(opts, chromedp.ModifyCmdFunc(func(c *exec.Cmd) {
		c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
		cmd = c
	}))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() {
		chromedp.Cancel(ctx)
		cancel()
		cancelAlloc()
		if cmd == nil || cmd.Process == nil {
			return
		}
		pgid := cmd.Process.Pid
		syscall.Kill(-pgid, syscall.SIGKILL)
		for deadline := time.Now().Add(10 * time.Second); syscall.Kill(-pgid, 0) == nil; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Logf("chromium's process group %d still runs after SIGKILL", pgid)
				return
			}
		}
	})

	c := &cdp{ctx: ctx, names: map[reflect.Type]string{}, changed: make(chan struct{})}
	for _, m := range watchedEvents {
		ev, err := cdproto.UnmarshalMessage(&cdproto.Message{Method: cdproto.MethodType(m), Params: []byte("{}")}, chromedp.DefaultUnmarshalOptions)
		if err != nil {
			t.Fatalf("event %s: %v", m, err)
		}
		c.names[reflect.TypeOf(ev)] = m
	}
	chromedp.ListenTarget(ctx, c.record)
	// The first Run starts the browser and binds it to ctx: a shorter-lived
	// context here would stop the browser when it ends.
	if err := chromedp.Run(ctx); err != nil {
		t.Fatalf("starting %s: %v\nchromium's output:\n%s", bin, err, tail(stderr.String(), 4000))
	}
	return c
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}
