package hunt

import (
	"strconv"
	"strings"
)

// SPL for Splunk.
//
// Sources: the Splunk Add-on for Microsoft Office 365 indexes the Office 365
// Management Activity API's records as sourcetype o365:management:activity
// with their original field names (ActorContextId, OrganizationId,
// ClientIP, ExtendedProperties{}.Name/Value, Actor{}.ID/Type, ...); Entra
// ID sign-ins sent to an Event Hub and read by the Splunk Add-on for
// Microsoft Cloud Services are sourcetype azure:monitor:aad with category
// SignInLogs or NonInteractiveUserSignInLogs and the Graph signIn fields
// under properties.* (properties.homeTenantId, properties.resourceTenantId,
// properties.userPrincipalName, properties.ipAddress, properties.appId,
// properties.status.errorCode). These are the macros
// `o365_management_activity` and `azure_monitor_aad` of Splunk's own
// security content. The base search is always scoped by index= terms or
// by a macro of the user's (Options.Indexes, Options.Macro): without one
// it reads only the default indexes and finds nothing.
//
// SPL has no join that scales to a whole audit log, so the triage is one
// pass: eventstats computes each user's class, mvexpand gives one row per
// record and IP, eventstats lists the outside identities seen on each IP,
// and every row then names the identities it relates to (S: its sign-in,
// U: its own record, P: someone else's record from its IP, H: sharing that
// names it). stats by identity gives the counts, with dc(record id) so a
// record seen on several IPs counts once.

// splPeriod writes the time modifiers of the base search: epoch seconds
// for a fixed period (UTC, unambiguous whatever the user's time zone).
func splPeriod(p period) string {
	earliest := "-" + strconv.Itoa(p.days()) + "d"
	if s := p.fixedStart(); !s.IsZero() {
		earliest = strconv.FormatInt(s.Unix(), 10)
	}
	latest := "now"
	if !p.until.IsZero() {
		u := p.until.Unix()
		if p.until.Nanosecond() != 0 {
			u++
		}
		latest = strconv.FormatInt(u, 10)
	}
	return "earliest=" + earliest + " latest=" + latest
}

// splIn writes in(field, "a", "b", ...) for outsider's own constants,
// wrapped eight to a line when long.
func splIn(field string, vals []string) string {
	q := make([]string, len(vals))
	for i, v := range vals {
		// outsider's constants hold letters, digits, spaces and . - /
		// only; anything else would need QuoteSPL's encoding.
		for j := 0; j < len(v); j++ {
			if c := v[j]; !isAlnum(c) && !strings.ContainsRune(" .-/_", rune(c)) {
				panic("hunt: constant needs encoding: " + v)
			}
		}
		q[i] = `"` + v + `"`
	}
	if len(q) <= 8 {
		return "in(" + field + ", " + strings.Join(q, ", ") + ")"
	}
	var b strings.Builder
	b.WriteString("in(" + field + ",\n")
	listLines(&b, q, 4)
	b.WriteString("    )")
	return b.String()
}

// splAnyEqual writes (field==v1 OR field==v2 ...) for report values, each
// quoted by QuoteSPL; false() for none.
func splAnyEqual(field string, vals []string) string {
	if len(vals) == 0 {
		return "false()"
	}
	parts := make([]string, len(vals))
	for i, v := range vals {
		parts[i] = field + "==" + QuoteSPL(v)
	}
	var b strings.Builder
	b.WriteString("(")
	for i := 0; i < len(parts); i += 3 {
		if i > 0 {
			b.WriteString("\n    OR ")
		}
		b.WriteString(strings.Join(parts[i:min(i+3, len(parts))], " OR "))
	}
	b.WriteString(")")
	return b.String()
}

// splCanon writes the evals that turn field into its canonical user
// (docs/rules.md "Canonical user"). Regexes use character classes, not
// backslashes, so no escaping rule of SPL strings is involved, and no $
// anchor, which a dashboard could read as the start of a $token$.
func splCanon(field string) string {
	return `| eval ` + field + `=lower(trim(coalesce(` + field + `, "")))
| eval ` + field + `=case(match(` + field + `, "^urn:spo:guest#"), substr(` + field + `, 15),
    match(` + field + `, "^[ic]:0") AND match(` + field + `, "[|]"), replace(` + field + `, "^.*[|]", ""),
    true(), ` + field + `)
| eval ` + field + `=if(match(` + field + `, "#ext#"), replace(replace(` + field + `, "#ext#.*", ""), "^(.*)_([^_]*)", "\1@\2"), ` + field + `)
`
}

