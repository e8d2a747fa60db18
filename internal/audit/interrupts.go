package audit

import "slices"

// Interrupt is one Entra ID (AADSTS) error code that outsider counts as an
// interrupted sign-in, not a failed one: Entra stopped the sign-in to ask
// for one more step (a prompt, MFA, MFA or password-reset registration,
// device authentication, an external control), the credentials were not
// rejected.
type Interrupt struct {
	// Code is the number as status.errorCode, ResultType, resultType,
	// "Sign-in error code" and the UAL's ErrorNumber write it.
	Code string
	// Name is Entra's name for it, as the UAL's LogonError writes it; ""
	// when Microsoft's page gives none.
	Name string
	// Source is the Microsoft page that says what the code means (two
	// pages are separated by " ; ").
	Source string
	// Why says what on that page makes it an interrupt.
	Why string
}

// Microsoft does not publish one list of the codes its sign-in logs show as
// "Interrupted" (the portal's Status filter offers Success, Failure and
// Interrupted:
// https://learn.microsoft.com/en-us/entra/identity/monitoring-health/howto-customize-filter-logs).
// The list below is every code
// whose own entry on Microsoft's pages says it is an interrupt or an
// expected step of the flow, or that one more step is required of the user
// or the device before a token is issued:
//   - Entra names it an interrupt (…Interrupt, …InterruptRequired,
//     …InterruptError) or the page calls it "an interrupt" or "expected";
//   - the page says the user must still do something the flow offers:
//     MFA, MFA registration, device authentication, an external challenge,
//     picking an account.
//
// Codes checked and left out, because Microsoft's entry describes a
// failure, not a step: 16000 (InteractionRequired, but the entry says the
// account does not exist in the tenant), 50129 (DeviceIsNotWorkplaceJoined:
// the device lacks a state, like 53001), 50143 (session mismatch), 65001
// (no consent: a missing grant), 70043/700082/50089 (expired grants: nobody
// was prompted), 81010 and 81012 (listed as "Sign-in failure reason" by
// https://learn.microsoft.com/en-us/entra/identity/hybrid/connect/tshoot-connect-sso),
// 81014 (on no Microsoft page).
const (
	errorCodesPage = "https://learn.microsoft.com/en-us/entra/identity-platform/reference-error-codes"
	signInErrors   = "https://learn.microsoft.com/en-us/entra/identity/monitoring-health/howto-troubleshoot-sign-in-errors"
	signUpErrors   = "https://learn.microsoft.com/en-us/entra/identity/monitoring-health/howto-troubleshoot-sign-up-errors"
)

// interrupts is the table, sorted by code as a number. Every consumer
// (Outcome, explain, the hunt queries, docs/rules.md through its tests)
// reads it from here.
var interrupts = []Interrupt{
	{"16001", "UserAccountSelectionInvalid", errorCodesPage,
		"the account picker: the user recovers by picking from an updated list of accounts"},
	{"50058", "UserInformationNotProvided", errorCodesPage + " ; " + signInErrors,
		`"expected when a user is unauthenticated and hasn't yet signed in"; "the user didn't complete the sign-in process"`},
	{"50072", "UserStrongAuthEnrollmentRequiredInterrupt", errorCodesPage,
		"an interrupt: the user must register for multifactor authentication"},
	{"50074", "UserStrongAuthClientAuthNRequiredInterrupt", errorCodesPage,
		"an interrupt: strong authentication (MFA) is required"},
	{"50076", "UserStrongAuthClientAuthNRequired", errorCodesPage,
		"the user must use multifactor authentication; retry with a new authorize request"},
	{"50079", "UserStrongAuthEnrollmentRequired", errorCodesPage,
		"the user is required to register security info for multifactor authentication"},
	{"50097", "DeviceAuthenticationRequired", errorCodesPage,
		"device authentication is required"},
	{"50125", "PasswordResetRegistrationRequiredInterrupt", errorCodesPage,
		"sign-in was interrupted by a password reset or password registration entry"},
	{"50140", "KmsiInterrupt", errorCodesPage + " ; " + signUpErrors,
		`the "Keep me signed in" prompt: "an expected part of the sign in flow"`},
	{"50158", "ExternalSecurityChallenge", errorCodesPage,
		"an external security challenge (a third-party control) still to be satisfied"},
	{"50168", "ChromeBrowserSsoInterruptRequired", errorCodesPage,
		"an interrupt: the browser must supply its single sign-on token"},
	{"50199", "CmsiInterrupt", errorCodesPage,
		`an interrupt: the user confirms the app they meant to sign in to; "No action required"`},
	{"90095", "AdminConsentRequiredRequestAccess", errorCodesPage,
		`"an interrupt that appears when the user is told they need to ask the admin for consent"`},
	{"1000002", "BindCompleteInterruptError", errorCodesPage,
		"an interrupt: the bind completed, the user must be informed"},
	{"1002013", "", signUpErrors,
		`"expected interruptions": the user is prompted for an email one-time passcode`},
}

var (
	interruptByCode = map[string]bool{}
	interruptByName = map[string]bool{}
)

func init() {
	for _, it := range interrupts {
		interruptByCode[it.Code] = true
		if it.Name != "" {
			interruptByName[it.Name] = true
		}
	}
}

// Interrupts returns the interrupt codes, sorted by number, with their
// names and sources: docs/rules.md, explain and the hunt queries list them
// from here. The caller may modify the slice.
func Interrupts() []Interrupt { return slices.Clone(interrupts) }

// InterruptCodes returns the codes alone, sorted by number.
func InterruptCodes() []string {
	out := make([]string, len(interrupts))
	for i, it := range interrupts {
		out[i] = it.Code
	}
	return out
}

// InterruptNames returns the names (LogonError values) of the interrupt
// codes that have one, sorted.
func InterruptNames() []string {
	var out []string
	for _, it := range interrupts {
		if it.Name != "" {
			out = append(out, it.Name)
		}
	}
	slices.Sort(out)
	return out
}

// IsInterruptCode reports whether an error number (digits, as the logs
// write it) is an interrupt. Leading zeros and spaces are not forgiven:
// no log writes them.
func IsInterruptCode(code []byte) bool { return interruptByCode[string(code)] }

// IsInterruptName reports whether a LogonError names an interrupt, in
// Entra's spelling (the UAL writes it so).
func IsInterruptName(name []byte) bool { return interruptByName[string(name)] }
