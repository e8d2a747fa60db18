package synth

import "net/netip"

// Member noise: the ordinary traffic of the organisation that fills the
// output up to Size. A noise record is a function of (seed, k) alone. It
// only ever uses members' accounts and members' addresses (pools disjoint
// from the outsiders'), so it never changes an outside identity's answer.

var (
	fileOps = []string{
		"FileAccessed", "FileAccessed", "FileAccessed", "FileAccessed", "FileAccessed", "FileAccessed",
		"FileModified", "FileModified", "FileModified", "FilePreviewed", "FilePreviewed",
		"FileUploaded", "FileDownloaded", "FileSyncDownloadedFull", "FileAccessedExtended",
	}
	memberFailures = []struct {
		op, errNum, logonErr, rsd string
	}{
		{opLoginFailed, "50126", "InvalidUserNameOrPassword", "UserError"},
		{opLoginFailed, "50126", "InvalidUserNameOrPassword", "UserError"},
		{opLoginFailed, "50053", "IdsLocked", "UserError"},
		{opLoginFailed, "50055", "InvalidPasswordExpiredPassword", "UserError"},
		{opLoginFailed, "500121", "AuthenticationFailedSasError", "UserError"},
		// UserLoggedIn is not proof of success: these carry an error.
		{opLoggedIn, "50074", "UserStrongAuthClientAuthNRequiredInterrupt", "Success"},
		{opLoggedIn, "50140", "KmsiInterrupt", "Success"},
		{opLoggedIn, "50097", "DeviceAuthenticationRequired", "Success"},
		{opLoggedIn, "0", "", "Redirect"},
		{opLoggedIn, "", "", "Redirect"},
	}
)

func (g *gen) noise(k uint64, t int64, e *event, r *rng) {
	*e = event{t: t, idx: k}
	tn := g.tn
	m := tn.members[r.intn(len(tn.members))]
	x := r.intn(1000)
	switch {
	case x < 260:
		g.noiseSignin(e, m, r)
	case x < 320:
		g.noiseSignin(e, m, r)
		f := &memberFailures[r.intn(len(memberFailures))]
		e.op, e.errNum, e.logonErr, e.rsd = f.op, f.errNum, f.logonErr, f.rsd
	case x < 560:
		noiseSP(e, m, kFile, pick(r, fileOps), tn, r)
	case x < 630:
		op := "PageViewed"
		if r.chance(0.15) {
			op = "SearchQueryPerformed"
		}
		noiseSP(e, m, kPage, op, tn, r)
	case x < 770:
		e.kind, e.rt, e.op, e.workload = kMail, 50, "MailItemsAccessed", "Exchange"
		setMemberUser(e, m)
		e.clientIP = ipText(memberIP(m, r), nPlain, r)
		e.appID = pick(r, []string{appExchange, appOutlook, appGraph})
		e.owner = m.lower
		if r.chance(0.1) {
			e.owner = tn.members[r.intn(len(tn.members))].lower
			e.logonType = 2
		}
	case x < 785:
		a := tn.members[r.intn(3)] // the admins
		e.kind, e.rt, e.workload = kExAdmin, 1, "Exchange"
		e.op = cmdlets[r.intn(len(cmdlets))].name
		setMemberUser(e, a)
		e.userType = 2 // Exchange writes admins' cmdlets with UserType Admin
		e.clientIP = ipText(memberIP(a, r), pick(r, []int{nPort, nPort, nBracketPort}), r)
		e.owner = m.lower
	case x < 800:
		a := tn.members[r.intn(3)]
		e.kind, e.rt, e.workload = kDir, 8, "AzureActiveDirectory"
		op := dirOps[r.intn(len(dirOps))]
		e.op = op[0]
		setMemberUser(e, a)
		e.userKey = a.puid + "@contoso.onmicrosoft.com"
		e.actorUPN = a.upn
		e.actorCtx = TenantID
		e.objectID2 = a.objectID
		e.owner = m.lower
		e.site = tn.sites[r.intn(len(tn.sites))]
	case x < 900:
		e.kind, e.rt, e.workload = kTeams, 25, "MicrosoftTeams"
		e.op = pick(r, teamsOps)
		setMemberUser(e, m)
		e.objectID2 = m.objectID
		ip := memberIP(m, r)
		// Teams writes IPv4 as IPv4-mapped IPv6.
		e.clientIP = ipText(ip, nMapped, r)
	case x < 960:
		noiseSharing(e, m, tn, r)
	case x < 975:
		noiseSystem(e, tn, r)
	default:
		noiseSP(e, m, kFile, "FileAccessed", tn, r)
	}
}

func setMemberUser(e *event, m *member) {
	e.userID = m.lower
	e.userKey = m.puid
	e.puid = m.puid
	e.ua = &m.ua
}

// memberIP picks one of the member's usual addresses.
func memberIP(m *member, r *rng) netip.Addr { return m.ips[r.intn(len(m.ips))] }

