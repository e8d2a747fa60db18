package triage

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/outsider-sec/outsider/internal/record"
	"github.com/outsider-sec/outsider/internal/source"
	"github.com/outsider-sec/outsider/internal/synth"
	"github.com/outsider-sec/outsider/internal/testutil"
)

// touchTenant is one outside identity that opens a file on a shared site
// and posts in a team, a member who reads a mailbox from its IP, a member
// who shares another file with it, and member activity elsewhere that
// touched other objects and must not be reported.
func touchTenant(t *testing.T, dir string) string {
	const x, xIP = "eve@fabrikam.com", "81.2.69.160"
	site := "https://contoso.sharepoint.com/sites/Projects"
	file := testutil.SPO(10, "FileAccessed", x, xIP, site+"/Shared Documents/plan.docx")
	file["SiteUrl"], file["SourceRelativeUrl"], file["SourceFileName"] = site+"/", "Shared Documents", "plan.docx"
	again := testutil.SPO(12, "FileDownloaded", x, xIP, site+"/Shared Documents/plan.docx")
	again["SiteUrl"], again["SourceRelativeUrl"], again["SourceFileName"] = site+"/", "Shared Documents", "plan.docx"
	team := testutil.Rec{"CreationTime": testutil.At(15), "Id": testutil.NextID(), "OrganizationId": ourTenant,
		"RecordType": 25, "Operation": "MessageSent", "Workload": "MicrosoftTeams", "UserId": x, "ClientIP": xIP,
		"UserType": 0, "TeamName": "Falcon", "ChannelName": "General"}
	mail := testutil.Mail(20, "ann@contoso.com", xIP)
	mail["Folders"] = []testutil.Rec{{"Path": `\Inbox`, "FolderItems": []testutil.Rec{{"InternetMessageId": "<a@b>"}}}}
	share := testutil.Share(5, "SharingSet", "bob@contoso.com", x, "https://contoso.sharepoint.com/sites/Sales/Shared Documents/q3.xlsx")
	share["SiteUrl"] = "https://contoso.sharepoint.com/sites/Sales/"
	elsewhere := testutil.SPO(30, "FileAccessed", "ann@contoso.com", "198.51.100.9", "https://contoso.sharepoint.com/sites/HR/Shared Documents/pay.xlsx")
	elsewhere["SiteUrl"], elsewhere["SourceFileName"] = "https://contoso.sharepoint.com/sites/HR/", "pay.xlsx"
	return testutil.WriteJSONL(t, dir, "touch.jsonl",
		testutil.SignIn(1, "ann@contoso.com", ourTenant, "198.51.100.9", sharePointApp, true),
		testutil.SignIn(2, "bob@contoso.com", ourTenant, "95.91.100.20", sharePointApp, true),
		testutil.SignIn(9, x, fabrikam, xIP, sharePointApp, true),
		share, file, again, team, mail, elsewhere)
}

func objectsOf(list []AccessedObject) map[string]AccessedObject {
	m := map[string]AccessedObject{}
	for _, a := range list {
		m[a.Kind+" "+a.Object] = a
	}
	return m
}

