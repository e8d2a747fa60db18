package synth

import (
	"net/netip"
	"sort"
	"strings"
)

// oracle is a second, deliberately plain implementation of docs/rules.md,
// run over every decoded record of an output (noise included). It shares
// nothing with the generator's bookkeeping but the rules text: it reads
// maps from encoding/json, parses addresses with netip.ParseAddrPort, and
// keeps its own application list. If it agrees with Expected, the answers
// follow from the records as written, and noise touched no outsider.

// oracleFirstParty is outsider_core_apps.csv's AppId column.
var oracleFirstParty = map[string]bool{
	"0000000c-0000-0000-c000-000000000000": true, "2793995e-0a7d-40d7-bd35-6968ba142197": true,
	"00000003-0000-0ff1-ce00-000000000000": true, "08e18876-6177-487e-b8b5-cf950c1e598c": true,
	"3bc2296e-aa22-4ed2-9e1e-946d05afa6a2": true, "33be1cef-03fb-444b-8fd3-08ca1b4d803f": true,
	"ab9b8c07-8f02-4f72-87fa-80105867a763": true, "b26aadf8-566f-4478-926f-589f601d9c74": true,
	"ffcb16e8-f789-467c-8ce9-f826a080d987": true, "00000002-0000-0ff1-ce00-000000000000": true,
	"5d661950-3475-41cd-a2c3-d671a3162bc1": true, "27922004-5251-4030-b22d-91ecd9a37ea4": true,
	"1fec8e78-bce4-4aaf-ab1b-5451cc387264": true, "5e3ce6c0-2b1f-4285-8d4b-75ee78787346": true,
	"cc15fd57-2c6c-4117-a88c-83b1d56b4bbe": true, "00000004-0000-0ff1-ce00-000000000000": true,
	"00000009-0000-0000-c000-000000000000": true, "871c010f-5e61-4fb1-83ac-98610a7e9110": true,
	"00000005-0000-0ff1-ce00-000000000000": true, "c1c74fed-04c9-4704-80dc-9f79a2e515cb": true,
	"e1ef36fd-b883-4dbf-97f0-9ece4b576fc6": true, "00000006-0000-0ff1-ce00-000000000000": true,
	"4765445b-32c6-49b0-83e6-1d93765276ca": true, "4b233688-031c-404b-9a80-a4f3f2351f90": true,
	"4345a7b9-9a63-4910-a426-35363201d503": true, "89bee1f7-5e6e-4d8a-9f3d-ecd601259da7": true,
	"d3590ed6-52b3-4102-aeff-aad2292ab01c": true, "67e3df25-268a-4324-a550-0de1c7f97287": true,
	"c9a559d2-7aab-4f13-a6ed-e7e9c52aec87": true, "2d4d3d8e-2be3-4bef-9f87-7875a61c29de": true,
	"95de633a-083e-42f5-b444-a4295d8e9314": true, "cf53fce8-def6-4aeb-8d30-b158e7b1cf83": true,
	"905fcf26-4eb7-48a0-9ff0-8dcc7194b5ba": true, "00000003-0000-0000-c000-000000000000": true,
	"00000002-0000-0000-c000-000000000000": true,
}

// The lists of rules.md, written out again.
var (
	oInterrupt = map[string]bool{}
	oOpening   = map[string]bool{}
)

func init() {
	for _, c := range strings.Fields(`16001 50058 50072 50074 50076 50079 50097 50125 50140 50158 50168 50199 90095
		1000002 1002013 UserAccountSelectionInvalid UserInformationNotProvided UserStrongAuthEnrollmentRequiredInterrupt
		UserStrongAuthClientAuthNRequiredInterrupt UserStrongAuthClientAuthNRequired UserStrongAuthEnrollmentRequired
		DeviceAuthenticationRequired PasswordResetRegistrationRequiredInterrupt KmsiInterrupt ExternalSecurityChallenge
		ChromeBrowserSsoInterruptRequired CmsiInterrupt AdminConsentRequiredRequestAccess BindCompleteInterruptError`) {
		oInterrupt[c] = true
	}
	for _, op := range strings.Fields(`FileAccessed FileAccessedExtended FilePreviewed FileDownloaded
		FileSyncDownloadedFull FileSyncDownloadedPartial PageViewed PageViewedExtended ClientViewSignaled
		ListViewed ListItemViewed SecureLinkUsed AnonymousLinkUsed CompanyLinkUsed SharingInvitationAccepted
		AccessInvitationAccepted`) {
		oOpening[op] = true
	}
}

type oRec struct {
	m      map[string]any
	user   string // canonical; "" unusable; "unknown:k" for unusable sign-ins
	anon   bool
	ips    map[netip.Addr]bool
	signin bool
}

func oStr(m map[string]any, k string) string { s, _ := m[k].(string); return s }

