package hunt

import (
	"strconv"
	"strings"
	"time"
)

// PowerShell for Microsoft Purview audit (Search-UnifiedAuditLog).
//
// Search-UnifiedAuditLog (Exchange Online PowerShell) returns at most 5,000
// records a call (-ResultSize) and, paging one ReturnLargeSet session
// (-SessionId with -SessionCommand ReturnLargeSet), at most 50,000 for one
// search; ResultCount on every result says how many the search found
// (Search-UnifiedAuditLog reference). The script therefore searches the
// period in windows, reads each window's session 5,000 at a time, and splits
// a window in two whenever its ResultCount passes 50,000.
//
// Rather than re-implement the verdicts in PowerShell, the script collects
// exactly the records the due diligence needs (every sign-in, then
// everything by the outside identities, from their IPs, and the sharing that
// names them) and writes each record's AuditData as one line of JSON: the
// ual-jsonl format of 'outsider triage', which then judges them by the
// rule itself.

func psPeriod(p period) string {
	var b strings.Builder
	b.WriteString("# The period, in UTC: Search-UnifiedAuditLog reads a date without a time zone as UTC.\n")
	if p.until.IsZero() {
		b.WriteString("$End = [datetime]::UtcNow\n")
	} else {
		b.WriteString("$End = " + psTime(p.until) + "\n")
	}
	if p.since.IsZero() {
		b.WriteString("$Start = $End.AddDays(-" + strconv.Itoa(p.days()) + ")\n")
	} else {
		b.WriteString("$Start = " + psTime(p.since) + "\n")
	}
	return b.String()
}

// psTime writes t as a DateTime of kind Utc, parsed from the round-trip
// ("o") format whatever the session's culture.
func psTime(t time.Time) string {
	return "[datetime]::ParseExact('" + t.UTC().Format("2006-01-02T15:04:05.0000000Z") +
		"', 'o', [Globalization.CultureInfo]::InvariantCulture, [Globalization.DateTimeStyles]::RoundtripKind)"
}

// psList writes @(…) of values, one per line when there are several, each
// quoted by QuotePowerShell.
func psList(vals []string) string {
	switch len(vals) {
	case 0:
		return "@()"
	case 1:
		return "@(" + QuotePowerShell(vals[0]) + ")"
	}
	q := make([]string, len(vals))
	for i, v := range vals {
		q[i] = "    " + QuotePowerShell(v)
	}
	return "@(\n" + strings.Join(q, ",\n") + "\n)"
}

