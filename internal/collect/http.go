package collect

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Retry is the retry policy for throttling and transient faults.
type Retry struct {
	// Attempts is the most tries of one request (first included).
	Attempts int
	// Base is the first backoff step; each retry doubles it, up to Max.
	// The actual wait is drawn between half the step and the step
	// (jitter), so parallel workers that failed together do not retry
	// together.
	Base, Max time.Duration
	// MaxRetryAfter caps a server's Retry-After (a broken proxy could ask
	// for a day).
	MaxRetryAfter time.Duration
}

// DefaultRetry suits Microsoft's documented throttling: Retry-After on 429
// is honoured, and AF429 (the Management API's throttling, which arrives
// as HTTP 403) backs off exponentially from two seconds to two minutes.
var DefaultRetry = Retry{Attempts: 8, Base: 2 * time.Second, Max: 2 * time.Minute, MaxRetryAfter: 10 * time.Minute}

// maxBody caps one response held in memory: the largest content blobs are
// tens of MB; more than this is a broken or hostile server.
const maxBody = 512 << 20

// Stats count the HTTP traffic of a run; they are reported at the end.
type Stats struct {
	Requests  atomic.Int64
	Retries   atomic.Int64
	Throttled atomic.Int64
	Refreshed atomic.Int64 // tokens renewed after a 401
}

// client sends requests with retries. One client is shared by all workers
// of a run so that a throttling answer to one pauses them all.
type client struct {
	hc      *http.Client
	retry   Retry
	timeout time.Duration
	sleep   func(context.Context, time.Duration) error
	redact  func(string) string
	stats   *Stats

	// giveUpAfter bounds the time one request spends waiting between
	// retries (0: only retry.Attempts bounds it).
	giveUpAfter time.Duration
	// problems prints the first failure of each kind at once and counts
	// the rest (nil: silent).
	problems *problemLog
	// credErr ends every later token request of the run at once: a
	// refusal of the credentials themselves (a wrong secret, an unknown
	// app), which every scope would get too, or a token endpoint that
	// stayed unreachable through all retries. The next run asks again.
	credMu  sync.Mutex
	credErr error
	// legacyAssertion is set once the token endpoint took only the
	// RS256/x5t form of the client assertion (for the rest of the run).
	legacyAssertion atomic.Bool
	// tokenMu lets one token request out at a time, so a refusal of the
	// credentials is learnt before a second scope asks.
	tokenMu sync.Mutex

	mu         sync.Mutex
	pauseUntil time.Time
	rnd        *rand.Rand
}

// reachError is a request that got no HTTP answer: DNS, TCP, TLS, a
// proxy, a timeout.
type reachError struct {
	host   string
	reason string
}

func (e *reachError) Error() string { return e.reason }

// problemLog prints each kind of failure the first time it happens, with
// its cause and the retry it leads to, and only counts it after that, so
// that a network down for every source and hour is one line, not
// hundreds; Flush then prints the counts.
type problemLog struct {
	w      io.Writer
	redact func(string) string

	mu    sync.Mutex
	seen  map[string]*problem
	order []string
}

func newProblemLog(w io.Writer, redact func(string) string) *problemLog {
	return &problemLog{w: w, redact: redact, seen: map[string]*problem{}}
}

type problem struct {
	msg    string
	n      int // occurrences
	gaveUp int // requests that gave up on it
}

// note records one occurrence of the failure key (described by msg) and
// prints it with what follows (then) the first time, and again the first
// time a request gives up on it.
func (p *problemLog) note(key, msg, then string, gaveUp bool) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	pr, ok := p.seen[key]
	if !ok {
		pr = &problem{msg: msg}
		p.seen[key] = pr
		p.order = append(p.order, key)
	}
	pr.n++
	if gaveUp {
		pr.gaveUp++
	}
	if !ok || (gaveUp && pr.gaveUp == 1) {
		fmt.Fprintf(p.w, "outsider: %s; %s\n", p.redact(msg), then)
	}
}

// Flush prints, for each failure that happened more than once, how often.
func (p *problemLog) Flush() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, k := range p.order {
		pr := p.seen[k]
		if pr.n <= 1 {
			continue
		}
		line := fmt.Sprintf("outsider: %s: %d times in all", p.redact(pr.msg), pr.n)
		if pr.gaveUp > 0 {
			line += ", " + nouns(int(pr.gaveUp), "request", "requests") + " gave up"
		}
		fmt.Fprintln(p.w, line)
	}
	p.seen, p.order = map[string]*problem{}, nil
}

