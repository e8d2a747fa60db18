package triage

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/outsider-sec/outsider/internal/audit"
	"github.com/outsider-sec/outsider/internal/record"
)

// What a record says it touched. The audit decoder reads none of these
// fields: the engine needs them only for the few records kept as evidence
// of an outside identity, so they are read in a second look at those
// records (look.go), by this slower, tolerant parser, never on the hot path.
//
// The fields, from the Office 365 Management Activity API schema
// (https://learn.microsoft.com/en-us/office/office-365-management-api/office-365-management-activity-api-schema):
//   - SharePoint base and file operations schema
//     (#sharepoint-base-schema, #sharepoint-file-operations): SiteUrl, the
//     site of the file or folder; SourceRelativeUrl, the folder within it;
//     SourceFileName, the file; ObjectId, "the full path name of the file
//     or folder accessed" (SiteUrl + SourceRelativeUrl + SourceFileName);
//     the sharing schema's ObjectId names the item shared.
//   - Exchange mailbox schema (#exchange-mailbox-schema):
//     MailboxOwnerUPN, the mailbox's owner; Item (ExchangeItem complex
//     type) with ParentFolder (ExchangeFolder: Path, the folder's path);
//     Folders, the ExchangeFolder collection of a MailItemsAccessed or
//     group record.
//   - Microsoft Teams schema (#microsoft-teams-schema): TeamName and
//     ChannelName, the team and channel being audited.
//
// Sentinel's OfficeActivity table carries the same fields as columns
// (Site_Url, SourceRelativeUrl, SourceFileName, OfficeObjectId,
// MailboxOwnerUPN, Folders, Item, TeamName, ChannelName; a trailing "_"
// marks Log Analytics' copy of a column), Folders and Item as JSON text.

// Object kinds, as JSON names them (AccessedObject.Kind), in the order
// reports list them.
const (
	KindSite          = "sharepoint-site"
	KindFile          = "sharepoint-file"
	KindMailbox       = "mailbox"
	KindMailboxFolder = "mailbox-folder"
	KindTeam          = "team"
	KindChannel       = "channel"
)

// ObjectKinds lists the kinds in report order.
var ObjectKinds = []string{KindSite, KindFile, KindMailbox, KindMailboxFolder, KindTeam, KindChannel}

// maxObjectLen caps an object's name: every one is chosen by whoever wrote
// the record.
const maxObjectLen = 400

// maxFoldersPerRecord caps the folders taken from one record's Folders.
const maxFoldersPerRecord = 8

// object is one object a record touched.
type object struct{ kind, name string }

// ObjectFields are the fields of one record that name objects, as the
// tolerant parser reads them (trimmed; "" and nil when missing or of
// another type). A store outside the engine keeps them per record
// (Decoded.Objects) and gives them back for the records a report's
// accessed lists are made from (Report.FillAccessed), so that the lists
// are the ones the second look makes from the same records.
type ObjectFields struct {
	// SiteURL, ObjectID, RelativeURL and FileName: SharePoint's SiteUrl,
	// ObjectId, SourceRelativeUrl and SourceFileName.
	SiteURL, ObjectID, RelativeURL, FileName string
	// Owner is MailboxOwnerUPN; Folders the paths of Folders[] and of
	// Item.ParentFolder, at most maxFoldersPerRecord.
	Owner   string
	Folders []string
	// Team and Channel: TeamName and ChannelName.
	Team, Channel string
}

// errNoObjects is a record kind that names no object (a sign-in).
var errNoObjects = errors.New("a sign-in record names no object")

// readObjects reads the object fields of a record's text.
func readObjects(raw record.Raw) (ObjectFields, error) {
	switch raw.Kind {
	case record.UALJSON:
		return recordObjects(raw.JSON)
	case record.OfficeJSON:
		header, fields, err := audit.OfficeObjectFields(raw.JSON)
		if err != nil {
			return ObjectFields{}, err
		}
		return officeObjects(header, fields), nil
	case record.OfficeFields, record.OfficeRow:
		return officeObjects(raw.Header, raw.Fields), nil
	case record.DefenderJSON, record.DefenderFields:
		js, err := raw.UAL()
		if err != nil {
			return ObjectFields{}, err
		}
		return recordObjects(js)
	}
	return ObjectFields{}, errNoObjects
}

// ualFields are the fields ualObjects reads. encoding/json matches names
// case-insensitively, which is lenient enough here (AuditData is also
// a Graph export's auditData); raw values, so that a value of another
// type names nothing instead of failing the record.
type ualFields struct {
	AuditData                                              json.RawMessage
	SiteURL                                                json.RawMessage `json:"SiteUrl"`
	ObjectID                                               json.RawMessage `json:"ObjectId"`
	SourceRelativeURL                                      json.RawMessage `json:"SourceRelativeUrl"`
	SourceFileName, MailboxOwnerUPN, TeamName, ChannelName json.RawMessage
	Folders, Item                                          json.RawMessage
}