func psSetup(p period) string {
	return psPeriod(p) + `# Search-UnifiedAuditLog returns at most 5,000 records a call (-ResultSize) and, paging one
# ReturnLargeSet session (-SessionId, -SessionCommand ReturnLargeSet), at most 50,000 a search.
# The period is searched in windows of $WindowHours; a window whose ResultCount passes 50,000 is
# split in two and searched again, down to one minute.
$WindowHours = 24
$PageSize = 5000
$MaxPerSearch = 50000
# UserIds or IPAddresses per search.
$Batch = 20
# Every record found is appended here as one line of JSON (its AuditData): outsider triage reads it.
$OutFile = Join-Path -Path (Get-Location).Path -ChildPath 'outsider-purview.jsonl'
$SignInOps = ` + psList(signinOps) + `
$SharingOps = ` + psList(sharingOps()) + `
$UnusableUsers = ` + psList(unusableUsers) + `
if (-not (Get-Command Search-UnifiedAuditLog -ErrorAction SilentlyContinue)) {
    throw 'Search-UnifiedAuditLog is not available: Connect-ExchangeOnline first (module ExchangeOnlineManagement).'
}
if (Test-Path -LiteralPath $OutFile) {
    throw ('{0} exists: move it away or set $OutFile to a new file.' -f $OutFile)
}
$script:OutsiderWritten = 0

function Write-OutsiderRecords {
    # Appends each record's AuditData, the original audit record, as one line of JSON (UTF-8, no
    # BOM): JSON Lines, the ual-jsonl input of outsider triage.
    param([object[]]$Records)
    $lines = [System.Collections.Generic.List[string]]::new()
    foreach ($r in $Records) {
        $a = [string]$r.AuditData
        if ($a -match '[\r\n]') { $a = $a | ConvertFrom-Json | ConvertTo-Json -Compress -Depth 100 }
        if ($a) { $lines.Add($a) }
    }
    if ($lines.Count -gt 0) {
        [System.IO.File]::AppendAllLines($OutFile, $lines, [System.Text.UTF8Encoding]::new($false))
        $script:OutsiderWritten += $lines.Count
    }
}

function Invoke-OutsiderSearch {
    # Runs Search-UnifiedAuditLog with the parameters in $Filter over [$From, $To), window by
    # window, 5,000 records a call, splitting any window that holds more than 50,000; writes what
    # it finds (unless -NoWrite) and returns it.
    param([datetime]$From, [datetime]$To, [hashtable]$Filter, [string]$Label, [switch]$NoWrite)
    $edges = [System.Collections.Generic.List[datetime]]::new()
    for ($t = $From; $t -lt $To; $t = $t.AddHours($WindowHours)) { $edges.Add($t) }
    $edges.Add($To)
    $windows = [System.Collections.Generic.Stack[object]]::new()
    for ($i = $edges.Count - 2; $i -ge 0; $i--) { $windows.Push(@($edges[$i], $edges[$i + 1])) }
    while ($windows.Count -gt 0) {
        $w = $windows.Pop()
        $s = $w[0]
        $e = $w[1]
        $session = 'outsider-' + $Label + '-' + [guid]::NewGuid().ToString('N')
        $records = [System.Collections.Generic.List[object]]::new()
        $total = -1
        $split = $false
        for ($call = 1; $call -le ($MaxPerSearch / $PageSize) + 1; $call++) {
            $page = @(Search-UnifiedAuditLog -StartDate $s -EndDate $e -SessionId $session -SessionCommand ReturnLargeSet -ResultSize $PageSize @Filter)
            if ($page.Count -eq 0) { break }
            if ($total -lt 0) { $total = [int]$page[0].ResultCount }
            if ($total -gt $MaxPerSearch -and ($e - $s).TotalMinutes -gt 1) { $split = $true; break }
            $records.AddRange([object[]]$page)
            if ($total -gt 0 -and $records.Count -ge [Math]::Min($total, $MaxPerSearch)) { break }
        }
        if ($split) {
            $mid = $s.AddTicks([long](($e - $s).Ticks / 2))
            $windows.Push(@($mid, $e))
            $windows.Push(@($s, $mid))
            continue
        }
        if ($total -gt $records.Count) {
            Write-Warning ('{0}: {1:o} to {2:o}: read {3} of {4} records; search this window again' -f $Label, $s, $e, $records.Count, $total)
        }
        if (-not $NoWrite) { Write-OutsiderRecords $records }
        $records
    }
}

function ConvertFrom-OutsiderAuditData {
    param($Record)
    try { return ([string]$Record.AuditData | ConvertFrom-Json) }
    catch { Write-Warning ('unreadable AuditData in result {0}' -f $Record.Identity); return $null }
}

function ConvertTo-OutsiderUser {
    # The canonical user: lower case; urn:spo:guest#x -> x; a claim such as
    # i:0#.f|membership|x -> x; a B2B guest UPN x_domain#EXT#@host -> x@domain.
    param([string]$Raw)
    $u = $Raw.Trim().ToLowerInvariant()
    if ($u.StartsWith('urn:spo:guest#', [StringComparison]::Ordinal)) { $u = $u.Substring(14) }
    elseif (($u.StartsWith('i:0', [StringComparison]::Ordinal) -or $u.StartsWith('c:0', [StringComparison]::Ordinal)) -and $u.Contains('|')) {
        $u = $u.Substring($u.LastIndexOf([char]'|') + 1)
    }
    $i = $u.IndexOf('#ext#', [StringComparison]::Ordinal)
    if ($i -ge 0) {
        $local = $u.Substring(0, $i)
        $j = $local.LastIndexOf([char]'_')
        if ($j -ge 0) { $local = $local.Substring(0, $j) + '@' + $local.Substring($j + 1) }
        $u = $local
    }
    return $u
}

function ConvertTo-OutsiderIP {
    # An IP as outsider compares it: brackets and port stripped, ::ffff: unmapped; $null when not an address.
    param([string]$Raw)
    $t = $Raw.Trim()
    if ($t.StartsWith('[', [StringComparison]::Ordinal)) {
        $close = $t.IndexOf([char]']')
        if ($close -lt 1) { return $null }
        $t = $t.Substring(1, $close - 1)
    }
    elseif ($t.Split([char]':').Count -eq 2 -and $t.Contains('.')) { $t = $t.Substring(0, $t.IndexOf([char]':')) }
    if (-not ($t -match '^[0-9]{1,3}(\.[0-9]{1,3}){3}$' -or ($t.Contains(':') -and $t -match '^[0-9A-Fa-f:.]+(%.+)?$'))) { return $null }
    $ip = $null
    if (-not [System.Net.IPAddress]::TryParse($t, [ref]$ip)) { return $null }
    if ($ip.IsIPv4MappedToIPv6) { $ip = $ip.MapToIPv4() }
    if ($ip.AddressFamily -eq [System.Net.Sockets.AddressFamily]::InterNetworkV6) { $ip.ScopeId = 0 }
    return $ip.ToString()
}

function Get-OutsiderDomain {
    param([string]$User)
    $i = $User.LastIndexOf([char]'@')
    if ($i -ge 0 -and $i + 1 -lt $User.Length) { return $User.Substring($i + 1) }
    return ''
}

function Get-OutsiderActorKey {
    # The key of a sign-in whose UserId names nobody (it reads unknown:<key>): the Actor entry
    # of Type 0 that is a GUID, else UserKey, else ActorContextId.
    param($Data)
    foreach ($a in @($Data.Actor)) {
        if ([string]$a.Type -eq '0' -and [string]$a.ID -match '^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$') { return [string]$a.ID }
    }
    if ($Data.UserKey) { return [string]$Data.UserKey }
    return [string]$Data.ActorContextId
}

function Search-OutsiderBatches {
    # Searches $Values (UserIds or IPAddresses, per $Parameter) $Batch at a time.
    param([string]$Parameter, [string[]]$Values, [string]$Label)
    $found = 0
    for ($i = 0; $i -lt $Values.Count; $i += $Batch) {
        $chunk = [string[]]@($Values[$i..([Math]::Min($i + $Batch, $Values.Count) - 1)])
        $found += @(Invoke-OutsiderSearch -From $Start -To $End -Label $Label -Filter @{ $Parameter = $chunk }).Count
    }
    Write-Host ('outsider: {0}: {1} records' -f $Label, $found)
}
`
}

