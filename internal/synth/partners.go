package synth

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Partner scale (Options.Partners, Options.Outsiders): on top of the fixed
// scenarios, Outsiders more outside identities from Partners partner
// tenants, so that reports are tried at the scale of a real tenant with
// hundreds of partners. Every one goes through the same intent check as
// the fixed scenarios (judge derives its answer from the records written).
//
// How the two combine: identity i belongs to partner i mod Partners
// (round-robin). The first identity of every partner is a pass-through
// account of the partner's own domain, so each partner tenant is the home
// tenant of at least one identity and names itself by domain; the others
// cycle through every kind (partnerKinds), guests and consumer accounts
// included. Outsiders < Partners is an error (a partner with no identity
// would not appear); Partners 0 with Outsiders N means ceil(N/2) partners;
// Outsiders 0 with Partners N means N identities, one a partner.
//
// The answers are derived per identity over every scenario record, so the
// time to judge grows with the square of Outsiders: 450 take a tenth of a
// second, 8,000 about ten seconds (noise, which fills Size, is not judged
// and costs the same as without partners).

// ScenarioPartnerPrefix starts the Scenario of every identity Partners and
// Outsiders add: "partner-" and the kind (partnerKinds).
const ScenarioPartnerPrefix = "partner-"

// streamPartners draws the partner identities, apart from the fixed
// scenarios so that those do not move.
const streamPartners = 6

// partnerKind is one shape of partner identity and the verdict it means.
type partnerKind struct {
	name                     string
	class, verdict, severity string
	// home: the identity's home tenant is the partner's (pass-through or
	// external-unknown), so it can be a partner's first identity.
	home bool
}

// partnerKinds spread the identities over every verdict and class.
var partnerKinds = []partnerKind{
	{"signin-only", "passthrough", "signin-only", "info", true},
	{"anomalous", "passthrough", "anomalous", "high", true},
	{"activity-files", "passthrough", "activity", "medium", true},
	{"activity-mailbox", "passthrough", "activity", "high", true},
	{"shared", "passthrough", "shared", "low", true},
	{"failed", "passthrough", "signin-only", "info", true},
	{"external-unknown", "external-unknown", "signin-only", "info", true},
	{"guest-shared", "guest", "shared", "low", false},
	{"guest-signin-only", "guest", "signin-only", "info", false},
	{"consumer-signin-only", "passthrough", "signin-only", "info", false},
	{"consumer-shared", "passthrough", "shared", "low", false},
}

// partnerCounts resolves Options.Partners and Outsiders (see above).
func partnerCounts(partners, outsiders int) (int, int, error) {
	switch {
	case partners < 0 || outsiders < 0:
		return 0, 0, fmt.Errorf("partners (%d) and outsiders (%d) must not be negative", partners, outsiders)
	case partners == 0 && outsiders == 0:
		return 0, 0, nil
	case partners == 0:
		partners = (outsiders + 1) / 2
	case outsiders == 0:
		outsiders = partners
	case outsiders < partners:
		return 0, 0, fmt.Errorf("outsiders (%d) fewer than partners (%d): every partner needs an identity", outsiders, partners)
	}
	// Judging grows with the square of the identities (about a minute
	// at the limit).
	const limit = 20000
	if outsiders > limit {
		return 0, 0, fmt.Errorf("outsiders (%d) above %d", outsiders, limit)
	}
	return partners, outsiders, nil
}

var partnerWords1 = []string{
	"alder", "amber", "apex", "arbor", "aster", "atlas", "aurora", "basalt", "beacon", "birch",
	"blue", "brook", "cedar", "cobalt", "coral", "crest", "delta", "ember", "falcon", "fern",
	"granite", "harbor", "heron", "indigo", "iron", "juniper", "kestrel", "lumen", "maple", "meridian",
	"nimbus", "north", "oak", "onyx", "orbit", "pine", "quartz", "raven", "ridge", "sable",
	"sierra", "silver", "spruce", "summit", "tidal", "torch", "vertex", "willow", "zenith", "zephyr",
}

var partnerWords2 = []string{
	"logistics", "consulting", "labs", "systems", "partners", "legal", "audit", "design", "media", "capital",
	"engineering", "health", "energy", "foods", "freight", "analytics", "robotics", "studio", "advisory", "security",
}

var partnerTLDs = []string{"com", "com", "com", "net", "de", "fr", "co.uk", "nl", "it", "es", "io", "ch"}

