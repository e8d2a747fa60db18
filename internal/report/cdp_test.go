//go:build unix

package report

// A minimal Chrome DevTools Protocol client over a minimal RFC 6455
// WebSocket client, stdlib only, for the browser test: enough to start
// Chromium headless, navigate, evaluate, and collect console, network and
// log events. It is not general: text frames, one connection, no
// extensions.

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/outsider-sec/outsider/internal/testutil"
)

// wsConn is a client WebSocket connection (RFC 6455).
type wsConn struct {
	c  net.Conn
	br *bufio.Reader
	wm sync.Mutex
}

func dialWS(rawURL string) (*wsConn, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	c, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	if err != nil {
		return nil, err
	}
	var k [16]byte
	rand.Read(k[:])
	key := base64.StdEncoding.EncodeToString(k[:])
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n", u.RequestURI(), u.Host, key)
	br := bufio.NewReaderSize(c, 64<<10)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		c.Close()
		return nil, err
	}
	resp.Body.Close()
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Sec-WebSocket-Accept") != base64.StdEncoding.EncodeToString(sum[:]) {
		c.Close()
		return nil, fmt.Errorf("websocket handshake with %s: %s", rawURL, resp.Status)
	}
	return &wsConn{c: c, br: br}, nil
}

// writeFrame sends one masked frame (clients must mask).
func (w *wsConn) writeFrame(op byte, p []byte) error {
	w.wm.Lock()
	defer w.wm.Unlock()
	hdr := []byte{0x80 | op}
	switch n := len(p); {
	case n < 126:
		hdr = append(hdr, 0x80|byte(n))
	case n <= 0xffff:
		hdr = append(hdr, 0x80|126, byte(n>>8), byte(n))
	default:
		hdr = binary.BigEndian.AppendUint64(append(hdr, 0x80|127), uint64(n))
	}
	var mask [4]byte
	rand.Read(mask[:])
	hdr = append(hdr, mask[:]...)
	buf := make([]byte, len(p))
	for i := range p {
		buf[i] = p[i] ^ mask[i%4]
	}
	_, err := w.c.Write(append(hdr, buf...))
	return err
}

// readMessage returns the next text or binary message, answering pings
// and joining fragments; io.EOF after a close frame.
func (w *wsConn) readMessage() ([]byte, error) {
	var msg []byte
	for {
		var h [2]byte
		if _, err := io.ReadFull(w.br, h[:]); err != nil {
			return nil, err
		}
		fin, op := h[0]&0x80 != 0, h[0]&0x0f
		n := uint64(h[1] & 0x7f)
		switch n {
		case 126:
			var b [2]byte
			if _, err := io.ReadFull(w.br, b[:]); err != nil {
				return nil, err
			}
			n = uint64(binary.BigEndian.Uint16(b[:]))
		case 127:
			var b [8]byte
			if _, err := io.ReadFull(w.br, b[:]); err != nil {
				return nil, err
			}
			n = binary.BigEndian.Uint64(b[:])
		}
		var mask [4]byte
		masked := h[1]&0x80 != 0
		if masked {
			if _, err := io.ReadFull(w.br, mask[:]); err != nil {
				return nil, err
			}
		}
		if n > 256<<20 {
			return nil, fmt.Errorf("websocket frame of %d bytes", n)
		}
		p := make([]byte, n)
		if _, err := io.ReadFull(w.br, p); err != nil {
			return nil, err
		}
		if masked {
			for i := range p {
				p[i] ^= mask[i%4]
			}
		}
		switch op {
		case 0x8: // close
			return nil, io.EOF
		case 0x9: // ping
			if err := w.writeFrame(0xA, p); err != nil {
				return nil, err
			}
			continue
		case 0xA: // pong
			continue
		}
		msg = append(msg, p...)
		if fin {
			return msg, nil
		}
	}
}

func (w *wsConn) close() {
	w.writeFrame(0x8, nil)
	w.c.Close()
}

// cdpEvent is one protocol event.
type cdpEvent struct {
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
}

// cdp is a DevTools session on one page target.
type cdp struct {
	ws      *wsConn
	mu      sync.Mutex
	next    int
	pending map[int]chan cdpReply
	events  []cdpEvent
	changed chan struct{} // closed and replaced whenever an event arrives
	done    chan struct{}
	err     error
}

type cdpReply struct {
	Result json.RawMessage
	Err    error
}

func newCDP(ws *wsConn) *cdp {
	c := &cdp{ws: ws, pending: map[int]chan cdpReply{}, changed: make(chan struct{}), done: make(chan struct{})}
	go c.read()
	return c
}

