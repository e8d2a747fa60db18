package hunt

import (
	"strconv"
	"strings"
	"time"
)

// KQL for Microsoft Sentinel and Defender XDR advanced hunting.
//
// Both SIEMs share one query structure: a source adapter per SIEM turns its
// tables into two normalised row sets, SignIns and NonSignIns, and
// everything after that (classification, U, P, H, verdicts) is the same
// text. Where a table lacks a field the rule needs, the adapter says so in
// a comment next to the stand-in it uses.
//
// Tables and columns (cited in docs/hunt.md's field mapping):
//   - Sentinel: OfficeActivity (Azure Monitor Logs reference; Exchange,
//     SharePoint/OneDrive and Teams, not the AzureActiveDirectory workload),
//     SigninLogs and AADNonInteractiveUserSignInLogs (HomeTenantId,
//     ResourceTenantId, UserType, AppId, IPAddress, ResultType).
//   - Defender: CloudAppEvents (RawEventData is the original audit record;
//     ActionType is its Operation) and EntraIdSignInEvents (which replaced
//     AADSignInEventsBeta; it has no home tenant, only IsExternalUser and
//     IsGuestUser).

// kqlPeriod writes the Start and End lets. The tables are filtered with
// Start <= t < End, not between, which includes both ends (Kusto "between
// operator": "Filters a record set for data matching the values in an
// inclusive range"; https://learn.microsoft.com/kusto/query/between-operator):
// --until is the first instant left out, as in the engine and in Splunk's
// latest=, and a record on that very second (UAL times have whole seconds)
// belongs to the next period, not to both.
func kqlPeriod(p period) string {
	start := "ago(" + strconv.Itoa(p.days()) + "d)"
	if s := p.fixedStart(); !s.IsZero() {
		start = "datetime(" + s.Format(time.RFC3339Nano) + ")"
	}
	end := "now()"
	if !p.until.IsZero() {
		end = "datetime(" + p.until.Format(time.RFC3339Nano) + ")"
	}
	return "let Start = " + start + ";\nlet End = " + end + ";\n"
}

// kqlConst writes constant strings (outsider's own lists, never report
// values) as a dynamic array literal, four to a line when long.
func kqlConst(vals []string) string {
	return kqlArray(vals, 4)
}

// queries returns the maker of one target's queries: each is the base
// every query of the set starts with, then its own tail.
func queries(siem SIEM, base string) func(name, purpose, howto, tail string) Query {
	return func(name, purpose, howto, tail string) Query {
		return Query{SIEM: siem, Name: name, Purpose: purpose, HowToRead: howto, Query: base + tail}
	}
}

// The texts of the steps the KQL and SPL sets share, written once so the
// two languages describe each step alike: the triage's U, P, H and
// verdicts, and the follow-up's U, P and H.
const (
	purposeU         = "U: every record of each outside identity that is not a sign-in, and every record of an anonymous-link user from its IPs."
	purposeP         = "P: records of anyone else from an IP an outside identity signed in from (members' sign-ins included, other outsiders' sign-ins left out)."
	purposeH         = "H: sharing records that name an outside identity as target, and anonymous-link use from its IPs."
	purposeVerdicts  = "the verdict and severity of every outside identity, by outsider's rule: anomalous, signin-only, shared or activity."
	followUpPurposeU = "every record of the report's identities that is not a sign-in (U)."
	followUpHowToU   = "one row per record. Nothing: they still only signed in. File and page views in SharePoint or OneDrive are what opening shared content produces; anything else (mail, admin operations, downloads of what was not shared) needs an explanation."
	followUpPurposeP = "every record by anyone else from the identities' IPs (P), anonymous-link users included."
	followUpPurposeH = "sharing records that name one of the identities (H), and anonymous-link use from their IPs."
	followUpHowToH   = "one row per record: who in the organisation shared what with whom. Sharing explains file access by the identity; it does not explain anything else."
)

