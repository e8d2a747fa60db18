package testutil

import (
	"fmt"
	"time"
)

// Hand-written UAL records for tests that need a precise situation, so
// each test reads as the scenario it checks. Field names and values follow
// the Office 365 Management Activity API common schema
// (https://learn.microsoft.com/office/office-365-management-api/office-365-management-activity-api-schema).

// Tenants and applications the builders use.
const (
	OurTenant     = "6a1e5b2c-9d3f-4b7a-8e21-3c5d7f9a1b2e"
	Fabrikam      = "0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6"
	SharePointApp = "00000003-0000-0ff1-ce00-000000000000"
)

// Rec is one audit record, marshalled as JSON.
type Rec map[string]any

var seq int

// NextID is a fresh record Id, counting up within the test binary so the
// output of a test does not depend on randomness.
func NextID() string {
	seq++
	return fmt.Sprintf("00000000-0000-4000-8000-%012d", seq)
}

// At is the CreationTime minute minutes after 2026-10-01 08:00 UTC, in the
// UAL's format (no zone).
func At(minute int) string {
	return time.Date(2026, 10, 1, 8, 0, 0, 0, time.UTC).Add(time.Duration(minute) * time.Minute).Format("2006-01-02T15:04:05")
}

// SignIn is a UserLoggedIn (ok) or UserLoginFailed record of user from ip
// to app; an actorTenant other than OurTenant makes it an outside sign-in
// (Actor ID "Unknown").
func SignIn(minute int, user, actorTenant, ip, app string, ok bool) Rec {
	op, detail := "UserLoggedIn", "Success"
	r := Rec{
		"CreationTime": At(minute), "Id": NextID(), "OrganizationId": OurTenant, "RecordType": 15,
		"UserType": 0, "Workload": "AzureActiveDirectory", "ClientIP": ip, "UserId": user,
		"ActorContextId": actorTenant, "ApplicationId": app, "ObjectId": app,
	}
	if actorTenant == OurTenant {
		r["Actor"] = []Rec{{"ID": "3f2504e0-4f89-41d3-9a0c-0305e82c3301", "Type": 0}, {"ID": user, "Type": 5}}
	} else {
		r["Actor"] = []Rec{{"ID": "Unknown", "Type": 0}, {"ID": user, "Type": 5}}
	}
	if !ok {
		op, detail = "UserLoginFailed", "UserError"
		r["ErrorNumber"], r["LogonError"] = "50126", "InvalidUserNameOrPassword"
	}
	r["Operation"] = op
	r["ExtendedProperties"] = []Rec{{"Name": "ResultStatusDetail", "Value": detail}, {"Name": "UserAgent", "Value": "Mozilla/5.0"}}
	return r
}

// SPO is a SharePoint/OneDrive record (RecordType 6).
func SPO(minute int, op, user, ip, object string) Rec {
	return Rec{
		"CreationTime": At(minute), "Id": NextID(), "OrganizationId": OurTenant, "RecordType": 6,
		"Operation": op, "Workload": "SharePoint", "UserId": user, "ClientIP": ip, "ObjectId": object, "UserType": 0,
	}
}

// Share is a sharing record (RecordType 14) by by naming the guest target.
func Share(minute int, op, by, target, object string) Rec {
	r := SPO(minute, op, by, "95.91.100.20", object)
	r["RecordType"] = 14
	r["TargetUserOrGroupName"] = target
	r["TargetUserOrGroupType"] = "Guest"
	return r
}

// Mail is a MailItemsAccessed record (RecordType 50).
func Mail(minute int, user, ip string) Rec {
	return Rec{
		"CreationTime": At(minute), "Id": NextID(), "OrganizationId": OurTenant, "RecordType": 50,
		"Operation": "MailItemsAccessed", "Workload": "Exchange", "UserId": user, "ClientIPAddress": ip,
		"MailboxOwnerUPN": user,
	}
}
