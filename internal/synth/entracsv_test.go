package synth

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestEntraCSVSignInLog: the Entra download holds, under the download's
// header, one row per sign-in of the Graph pages, in their order, saying
// what the Graph object says in the portal's words; the UAL, the answers
// and the file are the same from run to run.
func TestEntraCSVSignInLog(t *testing.T) {
	o := Options{Seed: 7}
	ual, graph, exp := generateWithLog(t, o)
	o.SignInLogFormat = SignInLogEntraCSV
	ual2, download, exp2 := generateWithLog(t, o)
	if !bytes.Equal(ual, ual2) {
		t.Fatal("the UAL depends on the sign-in log's shape")
	}
	if exp2.SignInLog.Bytes != int64(len(download)) {
		t.Errorf("Expected says %d bytes, the download has %d", exp2.SignInLog.Bytes, len(download))
	}
	exp.SignInLog.Bytes, exp2.SignInLog.Bytes = 0, 0
	if !reflect.DeepEqual(exp, exp2) {
		t.Fatal("the answers depend on the sign-in log's shape")
	}
	if _, again, _ := generateWithLog(t, o); !bytes.Equal(download, again) {
		t.Fatal("same options, different download")
	}
	if !bytes.HasSuffix(download, []byte("\r\n")) || bytes.Count(download, []byte("\r\n")) != bytes.Count(download, []byte("\n")) {
		t.Error("the download's lines do not all end CRLF")
	}
	rows, err := csv.NewReader(bytes.NewReader(download)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rows[0], entraHeader) {
		t.Fatalf("header %q", rows[0])
	}
	col := func(row []string, name string) string { return row[slices.Index(entraHeader, name)] }
	signIns := parseSignInLog(t, graph)
	if len(rows)-1 != len(signIns) || int64(len(signIns)) != exp.SignInLog.Records {
		t.Fatalf("%d rows, %d Graph sign-ins, %d in Expected", len(rows)-1, len(signIns), exp.SignInLog.Records)
	}
	outcomes := map[string]int{}
	kinds := map[string]int{}
	for i, g := range signIns {
		row := rows[i+1]
		status := g["status"].(map[string]any)
		code := int(status["errorCode"].(float64))
		loc := g["location"].(map[string]any)
		wantOutcome := "Success"
		switch {
		case interruptCodes[strconv.Itoa(code)]:
			wantOutcome = "Interrupted"
		case code != 0:
			wantOutcome = "Failure"
		}
		outcomes[wantOutcome]++
		kinds[col(row, "Cross tenant access type")]++
		want := map[string]string{
			"Date (UTC)":               g["createdDateTime"].(string),
			"Request ID":               g["id"].(string),
			"Correlation ID":           g["correlationId"].(string),
			"User ID":                  g["userId"].(string),
			"Username":                 g["userPrincipalName"].(string),
			"User agent":               g["userAgent"].(string),
			"Application ID ":          g["appId"].(string),
			"Application":              g["appDisplayName"].(string),
			"Resource tenant ID":       g["resourceTenantId"].(string),
			"Home tenant ID":           g["homeTenantId"].(string),
			"IP address":               g["ipAddress"].(string),
			"Sign-in error code":       strconv.Itoa(code),
			"Status":                   wantOutcome,
			"Failure reason":           status["failureReason"].(string),
			"Location":                 fmt.Sprintf("%s, %s, %s", loc["city"], loc["state"], loc["countryOrRegion"]),
			"User type":                map[string]string{"member": "Member", "guest": "Guest"}[g["userType"].(string)],
			"Cross tenant access type": map[string]string{"none": "None", "passthrough": "Passthrough", "b2bCollaboration": "B2B collaboration"}[g["crossTenantAccessType"].(string)],
			"Conditional Access":       map[string]string{"notApplied": "Not Applied", "success": "Success"}[g["conditionalAccessStatus"].(string)],
		}
		for name, w := range want {
			if got := col(row, name); got != w || w == "" && name != "Home tenant ID" && name != "Username" && name != "User agent" {
				t.Fatalf("row %d: %s = %q, the Graph object says %q", i+2, name, got, w)
			}
		}
		if !strings.HasSuffix(col(row, "Date (UTC)"), "Z") {
			t.Fatalf("row %d: Date (UTC) %q is not ISO 8601 UTC", i+2, col(row, "Date (UTC)"))
		}
	}
	for _, k := range []string{"None", "Passthrough", "B2B collaboration"} {
		if kinds[k] == 0 {
			t.Errorf("no sign-in of cross tenant access type %s: %v", k, kinds)
		}
	}
	for _, k := range []string{"Success", "Failure", "Interrupted"} {
		if outcomes[k] == 0 {
			t.Errorf("no sign-in of status %s: %v", k, outcomes)
		}
	}
}