func TestAccessedObjects(t *testing.T) {
	dir := t.TempDir()
	p := touchTenant(t, dir)
	r := run(t, Options{Workers: 1}, p)
	id := find(t, r, "eve@fabrikam.com")
	got := objectsOf(id.Accessed)
	want := map[string]struct {
		how     []string
		records int64
	}{
		"sharepoint-site https://contoso.sharepoint.com/sites/Projects":                            {[]string{"account"}, 2},
		"sharepoint-file https://contoso.sharepoint.com/sites/Projects/Shared Documents/plan.docx": {[]string{"account"}, 2},
		"team Falcon":                           {[]string{"account"}, 1},
		"channel Falcon / General":              {[]string{"account"}, 1},
		"mailbox ann@contoso.com":               {[]string{"ip"}, 1},
		`mailbox-folder ann@contoso.com \Inbox`: {[]string{"ip"}, 1},
		"sharepoint-site https://contoso.sharepoint.com/sites/Sales":                          {[]string{"shared"}, 1},
		"sharepoint-file https://contoso.sharepoint.com/sites/Sales/Shared Documents/q3.xlsx": {[]string{"shared"}, 1},
	}
	for k, w := range want {
		a, ok := got[k]
		if !ok {
			t.Errorf("%s not reported; reported: %v", k, slices.Sorted(func(yield func(string) bool) {
				for k := range got {
					if !yield(k) {
						return
					}
				}
			}))
			continue
		}
		if !slices.Equal(a.How, w.how) || a.Records != w.records || len(a.RecordIDs) != int(w.records) {
			t.Errorf("%s: how %v, %d records, ids %v; want %v, %d", k, a.How, a.Records, a.RecordIDs, w.how, w.records)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d objects, want %d (the HR site was touched by nobody outside): %+v", len(got), len(want), id.Accessed)
	}
	f := got["sharepoint-file https://contoso.sharepoint.com/sites/Projects/Shared Documents/plan.docx"]
	if f.Operations["FileAccessed"] != 1 || f.Operations["FileDownloaded"] != 1 || f.First >= f.Last {
		t.Errorf("plan.docx: operations %v, first %s, last %s", f.Operations, f.First, f.Last)
	}
	if id.AccessedPartial {
		t.Error("every record was kept, yet the list says it is partial")
	}
	sum := objectsOf(r.AccessedSummary)
	if a := sum["mailbox ann@contoso.com"]; a.Identities != 1 || a.Records != 1 {
		t.Errorf("summary's mailbox: %+v", a)
	}
	if _, ok := sum["sharepoint-site https://contoso.sharepoint.com/sites/HR"]; ok {
		t.Error("the summary names a site no outside identity touched")
	}
	if !strings.Contains(r.AccessedScope, "20 earliest") {
		t.Errorf("scope: %q", r.AccessedScope)
	}
	for _, other := range r.Identities {
		if other.Accessed == nil {
			t.Errorf("%s: accessed absent, want a list (computed)", other.User)
		}
	}
}

// TestSkipAccessed: a caller that asks for verdicts only (watch) gets the
// same identities and verdicts without the second look, and a report that
// says the objects were not computed rather than lists that read as
// "nothing touched".
func TestSkipAccessed(t *testing.T) {
	p := touchTenant(t, t.TempDir())
	full := run(t, Options{Workers: 2}, p)
	r := run(t, Options{Workers: 2, SkipAccessed: true}, p)
	if !strings.HasPrefix(r.AccessedScope, "not computed: ") || r.AccessedSummary != nil {
		t.Errorf("scope %q, summary %v", r.AccessedScope, r.AccessedSummary)
	}
	if len(r.Identities) != len(full.Identities) {
		t.Fatalf("%d identities, want %d", len(r.Identities), len(full.Identities))
	}
	for i, id := range r.Identities {
		f := full.Identities[i]
		if id.User != f.User || id.Verdict != f.Verdict || id.Severity != f.Severity || id.Accessed != nil {
			t.Errorf("%s %s %s accessed %v; want %s %s %s, no list", id.User, id.Verdict, id.Severity, id.Accessed, f.User, f.Verdict, f.Severity)
		}
	}
}

// TestAccessedPartial: with fewer records kept than there are, the list
// says its counts are lower bounds.
func TestAccessedPartial(t *testing.T) {
	p := touchTenant(t, t.TempDir())
	r := run(t, Options{Workers: 2, MaxEvidence: 1}, p)
	id := find(t, r, "eve@fabrikam.com")
	if !id.AccessedPartial {
		t.Errorf("1 record kept of 3, yet not partial: %+v", id.Accessed)
	}
}

// TestAccessedDeterministic: the same report, byte for byte, whatever the
// workers and batch sizes, and whether the input is gzipped.
func TestAccessedDeterministic(t *testing.T) {
	dir := t.TempDir()
	data, _ := generate(t, synth.Options{Seed: 5})
	plain := testutil.WriteFile(t, dir, "t.jsonl", data)
	gz := testutil.WriteFile(t, dir, "t.jsonl.gz", testutil.Gzip(data))
	var want []byte
	for _, c := range []struct {
		path    string
		workers int
		batch   int
	}{{plain, 1, 0}, {plain, 4, 64 << 10}, {gz, 3, 32 << 10}} {
		r, err := Run(context.Background(), []string{c.path}, Options{Workers: c.workers, Source: source.Options{BatchBytes: c.batch}})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.AccessedSummary) < 3 {
			t.Fatalf("only %d objects touched: the case is too thin", len(r.AccessedSummary))
		}
		got, _ := json.Marshal(struct {
			S  []AccessedObject
			Id []Identity
		}{r.AccessedSummary, r.Identities})
		got = bytes.ReplaceAll(got, []byte(".jsonl.gz:"), []byte(".jsonl:"))
		if want == nil {
			want = got
		} else if !bytes.Equal(got, want) {
			t.Fatalf("%s, %d workers: the accessed lists differ", c.path, c.workers)
		}
	}
}

