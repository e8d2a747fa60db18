package explain

import (
	"fmt"
	"strings"

	"github.com/outsider-sec/outsider/internal/apps"
	"github.com/outsider-sec/outsider/internal/audit"
	"github.com/outsider-sec/outsider/internal/textsafe"
)

// opMeanings says in one sentence what common operations mean. They are
// the operations an outside account's trail is made of: sign-ins, opening
// and sharing SharePoint/OneDrive content, mailbox access and the admin
// changes an intruder makes.
var opMeanings = map[string]string{
	"UserLoggedIn":    "Entra ID recorded a sign-in step for the account; by itself not proof that the sign-in succeeded.",
	"UserLoginFailed": "Entra ID recorded a sign-in that did not complete: a failure, or, when its error number is an interrupt, a step Entra asked for.",

	"FileAccessed":              "Someone opened a file.",
	"FileAccessedExtended":      "Someone kept a file open (a repeat of FileAccessed).",
	"FilePreviewed":             "Someone previewed a file in the browser.",
	"FileDownloaded":            "Someone downloaded a file.",
	"FileModified":              "Someone changed a file.",
	"FileModifiedExtended":      "Someone kept changing a file (a repeat of FileModified).",
	"FileUploaded":              "Someone uploaded a file.",
	"FileDeleted":               "Someone deleted a file.",
	"FileCopied":                "Someone copied a file.",
	"FileMoved":                 "Someone moved a file.",
	"FileRenamed":               "Someone renamed a file.",
	"FileSyncDownloadedFull":    "A sync client (OneDrive) downloaded a whole file.",
	"FileSyncDownloadedPartial": "A sync client (OneDrive) downloaded part of a file.",
	"FileSyncUploadedFull":      "A sync client (OneDrive) uploaded a whole file.",
	"PageViewed":                "Someone viewed a SharePoint page.",
	"PageViewedExtended":        "Someone kept viewing a SharePoint page (a repeat of PageViewed).",
	"ClientViewSignaled":        "A client reported that a page was viewed.",
	"ListViewed":                "Someone viewed a SharePoint list.",
	"ListItemViewed":            "Someone viewed an item of a SharePoint list.",
	"SearchQueryPerformed":      "Someone searched SharePoint.",

	"SharingInvitationCreated":  "Someone invited a person to a site or item (a sharing invitation).",
	"SharingInvitationUpdated":  "Someone changed a sharing invitation.",
	"SharingInvitationAccepted": "A person accepted a sharing invitation.",
	"SharingInvitationRevoked":  "Someone revoked a sharing invitation.",
	"SharingSet":                "Someone gave a user or group access to an item (sharing permissions changed).",
	"SharingRevoked":            "Someone took away a user's or group's access to an item.",
	"SharingInheritanceBroken":  "An item got its own permissions, separate from its folder or site.",
	"AddedToSecureLink":         "Someone added a person to a secure sharing link (a link only named people can use).",
	"RemovedFromSecureLink":     "Someone removed a person from a secure sharing link.",
	"SecureLinkCreated":         "Someone created a secure sharing link (a link only named people can use).",
	"SecureLinkUsed":            "A person used a secure sharing link.",
	"SecureLinkDeleted":         "Someone deleted a secure sharing link.",
	"AnonymousLinkCreated":      "Someone created an \"Anyone\" link: whoever has it can open the item without signing in.",
	"AnonymousLinkUpdated":      "Someone changed an \"Anyone\" link.",
	"AnonymousLinkUsed":         "Someone opened an item through an \"Anyone\" link, without signing in.",
	"AnonymousLinkRemoved":      "Someone removed an \"Anyone\" link.",
	"CompanyLinkCreated":        "Someone created a link anyone in the organisation can use.",
	"CompanyLinkUsed":           "Someone in the organisation used an organisation-wide link.",
	"AddedToGroup":              "Someone added a user to a SharePoint group, giving access to the site.",
	"RemovedFromGroup":          "Someone removed a user from a SharePoint group.",
	"AccessInvitationCreated":   "Someone invited a person to a SharePoint site or item.",
	"AccessInvitationUpdated":   "Someone changed an access invitation.",
	"AccessInvitationAccepted":  "A person accepted an access invitation.",
	"AccessRequestCreated":      "A person asked for access to a site or item.",

	"SiteCollectionAdminAdded":   "Someone made a user an administrator of a SharePoint site collection.",
	"SiteCollectionAdminRemoved": "Someone removed a site collection administrator.",

	"MailItemsAccessed":       "Mail was read or synchronised: a mailbox was accessed.",
	"MailboxLogin":            "Someone signed in to a mailbox.",
	"Send":                    "Someone sent a message.",
	"SendAs":                  "Someone sent a message as another mailbox.",
	"SendOnBehalf":            "Someone sent a message on behalf of another mailbox.",
	"Create":                  "Someone created an item in a mailbox.",
	"Update":                  "Someone changed an item in a mailbox.",
	"MoveToDeletedItems":      "Someone moved a message to Deleted Items.",
	"SoftDelete":              "Someone deleted a message (recoverable).",
	"HardDelete":              "Someone purged a message.",
	"New-InboxRule":           "Someone created an inbox rule; rules that forward or hide mail are a common intruder step.",
	"Set-InboxRule":           "Someone changed an inbox rule.",
	"UpdateInboxRules":        "Someone changed inbox rules from a mail client.",
	"Set-Mailbox":             "Someone changed mailbox settings (forwarding, auditing and more).",
	"Add-MailboxPermission":   "Someone gave an account access to another mailbox.",
	"Add-RecipientPermission": "Someone gave an account the right to send as another mailbox.",

	"Add user.":                              "Someone created a user in the directory.",
	"Update user.":                           "Someone changed a user in the directory.",
	"Delete user.":                           "Someone deleted a user from the directory.",
	"Add member to role.":                    "Someone gave an account a directory role, possibly an administrator role.",
	"Add member to group.":                   "Someone added an account to a group.",
	"Consent to application.":                "Someone consented to an application's access to data.",
	"Add service principal.":                 "An application was added to the tenant.",
	"Add app role assignment grant to user.": "Someone assigned an application to a user.",
	"Reset user password.":                   "Someone reset a user's password.",
	"Set domain authentication.":             "Someone changed how a domain authenticates (federation).",
}