// partnerDomains draws n distinct partner domains whose tenants are
// distinct and differ from every tenant the fixed scenarios use.
func partnerDomains(r *rng, n int) []string {
	taken := map[string]bool{TenantID: true, ConsumerTenant: true}
	for _, d := range []string{"fabrikam.com", "northwindtraders.com", "adatum.com", "woodgrovebank.com", "proseware.com",
		"litware.com", "relecloud.com", "wingtiptoys.com", "fourthcoffee.com", "alpineskihouse.com",
		"adventure-works.com", "margiestravel.com", "blueyonderairlines.com", "graphicdesigninstitute.com",
		"tailspintoys.com", "tailwindtraders.com"} {
		taken[d], taken[partnerTenant(d)] = true, true
	}
	out := make([]string, 0, n)
	for len(out) < n {
		d := pick(r, partnerWords1) + pick(r, partnerWords2)
		if r.chance(0.3) {
			d += "-" + pick(r, partnerWords1)
		}
		if len(out) >= len(partnerWords1)*len(partnerWords2)/2 {
			d += strconv.Itoa(r.between(2, 999))
		}
		d += "." + pick(r, partnerTLDs)
		if taken[d] || taken[partnerTenant(d)] {
			continue
		}
		taken[d], taken[partnerTenant(d)] = true, true
		out = append(out, d)
	}
	return out
}

// partnerV4 is a fresh address from outsiderNets4 with both low bytes
// drawn: outsiderV4's pool (one address per drawn byte) holds too few for
// hundreds of identities.
func (t *tenant) partnerV4(r *rng) netip.Addr {
	return t.uniqueIP(func() netip.Addr {
		n := outsiderNets4[r.intn(len(outsiderNets4))]
		return netip.AddrFrom4([4]byte{n[0], n[1], byte(r.intn(256)), byte(r.between(2, 254))})
	})
}