// TestAccessedStdin: standard input cannot be read twice: the lists are
// partial and the scope says why; nothing fails.
func TestAccessedStdin(t *testing.T) {
	p := touchTenant(t, t.TempDir())
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	r := run(t, Options{Workers: 1, Source: source.Options{Stdin: bytes.NewReader(data)}}, "-")
	id := find(t, r, "eve@fabrikam.com")
	if !id.AccessedPartial || len(id.Accessed) != 0 || !strings.Contains(r.AccessedScope, "standard input") {
		t.Errorf("stdin: partial %v, %d objects, scope %q", id.AccessedPartial, len(id.Accessed), r.AccessedScope)
	}
}

func TestReadObjectsOffice(t *testing.T) {
	header := []string{"OfficeWorkload", "Site_Url", "Site_Url_", "SourceFileName", "OfficeObjectId", "MailboxOwnerUPN", "Folders", "Item"}
	fields := [][]byte{[]byte("SharePoint"), nil, []byte("https://contoso.sharepoint.com/sites/A/"), []byte("x.docx"),
		[]byte("https://contoso.sharepoint.com/sites/A/Docs/x.docx"), []byte("m@contoso.com"), []byte(`[{"Path":"\\Inbox"}]`),
		[]byte(`{"ParentFolder":{"Path":"\\Sent Items"}}`)}
	o, err := readObjects(record.Raw{Kind: record.OfficeFields, Header: header, Fields: fields})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, ob := range o.objects() {
		names = append(names, ob.kind+" "+ob.name)
	}
	want := []string{"sharepoint-site https://contoso.sharepoint.com/sites/A", "sharepoint-file https://contoso.sharepoint.com/sites/A/Docs/x.docx",
		"mailbox m@contoso.com", `mailbox-folder m@contoso.com \Inbox`, `mailbox-folder m@contoso.com \Sent Items`}
	if !slices.Equal(names, want) {
		t.Errorf("objects %q\nwant %q", names, want)
	}
}

func TestReadObjectsEnvelopeAndLimits(t *testing.T) {
	long := strings.Repeat("é", 400)
	inner, _ := json.Marshal(map[string]any{"ObjectId": "https://contoso.sharepoint.com/personal/a_contoso_com/Documents/" + long,
		"SourceFileName": long, "TeamName": 7})
	env, _ := json.Marshal(map[string]any{"Identity": "x", "AuditData": string(inner)})
	o, err := readObjects(record.Raw{Kind: record.UALJSON, JSON: env})
	if err != nil {
		t.Fatal(err)
	}
	objs := o.objects()
	if len(objs) != 2 || objs[0].name != "https://contoso.sharepoint.com/personal/a_contoso_com" {
		t.Fatalf("objects %+v", objs)
	}
	if n := len(objs[1].name); n > maxObjectLen+len("…") || !strings.HasSuffix(objs[1].name, "…") {
		t.Errorf("a long name is %d bytes, not clipped", n)
	}
	if _, err := readObjects(record.Raw{Kind: record.UALJSON, JSON: []byte("{")}); err == nil {
		t.Error("a broken record read")
	}
}

// FuzzReadObjects: any record text gives objects or an error, never a
// panic, and every name is clipped.
func FuzzReadObjects(f *testing.F) {
	f.Add([]byte(`{"SiteUrl":"https://c.sharepoint.com/sites/A/","SourceFileName":"x","Folders":[{"Path":"\\Inbox"}],"Item":{"ParentFolder":{"Path":"\\x"}},"TeamName":"T","ChannelName":"C"}`))
	f.Add([]byte(`{"AuditData":"{\"ObjectId\":\"https://x/sites/\"}"}`))
	f.Add([]byte(`{"auditData":{"ObjectId":"http://h","Folders":"nope"}}`))
	// Keys spelled by escapes, case and folding, as encoding/json matches them.
	f.Add([]byte(`{"Site\u0055rl":"https://x/sites/a","OBJECTID":"HTTPS://x/y"}`))
	f.Add([]byte("{\"\u017fiteUrl\":\"https://x\",\"TEAMNAME\":\"T\",\"Item\":{\"parentFOLDER\":{\"path\":\"p\"}}}"))
	f.Add([]byte(`{"ObjectId":"https://x","Operation":"FileAccessed"}`))
	f.Add([]byte("https://c.sharepoint.com/sites/A/\x1fDocs\x1fx.docx\x1f\x1fm@c.com\x1f[{\"Path\":\"\\\\Inbox\"}]\x1f{\"ParentFolder\":{}}\x1fT\x1fC"))
	// An OfficeActivity row: the same bytes split into the columns that
	// name objects.
	header := []string{"Site_Url", "SourceRelativeUrl", "SourceFileName", "OfficeObjectId", "MailboxOwnerUPN", "Folders", "Item", "TeamName", "ChannelName"}
	f.Fuzz(func(t *testing.T, data []byte) {
		raws := []record.Raw{{Kind: record.UALJSON, JSON: data}, {Kind: record.OfficeJSON, JSON: data},
			{Kind: record.OfficeFields, Header: header, Fields: bytes.Split(data, []byte{0x1f})}}
		for _, raw := range raws {
			o, err := readObjects(raw)
			if err != nil {
				continue
			}
			for _, ob := range o.objects() {
				if ob.name == "" || len(ob.name) > maxObjectLen+len("…") {
					t.Fatalf("object %q", ob.name)
				}
			}
		}
	})
}