// meaning writes the conclusion.
func (p *printer) meaning(f *facts) {
	p.notJudged(f, "OrganizationId")
	if f.signin {
		p.signinMeaning(f)
		return
	}
	p.otherMeaning(f)
}

// notJudged says when triage counts the record towards no verdict: it
// cannot read it, or its tenant (orgField) is filtered out.
func (p *printer) notJudged(f *facts, orgField string) {
	if f.skipWhy != "" {
		p.para("outsider triage cannot read this record (%s) and skips it, so it counts "+
			"towards no verdict. What the fields say is above.", textsafe.Terminal(f.skipWhy))
	}
	if f.filtered {
		p.para("Its %s is not one of the tenants given with --tenant, so outsider triage leaves "+
			"it out.", orgField)
	}
}

// outcome writes the record's outcome: success says why a success counts
// as one, why names the cause of any other outcome, and later where to
// find the completed sign-in after an interruption.
func (p *printer) outcome(f *facts, success string, why func(*facts) string, later string) {
	switch f.outcome {
	case audit.Success:
		p.para("Outcome: success. %s", success)
	case audit.Interrupted:
		p.para("Outcome: interrupted. Entra stopped the sign-in to ask for one more step (%s). "+
			"This record is not a completed sign-in; look for %s.", why(f), later)
	default:
		p.para("Outcome: failure (%s). Entra did not let the account in.", why(f))
	}
}