func (g *gen) noiseSignin(e *event, m *member, r *rng) {
	e.kind, e.rt, e.op, e.workload = kSignin, 15, opLoggedIn, "AzureActiveDirectory"
	e.userID = m.upn
	e.userKey = m.objectID
	e.actor0, e.actorUPN = m.objectID, m.upn
	if r.chance(0.3) {
		e.puid = m.puid
	}
	e.actorCtx = TenantID
	e.ua = &m.ua
	if r.chance(0.03) {
		// Members sign in to third-party applications too; only outsiders'
		// sign-ins to them are anomalous.
		e.appID = pick(r, g.tn.thirdPartyApps)
		e.resource = e.appID
	} else {
		e.appID = pick(r, memberSigninApps)
		e.resource = pick(r, memberResources)
	}
	e.rsd = "Success"
	if r.chance(0.8) {
		e.errNum = "0"
	}
	ip := memberIP(m, r)
	notation := nPlain
	if r.chance(0.03) {
		notation = r.intn(nCount) // decoy: members in odd notations
	}
	e.clientIP = ipText(ip, notation, r)
	e.actorIP = e.clientIP
	if r.chance(0.05) {
		// ClientIP and ActorIpAddress can differ (IPv4 vs IPv6).
		e.actorIP = ipText(m.ips[len(m.ips)-1], nPlain, r)
	}
	g.signinDomains[m.domain] = true
}

func spUser(e *event, m *member, tn *tenant, r *rng) {
	setMemberUser(e, m)
	e.userKey = "i:0h.f|membership|" + lowerHex(m.puid) + "@live.com"
	e.appDisplay = pick(r, []string{appSharePoint, appSharePoint, appOneDriveWeb, appODSync, appWebApps, appOffice})
}

func lowerHex(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'F' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func noiseSP(e *event, m *member, k kind, op string, tn *tenant, r *rng) {
	e.kind, e.op = k, op
	spUser(e, m, tn, r)
	s := m.oneDrive
	if r.chance(0.6) {
		s = tn.sites[r.intn(len(tn.sites))]
	}
	e.site = s
	e.workload, e.rt = "SharePoint", 6
	if s.oneDrive {
		e.workload = "OneDrive"
	}
	if k == kPage {
		e.rt = 4
		e.itemType = "Page"
		if op == "SearchQueryPerformed" {
			e.itemType = "Web"
		}
	} else {
		e.itemType = "File"
		e.file = s.files[r.intn(len(s.files))]
		if s.oneDrive && r.chance(0.1) {
			e.rt = 7 // the OneDrive record type, rarer than 6 with Workload OneDrive
		}
	}
	ip := memberIP(m, r)
	e.clientIP = ipText(ip, nPlain, r)
}

func noiseSharing(e *event, m *member, tn *tenant, r *rng) {
	e.kind, e.rt = kSharing, 14
	spUser(e, m, tn, r)
	s := m.oneDrive
	if r.chance(0.5) {
		s = tn.sites[r.intn(len(tn.sites))]
	}
	e.site = s
	e.workload = "SharePoint"
	if s.oneDrive {
		e.workload = "OneDrive"
	}
	e.itemType = "File"
	e.file = s.files[r.intn(len(s.files))]
	e.clientIP = ipText(memberIP(m, r), nPlain, r)
	other := tn.members[r.intn(len(tn.members))]
	switch r.intn(6) {
	case 0, 1:
		e.op = "SharingSet"
		e.target = "SharingLinks." + guid(r) + ".OrganizationView." + guid(r)
		e.targetType = "SharePointGroup"
		e.eventData = "<Permissions granted>Read</Permissions granted>"
	case 2:
		e.op = "SharingSet"
		e.target = other.lower
		e.targetType = "Member"
		e.eventData = "<Permissions granted>Contribute</Permissions granted>"
	case 3:
		e.op = "AddedToGroup"
		e.target = other.lower
		e.targetType = "Member"
		e.itemType = "Web"
		e.file = ""
		e.eventData = "<Group>Site Members</Group>"
	case 4:
		e.op = "SharingInvitationCreated"
		e.target = other.lower
		e.targetType = "Member"
		e.eventData = "<Type>View</Type>"
	default:
		// Sharing with an outside address that never signs in: not an
		// identity, never reported.
		e.op = "AddedToSecureLink"
		e.target = pick(r, firstNames) + "." + pick(r, lastNames) + "@" + pick(r, []string{"gmail.com", "example.net", "partner-mail.example"})
		e.targetType = "Guest"
		e.eventData = "<Type>View</Type>"
	}
}

// noiseSystem is SharePoint's own bookkeeping: app@sharepoint, no client
// address.
func noiseSystem(e *event, tn *tenant, r *rng) {
	e.kind, e.rt, e.workload = kSharing, 14, "SharePoint"
	e.userID = "app@sharepoint"
	e.userKey = "i:0i.t|00000003-0000-0ff1-ce00-000000000000|app@sharepoint"
	e.site = tn.sites[r.intn(len(tn.sites))]
	e.itemType = "Web"
	e.op = "AddedToGroup"
	switch r.intn(3) {
	case 0:
		e.target, e.targetType, e.eventData = "Everyone except external users", "SecurityGroup", "<Group>Site Members</Group>"
	case 1:
		e.target, e.targetType, e.eventData = `SHAREPOINT\system`, "Member", "<Group>Site Owners</Group>"
	default:
		e.kind, e.rt, e.op = kFile, 6, "FileModified"
		e.itemType = "File"
		e.file = e.site.files[r.intn(len(e.site.files))]
	}
}