// splBase is the common start of every SPL query: the base search and the
// evals that normalise both sources into one set of fields: src, op,
// is_signin, user (canonical; unknown:<key> for a sign-in that names
// nobody; "" for other records that do), raw_user, guest_flag, guest_host,
// actor_tenant, our_tenant, actor_unknown, outcome, app_id, ips (normalised,
// multivalue), record_id, target, workload, opening, mailbox, admin,
// sharing_op, is_anon.
func splBase(p period, scope string) string {
	unusable := splIn("user", unusableUsers)
	return `search ` + scope + ` (sourcetype="o365:management:activity" OR (sourcetype="azure:monitor:aad" (category="SignInLogs" OR category="NonInteractiveUserSignInLogs"))) ` + splPeriod(p) + `
| eval src=if(sourcetype=="azure:monitor:aad", "entra", "ual")
` + "```A sign-in recorded both by Entra and in the audit log is counted twice: the ids differ.```" + `
| eval op=if(src=="entra", "Entra sign-in (".category.")", Operation)
| eval is_signin=if(src=="entra" OR ` + splIn("op", signinOps) + `, 1, 0)
| eval raw_user=coalesce(if(src=="entra", 'properties.userPrincipalName', UserId), "")
| eval user=raw_user
` + splCanon("user") + `| eval guest_host=if(match(lower(raw_user), "#ext#@"), replace(lower(raw_user), "^.*#ext#@", ""), null())
| eval guest_flag=if(match(lower(raw_user), "#ext#") OR UserType==10 OR lower('properties.userType')=="guest" OR lower('properties.crossTenantAccessType')=="b2bcollaboration", 1, 0)
| eval actor_tenant=lower(if(src=="entra", 'properties.homeTenantId', ActorContextId)),
    our_tenant=lower(if(src=="entra", 'properties.resourceTenantId', OrganizationId))
| eval actor_ids='Actor{}.ID'
| eval actor_unknown=if(isnotnull(mvmap(actor_ids, if(lower(actor_ids)=="unknown", 1, null()))), 1, 0)
| eval actor_guid=mvindex(actor_ids, mvfind('Actor{}.Type', "^0"))
| eval actor_key=if(src=="entra", 'properties.userId',
    coalesce(if(len(actor_guid)==36 AND match(actor_guid, "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"), actor_guid, null()), UserKey, lower(ActorContextId)))
| eval unusable=if(` + unusable + `, 1, 0)
| eval user=case(unusable==1 AND is_signin==1, "unknown:".coalesce(actor_key, ""), unusable==1, "", true(), user)
| eval rsd=coalesce(ResultStatusDetail, mvindex('ExtendedProperties{}.Value', mvfind('ExtendedProperties{}.Name', "^ResultStatusDetail")), "")
| eval err=coalesce(if(src=="entra", tostring('properties.status.errorCode'), ErrorNumber), "")
| eval outcome=case(is_signin==0, null(),
    src=="entra" AND err=="0", "success",
    src=="entra", if(` + splIn("err", interruptCodes) + `, "interrupted", "failure"),
    err!="" AND err!="0", if(` + splIn("err", interruptCodes) + `, "interrupted", "failure"),
    coalesce(LogonError, "")!="", if(` + splIn("LogonError", interruptNames) + `, "interrupted", "failure"),
    op=="UserLoginFailed", "failure",
    rsd=="" OR rsd=="Success", "success",
    rsd=="Redirect" OR rsd=="Interrupted", "interrupted",
    true(), "failure")
| eval app_id=lower(if(src=="entra", 'properties.appId', ApplicationId))
` + "```IPs as outsider compares them: brackets and port stripped, ::ffff: unmapped, non-addresses dropped. SPL has no function that writes IPv6 in one canonical form: the same IPv6 address written two ways (e.g. with and without zero compression) does not meet itself here.```" + `
| eval ips=if(src=="entra", 'properties.ipAddress', mvappend(ClientIP, ActorIpAddress, ClientIPAddress))
| eval ips=mvmap(ips, lower(trim(ips)))
| eval ips=mvmap(ips, replace(ips, "^[[]([^]]*)[]].*", "\1"))
| eval ips=mvmap(ips, if(match(ips, "^[0-9.]+:[0-9]+") AND NOT match(ips, "[^0-9.:]"), replace(ips, ":.*", ""), ips))
| eval ips=mvmap(ips, if(match(ips, "^::ffff:[0-9]") AND NOT match(substr(ips, 8), "[^0-9.]"), substr(ips, 8), ips))
| eval ips=mvdedup(mvmap(ips, if((match(ips, "^[0-9]{1,3}([.][0-9]{1,3}){3}") AND NOT match(ips, "[^0-9.]")) OR (match(ips, ":") AND NOT match(ips, "[^0-9a-f:.]")), ips, null())))
| eval record_id=coalesce(Id, 'properties.id', md5(_raw))
| eval workload=if(src=="entra", "AzureActiveDirectory", Workload)
| eval target=coalesce(TargetUserOrGroupName, UserSharedWith)
` + splCanon("target") + `| eval target=if(` + splIn("target", unusableUsers) + `, null(), target)
| eval is_anon=if(user=="anonymous" OR match(user, "^urn:spo:anon#"), 1, 0)
| eval opening=if(` + splIn("workload", openingWorkloads) + ` AND ` + splIn("op", accessOps()) + `, 1, 0)
| eval mailbox=if(is_signin==0 AND (` + splRecordTypes(mailboxRecordTypes) + ` OR ` + splIn("op", mailboxOps) + `), 1, 0)
| eval admin=if(is_signin==0 AND (` + splRecordTypes(adminRecordTypes) + ` OR ` + splIn("op", adminOps) + `), 1, 0)
| eval sharing_op=if(is_signin==0 AND ` + splIn("op", sharingOps()) + `, 1, 0)
`
}