func (p *printer) signinMeaning(f *facts) {
	p.outcome(f, "A UserLoggedIn with no error and ResultStatusDetail Success "+
		"(or none): Entra accepted the account's credentials for this step.",
		whyNotSuccess, "a later UserLoggedIn from the same account and address")
	if f.class == "" {
		return
	}
	app := appLabel(f.appID, f.appKnown, f.app)
	who := show(f.user)
	switch f.class {
	case classMember:
		if f.noTenant {
			p.para("Class: member, by this record alone. It carries no ActorContextId%s and no "+
				"Actor \"Unknown\", so nothing here says the account is from outside; outsider "+
				"triage makes it a pass-through when, across the export, %s is not one of our "+
				"domains (or --domain says so).", placeholderNote(f), show(string(audit.Domain([]byte(f.user)))))
		} else {
			p.para("Class: member. The account's home tenant (ActorContextId) is %s: one of our "+
				"own accounts, not an outside sign-in. Nothing here for the outside-sign-in "+
				"question.", oursWord(f))
		}
	case classGuest:
		p.para("Class: guest. The UPN has the #EXT# form or UserType is 10: a B2B guest that " +
			"someone in the organisation invited, with a user object in our directory. A guest " +
			"is not a pass-through, and may be assigned any application, so even a sign-in to a " +
			"third-party application is not anomalous by itself. outsider triage still reports " +
			"the guest, with everything it did and what was shared with it.")
	case classPassthrough, classExternalUnknown:
		var why string
		switch {
		case f.class == classExternalUnknown:
			why = "Class: external-unknown. UserId names nobody, so the record cannot say who " +
				"signed in; outsider groups such sign-ins as " + unknownName(f) + "."
			if f.home != "" {
				why += " The account's home tenant is " + textsafe.Terminal(f.home) + ", not ours."
			} else if f.actorBad != "" {
				why += " Its home tenant is unknown: ActorContextId " + quote(f.actorBad) + " is not a tenant id."
			}
		case f.consumer:
			why = "Class: pass-through, consumer. " + who + " is a personal Microsoft account " +
				"(outlook.com, live.com, hotmail.com) with no user object in our directory: Entra " +
				"authenticated it against our tenant (pass-through authentication)."
		case f.noTenant:
			why = "Class: pass-through. The record has no ActorContextId" + placeholderNote(f) +
				", but Actor says \"Unknown\": " + who + " has no user object in our directory, and Entra " +
				"authenticated it against our tenant (pass-through authentication)."
			if f.actorBad != "" {
				why += " Its home tenant is unknown."
			}
		default:
			why = "Class: pass-through. " + who + " comes from another tenant (" + textsafe.Terminal(f.home) +
				"), not ours"
			if f.ev.ActorUnknown {
				why += ", and has no user object in our directory (Actor \"Unknown\")"
			}
			why += ": Entra authenticated it against our tenant (pass-through authentication)."
		}
		p.para("%s", why)
		p.outsideAdvice(f, app)
	}
}

// unknownName is the name triage gives an external-unknown sign-in, in
// words when the record gives no key at all.
func unknownName(f *facts) string {
	if f.unknownKey == "" {
		return "unknown: (the record gives no usable key, so it is grouped with every other sign-in that gives none)"
	}
	return "unknown:" + show(f.unknownKey)
}

// placeholderNote qualifies "no ActorContextId" when the record has one
// that is not a tenant id.
func placeholderNote(f *facts) string {
	if f.actorBad == "" {
		return ""
	}
	return " that is a tenant id (" + quote(f.actorBad) + " is not one)"
}