func (c *cdp) read() {
	defer close(c.done)
	for {
		b, err := c.ws.readMessage()
		if err != nil {
			c.mu.Lock()
			c.err = err
			for id, ch := range c.pending {
				ch <- cdpReply{Err: fmt.Errorf("connection closed: %w", err)}
				delete(c.pending, id)
			}
			c.mu.Unlock()
			return
		}
		var m struct {
			ID     int             `json:"id"`
			Result json.RawMessage `json:"result"`
			Error  *struct {
				Code    int    `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
			cdpEvent
		}
		if json.Unmarshal(b, &m) != nil {
			continue
		}
		c.mu.Lock()
		if m.ID != 0 {
			if ch, ok := c.pending[m.ID]; ok {
				r := cdpReply{Result: m.Result}
				if m.Error != nil {
					r.Err = fmt.Errorf("%d %s", m.Error.Code, m.Error.Message)
				}
				ch <- r
				delete(c.pending, m.ID)
			}
		} else if m.Method != "" {
			c.events = append(c.events, m.cdpEvent)
			close(c.changed)
			c.changed = make(chan struct{})
		}
		c.mu.Unlock()
	}
}

// call sends a command and waits for its result.
func (c *cdp) call(method string, params any) (json.RawMessage, error) {
	if params == nil {
		params = struct{}{}
	}
	ch := make(chan cdpReply, 1)
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return nil, c.err
	}
	c.next++
	id := c.next
	c.pending[id] = ch
	c.mu.Unlock()
	b, err := json.Marshal(map[string]any{"id": id, "method": method, "params": params})
	if err != nil {
		return nil, err
	}
	if err := c.ws.writeFrame(0x1, b); err != nil {
		return nil, err
	}
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, fmt.Errorf("%s: %w", method, r.Err)
		}
		return r.Result, nil
	case <-time.After(30 * time.Second):
		return nil, fmt.Errorf("%s: no answer in 30s", method)
	}
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
		case <-c.done:
			return 0, fmt.Errorf("waiting for %s: connection closed", method)
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
// dir, no network activity of its own (this machine has no network and a
// browser that tries floods the log), and the DevTools protocol on a
// loopback port it picks; it returns a session on its first page. The
// browser's whole process group is killed when the test ends.
func startChromium(t *testing.T, bin, dir string, width, height int) *cdp {
	t.Helper()
	profile := filepath.Join(dir, "profile")
	args := []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-quic", "--disable-extensions", "--disable-default-apps", "--no-first-run",
		"--no-default-browser-check", "--mute-audio", "--hide-scrollbars",
		"--user-data-dir=" + profile, "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1",
		"--window-size=" + strconv.Itoa(width) + "," + strconv.Itoa(height),
		"about:blank",
	}
	cmd := exec.Command(bin, args...)
	stderr := &testutil.SyncBuffer{}
	cmd.Stdout, cmd.Stderr = io.Discard, stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			t.Logf("chromium (pid %d) did not exit after SIGKILL", cmd.Process.Pid)
		}
	})
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("%s\nchromium's stderr:\n%s", fmt.Sprintf(format, args...), tail(stderr.String(), 4000))
	}

	// Chromium writes the port it picked to DevToolsActivePort.
	var port string
	deadline := time.Now().Add(30 * time.Second)
	for {
		b, err := os.ReadFile(filepath.Join(profile, "DevToolsActivePort"))
		if err == nil {
			if p, _, ok := strings.Cut(string(b), "\n"); ok && p != "" {
				port = p
				break
			}
		}
		select {
		case <-exited:
			fail("chromium exited before it opened its DevTools port")
		default:
		}
		if time.Now().After(deadline) {
			fail("chromium wrote no DevToolsActivePort in 30s")
		}
		time.Sleep(50 * time.Millisecond)
	}

	// The page target's WebSocket address, from the loopback HTTP endpoint.
	var targets []struct {
		Type, URL, WebSocketDebuggerURL string
	}
	for start := time.Now(); ; {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://127.0.0.1:"+port+"/json/list", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			err = json.NewDecoder(resp.Body).Decode(&targets)
			resp.Body.Close()
		}
		cancel()
		if err != nil && time.Since(start) > 10*time.Second {
			fail("listing DevTools targets: %v", err)
		}
		for _, tg := range targets {
			if tg.Type == "page" && tg.WebSocketDebuggerURL != "" {
				ws, err := dialWS(tg.WebSocketDebuggerURL)
				if err != nil {
					fail("connecting to the page: %v", err)
				}
				c := newCDP(ws)
				t.Cleanup(ws.close)
				return c
			}
		}
		if time.Since(start) > 10*time.Second {
			fail("no page target among %d", len(targets))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}