// splRecordTypes tests RecordType, a number in the raw records.
func splRecordTypes(rts []recordType) string {
	parts := make([]string, len(rts))
	for i, rt := range rts {
		parts[i] = "RecordType==" + strconv.Itoa(rt.n)
	}
	return strings.Join(parts, " OR ")
}

// splClassify is docs/rules.md "Classify" and "Correlate" in one pass,
// ending with one row per record and related identity: role (S, U, P, H)
// and x (the identity).
const splClassify = "```Classify, the first rule that holds: no usable user, external-unknown; a guest, guest; a sign-in from a tenant not ours, passthrough; one from ours, member; Actor Unknown or a domain none of our members use, passthrough; else member. Our tenants are the OrganizationId of every audit record and the resourceTenantId of every Entra sign-in whose homeTenantId is the same: not every resourceTenantId, since the Entra log also holds the sign-ins of our users to other tenants, where they are guests; only sign-ins to our tenants classify an account.```" + `
| eval tenant_seen=if(src=="ual" OR (coalesce(actor_tenant, "")!="" AND actor_tenant==our_tenant), our_tenant, null())
| eventstats values(tenant_seen) as our_tenants
| eval into_ours=if(src=="ual" OR coalesce(mvcount(mvmap(our_tenants, if(our_tenants==our_tenant, 1, null()))), 0)>0, 1, 0),
    actor_ours=if(coalesce(mvcount(mvmap(our_tenants, if(our_tenants==actor_tenant, 1, null()))), 0)>0, 1, 0)
| eval s_in=if(is_signin==1 AND into_ours==1, 1, 0)
| eval s_guest=if(s_in==1 AND guest_flag==1, 1, 0),
    s_foreign=if(s_in==1 AND coalesce(actor_tenant, "")!="" AND actor_ours==0, 1, 0),
    s_ours=if(s_in==1 AND coalesce(actor_tenant, "")!="" AND actor_ours==1, 1, 0),
    s_unknown=if(s_in==1 AND actor_unknown==1, 1, 0),
    foreign_tenant=if(s_foreign==1, actor_tenant, null())
| eventstats max(s_in) as u_signed max(s_guest) as u_guest max(s_foreign) as u_foreign max(s_ours) as u_ours max(s_unknown) as u_unknown by user
| eval domain=if(match(user, "@"), replace(user, "^.*@", ""), null())
| eval our_domain=coalesce(if(u_signed==1 AND u_guest==0 AND u_foreign==0 AND u_ours==1 AND NOT match(user, "^unknown:"), domain, null()), if(is_signin==1, guest_host, null()))
| eventstats values(our_domain) as our_domains
| eval in_our_domains=if(isnotnull(domain) AND coalesce(mvcount(mvmap(our_domains, if(our_domains==domain, 1, null()))), 0)>0, 1, 0)
| eval class=case(u_signed!=1, null(),
    match(user, "^unknown:"), "external-unknown",
    u_guest==1, "guest",
    u_foreign==1, "passthrough",
    u_ours==1, "member",
    u_unknown==1 OR (coalesce(mvcount(our_domains), 0)>0 AND in_our_domains==0), "passthrough",
    true(), "member")
| eval external=if(isnotnull(class) AND class!="member", 1, 0)
| eval member_user=if(class=="member" OR (isnull(class) AND in_our_domains==1), 1, 0)
` + "```IPs(X): one row per record and IP, then the outside identities that signed in from each IP.```" + `
| eval ips=if(isnull(ips), "(none)", ips)
| mvexpand ips
| eval ext_signin_user=if(is_signin==1 AND external==1 AND ips!="(none)", user, null())
| eventstats values(ext_signin_user) as ip_ext by ips
| eval ip_ext=if(ips=="(none)", null(), ip_ext)
` + "```Relate each row to identities: S its sign-in, U another record of its own or a record of an anonymous-link user from its IP, P a record of someone else from its IP (not the sign-in of another outsider), H sharing that names it.```" + `
| eval rel_s=if(is_signin==1 AND external==1, "S:".user, null())
| eval rel_u=case(is_anon==1, mvmap(ip_ext, "U:".ip_ext), is_signin==0 AND external==1, "U:".user)
| eval rel_p=if(is_anon==0 AND NOT (is_signin==1 AND external==1), mvmap(ip_ext, if(ip_ext!=user, "P:".ip_ext, null())), null())
| eval rel_h=if(sharing_op==1 AND isnotnull(target), "H:".target, null())
| eval rel=mvappend(rel_s, rel_u, rel_p, rel_h)
| where isnotnull(rel)
| mvexpand rel
| eval role=substr(rel, 1, 1), x=substr(rel, 3)
` + "```H names any target: keep only identities that signed in from outside.```" + `
| eval is_s=if(role=="S", 1, 0)
| eventstats max(is_s) as x_outside by x
| where x_outside==1
`