const psSharing = `# Sharing operations over the period, kept when their target is one of the identities.
$targetSet = [System.Collections.Generic.HashSet[string]]::new([StringComparer]::OrdinalIgnoreCase)
foreach ($u in $SharingTargets) { [void]$targetSet.Add($u) }
$shares = @(Invoke-OutsiderSearch -From $Start -To $End -Label 'sharing' -Filter @{ Operations = $SharingOps } -NoWrite)
$named = @(foreach ($r in $shares) {
    $d = ConvertFrom-OutsiderAuditData $r
    if ($null -eq $d) { continue }
    $target = [string]$d.TargetUserOrGroupName
    if (-not $target) { $target = [string]$d.UserSharedWith }
    if ($target -and $targetSet.Contains((ConvertTo-OutsiderUser $target))) { $r }
})
Write-OutsiderRecords $named
Write-Host ('outsider: sharing: {0} of {1} sharing records name one of the identities' -f $named.Count, $shares.Count)
`

const psExport = `Write-Host ('outsider: {0} records written to {1} (records found twice are dropped by outsider triage, by Id)' -f $script:OutsiderWritten, $OutFile)
Write-Host 'outsider: next, on any machine: outsider triage <that file>  (add --tenant <your tenant id> if it holds no sign-in of a member)'
`

