package audit

import (
	"maps"
	"slices"
)

// Outcome is the result of a sign-in record. UserLoggedIn alone is not
// proof of success: the record can carry an error or an intermediate step
// (docs/rules.md "Outcome").
type Outcome uint8

// Sign-in outcomes.
const (
	NotSignin Outcome = iota
	Success
	Interrupted
	Failure
)

func (o Outcome) String() string {
	switch o {
	case Success:
		return "success"
	case Interrupted:
		return "interrupted"
	case Failure:
		return "failure"
	}
	return "not-signin"
}

// Outcome classifies the event as a sign-in outcome, or NotSignin.
//
// The AADSTS code decides, whatever the operation: the UAL writes the
// same codes as the sign-in log (ErrorNumber, LogonError its name), so
// one sign-in gets one outcome in both logs whichever operation the UAL
// recorded it under. An interrupt code (Interrupts) is Interrupted, any other non-zero
// code a Failure. Without a code, a LogonError decides the same way by
// its name; without either, UserLoginFailed is a Failure and the status
// decides the rest: ResultStatusDetail Success (or none) is a Success,
// Redirect (UAL) or Interrupted (the Entra download's Status) is
// Interrupted, anything else a Failure.
func (e *Event) Outcome() Outcome {
	failed := false
	switch string(e.Operation) {
	case "UserLoggedIn", "SignIn":
		// An Entra sign-in log record is judged like UserLoggedIn: by its
		// error code, which the decoder puts in ErrorNumber.
	case "UserLoginFailed":
		failed = true
	default:
		return NotSignin
	}
	if errNo := e.ErrorNumber; len(errNo) > 0 && string(errNo) != "0" {
		if IsInterruptCode(errNo) {
			return Interrupted
		}
		return Failure
	}
	if len(e.LogonError) > 0 {
		if IsInterruptName(e.LogonError) {
			return Interrupted
		}
		return Failure
	}
	if failed {
		return Failure
	}
	switch string(e.ResultStatusDetail) {
	case "", "Success":
		return Success
	case "Redirect", "Interrupted":
		return Interrupted
	}
	return Failure
}

// Category groups operations the way the due diligence weighs them.
type Category uint8

// Categories, as bit flags so aggregates can OR them together.
const (
	// CatAccess is opening shared SharePoint/OneDrive content: what a
	// sharing invitation or link produces.
	CatAccess Category = 1 << iota
	// CatMailbox is mailbox access.
	CatMailbox
	// CatAdmin is an administrative operation.
	CatAdmin
	// CatSharing is a sharing operation that names a target.
	CatSharing
	// CatAnonLinkUsed is AnonymousLinkUsed.
	CatAnonLinkUsed
)

var accessOps = map[string]bool{
	"FileAccessed": true, "FileAccessedExtended": true, "FilePreviewed": true,
	"FileDownloaded": true, "FileSyncDownloadedFull": true, "FileSyncDownloadedPartial": true,
	"PageViewed": true, "PageViewedExtended": true, "ClientViewSignaled": true,
	"ListViewed": true, "ListItemViewed": true, "SecureLinkUsed": true,
	"AnonymousLinkUsed": true, "CompanyLinkUsed": true, "SharingInvitationAccepted": true,
	"AccessInvitationAccepted": true,
}

var sharingOps = map[string]bool{
	"SharingInvitationCreated": true, "SharingInvitationUpdated": true, "SharingSet": true,
	"AddedToSecureLink": true, "AddedToGroup": true, "AccessInvitationCreated": true,
	"AccessInvitationUpdated": true,
}

var mailboxOps = map[string]bool{
	"MailItemsAccessed": true, "MailboxLogin": true, "Send": true, "SendAs": true, "SendOnBehalf": true,
}

var adminOps = map[string]bool{
	"SiteCollectionAdminAdded": true, "SiteCollectionAdminRemoved": true,
}

// AccessOps lists, sorted, the operations that count as opening shared
// content, for documentation and explain.
func AccessOps() []string { return slices.Sorted(maps.Keys(accessOps)) }

// SharingOps lists, sorted, the sharing operations that name a target.
func SharingOps() []string { return slices.Sorted(maps.Keys(sharingOps)) }

// Categorize returns the categories of a non-sign-in record.
func (e *Event) Categorize() Category {
	// One lookup in a table built from the lists above, rather than one per
	// list: this runs for every record.
	cat := opCategories[string(e.Operation)]
	c := cat &^ (CatAccess | CatSharing)
	if cat&CatAccess != 0 && (string(e.Workload) == "SharePoint" || string(e.Workload) == "OneDrive") {
		c |= CatAccess
	}
	if cat&CatSharing != 0 && len(e.Target) > 0 {
		c |= CatSharing
	}
	switch e.RecordType {
	case 2, 3, 50:
		c |= CatMailbox
	case 1, 8, 18:
		c |= CatAdmin
	}
	return c
}

// opCategories maps an operation to the categories its name alone implies
// (CatAccess and CatSharing still depend on the workload and the target).
var opCategories = func() map[string]Category {
	m := map[string]Category{}
	for op := range accessOps {
		m[op] |= CatAccess
	}
	m["AnonymousLinkUsed"] |= CatAnonLinkUsed
	for op := range sharingOps {
		m[op] |= CatSharing
	}
	for op := range mailboxOps {
		m[op] |= CatMailbox
	}
	for op := range adminOps {
		m[op] |= CatAdmin
	}
	return m
}()
