package audit

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestInterruptTable(t *testing.T) {
	list := Interrupts()
	if len(list) < 10 {
		t.Fatalf("only %d interrupt codes", len(list))
	}
	digits := regexp.MustCompile(`^[1-9][0-9]{4,6}$`)
	name := regexp.MustCompile(`^[A-Z][A-Za-z]+$`)
	seen := map[string]bool{}
	prev := 0
	for _, it := range list {
		if !digits.MatchString(it.Code) {
			t.Errorf("%q: not an AADSTS number", it.Code)
		}
		n, _ := strconv.Atoi(it.Code)
		if n <= prev {
			t.Errorf("%s: not sorted by number (after %d)", it.Code, prev)
		}
		prev = n
		if it.Name != "" && !name.MatchString(it.Name) {
			t.Errorf("%s: name %q", it.Code, it.Name)
		}
		if it.Name != "" && seen[it.Name] {
			t.Errorf("%s: name %s twice", it.Code, it.Name)
		}
		seen[it.Name] = true
		if it.Why == "" {
			t.Errorf("%s: no reason", it.Code)
		}
		for _, src := range strings.Split(it.Source, " ; ") {
			if !strings.HasPrefix(src, "https://learn.microsoft.com/en-us/entra/") || strings.ContainsAny(src, " \t") {
				t.Errorf("%s: source %q is not a Microsoft Learn page", it.Code, src)
			}
		}
		if !IsInterruptCode([]byte(it.Code)) {
			t.Errorf("IsInterruptCode(%s) = false", it.Code)
		}
		if it.Name != "" && !IsInterruptName([]byte(it.Name)) {
			t.Errorf("IsInterruptName(%s) = false", it.Name)
		}
	}
	if got := InterruptCodes(); len(got) != len(list) || got[0] != list[0].Code {
		t.Errorf("InterruptCodes() = %v", got)
	}
	if names := InterruptNames(); !slices.IsSorted(names) || slices.Contains(names, "") {
		t.Errorf("InterruptNames() = %v", names)
	}
	// Callers get a copy.
	list[0].Code = "x"
	if Interrupts()[0].Code == "x" {
		t.Error("Interrupts() shares the table")
	}
}

// notInterrupts are codes checked against Microsoft's pages and counted as
// failures (interrupts.go says why for the ones once counted otherwise).
var notInterrupts = []string{"16000", "50020", "50053", "50126", "50129", "50143", "53003", "65001",
	"70043", "700082", "81010", "81012", "81014", "90072", "500121"}

