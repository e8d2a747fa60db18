package collect

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// The content types of the Management Activity API ("Office 365
// Management Activity API reference", Working with the API). DLP.All
// needs the extra "Read DLP sensitive data" permission, so it is not a
// default.
var (
	ContentTypes        = []string{"Audit.AzureActiveDirectory", "Audit.Exchange", "Audit.SharePoint", "Audit.General", "DLP.All"}
	DefaultContentTypes = []string{"Audit.AzureActiveDirectory", "Audit.Exchange", "Audit.SharePoint", "Audit.General"}
)

// CheckContentType validates a --content-types value.
func CheckContentType(ct string) error {
	for _, c := range ContentTypes {
		if c == ct {
			return nil
		}
	}
	return fmt.Errorf("unknown content type %q (want one of %s)", ct, strings.Join(ContentTypes, ", "))
}

// The API's limits on listing content: "Both [startTime and endTime] must
// be specified (or both omitted) and they must be no more than 24 hours
// apart, with the start time no more than 7 days in the past" (reference,
// List available content). A wider request answers AF20030 (documented)
// or AF20055 (seen in practice).
const (
	MaxWindow = 24 * time.Hour
	Retention = 7 * 24 * time.Hour
	// retentionMargin keeps a planned start clear of the 7-day edge, which
	// moves while a long run works through its windows.
	retentionMargin = 10 * time.Minute
)

// apiTime is the listing's datetime form (YYYY-MM-DDTHH:MM:SS, UTC).
const apiTime = "2006-01-02T15:04:05"

// contentItem is one entry of a content listing.
type contentItem struct {
	ContentType       string `json:"contentType"`
	ContentID         string `json:"contentId"`
	ContentURI        string `json:"contentUri"`
	ContentCreated    string `json:"contentCreated"`
	ContentExpiration string `json:"contentExpiration"`
}

func (it contentItem) created() time.Time {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", apiTime} {
		if t, err := time.Parse(layout, it.ContentCreated); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// manageClient speaks the Management Activity API for one tenant.
type manageClient struct {
	c    *client
	auth *tokenSource
	base string // ManageURL
	root string // {base}/api/v1.0/{tenant}/activity/feed
	pub  string // PublisherIdentifier
}

func newManageClient(c *client, auth *tokenSource, manageURL, tenant, publisher string) *manageClient {
	return &manageClient{
		c: c, auth: auth, base: manageURL, pub: publisher,
		root: manageURL + "/api/v1.0/" + url.PathEscape(tenant) + "/activity/feed",
	}
}

// withPublisher adds PublisherIdentifier to a URL unless it is there:
// "Make sure this parameter is specified in all issued requests to get a
// dedicated quota" (reference), including the GET of a contentUri
// (troubleshooting guide, "Requesting content blobs and throttling").
func (m *manageClient) withPublisher(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || m.pub == "" {
		return raw
	}
	q := u.Query()
	for k := range q {
		if strings.EqualFold(k, "PublisherIdentifier") {
			return raw
		}
	}
	sep := "?"
	if u.RawQuery != "" {
		sep = "&"
	}
	return raw + sep + "PublisherIdentifier=" + url.QueryEscape(m.pub)
}

func (m *manageClient) get(ctx context.Context, raw, name string) (*response, error) {
	if !sameOrigin(m.base, raw) {
		return nil, fmt.Errorf("%s: refusing to send the access token to %s, which is not the Management API endpoint %s", name, originOf(raw), m.base)
	}
	return m.c.do(ctx, &request{method: "GET", url: m.withPublisher(raw), name: name, auth: m.auth})
}

func originOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "an unparsable URL"
	}
	return u.Scheme + "://" + u.Host
}

type subscription struct {
	ContentType string `json:"contentType"`
	Status      string `json:"status"`
}

// subscriptions lists the tenant's subscriptions (GET subscriptions/list).
func (m *manageClient) subscriptions(ctx context.Context) ([]subscription, error) {
	resp, err := m.get(ctx, m.root+"/subscriptions/list", "listing subscriptions")
	if err != nil {
		return nil, err
	}
	if resp.status != 200 {
		return nil, fmt.Errorf("listing subscriptions: %w", apiError(resp))
	}
	var subs []subscription
	if err := json.Unmarshal(resp.body, &subs); err != nil {
		return nil, fmt.Errorf("listing subscriptions: unreadable answer: %w", err)
	}
	return subs, nil
}

// start starts the subscription to one content type (POST
// subscriptions/start). An already enabled subscription (AF20024) is
// success.
func (m *manageClient) start(ctx context.Context, ct string) error {
	raw := m.withPublisher(m.root + "/subscriptions/start?contentType=" + url.QueryEscape(ct))
	resp, err := m.c.do(ctx, &request{method: "POST", url: raw, name: "starting the " + ct + " subscription", auth: m.auth,
		header: map[string]string{"Content-Type": "application/json; charset=utf-8"}, body: []byte("{}")})
	if err != nil {
		return err
	}
	if resp.status == 200 || resp.status == 201 {
		return nil
	}
	if e := apiError(resp); e.Code == "AF20024" {
		return nil
	} else {
		return fmt.Errorf("starting the %s subscription: %w", ct, e)
	}
}

// list lists the content of one window, following NextPageUri until an
// answer comes without it (reference, List available content,
// Pagination). fn gets each page.
func (m *manageClient) list(ctx context.Context, ct string, start, end time.Time, fn func([]contentItem) error) error {
	q := url.Values{}
	q.Set("contentType", ct)
	q.Set("startTime", start.UTC().Format(apiTime))
	q.Set("endTime", end.UTC().Format(apiTime))
	next := m.root + "/subscriptions/content?" + q.Encode()
	name := fmt.Sprintf("listing %s content %s..%s", ct, start.UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339))
	seen := map[string]bool{}
	for page := 1; next != ""; page++ {
		if page > 100000 {
			return fmt.Errorf("%s: more than 100000 pages; the NextPageUri chain does not end", name)
		}
		resp, err := m.get(ctx, next, name)
		if err != nil {
			return err
		}
		if resp.status != 200 {
			return fmt.Errorf("%s: %w", name, apiError(resp))
		}
		var items []contentItem
		if err := json.Unmarshal(resp.body, &items); err != nil {
			return fmt.Errorf("%s: unreadable page %d: %w", name, page, err)
		}
		if err := fn(items); err != nil {
			return err
		}
		next = resp.header.Get("NextPageUri")
		if next != "" {
			if seen[next] {
				return fmt.Errorf("%s: NextPageUri repeats a page", name)
			}
			seen[next] = true
		}
	}
	return nil
}

// Content errors that end a blob's story without failing the run.
var (
	errExpired   = errors.New("content expired")
	errMalformed = errors.New("malformed content")
)

// fetch gets one content blob's body. AF20051 (expired) and AF20050 (does
// not exist) come back as errExpired: the content is gone for good.
func (m *manageClient) fetch(ctx context.Context, it contentItem) ([]byte, error) {
	name := "fetching " + it.ContentType + " content " + it.ContentID
	resp, err := m.get(ctx, it.ContentURI, name)
	if err != nil {
		return nil, err
	}
	if resp.status == 200 {
		return resp.body, nil
	}
	e := apiError(resp)
	if e.Code == "AF20051" || e.Code == "AF20050" {
		return nil, fmt.Errorf("%w: %s", errExpired, e)
	}
	return nil, fmt.Errorf("%s: %w", name, e)
}