// hostOf is the host a URL names, for messages.
func hostOf(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.Host != "" {
		return u.Host
	}
	return "the server"
}

// request is one HTTP call. name stands for it in errors (URLs are shown
// where they hold nothing secret; the webhook's URL is never shown).
type request struct {
	method string
	url    string
	name   string
	header map[string]string
	body   []byte
	auth   *tokenSource
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// APIError is an error answer of a Microsoft API: the Management API's
// and Graph's {"error":{"code":"AF20051","message":"..."}}.
type APIError struct {
	Status  int
	Code    string
	Message string
}

func (e *APIError) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("HTTP %d", e.Status)
	}
	return fmt.Sprintf("HTTP %d %s: %s", e.Status, e.Code, e.Message)
}

func apiError(r *response) *APIError {
	e := &APIError{Status: r.status}
	var body struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(r.body, &body) == nil {
		e.Code, e.Message = body.Error.Code, body.Error.Message
	}
	if len(e.Message) > 300 {
		e.Message = e.Message[:300] + "…"
	}
	return e
}

// retryable says whether an answer is worth retrying and how long the
// server asked to wait (0: not said).
func retryable(r *response) (bool, time.Duration, string) {
	ra := parseRetryAfter(r.header.Get("Retry-After"), time.Now())
	switch {
	case r.status == http.StatusTooManyRequests:
		return true, ra, "throttled (429)"
	case r.status == http.StatusForbidden && bytes.Contains(r.body, []byte("AF429")):
		// "Response Code 403: {'error':{'code':'AF429','message':'Too many
		// requests...'}}" (Troubleshooting the Office 365 Management
		// Activity API, "Requesting content blobs and throttling").
		return true, ra, "throttled (AF429)"
	case r.status >= 500:
		return true, ra, fmt.Sprintf("server error %d", r.status)
	}
	return false, 0, ""
}

// parseRetryAfter reads delay-seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// backoff is the wait before retry number n (0-based): exponential with
// jitter, or what the server asked for (never less).
func (c *client) backoff(n int, retryAfter time.Duration) time.Duration {
	step := c.retry.Base << min(n, 30)
	if step > c.retry.Max || step <= 0 {
		step = c.retry.Max
	}
	c.mu.Lock()
	d := step/2 + time.Duration(c.rnd.Int64N(int64(step/2)+1))
	c.mu.Unlock()
	if retryAfter > 0 {
		if retryAfter > c.retry.MaxRetryAfter {
			retryAfter = c.retry.MaxRetryAfter
		}
		d = max(d, retryAfter)
	}
	return d
}

// pause makes every request of this client wait until d from now: a
// throttled answer means the tenant's quota is spent, for all workers.
// It runs on the real clock, not Config.Now (which tests may freeze).
func (c *client) pause(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t := time.Now().Add(d); t.After(c.pauseUntil) {
		c.pauseUntil = t
	}
}

func (c *client) waitPause(ctx context.Context) error {
	c.mu.Lock()
	d := time.Until(c.pauseUntil)
	c.mu.Unlock()
	if d <= 0 {
		return nil
	}
	return c.sleep(ctx, d)
}