// psCoverage samples the tenant's own Exchange and SharePoint/OneDrive
// records, a few a UTC day: the searches before it return only what the
// identities and their IPs did, and outsider triage judges an identity
// signin-only or shared only when the input holds those workloads around
// its sign-in days (docs/rules.md "Coverage"); without the sample every
// such identity would read unverified.
const psCoverage = `Write-Host 'outsider: coverage: a few Exchange and SharePoint records a day'
$day = $Start.Date
while ($day -lt $End) {
    $next = $day.AddDays(1)
    foreach ($types in @(@('ExchangeItem', 'ExchangeItemAggregated', 'ExchangeItemGroup', 'ExchangeAdmin'), @('SharePointFileOperation', 'SharePoint', 'OneDrive'))) {
        foreach ($t in $types) {
            $sample = @(Search-UnifiedAuditLog -StartDate $day -EndDate $next -RecordType $t -ResultSize 10)
            if ($sample.Count -gt 0) { Write-OutsiderRecords $sample; break }
        }
    }
    $day = $next
}
`

// coverageQuery is the step that runs psCoverage.
func coverageQuery() Query {
	return Query{SIEM: Purview, Name: "coverage",
		Purpose:   "a sample of the tenant's own Exchange and SharePoint/OneDrive records, up to 10 of each a UTC day of the period: the steps above return only the identities' own records and those from their IPs, and an identity with nothing but sign-ins counts as signin-only only when the file shows that the tenant's activity around its sign-in days was searched (else outsider says unverified).",
		HowToRead: "nothing to read: the records go to the file. A day without any such record (a holiday, a new tenant) leaves the identities that signed in around it unverified, which is the honest answer.",
		Query:     psCoverage}
}

// psQuery is one step of a Purview script.
func psQuery(name, purpose, howto, code string) Query {
	return Query{SIEM: Purview, Name: name, Purpose: purpose, HowToRead: howto, Query: code}
}

// The texts of the steps the triage and follow-up scripts share.
const (
	psHowToSetup    = "edit $WindowHours (smaller for a busy tenant) or $OutFile here; the script stops if $OutFile already exists, so two runs never mix."
	psHowToSaved    = "the count is printed; the records go to the file."
	psPurposeExport = "nothing new: the summary of what was written."
)

