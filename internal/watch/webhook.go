package watch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/outsider-sec/outsider/internal/collect"
	"github.com/outsider-sec/outsider/internal/state"
	"github.com/outsider-sec/outsider/internal/textsafe"
)

// Webhook POSTs findings (the JSON line as the body) to a URL. Its URL is
// treated as a secret, since chat and automation webhooks carry their
// token in it: it is never printed; errors say "webhook" and the status.
type Webhook struct {
	url    string
	Client *http.Client
	// Attempts per delivery within a cycle (default 3), with backoff from
	// Base (default 1 s), honouring Retry-After. A finding still not
	// delivered is tried again next cycle, up to Rounds cycles (default
	// 10).
	Attempts int
	Base     time.Duration
	Rounds   int
	// Sleep waits (tests replace it).
	Sleep func(context.Context, time.Duration) error
}

// NewWebhook checks the URL: https, or http to a loopback address only
// (findings name people and addresses; they do not cross a network in
// clear).
func NewWebhook(raw string) (*Webhook, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return nil, errors.New("webhook: not an absolute URL")
	}
	switch u.Scheme {
	case "https":
	case "http":
		ip := net.ParseIP(u.Hostname())
		if u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return nil, errors.New("webhook: plain http is allowed only to a loopback address; use https")
		}
	default:
		return nil, errors.New("webhook: want an https URL")
	}
	return &Webhook{url: raw}, nil
}

func (h *Webhook) defaults() {
	if h.Client == nil {
		h.Client = &http.Client{Timeout: 30 * time.Second}
	}
	if h.Attempts <= 0 {
		h.Attempts = 3
	}
	if h.Base <= 0 {
		h.Base = time.Second
	}
	if h.Rounds <= 0 {
		h.Rounds = 10
	}
	if h.Sleep == nil {
		h.Sleep = collect.Sleep
	}
}

// deliverPending POSTs every finding the webhook has not accepted yet.
func (h *Webhook) deliverPending(ctx context.Context, st *state.DB, log io.Writer, cyc *Cycle) {
	h.defaults()
	pending, err := st.Undelivered(ctx, h.Rounds)
	if err != nil {
		fmt.Fprintf(log, "outsider: watch: webhook: %s\n", textsafe.Line(err.Error()))
		return
	}
	for _, f := range pending {
		err := h.post(ctx, []byte(f.Body))
		if ctx.Err() != nil {
			return
		}
		if err := st.MarkDelivery(ctx, f.ID, err == nil); err != nil {
			fmt.Fprintf(log, "outsider: watch: webhook: %v\n", err)
			return
		}
		if err != nil {
			cyc.Failed++
			left := h.Rounds - f.Attempts - 1
			fmt.Fprintf(log, "outsider: watch: webhook: finding %d (%s) not delivered: %s; %s will try\n", f.ID, textsafe.Line(f.User), textsafe.Line(err.Error()), nouns(max(left, 0), "more cycle", "more cycles"))
			continue
		}
		cyc.Delivered++
	}
}

// post sends one body with retries on network errors, 429 and 5xx.
func (h *Webhook) post(ctx context.Context, body []byte) error {
	var last error
	for attempt := 0; attempt < h.Attempts; attempt++ {
		if attempt > 0 {
			d := h.Base << (attempt - 1)
			d = d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
			if ra, ok := retryAfter(last); ok && ra > d {
				d = min(ra, 5*time.Minute)
			}
			if err := h.Sleep(ctx, d); err != nil {
				return err
			}
		}
		req, err := http.NewRequestWithContext(ctx, "POST", h.url, bytes.NewReader(body))
		if err != nil {
			return errors.New("webhook: bad request")
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", "outsider-watch")
		resp, err := h.Client.Do(req)
		if err != nil {
			// The error text of net/http holds the URL: keep only why.
			last = errors.New("webhook: " + netReason(err))
			continue
		}
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			return nil
		}
		last = &statusError{code: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After")}
		if resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode < 500 {
			return last // a 4xx will not get better by asking again
		}
	}
	return last
}

type statusError struct {
	code       int
	retryAfter string
}

func (e *statusError) Error() string { return fmt.Sprintf("webhook answered HTTP %d", e.code) }

func retryAfter(err error) (time.Duration, bool) {
	var se *statusError
	if !errors.As(err, &se) || se.retryAfter == "" {
		return 0, false
	}
	if n, err := strconv.Atoi(se.retryAfter); err == nil && n >= 0 {
		return time.Duration(n) * time.Second, true
	}
	return 0, false
}

func netReason(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timeout"
	}
	return err.Error()
}