// splTriage writes the triage queries for Splunk.
func splTriage(p period, scope string, firstParty []string) []Query {
	base := splBase(p, scope) + splClassify
	q := queries(Splunk, base)
	return []Query{
		q("outside-signins",
			"every account from outside the organisation that signed in during the period ("+p.describe()+"): B2B guests, pass-through accounts (by tenant, so those with no #EXT# in their UPN too), personal Microsoft accounts, and sign-ins that name nobody.",
			"one row per identity: its class, home tenant, successful and other sign-ins, IPs and applications. Pass-through sign-ins to first-party applications are normal by design; the next searches say whether anything else happened.",
			`| where role=="S"
| stats dc(record_id) as signins dc(eval(if(outcome=="success", record_id, null()))) as success
    dc(eval(if(outcome!="success", record_id, null()))) as failure
    dc(eval(if(outcome=="interrupted", record_id, null()))) as interrupted
    min(_time) as first max(_time) as last values(ips) as ips values(app_id) as apps
    values(class) as class mode(foreign_tenant) as home_tenant by x
| eval first=strftime(first, "%Y-%m-%dT%H:%M:%S%z"), last=strftime(last, "%Y-%m-%dT%H:%M:%S%z")
| rename x as user
| table user class home_tenant signins success failure interrupted first last ips apps
| sort 0 user
`),
		q("by-user",
			purposeU,
			"one row per record and identity x. No rows for x: it did nothing but sign in. Rows that are all opening=1 (file and page views in SharePoint or OneDrive) are what opening shared content produces; mailbox=1 or admin=1 rows deserve a close look.",
			`| where role=="U"
| dedup x record_id
| table _time x user op workload ips opening mailbox admin record_id
| sort 0 x _time
`),
		q("by-ip",
			purposeP,
			"one row per record and identity x whose IP it shares. member_user=1 means an account of ours used the same address: a shared network at best, a compromised or impersonated member at worst.",
			`| where role=="P"
| dedup x record_id
| table _time x user op workload ips member_user mailbox admin record_id
| sort 0 x _time
`),
		q("sharing",
			purposeH,
			"one row per record and identity x: who shared what with it. An identity with sharing and no other activity than opening what was shared gets the verdict shared.",
			`| where role=="H" OR (role=="U" AND op=="AnonymousLinkUsed")
| dedup x record_id
| table _time x op user target ips record_id
| sort 0 x _time
`),
		q("verdicts",
			purposeVerdicts,
			"one row per identity, high severity first, by the rule below. anomalous: non_first_party_apps names the applications, which pass-through does not allow. activity: look at the by-user and by-ip searches. signin-only: check the coverage below before reading it as an all-clear.",
			"```The embedded catalogue of Microsoft first-party application ids (outsider apps).```\n"+
				`| eval first_party=if(role=="S" AND `+splIn("app_id", firstParty)+`, 1, 0)
| stats dc(eval(if(role=="S", record_id, null()))) as signins
    dc(eval(if(role=="S" AND outcome=="success", record_id, null()))) as success
    dc(eval(if(role=="S" AND outcome=="success" AND class!="guest" AND coalesce(app_id, "")!="" AND first_party==0, record_id, null()))) as anomalous
    values(eval(if(role=="S" AND outcome=="success" AND coalesce(app_id, "")!="" AND first_party==0, app_id, null()))) as non_first_party_apps
    values(eval(if(role=="S", class, null()))) as class
    mode(eval(if(role=="S", foreign_tenant, null()))) as home_tenant
    dc(eval(if(role=="U", record_id, null()))) as by_user
    dc(eval(if(role=="U" AND opening==0, record_id, null()))) as u_not_opening
    dc(eval(if(role=="U" AND op=="AnonymousLinkUsed", record_id, null()))) as anon_used
    dc(eval(if(role=="P", record_id, null()))) as by_ip
    dc(eval(if(role=="H", record_id, null()))) as shared_with
    dc(eval(if((role=="U" OR role=="P") AND mailbox==1, record_id, null()))) as mailbox_records
    dc(eval(if((role=="U" OR role=="P") AND admin==1, record_id, null()))) as admin_records
    dc(eval(if(role=="P" AND member_user==1, record_id, null()))) as member_records_from_its_ips
    by x
| eval sharing=shared_with+anon_used
| eval verdict=case(anomalous>0, "anomalous",
    by_user==0 AND by_ip==0, "signin-only",
    sharing>0 AND by_ip==0 AND u_not_opening==0, "shared",
    true(), "activity")
| eval severity=case(verdict=="anomalous", "high", verdict=="signin-only", "info", verdict=="shared", "low",
    mailbox_records+admin_records+member_records_from_its_ips>0, "high", true(), "medium")
| eval rank=case(severity=="high", 0, severity=="medium", 1, severity=="low", 2, true(), 3)
| sort 0 rank x
| rename x as user
| table user class home_tenant verdict severity signins success anomalous non_first_party_apps by_user by_ip sharing mailbox_records admin_records member_records_from_its_ips
`),
	}
}

