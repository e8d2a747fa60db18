package clickhouse

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Hand-written records for tests that need a precise situation (the same
// shape as internal/triage's).

const (
	ourTenant     = "6a1e5b2c-9d3f-4b7a-8e21-3c5d7f9a1b2e"
	fabrikam      = "0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6"
	sharePointApp = "00000003-0000-0ff1-ce00-000000000000"
)

type rec map[string]any

var seq int

func nextID() string {
	seq++
	return fmt.Sprintf("00000000-0000-4000-8000-%012d", seq)
}

func at(minute int) string {
	return time.Date(2026, 10, 1, 8, 0, 0, 0, time.UTC).Add(time.Duration(minute) * time.Minute).Format("2006-01-02T15:04:05")
}

// signin is a successful UserLoggedIn (or a UserLoginFailed).
func signin(minute int, user, actorTenant, ip, app string, ok bool) rec {
	op, detail := "UserLoggedIn", "Success"
	r := rec{
		"CreationTime": at(minute), "Id": nextID(), "OrganizationId": ourTenant, "RecordType": 15,
		"UserType": 0, "Workload": "AzureActiveDirectory", "ClientIP": ip, "UserId": user,
		"ActorContextId": actorTenant, "ApplicationId": app, "ObjectId": app,
	}
	if actorTenant == ourTenant {
		r["Actor"] = []rec{{"ID": "3f2504e0-4f89-41d3-9a0c-0305e82c3301", "Type": 0}, {"ID": user, "Type": 5}}
	} else {
		r["Actor"] = []rec{{"ID": "Unknown", "Type": 0}, {"ID": user, "Type": 5}}
	}
	if !ok {
		op, detail = "UserLoginFailed", "UserError"
		r["ErrorNumber"], r["LogonError"] = "50126", "InvalidUserNameOrPassword"
	}
	r["Operation"] = op
	r["ExtendedProperties"] = []rec{{"Name": "ResultStatusDetail", "Value": detail}, {"Name": "UserAgent", "Value": "Mozilla/5.0"}}
	return r
}

// spo is a SharePoint record.
func spo(minute int, op, user, ip, object string) rec {
	return rec{
		"CreationTime": at(minute), "Id": nextID(), "OrganizationId": ourTenant, "RecordType": 6,
		"Operation": op, "Workload": "SharePoint", "UserId": user, "ClientIP": ip, "ObjectId": object, "UserType": 0,
	}
}

// share is a sharing record naming target.
func share(minute int, op, by, target, object string) rec {
	r := spo(minute, op, by, "95.91.100.20", object)
	r["RecordType"] = 14
	r["TargetUserOrGroupName"] = target
	r["TargetUserOrGroupType"] = "Guest"
	return r
}

// mail is a MailItemsAccessed record.
func mail(minute int, user, ip string) rec {
	return rec{
		"CreationTime": at(minute), "Id": nextID(), "OrganizationId": ourTenant, "RecordType": 50,
		"Operation": "MailItemsAccessed", "Workload": "Exchange", "UserId": user, "ClientIPAddress": ip,
		"MailboxOwnerUPN": user,
	}
}

func writeJSONL(t *testing.T, dir, name string, recs ...rec) string {
	t.Helper()
	var b bytes.Buffer
	for _, r := range recs {
		line, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
