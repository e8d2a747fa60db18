package synth

import (
	"hash/fnv"
	"net/netip"
	"strconv"
	"strings"
)

// The tenant every record belongs to. Fixed (not drawn from the seed) so
// that expected answers, docs and examples can name it.
const (
	// TenantID is our tenant: the OrganizationId of every record.
	TenantID = "6e4b2c1a-7f3d-4e8b-9a15-3c2d8f0b7e94"
	// ConsumerTenant is the home tenant of personal Microsoft accounts
	// (outlook.com, hotmail.com, live.com).
	ConsumerTenant = "9188040d-6c67-4c5b-b112-36a304b66dad"
)

// Domains are our tenant's domains.
var Domains = []string{"contoso.com", "contoso.onmicrosoft.com"}

// lookalikeDomain is a domain that looks like ours but is not one we are
// told about; its users sign in with our ActorContextId, so by rules.md
// they are members (the decoy for engines that judge by domain name).
const lookalikeDomain = "contoso.co"

// Microsoft first-party application ids the generator uses (a subset of
// the first-party catalogue internal/apps embeds). Pass-through sign-ins
// go to these; a sign-in to anything else is the anomalous case.
const (
	appAccessPanel = "0000000c-0000-0000-c000-000000000000"
	appSharePoint  = "00000003-0000-0ff1-ce00-000000000000"
	appExchange    = "00000002-0000-0ff1-ce00-000000000000"
	appTeams       = "1fec8e78-bce4-4aaf-ab1b-5451cc387264"
	appTeamsWeb    = "5e3ce6c0-2b1f-4285-8d4b-75ee78787346"
	appOffice      = "d3590ed6-52b3-4102-aeff-aad2292ab01c"
	appOfficeHome  = "4765445b-32c6-49b0-83e6-1d93765276ca"
	appOutlook     = "5d661950-3475-41cd-a2c3-d671a3162bc1"
	appOneDriveWeb = "33be1cef-03fb-444b-8fd3-08ca1b4d803f"
	appODSync      = "ab9b8c07-8f02-4f72-87fa-80105867a763"
	appGraph       = "00000003-0000-0000-c000-000000000000"
	appAADGraph    = "00000002-0000-0000-c000-000000000000"
	appSuiteUX     = "4345a7b9-9a63-4910-a426-35363201d503"
	appShell       = "89bee1f7-5e6e-4d8a-9f3d-ecd601259da7"
	appWebApps     = "67e3df25-268a-4324-a550-0de1c7f97287"
	appPowerBI     = "00000009-0000-0000-c000-000000000000"
	appOffice365   = "00000006-0000-0ff1-ce00-000000000000"
	appExoAdminAPI = "fb78d390-0c51-40cd-8e17-fdbfab77341b"
)

// firstPartyApps lists every application id above, for the generator's own
// verdict bookkeeping.
var firstPartyApps = map[string]string{
	appAccessPanel: "Microsoft App Access Panel",
	appSharePoint:  "Office 365 SharePoint Online",
	appExchange:    "Office 365 Exchange Online",
	appTeams:       "Microsoft Teams",
	appTeamsWeb:    "Microsoft Teams Web Client",
	appOffice:      "Microsoft Office",
	appOfficeHome:  "OfficeHome",
	appOutlook:     "Microsoft Outlook",
	appOneDriveWeb: "OneDrive Web",
	appODSync:      "OneDrive SyncEngine",
	appGraph:       "Microsoft Graph",
	appAADGraph:    "Windows Azure Active Directory",
	appSuiteUX:     "O365 Suite UX",
	appShell:       "Office365 Shell WCSS-Client",
	appWebApps:     "Microsoft Office Web Apps Service",
	appPowerBI:     "Power BI Service",
	appOffice365:   "Microsoft Office 365 Portal",
}

// memberSigninApps is what members sign in to, weighted by repetition.
var memberSigninApps = []string{
	appOfficeHome, appOfficeHome, appOffice, appOffice, appOffice, appOutlook, appOutlook,
	appTeams, appTeams, appTeams, appTeamsWeb, appSharePoint, appSharePoint, appOneDriveWeb,
	appODSync, appExchange, appSuiteUX, appShell, appAccessPanel, appPowerBI, appWebApps,
}

// memberResources are the resources (Target / ObjectId of an STS record)
// member sign-ins ask tokens for.
var memberResources = []string{
	appGraph, appGraph, appExchange, appSharePoint, appAADGraph, appOffice365, "Unknown",
}

type userAgent struct {
	ua, os, browser, platform string
}

