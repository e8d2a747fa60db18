package fakems

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
)

// SplitOptions shape how records become content blobs.
type SplitOptions struct {
	// Bucket groups records of one content type by CreationTime into
	// buckets this long (default 4 hours); each bucket's blobs are created
	// Delay after the bucket ends (default 20 minutes), as the service
	// aggregates records before it publishes them.
	Bucket time.Duration
	Delay  time.Duration
	// MaxRecords per blob (default 10).
	MaxRecords int
	// DuplicateEvery puts every Nth record in the next blob of its content
	// type too, as the service sometimes does (0: never).
	DuplicateEvery int
}

// ContentTypeOf maps a record's Workload to its content type, as the
// Management Activity API groups them.
func ContentTypeOf(workload string) string {
	switch workload {
	case "AzureActiveDirectory":
		return "Audit.AzureActiveDirectory"
	case "Exchange":
		return "Audit.Exchange"
	case "SharePoint", "OneDrive":
		return "Audit.SharePoint"
	}
	return "Audit.General"
}

// Split turns JSON Lines of UAL records (the output of synth.Generate)
// into content blobs, and their sign-in records into Graph signIn objects.
// Duplicates counts the extra copies DuplicateEvery added.
func Split(r io.Reader, o SplitOptions) (blobs []*Blob, signins []SignIn, duplicates int, err error) {
	if o.Bucket <= 0 {
		o.Bucket = 4 * time.Hour
	}
	if o.Delay <= 0 {
		o.Delay = 20 * time.Minute
	}
	if o.MaxRecords <= 0 {
		o.MaxRecords = 10
	}
	type rec struct {
		t    time.Time
		raw  []byte
		ct   string
		line int
	}
	byCT := map[string][]rec{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	line := 0
	for sc.Scan() {
		line++
		raw := bytes.TrimSpace(sc.Bytes())
		if len(raw) == 0 {
			continue
		}
		var f struct {
			CreationTime   string
			Workload       string
			Operation      string
			Id             string
			IntraSystemId  string
			InterSystemsId string
			UserId         string
			UserType       int
			ClientIP       string
			ApplicationId  string
			ActorContextId string
			OrganizationId string
			ErrorNumber    string
			LogonError     string
		}
		if err := json.Unmarshal(raw, &f); err != nil {
			return nil, nil, 0, err
		}
		t, err := time.Parse("2006-01-02T15:04:05", f.CreationTime)
		if err != nil {
			return nil, nil, 0, err
		}
		ct := ContentTypeOf(f.Workload)
		byCT[ct] = append(byCT[ct], rec{t: t, raw: append([]byte(nil), raw...), ct: ct, line: line})
		if f.Operation == "UserLoggedIn" || f.Operation == "UserLoginFailed" {
			// The Entra sign-in log's id is the UAL record's
			// IntraSystemId (the request id both logs share).
			id := f.IntraSystemId
			if id == "" {
				id = f.Id
			}
			signins = append(signins, SignIn{Created: t, JSON: signInJSON(t, id, f.InterSystemsId, f.UserType, f.UserId, f.ClientIP, f.ApplicationId, f.ActorContextId, f.OrganizationId, f.ErrorNumber, f.LogonError)})
		}
	}
	if err := sc.Err(); err != nil {
		return nil, nil, 0, err
	}
	cts := make([]string, 0, len(byCT))
	for ct := range byCT {
		cts = append(cts, ct)
	}
	sort.Strings(cts)
	for _, ct := range cts {
		recs := byCT[ct]
		sort.SliceStable(recs, func(i, j int) bool { return recs[i].t.Before(recs[j].t) })
		var ctBlobs []*Blob
		n := 0
		for i := 0; i < len(recs); {
			bucket := recs[i].t.Truncate(o.Bucket)
			j := i
			for j < len(recs) && recs[j].t.Truncate(o.Bucket).Equal(bucket) {
				j++
			}
			for k := i; k < j; k += o.MaxRecords {
				n++
				// Blobs of one bucket are published a second apart.
				created := bucket.Add(o.Bucket + o.Delay + time.Duration(n%60)*time.Second)
				b := &Blob{ContentType: ct, ContentID: ContentID(ct, created, n), Created: created}
				for _, rc := range recs[k:min(k+o.MaxRecords, j)] {
					b.Records = append(b.Records, rc.raw)
				}
				ctBlobs = append(ctBlobs, b)
			}
			i = j
		}
		if o.DuplicateEvery > 0 {
			count := 0
			for bi := 0; bi+1 < len(ctBlobs); bi++ {
				for _, raw := range ctBlobs[bi].Records {
					count++
					if count%o.DuplicateEvery == 0 {
						ctBlobs[bi+1].Records = append(ctBlobs[bi+1].Records, raw)
						duplicates++
					}
				}
			}
		}
		blobs = append(blobs, ctBlobs...)
	}
	return blobs, signins, duplicates, nil
}

// signInJSON makes a Graph signIn object from a UAL sign-in record's
// fields (the fields "List signIns" documents; the values the record
// carries).
func signInJSON(t time.Time, id, correlation string, userType int, upn, ip, app, home, resource, errNum, logonErr string) []byte {
	code, _ := strconv.Atoi(errNum)
	ut := "member"
	if userType == 10 || strings.Contains(strings.ToLower(upn), "#ext#") {
		ut = "guest"
	}
	access := "none"
	if home != "" && !strings.EqualFold(home, resource) {
		access = "passthrough"
	}
	b, _ := json.Marshal(map[string]any{
		"id":                    id,
		"correlationId":         correlation,
		"createdDateTime":       t.UTC().Format(time.RFC3339),
		"userPrincipalName":     strings.ToLower(upn),
		"appId":                 app,
		"ipAddress":             ip,
		"homeTenantId":          home,
		"resourceTenantId":      resource,
		"crossTenantAccessType": access,
		"isInteractive":         true,
		"userType":              ut,
		"status":                map[string]any{"errorCode": code, "failureReason": logonErr},
	})
	return b
}