// ualObjects reads a UAL record, or the record inside an envelope's
// AuditData (a PowerShell export's string, a Graph export's object).
func ualObjects(js []byte, depth int) (ObjectFields, error) {
	var m ualFields
	if err := json.Unmarshal(js, &m); err != nil {
		return ObjectFields{}, err
	}
	if inner := m.AuditData; depth == 0 && len(inner) > 0 {
		var s string
		if json.Unmarshal(inner, &s) == nil {
			return ualObjects([]byte(s), 1)
		}
		if inner[0] == '{' {
			return ualObjects(inner, 1)
		}
	}
	o := ObjectFields{
		SiteURL: jsonString(m.SiteURL), ObjectID: jsonString(m.ObjectID),
		RelativeURL: jsonString(m.SourceRelativeURL), FileName: jsonString(m.SourceFileName),
		Owner: jsonString(m.MailboxOwnerUPN), Team: jsonString(m.TeamName), Channel: jsonString(m.ChannelName),
	}
	o.Folders = exchangeFolders(m.Folders, m.Item)
	return o, nil
}

// officeObjects reads an OfficeActivity row by its columns' names.
func officeObjects(header []string, fields [][]byte) ObjectFields {
	col := func(names ...string) string {
		for _, name := range names {
			for i, h := range header {
				if i < len(fields) && len(fields[i]) > 0 && strings.EqualFold(strings.TrimSpace(h), name) {
					return string(fields[i])
				}
			}
		}
		return ""
	}
	return ObjectFields{
		SiteURL: col("Site_Url", "Site_Url_"), ObjectID: col("OfficeObjectId", "ObjectId"),
		RelativeURL: col("SourceRelativeUrl", "SourceRelativeUrl_"), FileName: col("SourceFileName", "SourceFileName_"),
		Owner: col("MailboxOwnerUPN"), Team: col("TeamName"), Channel: col("ChannelName"),
		Folders: exchangeFolders(json.RawMessage(col("Folders")), json.RawMessage(col("Item"))),
	}
}

// exchangeFolders reads the paths of Folders[] and of Item.ParentFolder.
// Either may be missing or malformed: what does not read names no folder.
func exchangeFolders(folders, item json.RawMessage) []string {
	var out []string
	// Folders' items (a MailItemsAccessed record lists every message) are
	// skipped unread: only Path is a field here.
	var list []struct{ Path json.RawMessage }
	if len(folders) > 0 && json.Unmarshal(folders, &list) == nil {
		for _, f := range list {
			if p := jsonString(f.Path); p != "" && len(out) < maxFoldersPerRecord {
				out = append(out, p)
			}
		}
	}
	var it struct {
		ParentFolder struct{ Path json.RawMessage }
	}
	if len(item) > 0 && json.Unmarshal(item, &it) == nil {
		if p := jsonString(it.ParentFolder.Path); p != "" && len(out) < maxFoldersPerRecord {
			out = append(out, p)
		}
	}
	return out
}

// jsonString is a JSON string's text, trimmed; "" for anything else.
func jsonString(v json.RawMessage) string {
	var s string
	if len(v) == 0 || v[0] != '"' || json.Unmarshal(v, &s) != nil {
		return ""
	}
	return strings.TrimSpace(s)
}

// objects lists what the record touched: its site and file, its mailbox
// and folders, its team and channel. Names are clipped to maxObjectLen.
func (o *ObjectFields) objects() []object {
	var out []object
	add := func(kind, name string) {
		o := object{kind, clipObject(name)}
		if name != "" && !slices.Contains(out, o) {
			out = append(out, o)
		}
	}
	site := strings.TrimRight(o.SiteURL, "/")
	if site == "" {
		site = siteOf(o.ObjectID)
	}
	add(KindSite, site)
	if o.FileName != "" {
		file := o.ObjectID
		if !isURL(file) {
			file = site
			if rel := strings.Trim(o.RelativeURL, "/"); rel != "" {
				file += "/" + rel
			}
			file += "/" + o.FileName
		}
		add(KindFile, file)
	} else if isURL(o.ObjectID) && o.ObjectID != o.SiteURL && strings.TrimRight(o.ObjectID, "/") != site {
		// A sharing record or a page: its ObjectId is the item itself.
		add(KindFile, o.ObjectID)
	}
	add(KindMailbox, o.Owner)
	for _, p := range o.Folders {
		if o.Owner != "" {
			p = o.Owner + " " + p
		}
		add(KindMailboxFolder, p)
	}
	add(KindTeam, o.Team)
	if o.Channel != "" {
		add(KindChannel, o.Team+" / "+o.Channel)
	}
	return out
}

// isURL reports whether s is an http(s) URL, as SharePoint's ObjectId is.
func isURL(s string) bool {
	return strings.HasPrefix(strings.ToLower(s), "https://") || strings.HasPrefix(strings.ToLower(s), "http://")
}

// siteOf is the site of a SharePoint or OneDrive URL: the host and, under
// /sites/, /teams/ or /personal/, the site's name; "" for anything that is
// not a URL.
func siteOf(u string) string {
	if !isURL(u) {
		return ""
	}
	scheme := strings.Index(u, "://") + 3
	rest := u[scheme:]
	host, path, _ := strings.Cut(rest, "/")
	if host == "" {
		return ""
	}
	parts := strings.SplitN(path, "/", 3)
	if len(parts) >= 2 && parts[1] != "" {
		switch strings.ToLower(parts[0]) {
		case "sites", "teams", "personal":
			return u[:scheme] + host + "/" + parts[0] + "/" + parts[1]
		}
	}
	return u[:scheme] + host
}

// clipObject cuts a name longer than maxObjectLen at a character
// boundary, marking the cut.
func clipObject(s string) string {
	if len(s) <= maxObjectLen {
		return s
	}
	cut := maxObjectLen
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