var userAgents = []userAgent{
	{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Safari/537.36 Edg/129.0.0.0", "Windows 10", "Edge", "WinDesktop"},
	{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36", "Windows 10", "Chrome", "WinDesktop"},
	{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Safari/605.1.15", "MacOs", "Safari", "MacDesktop"},
	{"Mozilla/5.0 (Macintosh; Intel Mac OS X 14.6; rv:131.0) Gecko/20100101 Firefox/131.0", "MacOs", "Firefox", "MacDesktop"},
	{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148", "Ios", "Mobile Safari", "iOS"},
	{"Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928; Pro)", "Windows 10", "Other", "WinDesktop"},
	{"Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.6668.100 Mobile Safari/537.36", "Android", "Chrome Mobile", "Android"},
	{"Microsoft SkyDriveSync 24.201.1006.0005 ship; Windows NT 10.0 (22631)", "Windows 10", "Other", "WinDesktop"},
}

var firstNames = []string{
	"Adele", "Alex", "Allan", "Amara", "Bianca", "Camille", "Christie", "Dmitri", "Diego", "Elena",
	"Emily", "Enrico", "Fatima", "Grady", "Hannah", "Henrietta", "Irvin", "Isaiah", "Johanna", "Joni",
	"Kenji", "Laura", "Lee", "Lidia", "Lynne", "Malik", "Megan", "Miriam", "Nestor", "Noor",
	"Oskar", "Patti", "Pradeep", "Priya", "Rafael", "Raul", "Sakura", "Samir", "Sanjay", "Sofia",
	"Tariq", "Teodora", "Tomas", "Uma", "Valentina", "Wei", "Xavier", "Yara", "Yusuf", "Zoe",
	"Aiko", "Bruno", "Chen", "Dalia", "Emeka", "Freya", "Goran", "Hiroshi", "Ingrid", "Jamal",
}

var lastNames = []string{
	"Vance", "Wilber", "Deyoung", "Okafor", "Rossi", "Dubois", "Cline", "Ivanov", "Siciliani", "Petrova",
	"Braun", "Ferrari", "Haddad", "Archie", "Schmidt", "Mueller", "Bellow", "Turner", "Lindqvist", "Sherman",
	"Tanaka", "Giro", "Gu", "Holloway", "Robbins", "Nasser", "Bowen", "Caldwell", "Wilke", "Rahman",
	"Nilsson", "Fernandez", "Gupta", "Raman", "Moreno", "Ortega", "Sato", "Kaur", "Mehta", "Costa",
	"Aziz", "Popescu", "Novak", "Thakur", "Romano", "Zhang", "Dupont", "Haddadi", "Yilmaz", "Evans",
	"Mori", "Souza", "Wang", "Khalil", "Obi", "Larsen", "Kovac", "Ito", "Berg", "Harris",
}

// site is a SharePoint team site or a OneDrive.
type site struct {
	url      string // with trailing slash, as SiteUrl
	siteID   string
	webID    string
	listID   string
	library  string // SourceRelativeUrl of the document library
	oneDrive bool
	files    []string
}

var teamSites = []string{"Finance", "Marketing", "ProjectFalcon", "HR", "Legal", "Engineering", "Sales", "ITOps", "Procurement", "Board"}

var fileStems = []string{
	"Q3 Budget", "Board deck", "Contract draft", "Roadmap 2027", "Onboarding checklist", "Vendor list",
	"Price list", "Architecture overview", "Meeting notes", "Risk register", "Travel policy",
	"Customer pipeline", "Release plan", "Audit findings", "Salary bands", "NDA template",
	"Übersicht Kennzahlen", "Statement of work", "Incident report", "Test results",
}

var fileExts = []string{"docx", "xlsx", "pptx", "pdf", "docx", "xlsx", "txt", "png", "csv"}

// member is one account of our organisation.
type member struct {
	upn      string // as Entra writes it in STS records (case kept)
	lower    string // as SharePoint and Exchange write it
	domain   string
	objectID string
	puid     string
	ips      []netip.Addr
	ua       userAgent
	sid      string
	mbxGUID  string
	oneDrive *site
	admin    bool
}

// tenant is our organisation: members, sites and the IP pools.
type tenant struct {
	members []*member
	sites   []*site
	office  []netip.Addr // office egress addresses shared by members
	usedIPs map[netip.Addr]bool
	r       rng
	// thirdPartyApps are non-Microsoft applications members sign in to.
	thirdPartyApps []string
}

// membersFor picks the size of the organisation: ~30 for the example,
// hundreds for benchmark sizes, so per-user state in the engine is
// exercised without growing without bound.
func membersFor(size int64) int {
	if size <= 0 {
		return 30
	}
	n := 30 + int(size/(2<<20))
	if n > 600 {
		n = 600
	}
	return n
}

func newTenant(seed int64, size int64) *tenant {
	t := &tenant{r: newRng(seed, streamTenant, 0), usedIPs: map[netip.Addr]bool{}}
	r := &t.r
	for i := 0; i < 6; i++ {
		t.office = append(t.office, t.uniqueIP(func() netip.Addr {
			return netip.AddrFrom4([4]byte{officeNet[0], officeNet[1], officeNet[2], byte(r.between(2, 250))})
		}))
	}
	for _, name := range teamSites {
		s := &site{
			url:     "https://contoso.sharepoint.com/sites/" + name + "/",
			siteID:  guid(r),
			webID:   guid(r),
			listID:  guid(r),
			library: "Shared Documents",
		}
		s.files = t.fileNames(4 + r.intn(5))
		t.sites = append(t.sites, s)
	}
	for i := 0; i < 4; i++ {
		t.thirdPartyApps = append(t.thirdPartyApps, guid(r))
	}
	n := membersFor(size)
	seen := map[string]bool{}
	for len(t.members) < n {
		f, l := pick(r, firstNames), pick(r, lastNames)
		local := strings.ToLower(f + "." + l)
		if seen[local] {
			continue // 3,600 names for at most 600 members
		}
		seen[local] = true
		domain := "contoso.com"
		if r.chance(0.08) {
			domain = "contoso.onmicrosoft.com"
		}
		upn := local + "@" + domain
		if r.chance(0.5) {
			// Entra keeps the case the account was created with.
			upn = f + "." + l + upn[len(local):]
		}
		t.members = append(t.members, t.newMember(upn, domain))
	}
	for i := 0; i < 3; i++ {
		t.members[i].admin = true
	}
	return t
}

func (t *tenant) newMember(upn, domain string) *member {
	r := &t.r
	lower := strings.ToLower(upn)
	m := &member{
		upn:      upn,
		lower:    lower,
		domain:   domain,
		objectID: guid(r),
		puid:     string(appendPUID(nil, r)),
		ua:       pick(r, userAgents),
		sid:      "S-1-5-21-3624186121-2711914123-1539962473-" + strconv.Itoa(r.between(10000000, 99999999)),
		mbxGUID:  guid(r),
	}
	m.ips = append(m.ips, pick(r, t.office))
	m.ips = append(m.ips, t.memberHomeIP())
	if r.chance(0.6) {
		m.ips = append(m.ips, t.memberV6())
	}
	od := strings.NewReplacer(".", "_", "@", "_").Replace(lower)
	m.oneDrive = &site{
		url:      "https://contoso-my.sharepoint.com/personal/" + od + "/",
		siteID:   guid(r),
		webID:    guid(r),
		listID:   guid(r),
		library:  "Documents",
		oneDrive: true,
		files:    t.fileNames(3 + r.intn(4)),
	}
	return m
}

func (t *tenant) fileNames(n int) []string {
	r := &t.r
	out := make([]string, n)
	for i := range out {
		out[i] = pick(r, fileStems)
		if r.chance(0.3) {
			out[i] += " v" + strconv.Itoa(r.between(2, 9))
		}
		out[i] += "." + pick(r, fileExts)
	}
	return out
}

// uniqueIP draws addresses until one is new: members' and outsiders' pools
// are disjoint ranges, and no two outsiders share an address unless a
// scenario says so.
func (t *tenant) uniqueIP(draw func() netip.Addr) netip.Addr {
	for {
		a := draw()
		if !t.usedIPs[a] {
			t.usedIPs[a] = true
			return a
		}
	}
}

// memberHomeIP is from 10.0.0.0/8 or 172.16.0.0/12 (VPN and home
// gateways as the proxy reports them).
func (t *tenant) memberHomeIP() netip.Addr {
	r := &t.r
	return t.uniqueIP(func() netip.Addr {
		if r.chance(0.7) {
			return netip.AddrFrom4([4]byte{10, byte(r.intn(256)), byte(r.intn(256)), byte(r.between(1, 254))})
		}
		return netip.AddrFrom4([4]byte{172, byte(r.between(16, 31)), byte(r.intn(256)), byte(r.between(1, 254))})
	})
}

// memberV6 is from memberNet6.
func (t *tenant) memberV6() netip.Addr {
	r := &t.r
	return t.uniqueIP(func() netip.Addr {
		b := memberNet6
		b[6], b[7] = byte(r.intn(256)), byte(r.intn(256))
		b[14], b[15] = byte(r.intn(256)), byte(r.between(1, 255))
		return netip.AddrFrom16(b)
	})
}

// outsiderV4 is from one of outsiderNets4 (never a member's): the last
// byte is drawn, and picks the network and the third byte, so that each
// draw gives one address and no two draws the same one.
func (t *tenant) outsiderV4(r *rng) netip.Addr {
	return t.uniqueIP(func() netip.Addr {
		nets := outsiderNets4[:3]
		if r.chance(0.5) {
			nets = outsiderNets4[3:]
		}
		x := byte(r.between(2, 254))
		n := nets[int(x)%len(nets)]
		return netip.AddrFrom4([4]byte{n[0], n[1], x*37 + 11, x})
	})
}

// outsiderV6 is from one of outsiderNets6 (never a member's), which the
// drawn fifth byte picks.
func (t *tenant) outsiderV6(r *rng) netip.Addr {
	return t.uniqueIP(func() netip.Addr {
		var b [16]byte
		n := byte(r.intn(16))
		copy(b[:4], outsiderNets6[int(n)%len(outsiderNets6)][:])
		b[4], b[5] = 0xf0|n, byte(r.intn(256))
		b[6], b[7] = byte(r.intn(256)), byte(r.intn(256))
		b[14], b[15] = byte(r.intn(256)), byte(r.between(1, 255))
		return netip.AddrFrom16(b)
	})
}

// The address pools. Real logs hold public addresses, and outsider links
// records only through addresses that identify a client: documentation
// ranges (192.0.2.0/24, 2001:db8::/32...) join nobody (docs/rules.md
// "IPs"). The pools are therefore public-looking ranges of residential
// and mobile access networks in several countries, none of them a
// well-known service's and none of them in the MaxMind test databases
// that the enrichment tests use; members' home addresses stay private, as
// a proxy in front of the services reports them.
var (
	// officeNet is our office egress /24.
	officeNet = [3]byte{95, 91, 212}
	// memberNet6 is the /48 of our members' IPv6 addresses.
	memberNet6 = [16]byte{0x2a, 0x01, 0x04, 0xb0, 0x00, 0x01}
	// outsiderNets4 are the /16s outsiders sign in from: two groups of
	// three, one per branch of the draw.
	outsiderNets4 = [6][2]byte{{90, 45}, {77, 56}, {24, 130}, {86, 138}, {151, 47}, {99, 105}}
	// outsiderNets6 are the /32s of outsiders' IPv6 addresses.
	outsiderNets6 = [4][4]byte{{0x20, 0x01, 0x0b, 0x07}, {0x2a, 0x0a, 0xa5, 0x40}, {0x2a, 0x04, 0x4a, 0x43}, {0x2a, 0x02, 0x0a, 0x21}}
)

// partnerTenant returns a stable tenant id for a partner domain, from the
// domain alone so the expected answers do not move with the seed.
func partnerTenant(domain string) string {
	h := fnv.New64a()
	h.Write([]byte(domain))
	r := rng{s: h.Sum64()}
	return guid(&r)
}

// IP notations. The same address is written in many ways across records,
// as the services do (ports from proxies, IPv4-mapped IPv6 from Teams,
// brackets from Exchange, upper-case and expanded IPv6), so correlation
// must normalise.
const (
	nPlain = iota
	nPort
	nBracketPort
	nMapped
	nMappedBracketPort
	nBracket
	nUpper
	nExpanded
	nMappedUpper
	nCount
)

func ipText(a netip.Addr, notation int, r *rng) string {
	port := strconv.Itoa(r.between(1025, 65535))
	if a.Is4() {
		s := a.String()
		switch notation {
		case nPort:
			return s + ":" + port
		case nBracketPort:
			return "[" + s + "]:443"
		case nMapped:
			return "::ffff:" + s
		case nMappedBracketPort:
			return "[::ffff:" + s + "]:8080"
		case nBracket:
			return "[" + s + "]"
		case nMappedUpper:
			return "::FFFF:" + s
		}
		return s
	}
	s := a.String()
	switch notation {
	case nPort, nBracketPort, nMappedBracketPort:
		return "[" + s + "]:" + port
	case nBracket:
		return "[" + s + "]"
	case nUpper, nMappedUpper:
		return strings.ToUpper(s)
	case nExpanded:
		return a.StringExpanded()
	case nMapped:
		// IPv6 has no mapped form: upper-case and expanded instead.
		return strings.ToUpper(a.StringExpanded())
	}
	return s
}