// TestAccessedSharedIP: an IP shared by more accounts than the second look
// reads (lookPerEvidence × K records) gives a bounded, partial list.
func TestAccessedSharedIP(t *testing.T) {
	const x, ip = "eve@fabrikam.com", "81.2.69.161"
	recs := []testutil.Rec{testutil.SignIn(1, x, fabrikam, ip, sharePointApp, true)}
	for i := range 2 * lookPerEvidence {
		member := fmt.Sprintf("m%03d@contoso.com", i)
		recs = append(recs, testutil.SignIn(2, member, ourTenant, "198.51.100.1", sharePointApp, true))
		r := testutil.SPO(10+i, "FileAccessed", member, ip, fmt.Sprintf("https://contoso.sharepoint.com/sites/S/f%03d.docx", i))
		recs = append(recs, r)
	}
	r := run(t, Options{Workers: 2, MaxEvidence: 1}, testutil.WriteJSONL(t, t.TempDir(), "nat.jsonl", recs...))
	id := find(t, r, x)
	site := id.Accessed[0]
	if !id.AccessedPartial || site.Kind != KindSite || site.Records != lookPerEvidence || id.AccessedOmitted != lookPerEvidence+1-MaxAccessedPerIdentity {
		t.Errorf("partial %v, %+v, %d omitted; want partial, the site with %d records (the earliest), %d files omitted",
			id.AccessedPartial, site, id.AccessedOmitted, lookPerEvidence, lookPerEvidence+1-MaxAccessedPerIdentity)
	}
	if site.Last != testutil.At(10+lookPerEvidence-1)+"Z" {
		t.Errorf("the site's last record read is at %s, want the %dth earliest", site.Last, lookPerEvidence)
	}
}

// FuzzScanObjects: scanObjects, where it answers, answers as ualObjects
// (encoding/json) does: the same fields, and an error for the same texts.
func FuzzScanObjects(f *testing.F) {
	for _, s := range []string{
		`{"SiteUrl":"https://c.sharepoint.com/sites/A/","SourceFileName":" x ","Folders":[{"Path":"\\Inbox"}],"Item":{"ParentFolder":{"Path":"\\x"}},"TeamName":"T","ChannelName":"C"}`,
		`{"siteurl":"a","SITEURL":null,"ObjectId":"https://h/\u00e9","MailboxOwnerUPN":7,"Folders":"nope","Item":[1]}`,
		`{"Site\u0055rl":"x"}`, `{"AuditData":"{\"ObjectId\":\"https://x/sites/\"}"}`, `{"Ope":-0.5e+7,"b":[true,false,null,{}],"c":{}}`,
		`{"a":01}`, `{"a":1.}`, `{"a":"\x"}`, "{\"a\":\"\x01\"}", `{"a":1} x`, `[1]`, `"s"`, `{"a" 1}`, `{"a":1,}`, `{,}`,
		`{"a":` + strings.Repeat("[", 10001), `{"a":` + strings.Repeat("[", 999) + strings.Repeat("]", 999) + "}", `{"TeamName":"` + "\xff\xfe" + `"}`, `{"TeamName":"t\"\\u00"}`, " {\"ObjectId\":\"https://x\"}\r\n", strings.Repeat("[", 20) + strings.Repeat("]", 20),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, ok, err := scanObjects(data)
		if !ok {
			return
		}
		want, werr := ualObjects(data, 0)
		if (err != nil) != (werr != nil) {
			t.Fatalf("scanObjects error %v, encoding/json's %v", err, werr)
		}
		if err == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("scanObjects %+v, encoding/json %+v", got, want)
		}
	})
}