// psTriage writes the Purview script that runs the whole triage.
func psTriage(p period) []Query {
	q := psQuery
	return []Query{
		q("setup",
			"nothing yet: the period ("+p.describe()+"), the limits of Search-UnifiedAuditLog, the output file and the helpers of the later steps.",
			psHowToSetup,
			psSetup(p)),
		q("signins",
			"every sign-in record (UserLoggedIn, UserLoginFailed) in the period, written to the file, then the accounts from outside the organisation among them: classified as outsider does (guest, pass-through by tenant, consumer, unknown), not by the #EXT# marker alone.",
			"the table lists each outside identity with its class and number of IPs; the next steps look for everything else they did.",
			`Write-Host 'outsider: step 1: sign-ins'
$signIns = @(Invoke-OutsiderSearch -From $Start -To $End -Label 'signins' -Filter @{ Operations = $SignInOps })
$data = @(foreach ($r in $signIns) { ConvertFrom-OutsiderAuditData $r })
$data = @($data | Where-Object { $null -ne $_ })
# Our tenant(s): every OrganizationId seen.
$ourTenants = @{}
foreach ($d in $data) { if ($d.OrganizationId) { $ourTenants[([string]$d.OrganizationId).ToLowerInvariant()] = $true } }
# Every sign-in actor, by canonical user.
$actors = @{}
foreach ($d in $data) {
    $user = ConvertTo-OutsiderUser $d.UserId
    if ($UnusableUsers -contains $user) { $user = 'unknown:' + (Get-OutsiderActorKey $d) }
    $a = $actors[$user]
    if ($null -eq $a) {
        $a = [pscustomobject]@{ User = $user; Guest = $false; Foreign = 0; Ours = 0; ActorUnknown = $false; UserIds = @{}; IPs = @{} }
        $actors[$user] = $a
    }
    $upn = [string]$d.UserId
    if ($upn.ToLowerInvariant().Contains('#ext#') -or [string]$d.UserType -eq '10') { $a.Guest = $true }
    $tenant = ([string]$d.ActorContextId).ToLowerInvariant()
    if ($tenant) {
        if ($ourTenants.ContainsKey($tenant)) { $a.Ours = $a.Ours + 1 } else { $a.Foreign = $a.Foreign + 1 }
    }
    foreach ($x in @($d.Actor)) { if ([string]$x.ID -eq 'Unknown') { $a.ActorUnknown = $true } }
    if ($upn -and $UnusableUsers -notcontains $upn.Trim().ToLowerInvariant()) { $a.UserIds[$upn] = $true }
    foreach ($f in 'ClientIP', 'ActorIpAddress', 'ClientIPAddress') {
        $ip = ConvertTo-OutsiderIP $d.$f
        if ($ip) { $a.IPs[$ip] = $true }
    }
}
# Our domains: those of members (rule 4) and the host domain of guest UPNs.
$ourDomains = @{}
foreach ($a in $actors.Values) {
    if (-not $a.User.StartsWith('unknown:', [StringComparison]::Ordinal) -and -not $a.Guest -and $a.Foreign -eq 0 -and $a.Ours -gt 0) {
        $dom = Get-OutsiderDomain $a.User
        if ($dom) { $ourDomains[$dom] = $true }
    }
    foreach ($upn in $a.UserIds.Keys) {
        $k = $upn.ToLowerInvariant().IndexOf('#ext#@', [StringComparison]::Ordinal)
        if ($k -ge 0) { $ourDomains[$upn.Substring($k + 6).ToLowerInvariant()] = $true }
    }
}
# Classify, the first rule that holds: no usable user, guest, a tenant not ours (passthrough),
# ours (member), Actor Unknown or a domain not ours (passthrough), else member. All but member
# are outside.
$outsiders = @(foreach ($a in @($actors.Values | Sort-Object -Property User)) {
    $class = if ($a.User.StartsWith('unknown:', [StringComparison]::Ordinal)) { 'external-unknown' }
    elseif ($a.Guest) { 'guest' }
    elseif ($a.Foreign -gt 0) { 'passthrough' }
    elseif ($a.Ours -gt 0) { 'member' }
    elseif ($a.ActorUnknown -or ($ourDomains.Count -gt 0 -and -not $ourDomains.ContainsKey((Get-OutsiderDomain $a.User)))) { 'passthrough' }
    else { 'member' }
    if ($class -ne 'member') {
        [pscustomobject]@{ User = $a.User; Class = $class; UserIds = @($a.UserIds.Keys | Sort-Object); IPs = @($a.IPs.Keys | Sort-Object) }
    }
})
Write-Host ('outsider: {0} sign-in records; {1} outside identities' -f $signIns.Count, $outsiders.Count)
$outsiders | Format-Table -AutoSize User, Class, @{ Name = 'IPs'; Expression = { $_.IPs.Count } } | Out-String | Write-Host
`),
		q("by-user",
			"U: every record by the outside identities, under each UserId they signed in with and under their canonical and SharePoint guest (urn:spo:guest#) forms.",
			"the count is printed; the records go to the file. Identities whose UserId names nobody (external-unknown) cannot be searched by user: the next step finds them by IP.",
			`$ids = [System.Collections.Generic.SortedSet[string]]::new([StringComparer]::OrdinalIgnoreCase)
foreach ($o in $outsiders) {
    foreach ($u in $o.UserIds) { [void]$ids.Add($u) }
    if (-not $o.User.StartsWith('unknown:', [StringComparison]::Ordinal)) {
        [void]$ids.Add($o.User)
        [void]$ids.Add('urn:spo:guest#' + $o.User)
    }
}
Search-OutsiderBatches -Parameter 'UserIds' -Values @($ids) -Label 'by-user'
`),
		q("by-ip",
			"P: every record from an IP an outside identity signed in from, by anyone (members, anonymous-link users, other outsiders).",
			"the count is printed; the records go to the file, where outsider triage tells the identity's own records from other people's.",
			`$ipSet = [System.Collections.Generic.SortedSet[string]]::new([StringComparer]::OrdinalIgnoreCase)
foreach ($o in $outsiders) { foreach ($ip in $o.IPs) { [void]$ipSet.Add($ip) } }
Search-OutsiderBatches -Parameter 'IPAddresses' -Values @($ipSet) -Label 'by-ip'
`),
		q("sharing",
			"H: sharing records ("+strings.Join(sharingOps(), ", ")+") that name an outside identity as target. Search-UnifiedAuditLog cannot filter on the target, so every sharing record of the period is read and only those naming an identity are kept.",
			psHowToSaved,
			"$SharingTargets = @($outsiders | ForEach-Object { $_.User })\n"+psSharing),
		coverageQuery(),
		q("export",
			psPurposeExport,
			"run 'outsider triage' on the file: it judges every identity by the rule (anomalous, signin-only, shared, activity) with evidence.",
			psExport),
	}
}