// listLines writes a long list of quoted values perLine to a line, each
// line indented four spaces and all but the last ending in a comma: the
// layout of a long list in every query language outsider writes.
func listLines(b *strings.Builder, q []string, perLine int) {
	for i := 0; i < len(q); i += perLine {
		end := min(i+perLine, len(q))
		b.WriteString("    " + strings.Join(q[i:end], ", "))
		if end < len(q) {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
}

func kqlArray(vals []string, perLine int) string {
	q := make([]string, len(vals))
	for i, v := range vals {
		if !kqlPlain(v) {
			panic("hunt: constant needs encoding: " + v)
		}
		q[i] = QuoteKQL(v)
	}
	if len(q) <= perLine {
		return "dynamic([" + strings.Join(q, ", ") + "])"
	}
	var b strings.Builder
	b.WriteString("dynamic([\n")
	listLines(&b, q, perLine)
	b.WriteString("])")
	return b.String()
}

// kqlValues writes report values as one dynamic array expression. Values
// QuoteKQL writes plainly go in a dynamic([...]) literal (its "…" strings
// mean the same in KQL and JSON: only \" and \\ are escaped, nothing else
// is there to mean anything); the others are decoded at run time and added
// with pack_array, so the literal only ever holds plain strings.
func kqlValues(vals []string) string {
	var plain, enc []string
	for _, v := range vals {
		if kqlPlain(v) {
			plain = append(plain, v)
		} else {
			enc = append(enc, QuoteKQL(v))
		}
	}
	var parts []string
	if len(plain) > 0 || len(enc) == 0 {
		parts = append(parts, kqlArray(plain, 4))
	}
	for i := 0; i < len(enc); i += 16 {
		parts = append(parts, "pack_array("+strings.Join(enc[i:min(i+16, len(enc))], ", ")+")")
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return "array_concat(" + strings.Join(parts, ", ") + ")"
}

// kqlPrelude is the part every KQL query starts with: the period, the lists
// of docs/rules.md, and the two functions that make one account and one
// address meet themselves however they are spelt.
func kqlPrelude(p period) string {
	var b strings.Builder
	b.WriteString(kqlPeriod(p))
	b.WriteString("// outsider's lists, the same as its engine's.\n")
	b.WriteString("let SignInOps = " + kqlConst(signinOps) + ";\n")
	b.WriteString("let Interrupts = " + kqlConst(interruptCodes) + ";\n")
	b.WriteString("let InterruptNames = " + kqlConst(interruptNames) + ";\n")
	b.WriteString("let UnusableUsers = " + kqlConst(unusableUsers) + ";\n")
	b.WriteString("let OpeningWorkloads = " + kqlConst(openingWorkloads) + ";\n")
	b.WriteString("let AccessOps = " + kqlConst(accessOps()) + ";\n")
	b.WriteString("let SharingOps = " + kqlConst(sharingOps()) + ";\n")
	b.WriteString("let MailboxOps = " + kqlConst(mailboxOps) + ";\n")
	b.WriteString("let MailboxTypes = " + kqlConst(recordTypeValues(mailboxRecordTypes)) + ";\n")
	b.WriteString("let AdminOps = " + kqlConst(adminOps) + ";\n")
	b.WriteString("let AdminTypes = " + kqlConst(recordTypeValues(adminRecordTypes)) + ";\n")
	b.WriteString("let ConsumerDomains = " + kqlConst(consumerDomains) + ";\n")
	b.WriteString("let ConsumerTenant = " + QuoteKQL(consumerTenant) + ";\n")
	b.WriteString(kqlFunctions)
	return b.String()
}

// kqlFunctions are the functions every KQL query defines. EntraOutcome
// reads ResultType as a code or as a word: the AADNonInteractiveUserSignInLogs
// reference says "The result of the sign-in operation can be Success or
// Failure" (Azure Monitor Logs table reference,
// https://learn.microsoft.com/azure/azure-monitor/reference/tables/aadnoninteractiveusersigninlogs),
// and a success read as failure can never be anomalous.
const kqlFunctions = `// Canon: the canonical user: lower case; urn:spo:guest#x -> x; a claim such as
// i:0#.f|membership|x -> x; a B2B guest UPN x_domain#ext#@host -> x@domain.
let Canon = (u:string) {
    let l = tolower(trim(@"\s+", u));
    let a = case(l startswith "urn:spo:guest#", substring(l, 14),
                 (l startswith "i:0" or l startswith "c:0") and l contains "|", extract(@"([^|]*)$", 1, l),
                 l);
    let i = indexof(a, "#ext#");
    iff(i >= 0, replace_regex(substring(a, 0, i), @"_([^_]*)$", @"@\1"), a)
};
// NormIP: an IP as outsider compares it: brackets and port stripped, ::ffff: unmapped, "" when
// not an address. IPv6 comes out in the expanded form parse_ipv6 returns, so one address written
// two ways still meets itself (the engine uses the compressed form; the comparison is the same).
let NormIP = (raw:string) {
    let t = tolower(trim(@"\s+", raw));
    let h0 = case(t startswith "[", extract(@"^\[([^\]]*)\]", 1, t),
                  t matches regex @"^[0-9.]+:[0-9]+$", extract(@"^([0-9.]+):", 1, t),
                  t);
    let h = iff(h0 matches regex @"^::ffff:[0-9.]+$", substring(h0, 7), h0);
    iff(h matches regex @"^[0-9]{1,3}(\.[0-9]{1,3}){3}$" and isnotnull(parse_ipv4(h)), h,
        iff(h contains ":", parse_ipv6(h), ""))
};
// UalOutcome: success, interrupted or failure of an audit-log sign-in record. UserLoggedIn
// alone is not proof of success; the error number decides, whatever the operation.
let UalOutcome = (Operation:string, ErrNo:string, LogonErr:string, Ext:string) {
    let rsd = extract(@'"Name"\s*:\s*"ResultStatusDetail"\s*,\s*"Value"\s*:\s*"([^"]*)"', 1, Ext);
    case(isnotempty(ErrNo) and ErrNo != "0", iff(set_has_element(Interrupts, ErrNo), "interrupted", "failure"),
         isnotempty(LogonErr), iff(set_has_element(InterruptNames, LogonErr), "interrupted", "failure"),
         Operation == "UserLoginFailed", "failure",
         isempty(rsd) or rsd == "Success", "success",
         rsd == "Redirect" or rsd == "Interrupted", "interrupted",
         "failure")
};
// EntraOutcome: the same for an Entra sign-in: error code 0 is success. ResultType may also be
// the word Success or Failure (AADNonInteractiveUserSignInLogs documents it so), read as the
// engine reads the Entra download's Status.
let EntraOutcome = (Code:string) {
    case(Code == "0" or Code =~ "success", "success",
         set_has_element(Interrupts, Code) or Code =~ "interrupted", "interrupted",
         "failure")
};
// ActorKey: the key of a sign-in whose UserId names nobody (it reads unknown:<key>): the
// Actor entry of Type 0 that is a GUID, else UserKey, else ActorContextId.
let ActorKey = (Actor:string, UserKey:string, ActorContextId:string) {
    coalesce(extract(@'"ID"\s*:\s*"([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})"\s*,\s*"Type"\s*:\s*0\b', 1, Actor), UserKey, tolower(ActorContextId))
};
let ActorIsUnknown = (Actor:string) {
    Actor matches regex @'"ID"\s*:\s*"(?i:unknown)"'
};
`

// kqlSources writes the SIEM's adapter: SignIns (one row per sign-in:
// Time, RecordId, RawUser, User, ActorTenant, OurTenant, Guest, GuestHost,
// ActorUnknown, Key, AppId, RawIP, IP, UserAgent, Outcome, Operation,
// Source) and NonSignIns (Time, RecordId, User, IPs, Operation, Workload,
// RecordType, Target, Object, OurTenant, Source).
func kqlSources(siem SIEM) string {
	var b strings.Builder
	if siem == Sentinel {
		b.WriteString(`// Sign-ins: Entra ID's own logs, where an account from outside has HomeTenantId != ResourceTenantId
// (Entra sign-in log activity details: "select entries where home tenant != resource tenant"),
// and any UserLoggedIn/UserLoginFailed audit records in OfficeActivity (the Office 365 connector
// brings Exchange, SharePoint and Teams; the AzureActiveDirectory workload only if collected
// some other way). union isfuzzy=true lets a workspace without one of the tables run the query.
// A sign-in in both an Entra table and OfficeActivity is counted twice (the ids differ).
let SignIns = union isfuzzy=true
    (SigninLogs
    | where TimeGenerated >= Start and TimeGenerated < End
    | project Time = TimeGenerated, RecordId = Id, RawUser = UserPrincipalName,
        ActorTenant = tolower(HomeTenantId), OurTenant = tolower(ResourceTenantId),
        Guest = UserType =~ "guest" or CrossTenantAccessType =~ "b2bCollaboration", ActorUnknown = false,
        Key = UserId, AppId = tolower(AppId),
        RawIP = IPAddress, UserAgent, Outcome = EntraOutcome(tostring(ResultType)),
        Operation = "SigninLogs", Source = "SigninLogs"),
    (AADNonInteractiveUserSignInLogs
    | where TimeGenerated >= Start and TimeGenerated < End
    | project Time = TimeGenerated, RecordId = Id, RawUser = UserPrincipalName,
        ActorTenant = tolower(HomeTenantId), OurTenant = tolower(ResourceTenantId),
        Guest = UserType =~ "guest" or CrossTenantAccessType =~ "b2bCollaboration", ActorUnknown = false,
        Key = UserId, AppId = tolower(AppId),
        RawIP = IPAddress, UserAgent, Outcome = EntraOutcome(tostring(ResultType)),
        Operation = "AADNonInteractiveUserSignInLogs", Source = "AADNonInteractiveUserSignInLogs"),
    (OfficeActivity
    | where TimeGenerated >= Start and TimeGenerated < End and Operation in (SignInOps)
    // OfficeActivity documents no ErrorNumber or LogonError column: column_ifexists reads them
    // where a workspace has them and leaves the ResultStatusDetail test alone otherwise.
    | project Time = TimeGenerated, RecordId = OfficeId, RawUser = UserId,
        ActorTenant = tolower(ActorContextId), OurTenant = tolower(OrganizationId),
        Guest = UserId contains "#ext#" or UserType in~ ("Guest", "10"),
        ActorUnknown = ActorIsUnknown(Actor), Key = ActorKey(Actor, UserKey, ActorContextId),
        AppId = tolower(ApplicationId), RawIP = coalesce(ClientIP, ActorIpAddress, Client_IPAddress),
        UserAgent = extract(@'"Name"\s*:\s*"UserAgent"\s*,\s*"Value"\s*:\s*"([^"]*)"', 1, ExtendedProperties),
        Outcome = UalOutcome(Operation, tostring(column_ifexists("ErrorNumber", "")),
            tostring(column_ifexists("LogonError", "")), ExtendedProperties),
        Operation, Source = "OfficeActivity")
`)
	} else {
		b.WriteString(`// Sign-ins: Entra sign-ins from EntraIdSignInEvents (AADSignInEventsBeta before December 2025;
// needs Entra ID P2) and UserLoggedIn/UserLoginFailed audit records in CloudAppEvents, whose
// RawEventData is the original record (Defender for Cloud Apps' Microsoft 365 connector).
// EntraIdSignInEvents has no home-tenant column: its IsExternalUser (1 external, 0 not, -1 not
// set) stands in for "actor tenant is not ours", so its home tenant reads "external"; the
// audit records in CloudAppEvents carry the real ActorContextId. A sign-in in both is counted
// twice (the ids differ).
let SignIns = union isfuzzy=true
    (EntraIdSignInEvents
    | where Timestamp >= Start and Timestamp < End
    | project Time = Timestamp, RecordId = ReportId, RawUser = AccountUpn,
        ActorTenant = case(IsExternalUser == 1, "external", IsExternalUser == 0, tolower(ResourceTenantId), ""),
        OurTenant = tolower(ResourceTenantId), Guest = IsGuestUser == true, ActorUnknown = false,
        Key = AccountObjectId, AppId = tolower(ApplicationId), RawIP = IPAddress, UserAgent,
        Outcome = EntraOutcome(tostring(ErrorCode)), Operation = "EntraIdSignInEvents",
        Source = "EntraIdSignInEvents"),
    (CloudAppEvents
    | where Timestamp >= Start and Timestamp < End and ActionType in (SignInOps)
    | extend R = RawEventData
    | project Time = Timestamp, RecordId = coalesce(tostring(R.Id), ReportId), RawUser = tostring(R.UserId),
        ActorTenant = tolower(tostring(R.ActorContextId)), OurTenant = tolower(tostring(R.OrganizationId)),
        Guest = tostring(R.UserId) contains "#ext#" or tostring(R.UserType) == "10",
        ActorUnknown = ActorIsUnknown(tostring(R.Actor)),
        Key = ActorKey(tostring(R.Actor), tostring(R.UserKey), tostring(R.ActorContextId)),
        AppId = tolower(tostring(R.ApplicationId)),
        RawIP = coalesce(tostring(R.ClientIP), tostring(R.ActorIpAddress), IPAddress), UserAgent,
        Outcome = UalOutcome(ActionType, tostring(R.ErrorNumber), tostring(R.LogonError), tostring(R.ExtendedProperties)),
        Operation = ActionType, Source = "CloudAppEvents")
`)
	}
	b.WriteString(`| extend C = Canon(RawUser), GuestHost = extract(@"#ext#@(.+)$", 1, tolower(RawUser)), IP = NormIP(RawIP)
| extend User = iff(set_has_element(UnusableUsers, C), strcat("unknown:", Key), C)
| project-away C;
`)
	if siem == Sentinel {
		b.WriteString(`// Everything else: the audit records in OfficeActivity (renamed columns: OfficeWorkload,
// Client_IPAddress, OfficeObjectId, OfficeId; RecordType is a name there, not a number).
let NonSignIns = OfficeActivity
    | where TimeGenerated >= Start and TimeGenerated < End and Operation !in (SignInOps)
    | project Time = TimeGenerated, RecordId = OfficeId, C = Canon(UserId),
        IPs = set_difference(pack_array(NormIP(ClientIP), NormIP(ActorIpAddress), NormIP(Client_IPAddress)), dynamic([""])),
        Operation, Workload = OfficeWorkload, RecordType = tostring(RecordType),
        T = Canon(coalesce(TargetUserOrGroupName, UserSharedWith)), Object = OfficeObjectId,
        OurTenant = tolower(OrganizationId), Source = "OfficeActivity"
`)
	} else {
		b.WriteString(`// Everything else: the Microsoft 365 audit records in CloudAppEvents (those with a RecordType in
// RawEventData: other connected apps have their own raw formats).
let NonSignIns = CloudAppEvents
    | where Timestamp >= Start and Timestamp < End and ActionType !in (SignInOps) and isnotempty(tostring(RawEventData.RecordType))
    | extend R = RawEventData
    | project Time = Timestamp, RecordId = coalesce(tostring(R.Id), ReportId), C = Canon(tostring(R.UserId)),
        IPs = set_difference(pack_array(NormIP(IPAddress), NormIP(tostring(R.ClientIP)),
            NormIP(tostring(R.ActorIpAddress)), NormIP(tostring(R.ClientIPAddress))), dynamic([""])),
        Operation = coalesce(tostring(R.Operation), ActionType), Workload = tostring(R.Workload),
        RecordType = tostring(R.RecordType),
        T = Canon(coalesce(tostring(R.TargetUserOrGroupName), tostring(R.UserSharedWith))),
        Object = coalesce(tostring(R.ObjectId), ObjectName), OurTenant = tolower(tostring(R.OrganizationId)),
        Source = "CloudAppEvents"
`)
	}
	b.WriteString(`    | extend User = iff(set_has_element(UnusableUsers, C), "", C), Target = iff(set_has_element(UnusableUsers, T), "", T)
    | project-away C, T;
// Rec: every record, sign-ins included, with the categories the verdicts use.
let Rec = union
    (NonSignIns | extend IsSignIn = false),
    (SignIns | project Time, RecordId, User, IPs = iff(isempty(IP), dynamic([]), pack_array(IP)), Operation,
        Workload = "AzureActiveDirectory", RecordType = "", Target = "", Object = AppId, OurTenant, Source,
        IsSignIn = true)
    | extend Anon = User == "anonymous" or User startswith "urn:spo:anon#",
        Opening = set_has_element(OpeningWorkloads, Workload) and set_has_element(AccessOps, Operation),
        Mailbox = not(IsSignIn) and (set_has_element(MailboxTypes, RecordType) or set_has_element(MailboxOps, Operation)),
        Admin = not(IsSignIn) and (set_has_element(AdminTypes, RecordType) or set_has_element(AdminOps, Operation));
`)
	return b.String()
}

// kqlClassify is docs/rules.md "Classify" and the identities' IPs, then U,
// P and H of "Correlate".
//
// Our tenants are not every ResourceTenantId seen: a tenant's Entra sign-in
// log also holds its own users' sign-ins to other tenants, with the other
// tenant as resource tenant ("Cross-tenant access overview", Entra External
// ID: filtering the sign-in log on ResourceTenantId ne <your tenant> lists
// "outbound sign-ins initiated by your users to apps in external tenants";
// https://learn.microsoft.com/entra/external-id/cross-tenant-access-overview).
// Taking those for ours made every pass-through account of such a partner a
// member, left out of every query: an all-clear where there was none. In
// those rows the user is a guest of the other tenant (UserType "guest",
// CrossTenantAccessType b2bCollaboration), so only sign-ins to our tenants
// classify an account.
const kqlClassify = `// Our tenant(s): the OrganizationId of every audit record (always our organisation's), and the
// resource tenant of every Entra sign-in whose home tenant is the same (a member at home). Not
// every ResourceTenantId: an Entra sign-in log also holds its members' sign-ins to other tenants
// (home tenant ours, resource tenant theirs), and were a partner's tenant taken for ours, its
// pass-through accounts would read as members and not be reported.
let OurTenants = toscalar(union
        (SignIns | where Source in ("OfficeActivity", "CloudAppEvents") or ActorTenant == OurTenant | project OurTenant),
        (NonSignIns | project OurTenant)
    | where isnotempty(OurTenant) | summarize make_set(OurTenant));
// Classify every account that signed in to our tenant (not our members' sign-ins elsewhere, where
// they are guests), the first rule that holds: no usable user -> external-unknown; a guest ->
// guest; a sign-in from a tenant not ours -> passthrough; one from ours -> member; Actor
// "Unknown", or a domain none of our members or guest hosts use -> passthrough; else member.
let Actors = SignIns
    | where isempty(OurTenant) or set_has_element(OurTenants, OurTenant)
    | summarize Guest = max(toint(Guest)), ActorUnknown = max(toint(ActorUnknown)),
        Foreign = countif(isnotempty(ActorTenant) and not(set_has_element(OurTenants, ActorTenant))),
        Ours = countif(isnotempty(ActorTenant) and set_has_element(OurTenants, ActorTenant))
        by User;
// Our domains: those of members (rule 4) and the host domain of guest UPNs.
let OurDomains = toscalar(union
        (Actors | where not(User startswith "unknown:") and Guest == 0 and Foreign == 0 and Ours > 0
            | project D = extract(@"@([^@]+)$", 1, User)),
        (SignIns | project D = GuestHost)
    | where isnotempty(D) | summarize make_set(D));
let Classes = Actors
    | extend Domain = extract(@"@([^@]+)$", 1, User)
    | extend Class = case(User startswith "unknown:", "external-unknown",
        Guest == 1, "guest",
        Foreign > 0, "passthrough",
        Ours > 0, "member",
        ActorUnknown == 1 or (array_length(OurDomains) > 0 and not(set_has_element(OurDomains, Domain))), "passthrough",
        "member");
// Home tenant: the most frequent actor tenant that is not ours. The engine breaks a tie with the
// smallest id; arg_max here takes any of the tied ones.
let Homes = SignIns
    | where isnotempty(ActorTenant) and not(set_has_element(OurTenants, ActorTenant))
    | summarize N = count() by User, ActorTenant
    | summarize arg_max(N, ActorTenant) by User
    | project User, HomeTenant = ActorTenant;
// The outside identities: every class but member.
let Externals = Classes
    | where Class != "member"
    | join kind=leftouter Homes on User
    | extend HomeTenant = iff(Class == "guest", "", coalesce(HomeTenant, ""))
    | extend Consumer = Class == "passthrough" and (HomeTenant == ConsumerTenant
        or (isempty(HomeTenant) and set_has_element(ConsumerDomains, Domain)))
    | project User, Class, HomeTenant, Consumer, Domain;
// IPs(X): the IPs of X's sign-ins, successful or not.
let ExtIPs = SignIns
    | where isnotempty(IP)
    | join kind=inner (Externals | project User) on User
    | distinct User, IP;
// U: X's records that are not sign-ins, and every record of an anonymous-link user from IPs(X)
// (an anonymous link carries no name: the IP is the only tie). One row per record and identity.
let U = union
    (Rec | where not(IsSignIn) and not(Anon)
        | join kind=inner (Externals | project X = User) on $left.User == $right.X),
    (Rec | where Anon
        | mv-expand IP = IPs to typeof(string)
        | join kind=inner (ExtIPs | project X = User, IP) on IP)
    | summarize arg_min(Time, *) by X, RecordId;
// P: other people's records from IPs(X), not the sign-ins of other outside identities
// (outsiders of one partner share egress IPs: that is context, not activity).
let P = Rec
    | where not(Anon)
    | mv-expand IP = IPs to typeof(string)
    | join kind=inner (ExtIPs | project X = User, IP) on IP
    | where User != X
    | join kind=leftouter (Classes | project User, OtherClass = Class) on User
    | where not(IsSignIn and isnotempty(OtherClass) and OtherClass != "member")
    | extend Member = OtherClass == "member"
        or (isempty(OtherClass) and set_has_element(OurDomains, extract(@"@([^@]+)$", 1, User)))
    | summarize arg_min(Time, *) by X, RecordId;
// H: sharing records naming X, and AnonymousLinkUsed among U.
let H = union
    (Rec | where not(IsSignIn) and set_has_element(SharingOps, Operation) and isnotempty(Target)
        | join kind=inner (Externals | project X = User) on $left.Target == $right.X),
    (U | where Operation == "AnonymousLinkUsed")
    | summarize arg_min(Time, *) by X, RecordId;
`

// kqlTriage writes the triage queries for Sentinel or Defender.
func kqlTriage(siem SIEM, p period, firstParty []string) []Query {
	base := kqlPrelude(p) + kqlSources(siem) + kqlClassify
	q := queries(siem, base)
	return []Query{
		q("outside-signins",
			"every account from outside the organisation that signed in during the period ("+p.describe()+"): B2B guests, pass-through accounts (by tenant, so those with no #EXT# in their UPN too), personal Microsoft accounts, and sign-ins that name nobody.",
			"one row per identity: its class, home tenant, successful and other sign-ins, IPs and applications. Pass-through sign-ins to first-party applications are normal by design; the next queries say whether anything else happened.",
			`SignIns
| join kind=inner Externals on User
| summarize Success = countif(Outcome == "success"), Failure = countif(Outcome != "success"),
    Interrupted = countif(Outcome == "interrupted"), First = min(Time), Last = max(Time),
    IPs = make_set(IP, 50), Apps = make_set(AppId, 50), UserAgents = make_set(UserAgent, 10)
    by User, Class, HomeTenant, Consumer
| order by User asc
`),
		q("by-user",
			purposeU,
			"one row per record and identity X. No rows for X: it did nothing but sign in. Rows that are all Opening = true (file and page views in SharePoint or OneDrive) are what opening shared content produces; Mailbox or Admin rows deserve a close look.",
			`U
| project X, Time, Operation, Workload, User, IPs, Object, Opening, Mailbox, Admin, RecordId, Source
| order by X asc, Time asc
`),
		q("by-ip",
			purposeP,
			"one row per record and identity X whose IP it shares. Rows with Member = true mean an account of ours used the same address: a shared network at best, a compromised or impersonated member at worst.",
			`P
| project X, Time, User, Operation, Workload, IP, Member, Mailbox, Admin, Object, RecordId, Source
| order by X asc, Time asc
`),
		q("sharing",
			purposeH,
			"one row per record and identity X: who shared what with it. An identity with sharing and no other activity than opening what was shared gets the verdict shared.",
			`H
| project X, Time, Operation, By = User, Target, Object, RecordId, Source
| order by X asc, Time asc
`),
		q("verdicts",
			purposeVerdicts,
			"one row per identity, high severity first, by the rule below. anomalous: NonFirstPartyApps names the applications, which pass-through does not allow. activity: look at the by-user and by-ip queries. signin-only: check the coverage below before reading it as an all-clear.",
			kqlVerdict(firstParty)),
	}
}

func kqlVerdict(firstParty []string) string {
	return `// The embedded catalogue of Microsoft first-party application ids (outsider apps).
let FirstParty = ` + kqlConst(firstParty) + `;
let Anomalous = SignIns
    | where Outcome == "success" and isnotempty(AppId) and not(set_has_element(FirstParty, AppId))
    | join kind=inner (Externals | where Class != "guest" | project X = User) on $left.User == $right.X
    | summarize AnomalousSignIns = count(), NonFirstPartyApps = make_set(AppId, 20) by X;
let SignInStats = SignIns
    | join kind=inner (Externals | project X = User) on $left.User == $right.X
    | summarize Success = countif(Outcome == "success"), Failure = countif(Outcome != "success"),
        Interrupted = countif(Outcome == "interrupted"), First = min(Time), Last = max(Time),
        IPs = make_set(IP, 50), Apps = make_set(AppId, 50) by X;
let UStats = U
    | summarize ByUser = count(), UNotOpening = countif(not(Opening)), UMailbox = countif(Mailbox),
        UAdmin = countif(Admin), UOps = make_set(Operation, 20) by X;
let PStats = P
    | summarize ByIP = count(), PMailbox = countif(Mailbox), PAdmin = countif(Admin),
        PMember = countif(Member), PUsers = make_set(User, 20) by X;
let HStats = H | summarize Sharing = count() by X;
Externals
| project X = User, Class, HomeTenant, Consumer
| join kind=leftouter SignInStats on X
| join kind=leftouter Anomalous on X
| join kind=leftouter UStats on X
| join kind=leftouter PStats on X
| join kind=leftouter HStats on X
| extend AnomalousSignIns = coalesce(AnomalousSignIns, long(0)), ByUser = coalesce(ByUser, long(0)),
    UNotOpening = coalesce(UNotOpening, long(0)), ByIP = coalesce(ByIP, long(0)),
    Sharing = coalesce(Sharing, long(0)),
    MailboxRecords = coalesce(UMailbox, long(0)) + coalesce(PMailbox, long(0)),
    AdminRecords = coalesce(UAdmin, long(0)) + coalesce(PAdmin, long(0)),
    MemberRecordsFromItsIPs = coalesce(PMember, long(0))
| extend Verdict = case(AnomalousSignIns > 0, "anomalous",
    ByUser == 0 and ByIP == 0, "signin-only",
    Sharing > 0 and ByIP == 0 and UNotOpening == 0, "shared",
    "activity")
| extend Severity = case(Verdict == "anomalous", "high", Verdict == "signin-only", "info", Verdict == "shared", "low",
    MailboxRecords + AdminRecords + MemberRecordsFromItsIPs > 0, "high", "medium")
| extend Rank = case(Severity == "high", 0, Severity == "medium", 1, Severity == "low", 2, 3)
| order by Rank asc, X asc
| project User = X, Class, HomeTenant, Consumer, Verdict, Severity, Success, Failure, Interrupted, First, Last,
    IPs, Apps, NonFirstPartyApps, ByUser, ByIP, Sharing, MailboxRecords, AdminRecords, MemberRecordsFromItsIPs,
    Operations = UOps, OthersOnItsIPs = PUsers
`
}

// kqlFollowUp writes the follow-up queries for Sentinel or Defender: the
// same sources, filtered to the report's identities and IPs.
func kqlFollowUp(siem SIEM, p period, t Targets) []Query {
	ips := make([]string, len(t.IPs))
	for i, ip := range t.IPs {
		ips[i] = kqlIP(ip)
	}
	base := kqlPrelude(p) + kqlSources(siem) +
		"// The report's identities (user exactly as the report has it: canonical UPN, or unknown:<key>)\n" +
		"// and every IP they signed in from. IPv6 addresses are in parse_ipv6's expanded form.\n" +
		"let Identities = " + kqlValues(t.Users) + ";\n" +
		"let IdentityIPs = " + kqlValues(ips) + ";\n"
	q := queries(siem, base)
	return []Query{
		q("signins",
			"every sign-in during the period ("+p.describe()+") by the report's identities, and every sign-in by anyone from their IPs.",
			"one row per sign-in. ByIdentity = false rows are someone else on one of their IPs: a member there is worth a look. New applications or IPs for an identity, or sign-ins after the report's period, are new facts to triage.",
			`SignIns
| where set_has_element(Identities, User) or set_has_element(IdentityIPs, IP)
| extend ByIdentity = set_has_element(Identities, User)
| project Time, User, ByIdentity, IP, AppId, Outcome, Operation, UserAgent, ActorTenant, RecordId, Source
| order by User asc, Time asc
`),
		q("by-user",
			followUpPurposeU,
			followUpHowToU,
			`Rec
| where not(IsSignIn) and set_has_element(Identities, User)
| project Time, User, Operation, Workload, IPs, Object, Opening, Mailbox, Admin, RecordId, Source
| order by User asc, Time asc
`),
		q("by-ip",
			followUpPurposeP,
			"one row per record. Anon = true rows count as the identity's own (an anonymous link carries no name). A member of ours on the same IP, or mailbox and admin operations, raise the severity.",
			`Rec
| where not(set_has_element(Identities, User)) and array_length(set_intersect(IPs, IdentityIPs)) > 0
| project Time, User, Anon, IsSignIn, Operation, Workload, IPs, Object, Mailbox, Admin, RecordId, Source
| order by Time asc
`),
		q("sharing",
			followUpPurposeH,
			followUpHowToH,
			`Rec
| where (not(IsSignIn) and set_has_element(SharingOps, Operation) and set_has_element(Identities, Target))
    or (Operation == "AnonymousLinkUsed" and array_length(set_intersect(IPs, IdentityIPs)) > 0)
| project Time, Operation, By = User, Target, Object, IPs, RecordId, Source
| order by Target asc, Time asc
`),
	}
}