// outsideAdvice is the due diligence for a sign-in by an outside account.
func (p *printer) outsideAdvice(f *facts, app string) {
	who := show(f.user)
	if f.class == classExternalUnknown {
		who = "unknown:" + show(f.unknownKey)
	}
	switch {
	case f.anomalous():
		p.para("WARNING: this should not happen. Entra ID allows pass-through authentication "+
			"only for Microsoft first-party applications, and %s is not one. Treat it as high "+
			"severity (outsider triage rates the account anomalous, high): find out what the "+
			"application is (Entra admin center, Enterprise applications, search by application "+
			"id), who registered or consented to it, and everything the account and its IP "+
			"addresses did (`outsider triage` over %s).", app, corpus(f))
	case f.outcome == audit.Success:
		subject := "an account from outside"
		if f.class == classExternalUnknown {
			subject = "an account the record does not name"
		}
		msg := fmt.Sprintf("This is the case Microsoft documents as by design: %s tried to reach "+
			"%s, a Microsoft first-party application, and Entra confirmed the account's identity, "+
			"and only its identity. By itself this is not access: the account has no user object "+
			"here, so it can open only what someone in the organisation explicitly shared with it "+
			"(a sharing invitation or a link).", subject, app)
		if f.appID == "" {
			// Sentinel's OfficeActivity CSV has no ApplicationId column:
			// the record cannot show the case is the harmless one.
			msg = fmt.Sprintf("The record does not name the application signed in to (no "+
				"ApplicationId), so it cannot show that this is the case Microsoft documents as by "+
				"design, where %s reaches a Microsoft first-party application and Entra confirms "+
				"the account's identity, and only its identity. Pass-through to any other "+
				"application should not happen (outsider triage would rate the account anomalous, "+
				"high). The Entra ID sign-in log's copy of this sign-in (its id is the record's "+
				"IntraSystemId) names the application: give it to `outsider triage` too, before "+
				"the audit log.", subject)
		}
		switch f.app.Family {
		case "exchange-online":
			msg += " A common case with Exchange Online: someone who meant to open their own " +
				"organisation's mailbox came to ours; Entra confirmed who they were and sent them " +
				"on to their own."
		case "my-apps/access-panel":
			msg += " The App Access Panel (the My Apps portal) shows the applications an account " +
				"may open: check that none is published to everyone."
		}
		p.para("%s", msg)
		if f.si.on {
			p.para("The due diligence: check that the account and its IP addresses appear only in "+
				"sign-in records (this log's, and UserLoggedIn, UserLoginFailed in the Unified Audit "+
				"Log), and whether someone shared something with it (AddedToSecureLink, "+
				"SharingInvitationCreated, SharingSet, AnonymousLinkUsed). The sign-in log shows "+
				"only sign-ins: `outsider triage` over %s does both for %s. If nothing else turns up "+
				"(verdict signin-only, severity info), Microsoft's support says these events can be "+
				"ignored.", corpus(f), who)
			return
		}
		ignored := "If nothing else turns up (verdict signin-only, severity info), Microsoft's " +
			"support says these events can be ignored."
		if f.appID == "" {
			ignored = "Even if nothing else turns up, these events can be ignored, as Microsoft's " +
				"support says, only once the sign-in log shows the application was first-party."
		}
		p.para("The due diligence: check that the account and its IP addresses appear only in "+
			"sign-in records (UserLoggedIn, UserLoginFailed), and whether someone shared something "+
			"with it (AddedToSecureLink, SharingInvitationCreated, SharingSet, AnonymousLinkUsed). "+
			"`outsider triage` over the full audit export does both for %s. %s", who, ignored)
	default:
		msg := fmt.Sprintf("The sign-in did not complete, so Entra confirmed nothing and nothing "+
			"was reached. A lone attempt is common (a mistyped address, someone who went to the "+
			"wrong tenant); many, from one address or against many accounts, look like password "+
			"spraying. `outsider triage` over %s counts them for %s and its "+
			"IP addresses.", corpus(f), who)
		if f.appID != "" && !f.appKnown {
			msg += " It was aimed at " + app + ", which is not a Microsoft first-party " +
				"application: a failed attempt is not rated anomalous, but an outside account " +
				"trying a third-party application is worth a look."
		}
		p.para("%s", msg)
	}
}

// corpus names what `outsider triage` should read to follow an account up.
func corpus(f *facts) string {
	if f.si.on {
		return "this sign-in log together with the full audit export"
	}
	return "the full audit export"
}

// whyNotSuccess names what made a sign-in not a success, in the order the
// engine checks it.
func whyNotSuccess(f *facts) string {
	code := strings.TrimSpace(firstOf(f.rec, "ErrorNumber", "ErrorCode"))
	if f.evOK {
		code = string(f.ev.ErrorNumber)
	}
	if code != "" && code != "0" {
		if e, known := aadsts[code]; known {
			return fmt.Sprintf("AADSTS%s, %s", code, e.meaning)
		}
		return "error AADSTS" + show(code)
	}
	le := f.rec.str("LogonError")
	if f.evOK {
		le = string(f.ev.LogonError)
	}
	if le != "" {
		if audit.IsInterruptName([]byte(le)) {
			return "LogonError " + show(le) + ", an interrupt, with no error number"
		}
		return "LogonError " + show(le)
	}
	if f.op == "UserLoginFailed" {
		return "the operation is UserLoginFailed"
	}
	d := resultStatusDetail(f.rec)
	if f.evOK {
		d = string(f.ev.ResultStatusDetail)
	}
	if d == "Redirect" {
		return "ResultStatusDetail Redirect, an intermediate step"
	}
	return "ResultStatusDetail " + quote(d)
}

