package synth

// The sign-in log as the Entra admin center's CSV download writes it
// (SignInLogEntraCSV): Monitoring & health > Sign-in logs > Download >
// CSV ("Timestamps in the downloaded files are based on UTC": How to
// download logs in Microsoft Entra ID,
// https://learn.microsoft.com/entra/identity/monitoring-health/howto-download-logs),
// with the columns of the 2025 download (audit.SignInColumns): "Date
// (UTC)" in ISO 8601 ("2026-10-06T09:14:03Z"), the enums as the portal
// renders them (User type "Member", Cross tenant access type
// "Passthrough" or "B2B collaboration", Status "Success", "Failure" or
// "Interrupted", Conditional Access "Not Applied"), Location "City, State,
// CC". Every row is derived from the sign-in's Graph signIn object, so the
// download says what the Graph pages say, except that it has no column
// telling interactive from non-interactive sign-ins (the admin center
// downloads each tab on its own): the generator writes both in one file,
// and a triage of it counts neither kind. Rows keep the generator's time
// order; fields are quoted only where needed, lines end CRLF.

import (
	"encoding/json"
	"strconv"
	"strings"
)

// entraHeader is the download's header, column for column ("Application
// ID " and "Resource ID " with their trailing space, "Incoming token type"
// twice, as the download writes them).
var entraHeader = []string{"Date (UTC)", "Request ID", "User agent", "Correlation ID", "User ID", "User", "Username", "User type",
	"Cross tenant access type", "Incoming token type", "Authentication Protocol", "Unique token identifier", "Original transfer method",
	"Client credential type", "Token Protection - Sign In Session", "Token Protection - Sign In Session StatusCode", "Application",
	"Application ID ", "App owner tenant ID", "Resource", "Resource ID ", "Resource tenant ID", "Resource owner tenant ID", "Home tenant ID",
	"Home tenant name", "IP address", "Location", "Status", "Sign-in error code", "Failure reason", "Client app", "Device ID", "Browser",
	"Operating System", "Compliant", "Managed", "Join Type", "Multifactor authentication result", "Multifactor authentication auth method",
	"Multifactor authentication auth detail", "Authentication requirement", "Sign-in identifier", "Session ID",
	"IP address (seen by resource)", "Through Global Secure Access", "Global Secure Access IP address", "Autonomous system  number",
	"Flagged for review", "Token issuer type", "Incoming token type", "Token issuer name", "Latency", "Conditional Access",
	"Managed Identity type", "Associated Resource Id", "Federated Token Id", "Federated Token Issuer"}

// entraCSVLog writes the sign-in log as the download: the header, then a
// row a sign-in.
type entraCSVLog struct {
	rows    []byte
	started bool
	row     []string
}

// add takes one sign-in's Graph object.
func (l *entraCSVLog) add(graph []byte) {
	l.rows = l.render(l.rows, graph)
}

// page appends what was added since the last page (the header first).
func (l *entraCSVLog) page(b []byte) []byte {
	if !l.started {
		l.started = true
		b = appendEntraRow(b, entraHeader)
	}
	b = append(b, l.rows...)
	l.rows = l.rows[:0]
	return b
}

// appendEntraRow appends one CSV line, fields quoted only where needed
// and empty ones left empty.
func appendEntraRow(b []byte, row []string) []byte {
	for i, v := range row {
		if i > 0 {
			b = append(b, ',')
		}
		if v != "" {
			b = appendCSVMin(b, []byte(v))
		}
	}
	return append(b, '\r', '\n')
}

// entraEnums are the portal's renderings of the Graph enum values the
// generator writes.
var entraEnums = map[string]string{
	"member": "Member", "guest": "Guest",
	"none": "None", "passthrough": "Passthrough", "b2bCollaboration": "B2B collaboration",
	"notApplied": "Not Applied", "success": "Success", "failure": "Failure",
	"singleFactorAuthentication": "Single-factor authentication",
}

func entraEnum(v string) string {
	if r, ok := entraEnums[v]; ok {
		return r
	}
	return v
}

// render appends the download's row of a sign-in given as its Graph
// signIn object.
func (l *entraCSVLog) render(b []byte, graph []byte) []byte {
	g, status := graphSignIn(graph)
	var loc struct {
		City, State string
		Country     string `json:"countryOrRegion"`
	}
	_ = json.Unmarshal(g["location"], &loc)
	var dev struct {
		DeviceID  string `json:"deviceId"`
		OS        string `json:"operatingSystem"`
		Browser   string `json:"browser"`
		TrustType string `json:"trustType"`
	}
	_ = json.Unmarshal(g["deviceDetail"], &dev)
	if l.row == nil {
		l.row = make([]string, len(entraHeader))
	}
	row := l.row
	for i := range row {
		row[i] = ""
	}
	outcome := "Success"
	switch {
	case interruptCodes[strconv.Itoa(status.ErrorCode)]:
		outcome = "Interrupted"
	case status.ErrorCode != 0:
		outcome = "Failure"
	}
	var where []string
	for _, s := range []string{loc.City, loc.State, loc.Country} {
		if s != "" {
			where = append(where, s)
		}
	}
	for i, col := range entraHeader {
		var v string
		switch col {
		case "Date (UTC)":
			v = text(g["createdDateTime"])
		case "Request ID":
			v = text(g["id"])
		case "User agent":
			v = text(g["userAgent"])
		case "Correlation ID":
			v = text(g["correlationId"])
		case "User ID":
			v = text(g["userId"])
		case "User":
			v = text(g["userDisplayName"])
		case "Username":
			v = text(g["userPrincipalName"])
		case "User type":
			v = entraEnum(text(g["userType"]))
		case "Cross tenant access type":
			v = entraEnum(text(g["crossTenantAccessType"]))
		case "Incoming token type", "Authentication Protocol", "Original transfer method", "Client credential type":
			v = "None"
		case "Application":
			v = text(g["appDisplayName"])
		case "Application ID ":
			v = text(g["appId"])
		case "Resource":
			v = text(g["resourceDisplayName"])
		case "Resource ID ":
			v = text(g["resourceId"])
		case "Resource tenant ID":
			v = text(g["resourceTenantId"])
		case "Home tenant ID":
			v = text(g["homeTenantId"])
		case "Home tenant name":
			v = text(g["homeTenantName"])
		case "IP address":
			v = text(g["ipAddress"])
		case "Location":
			v = strings.Join(where, ", ")
		case "Status":
			v = outcome
		case "Sign-in error code":
			v = strconv.Itoa(status.ErrorCode)
		case "Failure reason":
			v = status.FailureReason
		case "Client app":
			v = text(g["clientAppUsed"])
		case "Device ID":
			v = dev.DeviceID
		case "Browser":
			v = dev.Browser
		case "Operating System":
			v = dev.OS
		case "Compliant", "Managed", "Through Global Secure Access", "Flagged for review":
			v = "False"
		case "Join Type":
			v = dev.TrustType
		case "Authentication requirement":
			v = entraEnum(text(g["authenticationRequirement"]))
		case "Sign-in identifier":
			v = text(g["signInIdentifier"])
		case "Token issuer type":
			v = text(g["tokenIssuerType"])
		case "Token issuer name":
			v = text(g["tokenIssuerName"])
		case "Latency":
			v = text(g["processingTimeInMilliseconds"])
		case "Conditional Access":
			v = entraEnum(text(g["conditionalAccessStatus"]))
		}
		row[i] = v
	}
	return appendEntraRow(b, row)
}
