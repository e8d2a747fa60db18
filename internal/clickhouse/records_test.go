package clickhouse

import "github.com/outsider-sec/outsider/internal/testutil"

// Hand-written records for tests that need a precise situation come from
// internal/testutil, the same builders internal/triage's tests use.

const (
	ourTenant     = testutil.OurTenant
	fabrikam      = testutil.Fabrikam
	sharePointApp = testutil.SharePointApp
)

// rec is the shared hand-written record.
type rec = testutil.Rec