func oCanon(s string) (user string, anon bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" || s == "unknown" || s == "not available" || s == "n/a" || s == "null" || s == "none" || s == "-" {
		return "", false
	}
	if oPlaceholder(s) {
		return "", false
	}
	if s == "anonymous" || strings.HasPrefix(s, "urn:spo:anon#") {
		return s, true
	}
	if strings.Contains(s, "|") {
		parts := strings.Split(s, "|")
		s = parts[len(parts)-1]
	}
	s = strings.TrimPrefix(s, "urn:spo:guest#")
	if i := strings.Index(s, "#ext#"); i > 0 {
		local := s[:i]
		if j := strings.LastIndex(local, "_"); j > 0 {
			s = local[:j] + "@" + local[j+1:]
		}
	}
	return s, false
}

func oIP(s string) (netip.Addr, bool) {
	if strings.HasPrefix(s, "[") {
		// [v6]:port, [v6], and [v4]:port as proxies write it.
		if i := strings.Index(s, "]"); i > 0 {
			s = s[1:i]
		}
	} else if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

func oExt(m map[string]any, name string) string {
	list, _ := m["ExtendedProperties"].([]any)
	for _, x := range list {
		kv, _ := x.(map[string]any)
		if oStr(kv, "Name") == name {
			return oStr(kv, "Value")
		}
	}
	return oStr(m, name)
}

func oGUID(s string) bool {
	if len(s) != 36 || strings.Count(s, "-") != 4 {
		return false
	}
	for _, c := range strings.ReplaceAll(s, "-", "") {
		if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
			return false
		}
	}
	return true
}

// oPlaceholder: rules.md's placeholders and redaction markers.
func oPlaceholder(s string) bool {
	for _, w := range strings.Fields("redacted removed hidden masked sanitized sanitised scrubbed anonymized anonymised obfuscated withheld placeholder") {
		if s == w {
			return true
		}
	}
	if s == "not applicable" {
		return true
	}
	parts := strings.Split(s, "|")
	s = strings.TrimPrefix(parts[len(parts)-1], "urn:spo:guest#")
	if strings.HasPrefix(s, "<") && strings.HasSuffix(s, ">") || strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		return len(s) >= 2
	}
	local, _, _ := strings.Cut(s, "@")
	if strings.Contains(s, "@") {
		local = s[:strings.LastIndex(s, "@")]
	}
	marks, xs := 0, 0
	for _, c := range local {
		switch c {
		case '*', '#', '?':
			marks++
		case 'x':
			xs++
		case '.', '_', '-':
		default:
			return false
		}
	}
	return marks > 0 || xs >= 3
}

// oNoJoin are the ranges of rules.md "IPs" whose addresses join nobody.
var oNoJoin = func() (ps []netip.Prefix) {
	for _, s := range strings.Fields(`0.0.0.0/8 127.0.0.0/8 169.254.0.0/16 224.0.0.0/4 240.0.0.0/4
		192.0.2.0/24 198.51.100.0/24 203.0.113.0/24 ::/128 ::1/128 fe80::/10 ff00::/8 2001:db8::/32 3fff::/20`) {
		ps = append(ps, netip.MustParsePrefix(s))
	}
	return ps
}()

