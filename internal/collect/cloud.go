// Package collect pulls a tenant's audit records from Microsoft's APIs into
// an archive folder that 'outsider triage' reads directly, and resumes
// exactly where a killed run stopped.
//
// Two sources:
//   - the Office 365 Management Activity API (content blobs per content
//     type, listed in windows of at most 24 hours within the last 7 days);
//   - Microsoft Graph sign-ins (/auditLogs/signIns), kept in their own
//     folder (triage reads both; the audit log is given first).
//
// Archive layout (ARCHIVE is the folder given to collect):
//
//	ARCHIVE/ual/YYYY-MM-DD/<contentType>-<contentId>-<hash>.jsonl.gz
//	ARCHIVE/signins/YYYY-MM-DD/signins-YYYY-MM-DDTHH.jsonl.gz
//	ARCHIVE/quarantine/<contentType>-<contentId>-<hash>.json.gz
//	ARCHIVE/.outsider/state.db   (package state; hidden, so triage skips it)
//
// Every archive file is written to a hidden temporary file in its folder
// and renamed into place once complete and synced, so a reader (or a
// killed run) never sees half a file. The name of a file is a function of
// what it holds (the content id, or the sign-in hour), so writing it again
// replaces it with the same records: that is what makes a resumed run
// exactly-once (see Run).
package collect

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// Cloud is a Microsoft 365 cloud's endpoints. The URLs are where requests
// go; the resources are the logical names tokens are requested for, which
// stay the cloud's own when a URL is overridden (for a proxy or a test).
type Cloud struct {
	Name string
	// LoginURL is the Microsoft Entra ID authority host.
	LoginURL string
	// ManageURL is the Management Activity API root and ManageResource the
	// token audience for it.
	ManageURL      string
	ManageResource string
	// GraphURL is the Microsoft Graph root and GraphResource its audience.
	GraphURL      string
	GraphResource string
}

// Clouds are the endpoints Microsoft documents:
//   - Management Activity API roots per plan ("Office 365 Management
//     Activity API reference", Activity API operations): Enterprise
//     manage.office.com, GCC manage-gcc.office.com, GCC High
//     manage.office365.us, DoD manage.protection.apps.mil;
//   - Entra ID and Graph per national cloud ("Microsoft Graph national
//     cloud deployments"): global login.microsoftonline.com and
//     graph.microsoft.com (GCC tenants use the global Graph and Entra ID);
//     US Government login.microsoftonline.us with graph.microsoft.us (L4,
//     GCC High) and dod-graph.microsoft.us (L5, DoD).
var Clouds = map[string]Cloud{
	"commercial": publicCloud("commercial", "https://login.microsoftonline.com", "https://manage.office.com", "https://graph.microsoft.com"),
	"gcc":        publicCloud("gcc", "https://login.microsoftonline.com", "https://manage-gcc.office.com", "https://graph.microsoft.com"),
	"gcchigh":    publicCloud("gcchigh", "https://login.microsoftonline.us", "https://manage.office365.us", "https://graph.microsoft.us"),
	"dod":        publicCloud("dod", "https://login.microsoftonline.us", "https://manage.protection.apps.mil", "https://dod-graph.microsoft.us"),
}

// publicCloud is a cloud as Microsoft runs it, where each API's token
// audience is its root URL; only a test server has them differ.
func publicCloud(name, login, manage, graph string) Cloud {
	return Cloud{
		Name: name, LoginURL: login,
		ManageURL: manage, ManageResource: manage,
		GraphURL: graph, GraphResource: graph,
	}
}

// CloudNames lists the --cloud values in the order help shows them.
var CloudNames = []string{"commercial", "gcc", "gcchigh", "dod"}

// LookupCloud returns the named cloud.
func LookupCloud(name string) (Cloud, error) {
	c, ok := Clouds[strings.ToLower(name)]
	if !ok {
		return Cloud{}, fmt.Errorf("unknown cloud %q (want one of %s)", name, strings.Join(CloudNames, ", "))
	}
	return c, nil
}

// CheckEndpoint validates an endpoint override. It must be https, or http
// to a loopback address only (an in-process fake or a local proxy on this
// machine): an access token is never sent in clear over a network, and TLS
// certificate verification is never switched off (a private CA is added
// with Config.RootCAs instead).
func CheckEndpoint(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("%q is not an absolute URL", raw)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			return "", fmt.Errorf("%q: plain http is allowed only to a loopback address; use https", raw)
		}
	default:
		return "", fmt.Errorf("%q: want an https URL", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%q: an endpoint has no query or fragment", raw)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// sameOrigin reports whether link points at the same scheme and host as
// base: a bearer token is sent only there, whatever a NextPageUri,
// contentUri or @odata.nextLink says.
func sameOrigin(base, link string) bool {
	b, err1 := url.Parse(base)
	l, err2 := url.Parse(link)
	return err1 == nil && err2 == nil && strings.EqualFold(b.Scheme, l.Scheme) && strings.EqualFold(b.Host, l.Host)
}