// partners adds the identities of Options.Partners and Outsiders.
func (g *gen) partners(b0 *builder) error {
	np, nx, err := partnerCounts(g.o.Partners, g.o.Outsiders)
	if err != nil || nx == 0 {
		return err
	}
	// A builder of its own stream, sharing the plan and the order.
	b := &builder{g: g, r: newRng(g.o.Seed, streamPartners, 0), rs: b0.rs, p: b0.p, seq: b0.seq, used: b0.used}
	defer func() { b0.seq = b.seq }()
	tn := g.tn
	domains := partnerDomains(&b.r, np)
	seen := map[string]bool{}
	name := func(domain string, consumer bool) string {
		for try := 0; ; try++ {
			f, l := pick(&b.r, firstNames), pick(&b.r, lastNames)
			local := f + "." + l
			if consumer {
				local = strings.ToLower(f+l) + strconv.Itoa(b.r.between(1, 99))
			}
			if try >= 8 {
				// A partner with thousands of identities outgrows the
				// 3,600 names: number them, as big directories do.
				local += strconv.Itoa(try)
			}
			if !seen[strings.ToLower(local+"@"+domain)] {
				seen[strings.ToLower(local+"@"+domain)] = true
				return local
			}
		}
	}
	colleague := func(i int) *member { return tn.members[3+i%(len(tn.members)-3)] }
	var homeKinds []partnerKind
	for _, k := range partnerKinds {
		if k.home && k.class == "passthrough" {
			homeKinds = append(homeKinds, k)
		}
	}
	const min = 60
	for i := 0; i < nx; i++ {
		p := i % np
		domain := domains[p]
		k := partnerKinds[i%len(partnerKinds)]
		if i < np {
			k = homeKinds[i%len(homeKinds)]
		}
		note := fmt.Sprintf("partner %d of %d (%s): %s", p+1, np, domain, k.name)
		want := func(x *outsider) { b.want(x, ScenarioPartnerPrefix+k.name, note, k.class, k.verdict, k.severity) }
		t := b.anchor()
		a := tn.partnerV4(&b.r)
		ip := b.ip(a, nPlain)
		switch k.name {
		case "signin-only":
			x := b.passthrough(name(domain, false) + "@" + domain)
			b.signin(x, t, pick(&b.r, []string{appAccessPanel, appSharePoint, appTeams, appOfficeHome}), ip, ip)
			b.signin(x, t+25*min, appSharePoint, b.ip(a, nPort), ip)
			want(x)
		case "anomalous":
			x := b.passthrough(name(domain, false) + "@" + domain)
			b.signin(x, t, tn.thirdPartyApps[i%len(tn.thirdPartyApps)], ip, ip)
			want(x)
		case "activity-files":
			x := b.passthrough(name(domain, false) + "@" + domain)
			s := tn.sites[i%len(tn.sites)]
			b.signin(x, t, appSharePoint, ip, ip)
			b.sp(x, t+40, kFile, "FileModified", s, s.files[0], x.lower, b.ip(a, nPort))
			b.sp(x, t+90, kFile, "FileUploaded", s, "notes "+strconv.Itoa(i)+".docx", "urn:spo:guest#"+x.lower, ip)
			want(x)
		case "activity-mailbox":
			x := b.passthrough(name(domain, false) + "@" + domain)
			b.signin(x, t, appExchange, ip, ip)
			b.mail(x, t+3*min, b.ip(a, nMapped), colleague(i).lower)
			want(x)
		case "shared", "consumer-shared", "guest-shared":
			var x *outsider
			switch k.name {
			case "guest-shared":
				x = b.guest(strings.ToLower(name(domain, false)), domain)
			case "consumer-shared":
				x = b.passthrough(name("hotmail.com", true) + "@hotmail.com")
			default:
				x = b.passthrough(name(domain, false) + "@" + domain)
			}
			m := colleague(i)
			s := tn.sites[i%len(tn.sites)]
			file := s.files[i%len(s.files)]
			target := x.lower
			if x.guest {
				target = x.canon
			}
			b.share(m, t, "SharingSet", s, file, target, "Guest", "<Permissions granted>Read</Permissions granted>")
			t += 30 * min
			b.signin(x, t, appSharePoint, ip, ip)
			user := x.lower
			if !x.guest {
				user = "urn:spo:guest#" + x.lower
			}
			b.sp(x, t+30, kFile, "FileAccessed", s, file, user, b.ip(a, nPort))
			b.sp(x, t+75, kFile, "FileDownloaded", s, file, x.lower, ip)
			want(x)
		case "failed":
			x := b.passthrough(name(domain, false) + "@" + domain)
			b.failed(x, t, appExchange, ip, "50126", "InvalidUserNameOrPassword")
			b.failed(x, t+50, appExchange, b.ip(a, nBracketPort), "50126", "InvalidUserNameOrPassword")
			want(x)
		case "external-unknown":
			key := guid(&b.r)
			e := &event{t: t, kind: kSignin, rt: 15, op: opLoggedIn, workload: "AzureActiveDirectory",
				userID: "Not Available", userKey: key, userType: 4, actor0: key, actorCtx: partnerTenant(domain),
				clientIP: ip, actorIP: ip, appID: appSharePoint, resource: appSharePoint,
				rsd: "Success", errNum: "0", ua: &userAgents[i%5]}
			b.add(e)
			b.p.intents["unknown:"+key] = intent{scenario: ScenarioPartnerPrefix + k.name, note: note,
				class: k.class, verdict: k.verdict, severity: k.severity}
		case "guest-signin-only":
			x := b.guest(strings.ToLower(name(domain, false)), domain)
			b.signin(x, t, appAccessPanel, ip, ip)
			want(x)
		case "consumer-signin-only":
			x := b.passthrough(name("outlook.com", true) + "@outlook.com")
			b.signin(x, t, appSharePoint, ip, ip)
			want(x)
		default:
			return fmt.Errorf("synth: bug: partner kind %q", k.name)
		}
	}
	// Coverage (docs/rules.md): a colleague's mail and file record every
	// day, so that Exchange and SharePoint cover every sign-in day
	// whatever the noise; without them a quiet day could make a
	// signin-only or shared identity unverified.
	for d := 0; d < g.o.Days; d++ {
		m := colleague(d)
		t := g.start + int64(d)*86400 + 12*3600
		e := &event{t: t, kind: kMail, rt: 50, op: "MailItemsAccessed", workload: "Exchange",
			clientIP: ipText(m.ips[0], nPlain, &b.r), appID: appOutlook, owner: m.lower}
		setMemberUser(e, m)
		b.add(e)
		b.spMember(m, t+60, kFile, "FileAccessed", m.oneDrive, m.oneDrive.files[0])
	}
	return nil
}