// psFollowUp writes the Purview script for a report's identities and IPs.
func psFollowUp(p period, t Targets) []Query {
	q := psQuery
	values := "# The report's identities (user exactly as the report has it: canonical UPN, or unknown:<key>),\n" +
		"# every IP they signed in from, and the report's tenant domains under onmicrosoft.com, where\n" +
		"# B2B guest UPNs (name_domain#EXT#@tenant) live.\n" +
		"$Identities = " + psList(t.Users) + "\n" +
		"$IdentityIPs = " + psList(t.IPs) + "\n" +
		"$GuestDomains = " + psList(t.GuestDomains) + "\n"
	return []Query{
		q("setup",
			"nothing yet: the period ("+p.describe()+"), the report's identities and IPs, the limits of Search-UnifiedAuditLog, the output file and the helpers of the later steps.",
			psHowToSetup,
			psSetup(p)+values),
		q("by-user",
			"every record by the report's identities in the period, sign-ins included, under their canonical UPN, their SharePoint guest form (urn:spo:guest#) and their B2B guest UPN in each onmicrosoft.com domain of the report.",
			"the count is printed; the records go to the file. Identities whose UserId names nobody (unknown:<key>) cannot be searched by user: the next step finds them by IP.",
			`$ids = [System.Collections.Generic.SortedSet[string]]::new([StringComparer]::OrdinalIgnoreCase)
foreach ($u in $Identities) {
    if ($u.StartsWith('unknown:', [StringComparison]::Ordinal)) { continue }
    [void]$ids.Add($u)
    [void]$ids.Add('urn:spo:guest#' + $u)
    $at = $u.LastIndexOf([char]'@')
    if ($at -gt 0) {
        foreach ($dom in $GuestDomains) { [void]$ids.Add($u.Substring(0, $at) + '_' + $u.Substring($at + 1) + '#EXT#@' + $dom) }
    }
}
Search-OutsiderBatches -Parameter 'UserIds' -Values @($ids) -Label 'by-user'
`),
		q("by-ip",
			"every record from the identities' IPs in the period, by anyone.",
			"the count is printed; the records go to the file, where outsider triage tells the identities' own records from other people's.",
			"Search-OutsiderBatches -Parameter 'IPAddresses' -Values $IdentityIPs -Label 'by-ip'\n"),
		q("sharing",
			"sharing records ("+strings.Join(sharingOps(), ", ")+") in the period that name one of the identities. Search-UnifiedAuditLog cannot filter on the target, so every sharing record of the period is read and only those naming an identity are kept.",
			psHowToSaved,
			"$SharingTargets = $Identities\n"+psSharing),
		coverageQuery(),
		q("export",
			psPurposeExport,
			"run 'outsider triage' on the file for the new period's verdicts; give it --tenant with the report's tenant id, since the file holds few sign-ins of members.",
			psExport),
	}
}