// otherMeaning concludes on a record that is not a sign-in.
func (p *printer) otherMeaning(f *facts) {
	who := "an unnamed account"
	if f.hasUserID && f.userKind != audit.UserUnusable {
		who = show(strings.TrimSpace(f.userRaw))
	}
	object := f.rec.str("ObjectId")
	if object == "" {
		object = f.rec.str("SourceFileName")
	}
	obj := "an item"
	if object != "" {
		obj = show(object)
	}
	target := f.rec.str("TargetUserOrGroupName")
	if target == "" {
		target = f.rec.str("UserSharedWith")
	}
	var cat audit.Category
	if f.evOK {
		cat = f.ev.Categorize()
	}
	meaning := opMeanings[f.op]

	switch {
	case sharingOp(f.op):
		if target == "" {
			p.para("Sharing: %s, but the record names no one it was shared with.", strings.TrimSuffix(meaning, "."))
			return
		}
		tt := f.rec.str("TargetUserOrGroupType")
		kind := ""
		if tt != "" {
			kind = " (" + show(tt) + ")"
		}
		p.para("Who shared what with whom: %s shared %s with %s%s, by %s.", who, obj, show(target),
			kind, show(f.op))
		if strings.EqualFold(tt, "Guest") || isOutsideName(target) {
			p.para("The target is outside the organisation. This is what Microsoft's guidance looks " +
				"for after a pass-through sign-in: someone in the organisation explicitly shared " +
				"with the account, which explains why it signed in. outsider triage lists this " +
				"record under that account's sharing; whether the access is legitimate is a " +
				"question for the person who shared.")
		} else {
			p.para("The target is not marked as outside the organisation (TargetUserOrGroupType " +
				"is not Guest).")
		}
	case cat&audit.CatAccess != 0:
		if isOutsideName(f.userRaw) {
			p.para("Opening shared content: %s, an account from outside the organisation, opened "+
				"%s (%s). This is what a sharing invitation or link produces; outsider triage rates "+
				"an outside account low when a sharing record names it and it did nothing else.",
				show(f.user), obj, show(f.op))
		} else {
			p.para("Opening shared content: %s opened %s (%s). When the account is from outside, "+
				"this is what a sharing invitation or link produces; outsider triage rates an "+
				"outside account low when a sharing record names it and it did nothing else.",
				who, obj, show(f.op))
		}
	case cat&audit.CatMailbox != 0:
		owner := f.rec.str("MailboxOwnerUPN")
		s := fmt.Sprintf("Mailbox access by %s", who)
		if owner != "" {
			s += " to the mailbox of " + show(owner)
		}
		p.para("%s. If the account is from outside, or the access came from an outside "+
			"account's IP address, outsider triage rates that account high.", s)
	case cat&audit.CatAdmin != 0:
		p.para("An administrative operation by %s (%s). An admin operation by an outside account "+
			"or from its IP addresses makes outsider triage rate that account high.", who, show(f.op))
	default:
		if meaning == "" {
			meaning = "A " + show(f.op) + " record."
			if f.op == "" {
				meaning = "A record with no operation."
			}
		}
		p.para("%s It is not a sign-in: outsider triage uses it as evidence of activity by %s, "+
			"and from its IP addresses, when they belong to an outside account.", meaning, who)
	}
}

func sharingOp(op string) bool {
	for _, s := range audit.SharingOps() {
		if s == op {
			return true
		}
	}
	return false
}

// appLabel names an application for a "what this means" paragraph: its
// catalogue name, else its id (both logs' walks say it the same way).
func appLabel(id string, known bool, a apps.App) string {
	switch {
	case id == "":
		return "the application"
	case known && a.Name != "":
		return textsafe.Terminal(a.Name)
	}
	return "application " + textsafe.Terminal(id)
}
