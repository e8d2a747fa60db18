package collect

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// graphClient reads Entra ID sign-ins from Microsoft Graph.
type graphClient struct {
	c    *client
	auth *tokenSource
	base string // GraphURL
}

// graphTick writes a time to Graph's 100-ns precision.
const graphTick = "2006-01-02T15:04:05.0000000Z07:00"

// graphPage is one page of a Graph collection.
type graphPage struct {
	Value    []json.RawMessage `json:"value"`
	NextLink string            `json:"@odata.nextLink"`
}

// signIns lists the sign-ins created in [start, end) ("List signIns":
// GET /v1.0/auditLogs/signIns, $filter on createdDateTime, pages of at most
// 1,000 followed through @odata.nextLink). The Prefer header
// include-unknown-enum-members makes Graph return crossTenantAccessType
// "passthrough", which it otherwise hides behind unknownFutureValue: the
// very value that marks an outside account's pass-through sign-in.
func (g *graphClient) signIns(ctx context.Context, start, end time.Time, fn func([]json.RawMessage) error) error {
	// "List signIns" documents ge, le and eq on createdDateTime (lt works
	// in practice but is not documented): [start, end) is asked for as ge
	// start and le the last 100-ns tick before end, the precision Graph
	// gives createdDateTime (2020-03-13T19:15:41.6195833Z in the page's
	// example), so a sign-in at exactly end falls in the next hour only.
	// https://learn.microsoft.com/graph/api/signin-list
	filter := fmt.Sprintf("createdDateTime ge %s and createdDateTime le %s",
		start.UTC().Format(time.RFC3339), end.Add(-100*time.Nanosecond).UTC().Format(graphTick))
	// Spaces as %20: in an OData query a '+' is not a space.
	next := g.base + "/v1.0/auditLogs/signIns?$filter=" + strings.ReplaceAll(url.QueryEscape(filter), "+", "%20") + "&$top=1000"
	name := fmt.Sprintf("listing sign-ins %s..%s", start.UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339))
	seen := map[string]bool{}
	for next != "" {
		if !sameOrigin(g.base, next) {
			return fmt.Errorf("%s: refusing to send the access token to %s, which is not the Graph endpoint %s", name, originOf(next), g.base)
		}
		resp, err := g.c.do(ctx, &request{method: "GET", url: next, name: name, auth: g.auth,
			header: map[string]string{"Prefer": "include-unknown-enum-members", "Accept": "application/json"}})
		if err != nil {
			return err
		}
		if resp.status != 200 {
			return fmt.Errorf("%s: %w", name, apiError(resp))
		}
		var p graphPage
		if err := json.Unmarshal(resp.body, &p); err != nil {
			return fmt.Errorf("%s: unreadable page: %w", name, err)
		}
		if err := fn(p.Value); err != nil {
			return err
		}
		next = p.NextLink
		if seen[next] {
			return fmt.Errorf("%s: @odata.nextLink repeats a page", name)
		}
		seen[next] = true
	}
	return nil
}