// TestOutcomeCodes decodes one sign-in per code in every shape the logs
// write it and checks the outcome: an interrupt code is interrupted, any
// other code a failure, in the UAL (UserLoggedIn or UserLoginFailed,
// ErrorNumber or only LogonError) and in every sign-in log shape.
func TestOutcomeCodes(t *testing.T) {
	type code struct {
		num, name string
		want      Outcome
	}
	var codes []code
	for _, it := range Interrupts() {
		codes = append(codes, code{it.Code, it.Name, Interrupted})
	}
	for _, c := range notInterrupts {
		if IsInterruptCode([]byte(c)) {
			t.Fatalf("%s is in the interrupt table", c)
		}
		codes = append(codes, code{c, "", Failure})
	}
	codes = append(codes, code{"50126", "InvalidUserNameOrPassword", Failure})

	const (
		ualRec = `{"CreationTime":"2026-10-06T09:14:03","Id":"r1","Operation":"%s","OrganizationId":"bbbb","RecordType":15,"UserId":"pilar@fabrikam.com","ActorContextId":"aaaa","ApplicationId":"00000003-0000-0ff1-ce00-000000000000","ClientIP":"198.18.0.45"%s,"ExtendedProperties":[{"Name":"ResultStatusDetail","Value":"%s"}]}`
		graph  = `{"id":"abc-1","createdDateTime":"2026-10-06T09:14:03Z","userPrincipalName":"pilar@fabrikam.com","appId":"00000003-0000-0ff1-ce00-000000000000","ipAddress":"198.18.0.45","homeTenantId":"aaaa","resourceTenantId":"bbbb","status":{"errorCode":%s,"failureReason":"x"}}`
		eh     = `{"time":"2026-10-06T09:14:03Z","category":"NonInteractiveUserSignInLogs","tenantId":"bbbb","resultType":"%s","callerIpAddress":"198.18.0.45","properties":{"id":"abc-1","createdDateTime":"2026-10-06T09:14:03Z","userPrincipalName":"pilar@fabrikam.com","homeTenantId":"aaaa","resourceTenantId":"bbbb","status":{"errorCode":%[1]s}}}`
		laRow  = `{"TimeGenerated":"2026-10-06T09:14:05Z","Id":"abc-1","UserPrincipalName":"pilar@fabrikam.com","IPAddress":"198.18.0.45","HomeTenantId":"aaaa","AADTenantId":"bbbb","ResultType":"%s","Status":"{\"errorCode\":%[1]s}"}`
		laCSV  = "TimeGenerated [UTC],Id,UserPrincipalName,IPAddress,HomeTenantId,AADTenantId,ResultType,ResultDescription\n" +
			"\"10/6/2026, 9:14:03.000 AM\",abc-1,pilar@fabrikam.com,198.18.0.45,aaaa,bbbb,%s,x\n" +
			// Another row, month first by itself: the file's dates are.
			"\"10/13/2026, 9:14:03.000 AM\",abc-2,x@y.z,198.18.0.45,aaaa,bbbb,0,x\n"
		portal = "Date (UTC),Request ID,Username,IP address,Home tenant ID,Resource tenant ID,Status,Sign-in error code,Failure reason\n" +
			"2026-10-06T09:14:03Z,abc-1,pilar@fabrikam.com,198.18.0.45,aaaa,bbbb,%s,%s,x\n"
	)
	var d Decoder
	decode := func(t *testing.T, in string) Outcome {
		t.Helper()
		var ev Event
		var err error
		switch {
		case strings.Contains(in, `"RecordType"`):
			err = d.Decode([]byte(in), &ev)
		default:
			err = decodeSignInText(t, &d, in, &ev)
		}
		if err != nil {
			t.Fatalf("%v\n%s", err, in)
		}
		return ev.Outcome()
	}
	for _, c := range codes {
		t.Run(c.num+c.name, func(t *testing.T) {
			errFields := fmt.Sprintf(`,"ErrorNumber":"%s","LogonError":"%s"`, c.num, c.name)
			shapes := map[string]string{
				"ual-UserLoggedIn":    fmt.Sprintf(ualRec, "UserLoggedIn", errFields, "Success"),
				"ual-UserLoginFailed": fmt.Sprintf(ualRec, "UserLoginFailed", errFields, "UserError"),
				"graph":               fmt.Sprintf(graph, c.num),
				"eventhub":            fmt.Sprintf(eh, c.num),
				"la-row":              fmt.Sprintf(laRow, c.num),
				"la-csv":              fmt.Sprintf(laCSV, c.num),
				// The download's Status is Entra's own word; the code
				// decides, whatever the Status says.
				"portal-csv-failure":     fmt.Sprintf(portal, "Failure", c.num),
				"portal-csv-interrupted": fmt.Sprintf(portal, "Interrupted", c.num),
			}
			if c.name != "" {
				// A UAL record with the name only.
				shapes["ual-LogonError-only"] = fmt.Sprintf(ualRec, "UserLoginFailed", `,"LogonError":"`+c.name+`"`, "UserError")
			}
			for _, shape := range slices.Sorted(func(yield func(string) bool) {
				for k := range shapes {
					if !yield(k) {
						return
					}
				}
			}) {
				if got := decode(t, shapes[shape]); got != c.want {
					t.Errorf("%s: %v, want %v", shape, got, c.want)
				}
			}
		})
	}

	// Without a code: the status decides.
	for _, c := range []struct {
		status string
		want   Outcome
	}{{"Success", Success}, {"Interrupted", Interrupted}, {"interrupted", Interrupted}, {"Failure", Failure}} {
		if got := decode(t, fmt.Sprintf(portal, c.status, "")); got != c.want {
			t.Errorf("portal Status %s without a code: %v, want %v", c.status, got, c.want)
		}
	}
	for _, c := range []struct {
		op, rsd string
		want    Outcome
	}{{"UserLoggedIn", "Success", Success}, {"UserLoggedIn", "Redirect", Interrupted}, {"UserLoggedIn", "UserError", Failure},
		{"UserLoginFailed", "Success", Failure}, {"UserLoginFailed", "Redirect", Failure}} {
		if got := decode(t, fmt.Sprintf(ualRec, c.op, "", c.rsd)); got != c.want {
			t.Errorf("UAL %s ResultStatusDetail %s without a code: %v, want %v", c.op, c.rsd, got, c.want)
		}
	}
}