// do sends r, retrying throttling (429, AF429 in a 403), server errors,
// timeouts and broken connections with backoff; on a 401 it renews the
// token once. Other answers, errors included, are returned to the caller.
func (c *client) do(ctx context.Context, r *request) (*response, error) {
	var last error
	refreshed := false
	var waited time.Duration // between attempts of this request
	// retry waits d before the next attempt, unless that is the last
	// attempt or passes giveUpAfter; key and msg name the failure for the
	// problem log. It returns false when the request gives up.
	retry := func(attempt int, d time.Duration, key, msg string) bool {
		left := c.retry.Attempts - 1 - attempt
		if left <= 0 || (c.giveUpAfter > 0 && waited+d > c.giveUpAfter) {
			c.problems.note(key, msg, fmt.Sprintf("giving up after %d attempts", attempt+1), true)
			return false
		}
		waited += d
		c.problems.note(key, msg, fmt.Sprintf("retrying (%d/%d) in %s", attempt+1, c.retry.Attempts-1, d.Round(100*time.Millisecond)), false)
		return true
	}
	giveUp := func(attempts int) error {
		how := fmt.Sprintf("%d attempts", attempts)
		if waited > 0 {
			how += " over " + waited.Round(time.Second).String()
		}
		return fmt.Errorf("%s: gave up after %s: %s", r.name, how, c.redact(strings.TrimPrefix(errString(last), r.name+": ")))
	}
	for attempt := 0; attempt < c.retry.Attempts; attempt++ {
		if attempt > 0 {
			c.stats.Retries.Add(1)
		}
		if err := c.waitPause(ctx); err != nil {
			return nil, err
		}
		resp, tok, err := c.once(ctx, r)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if errors.Is(err, errNotRetryable) {
				return nil, err
			}
			last = err
			key, msg := "error "+err.Error(), err.Error()
			var re *reachError
			if errors.As(err, &re) {
				key, msg = "reach "+re.host+" "+re.reason, "cannot reach "+re.host+": "+re.reason
			}
			d := c.backoff(attempt, 0)
			if !retry(attempt, d, key, msg) {
				return nil, giveUp(attempt + 1)
			}
			if err := c.sleep(ctx, d); err != nil {
				return nil, err
			}
			continue
		}
		if resp.status == http.StatusUnauthorized && r.auth != nil && !refreshed {
			// The token expired early or was revoked: renew it once.
			refreshed = true
			c.stats.Refreshed.Add(1)
			r.auth.Invalidate(tok)
			last = apiError(resp)
			continue
		}
		ok, ra, why := retryable(resp)
		if !ok {
			return resp, nil
		}
		if strings.HasPrefix(why, "throttled") {
			c.stats.Throttled.Add(1)
		}
		ae := apiError(resp)
		last = fmt.Errorf("%s: %w", why, ae)
		d := c.backoff(attempt, ra)
		host := hostOf(r.url)
		if !retry(attempt, d, fmt.Sprintf("answer %s %d %s", host, ae.Status, ae.Code), host+" answered "+ae.Error()) {
			return nil, giveUp(attempt + 1)
		}
		if resp.status == http.StatusTooManyRequests || resp.status == http.StatusForbidden {
			c.pause(d)
			d = 0 // waitPause sleeps it
		}
		if err := c.sleep(ctx, d); err != nil {
			return nil, err
		}
	}
	return nil, giveUp(c.retry.Attempts)
}

var errNotRetryable = errors.New("not retryable")

// notRetryable marks err as not worth retrying without saying so in its
// text: the person reading it wants the cause, not the mechanism.
type notRetryable struct{ err error }

func (e notRetryable) Error() string        { return e.err.Error() }
func (e notRetryable) Unwrap() error        { return e.err }
func (e notRetryable) Is(target error) bool { return target == errNotRetryable }

func errString(err error) string {
	if err == nil {
		return "no answer"
	}
	return err.Error()
}

// once sends one attempt under the per-request timeout, reading the whole
// body (a body cut short is a transport error, retried, never a
// malformed blob).
func (c *client) once(ctx context.Context, r *request) (*response, string, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, r.url, body)
	if err != nil {
		return nil, "", notRetryable{fmt.Errorf("%s: %w", r.name, err)}
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	req.Header.Set("User-Agent", "outsider-collect")
	var tok string
	if r.auth != nil {
		if tok, err = r.auth.Token(ctx); err != nil {
			if ctx.Err() != nil && !errors.Is(err, context.Canceled) {
				return nil, "", fmt.Errorf("%s: token: timeout", r.name)
			}
			return nil, "", notRetryable{err}
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	// Counted here, once sent: a request that never got its token was
	// not made.
	c.stats.Requests.Add(1)
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", r.name, &reachError{host: req.URL.Host, reason: c.redact(transportReason(err))})
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, "", fmt.Errorf("%s: reading the response: %s", r.name, c.redact(transportReason(err)))
	}
	if len(b) > maxBody {
		return nil, "", notRetryable{fmt.Errorf("%s: response larger than %d MB", r.name, maxBody>>20)}
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: b}, tok, nil
}

// transportReason names a transport failure without the URL (the caller
// names the request).
func transportReason(err error) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return "timeout"
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "connection closed before the response was complete"
	}
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) && ue.Unwrap() != nil {
		return ue.Unwrap().Error()
	}
	return err.Error()
}

// Sleep waits d or until ctx is done, and then returns ctx's error: the
// real clock's wait, Config.Sleep's default, and the one watch's webhook
// retries use.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
