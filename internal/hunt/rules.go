package hunt

import (
	"strconv"

	"github.com/outsider-sec/outsider/internal/audit"
)

// The lists below are the ones of docs/rules.md; TestRulesMatchDocs checks
// them against that page so the queries cannot drift from the engine.
// The operations that count as opening shared content and the sharing
// operations come from package audit itself, the engine's own lists.

// signinOps are the sign-in operations ("Sign-in record").
var signinOps = []string{"UserLoggedIn", "UserLoginFailed"}

// interruptCodes are the AADSTS codes of an interrupted sign-in: an extra
// step the user still had to take ("Outcome"), and interruptNames their
// names, which decide when a UAL record has a LogonError and no
// ErrorNumber. Both come from the engine's own table (audit.Interrupts).
var (
	interruptCodes = audit.InterruptCodes()
	interruptNames = audit.InterruptNames()
)

// unusableUsers name nobody ("Canonical user"); the engine also treats
// "none" and "-" so (audit.Canonical).
var unusableUsers = []string{"", "unknown", "not available", "n/a", "null", "none", "-"}

// consumerDomains are personal Microsoft account domains ("Classify" 5).
var consumerDomains = []string{"hotmail.com", "live.com", "msn.com", "outlook.com", "passport.com"}

// consumerTenant is the home tenant of personal Microsoft accounts.
const consumerTenant = "9188040d-6c67-4c5b-b112-36a304b66dad"

// openingWorkloads are the workloads where an access operation is
// "opening shared content".
var openingWorkloads = []string{"OneDrive", "SharePoint"}

// mailboxOps and mailboxRecordTypes are "mailbox access".
var (
	mailboxOps         = []string{"MailItemsAccessed", "MailboxLogin", "Send", "SendAs", "SendOnBehalf"}
	mailboxRecordTypes = []recordType{{2, "ExchangeItem"}, {3, "ExchangeItemGroup"}, {50, "ExchangeItemAggregated"}}
)

// adminOps and adminRecordTypes are "admin operation".
var (
	adminOps         = []string{"SiteCollectionAdminAdded", "SiteCollectionAdminRemoved"}
	adminRecordTypes = []recordType{{1, "ExchangeAdmin"}, {8, "AzureActiveDirectory"}, {18, "SecurityComplianceCenterEOPCmdlet"}}
)

// recordType is a UAL RecordType: raw records carry the number, Sentinel's
// OfficeActivity and Search-UnifiedAuditLog the name, so queries test both.
type recordType struct {
	n    int
	name string
}

// accessOps are the operations that open shared content (with the
// workload test above); sharingOps name a sharing target (H).
func accessOps() []string  { return audit.AccessOps() }
func sharingOps() []string { return audit.SharingOps() }

// recordTypeValues lists both spellings of each record type, numbers
// first, as strings.
func recordTypeValues(rts []recordType) []string {
	var out []string
	for _, rt := range rts {
		out = append(out, strconv.Itoa(rt.n))
	}
	for _, rt := range rts {
		out = append(out, rt.name)
	}
	return out
}