// oJoins reports whether two records that both have address a are linked.
func oJoins(a netip.Addr) bool {
	for _, p := range oNoJoin {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// oTenant reports whether s is a tenant id (or an object id that keys an
// account): a GUID whose hex digits do not all come in equal pairs
// (00000000-..., aaaabbbb-0000-cccc-...), and not one of the sequential
// examples.
func oTenant(s string) bool {
	if !oGUID(s) {
		return false
	}
	switch strings.ToLower(s) {
	case "12345678-1234-1234-1234-123456789012", "12345678-1234-1234-1234-123456789abc",
		"12345678-90ab-cdef-1234-567890abcdef", "01234567-89ab-cdef-0123-456789abcdef":
		return false
	}
	h := strings.ToLower(strings.ReplaceAll(s, "-", ""))
	for i := 0; i < len(h); i += 2 {
		if h[i] != h[i+1] {
			return true
		}
	}
	return false
}

// oracleResult is what the oracle derives from the records.
type oracleResult struct {
	identities []ExpectedIdentity
	domains    []string
}

func runOracle(records []map[string]any) oracleResult {
	ours := map[string]bool{}
	recs := make([]oRec, len(records))
	for i, m := range records {
		if org := strings.ToLower(oStr(m, "OrganizationId")); oTenant(org) {
			ours[org] = true
		}
		op := oStr(m, "Operation")
		r := oRec{m: m, ips: map[netip.Addr]bool{}, signin: op == "UserLoggedIn" || op == "UserLoginFailed"}
		r.user, r.anon = oCanon(oStr(m, "UserId"))
		for _, k := range []string{"ClientIP", "ActorIpAddress", "ClientIPAddress", "clientIp"} {
			if a, ok := oIP(oStr(m, k)); ok {
				r.ips[a] = true
			}
		}
		if r.user == "" && r.signin {
			key := ""
			actors, _ := m["Actor"].([]any)
			for _, x := range actors {
				a, _ := x.(map[string]any)
				if t, _ := a["Type"].(float64); t == 0 && oTenant(oStr(a, "ID")) {
					key = strings.ToLower(oStr(a, "ID"))
					break
				}
			}
			if key == "" {
				if k, _ := oCanon(oStr(m, "UserKey")); k != "" {
					key = k
				} else if ctx := strings.ToLower(oStr(m, "ActorContextId")); oTenant(ctx) {
					key = ctx
				}
			}
			r.user = "unknown:" + key
		}
		recs[i] = r
	}

	// Classify.
	class := map[string]string{}
	tenants := map[string]map[string]int{}
	signins := map[string][]*oRec{}
	for i := range recs {
		r := &recs[i]
		if r.signin && !r.anon {
			signins[r.user] = append(signins[r.user], r)
		}
	}
	domains := map[string]bool{}
	for u, ss := range signins {
		guest, foreign, mine := false, false, false
		tenants[u] = map[string]int{}
		for _, r := range ss {
			if strings.Contains(strings.ToLower(oStr(r.m, "UserId")), "#ext#") || r.m["UserType"] == 10.0 {
				guest = true
			}
			ctx := strings.ToLower(oStr(r.m, "ActorContextId"))
			if !oTenant(ctx) {
				continue
			}
			if ours[ctx] {
				mine = true
			} else {
				foreign = true
				tenants[u][ctx]++
			}
		}
		switch {
		case strings.HasPrefix(u, "unknown:"):
			class[u] = "external-unknown"
		case guest:
			class[u] = "guest"
			for _, r := range ss {
				id := strings.ToLower(oStr(r.m, "UserId"))
				if strings.Contains(id, "#ext#") {
					domains[id[strings.LastIndex(id, "@")+1:]] = true
				}
			}
		case foreign:
			class[u] = "passthrough"
		case mine:
			class[u] = "member"
			domains[u[strings.LastIndex(u, "@")+1:]] = true
		default:
			class[u] = "unclassified"
		}
	}

	var out []ExpectedIdentity
	for x, cl := range class {
		if cl == "member" {
			continue
		}
		id := ExpectedIdentity{User: x, Class: cl, IPs: []string{}, Apps: []string{}, IPAlsoUsedBy: []string{}}
		ips := map[netip.Addr]bool{}
		apps := map[string]bool{}
		anomalous := false
		for _, r := range signins[x] {
			for a := range r.ips {
				ips[a] = true
			}
			app := strings.ToLower(oStr(r.m, "ApplicationId"))
			if app != "" {
				apps[app] = true
			}
			errNum := oStr(r.m, "ErrorNumber")
			logonErr := oStr(r.m, "LogonError")
			detail := oExt(r.m, "ResultStatusDetail")
			loggedIn := oStr(r.m, "Operation") == "UserLoggedIn"
			if loggedIn && logonErr == "" && (errNum == "" || errNum == "0") && (detail == "" || detail == "Success") {
				id.SigninsSuccess++
				if cl != "guest" && app != "" && !oracleFirstParty[app] {
					anomalous = true
				}
				continue
			}
			id.SigninsFailure++
			// The error number decides, whatever the operation; then
			// the LogonError's name; then ResultStatusDetail.
			switch {
			case errNum != "" && errNum != "0":
				if oInterrupt[errNum] {
					id.SigninsInterrupted++
				}
			case logonErr != "":
				if oInterrupt[logonErr] {
					id.SigninsInterrupted++
				}
			case loggedIn && (detail == "Redirect" || detail == "Interrupted"):
				id.SigninsInterrupted++
			}
		}
		best := ""
		for t, n := range tenants[x] {
			if best == "" || n > tenants[x][best] || n == tenants[x][best] && t < best {
				best = t
			}
		}
		id.HomeTenant = best
		id.Consumer = cl == "passthrough" && best == "9188040d-6c67-4c5b-b112-36a304b66dad"

		var u, p, h []*oRec
		also := map[string]bool{}
		for i := range recs {
			r := &recs[i]
			if r.user == x {
				if !r.signin {
					u = append(u, r)
				}
				continue
			}
			shared := false
			for a := range r.ips {
				if ips[a] && oJoins(a) {
					shared = true
				}
			}
			if !shared {
				continue
			}
			if r.anon {
				u = append(u, r)
				continue
			}
			if r.user == "" {
				continue
			}
			also[r.user] = true
			if r.signin && class[r.user] != "member" {
				continue
			}
			p = append(p, r)
		}
		for i := range recs {
			m := recs[i].m
			switch oStr(m, "Operation") {
			case "SharingInvitationCreated", "SharingInvitationUpdated", "SharingSet", "AddedToSecureLink",
				"AddedToGroup", "AccessInvitationCreated", "AccessInvitationUpdated":
				target := oStr(m, "TargetUserOrGroupName")
				if target == "" {
					target = oStr(m, "UserSharedWith")
				}
				if c, _ := oCanon(target); c == x {
					id.Sharing++
					h = append(h, &recs[i])
				}
			}
		}
		for _, r := range u {
			if oStr(r.m, "Operation") == "AnonymousLinkUsed" {
				id.Sharing++
			}
		}
		id.ByUser, id.ByIP = len(u), len(p)
		id.Touched = oTouched(u, p, h)

		heavy := false
		for _, r := range append(append([]*oRec{}, u...), p...) {
			rt, _ := r.m["RecordType"].(float64)
			switch int(rt) {
			case 1, 2, 3, 8, 18, 50:
				heavy = true
			}
			switch oStr(r.m, "Operation") {
			case "MailItemsAccessed", "MailboxLogin", "Send", "SendAs", "SendOnBehalf", "SiteCollectionAdminAdded", "SiteCollectionAdminRemoved":
				heavy = true
			}
		}
		for _, r := range p {
			if class[r.user] == "member" {
				heavy = true
			}
		}
		opening := true
		for _, r := range u {
			wl := oStr(r.m, "Workload")
			if (wl != "SharePoint" && wl != "OneDrive") || !oOpening[oStr(r.m, "Operation")] {
				opening = false
			}
		}
		switch {
		case anomalous:
			id.Verdict, id.Severity = "anomalous", "high"
		case len(u) == 0 && len(p) == 0:
			id.Verdict, id.Severity = "signin-only", "info"
		case id.Sharing > 0 && len(p) == 0 && opening:
			id.Verdict, id.Severity = "shared", "low"
		case heavy:
			id.Verdict, id.Severity = "activity", "high"
		default:
			id.Verdict, id.Severity = "activity", "medium"
		}
		var addrs []netip.Addr
		for a := range ips {
			addrs = append(addrs, a)
		}
		sort.Slice(addrs, func(i, j int) bool { return addrs[i].Compare(addrs[j]) < 0 })
		for _, a := range addrs {
			id.IPs = append(id.IPs, a.String())
		}
		for a := range apps {
			id.Apps = append(id.Apps, a)
		}
		sort.Strings(id.Apps)
		for o := range also {
			id.IPAlsoUsedBy = append(id.IPAlsoUsedBy, o)
		}
		sort.Strings(id.IPAlsoUsedBy)
		out = append(out, id)
	}
	sort.Slice(out, func(i, j int) bool {
		ri, rj := SeverityRank(out[i].Severity), SeverityRank(out[j].Severity)
		if ri != rj {
			return ri < rj
		}
		return out[i].User < out[j].User
	})
	var ds []string
	for d := range domains {
		ds = append(ds, d)
	}
	sort.Strings(ds)
	return oracleResult{identities: out, domains: ds}
}

// oTouched names the objects the records name, from their fields as
// written: SiteUrl (without its final slash; a page view's site is its
// ObjectId's /sites/<name> or /personal/<name> prefix), the ObjectId when
// it names an item below the site, MailboxOwnerUPN and its Folders' Path.
func oTouched(sets ...[]*oRec) []string {
	set := map[string]bool{}
	for _, rs := range sets {
		for _, r := range rs {
			obj := oStr(r.m, "ObjectId")
			site := strings.TrimSuffix(oStr(r.m, "SiteUrl"), "/")
			if site == "" && strings.HasPrefix(obj, "https://") {
				parts := strings.SplitN(obj, "/", 6) // https: "" host sites name rest
				site = strings.Join(parts[:3], "/")
				if len(parts) >= 5 && (parts[3] == "sites" || parts[3] == "personal" || parts[3] == "teams") {
					site = strings.Join(parts[:5], "/")
				}
			}
			if site != "" {
				set["sharepoint-site "+site] = true
				if strings.HasPrefix(obj, "https://") && obj != site {
					set["sharepoint-file "+obj] = true
				}
			}
			if owner := oStr(r.m, "MailboxOwnerUPN"); owner != "" {
				set["mailbox "+owner] = true
				folders, _ := r.m["Folders"].([]any)
				for _, f := range folders {
					if m, ok := f.(map[string]any); ok && oStr(m, "Path") != "" {
						set["mailbox-folder "+owner+" "+oStr(m, "Path")] = true
					}
				}
			}
		}
	}
	out := []string{}
	for t := range set {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}
