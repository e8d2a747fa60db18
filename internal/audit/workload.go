package audit

// Workload is the part of Microsoft 365 a record comes from, as coarse as
// the due diligence needs it: a report says, per workload, what the input
// covers (docs/rules.md "Coverage"), because an outside identity can only
// be shown to appear in nothing but sign-ins when the input holds the
// tenant's other activity around them.
type Workload uint8

// Workloads, in the order reports list them.
const (
	// WorkloadSignIns are sign-ins: the UAL's UserLoggedIn and
	// UserLoginFailed, and every Entra ID sign-in log record.
	WorkloadSignIns Workload = iota
	// WorkloadExchange is Exchange Online (mailbox and admin audit).
	WorkloadExchange
	// WorkloadSharePoint is SharePoint Online and OneDrive for Business.
	WorkloadSharePoint
	// WorkloadTeams is Microsoft Teams.
	WorkloadTeams
	// WorkloadOther is everything else (Entra ID directory audit, Power
	// Platform, Defender, ...).
	WorkloadOther
	// NumWorkloads counts the workloads.
	NumWorkloads
)

// workloadNames are the names reports and JSON use.
var workloadNames = [NumWorkloads]string{"signins", "exchange", "sharepoint", "teams", "other"}

// workloadLabels are the names people read.
var workloadLabels = [NumWorkloads]string{"Entra sign-ins", "Exchange", "SharePoint/OneDrive", "Teams", "other"}

// String is the workload's name in reports and JSON.
func (w Workload) String() string {
	if w < NumWorkloads {
		return workloadNames[w]
	}
	return "other"
}

// Label is the workload's name for people.
func (w Workload) Label() string {
	if w < NumWorkloads {
		return workloadLabels[w]
	}
	return "other"
}

// WorkloadOf tells which workload a record belongs to: a sign-in by its
// operation or log, anything else by its Workload (Sentinel:
// OfficeWorkload), else by its RecordType. The Workload values are the
// ones the Office 365 Management Activity API documents for the common
// schema (https://learn.microsoft.com/office/office-365-management-api/office-365-management-activity-api-schema#common-schema):
// Exchange, SharePoint, OneDrive, MicrosoftTeams, AzureActiveDirectory, ...
func (e *Event) WorkloadOf() Workload {
	if e.Kind == KindSignIn || e.IsSignin() {
		return WorkloadSignIns
	}
	switch string(e.Workload) {
	case "Exchange":
		return WorkloadExchange
	case "SharePoint", "OneDrive":
		return WorkloadSharePoint
	case "MicrosoftTeams":
		return WorkloadTeams
	case "":
		// No Workload (a CSV row, a trimmed record): the RecordType says
		// it (AuditLogRecordType in the schema above).
		switch e.RecordType {
		case 1, 2, 3, 50:
			return WorkloadExchange
		case 4, 6, 7, 14, 36:
			return WorkloadSharePoint
		case 25:
			return WorkloadTeams
		}
	}
	return WorkloadOther
}
