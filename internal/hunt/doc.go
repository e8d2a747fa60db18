// Package hunt writes outsider's due diligence as queries for the place
// where a team's logs already live, so that a SOC can run it without
// exporting anything: KQL for Microsoft Sentinel and for Defender XDR
// advanced hunting, SPL for Splunk, and PowerShell around
// Search-UnifiedAuditLog for Microsoft Purview.
//
// It has two modes. Triage turns the whole rule of docs/rules.md into
// queries: find the sign-ins by accounts from outside the organisation
// (by tenant, not by the #EXT# marker, which misses pass-through users),
// then look for each one's other records (U), other people's records from
// its IPs (P) and sharing that names it (H), and end in the same verdicts
// as far as each language can express them. FollowUp takes a triage report
// and writes targeted queries for exactly its identities and IPs over a
// chosen period.
//
// Every value that comes from a report is hostile until proven otherwise:
// it reaches a query only through QuoteKQL, QuoteSPL or QuotePowerShell,
// which make it one string literal whatever it holds. Values that cannot
// be written plainly in a language's literal syntax are encoded (base64 or
// percent-encoding) and decoded by the query itself at run time, so no
// quote, backslash, newline, pipe, macro or comment marker from a report
// can ever appear raw in a query.
//
// Output is deterministic: the same inputs give the same bytes (no clock:
// a default period is written as "the last 30 days" in the target
// language, evaluated when the query runs).
package hunt