// splFollowUp writes the follow-up searches for Splunk. The report's values
// appear only in where/eval expressions, quoted by QuoteSPL: the base
// search is not narrowed by them, because the search command reads * as
// a wildcard that no escape turns off; narrow it by index or time instead.
func splFollowUp(p period, scope string, t Targets) []Query {
	base := splBase(p, scope) +
		"```The identities of the report (user exactly as the report has it: canonical UPN, or unknown:<key>) and every IP they signed in from.```\n" +
		"| eval identity=if(" + splAnyEqual("user", t.Users) + ", user, null())\n" +
		"| eval ip_hit=mvmap(ips, if(" + splAnyEqual("ips", t.IPs) + ", ips, null()))\n" +
		"| eval target_hit=if(isnotnull(target) AND " + splAnyEqual("target", t.Users) + ", 1, 0)\n"
	q := queries(Splunk, base)
	return []Query{
		q("signins",
			"every sign-in during the period ("+p.describe()+") by the report's identities, and every sign-in by anyone from their IPs.",
			"one row per sign-in. Rows with no identity are someone else on one of their IPs: a member there is worth a look. New applications or IPs for an identity, or sign-ins after the report's period, are new facts to triage.",
			`| where is_signin==1 AND (isnotnull(identity) OR isnotnull(ip_hit))
| dedup record_id
| table _time user identity ips app_id outcome op actor_tenant record_id src
| sort 0 user _time
`),
		q("by-user",
			followUpPurposeU,
			followUpHowToU,
			`| where is_signin==0 AND isnotnull(identity)
| dedup record_id
| table _time user op workload ips opening mailbox admin record_id
| sort 0 user _time
`),
		q("by-ip",
			followUpPurposeP,
			"one row per record. is_anon=1 rows count as the identity's own (an anonymous link carries no name). A member of ours on the same IP, or mailbox and admin operations, raise the severity.",
			`| where isnull(identity) AND isnotnull(ip_hit)
| dedup record_id
| table _time user is_anon is_signin op workload ips mailbox admin record_id
| sort 0 _time
`),
		q("sharing",
			followUpPurposeH,
			followUpHowToH,
			`| where (sharing_op==1 AND target_hit==1) OR (op=="AnonymousLinkUsed" AND isnotnull(ip_hit))
| dedup record_id
| table _time op user target ips record_id
| sort 0 target _time
`),
	}
}
