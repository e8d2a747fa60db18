package explain

// aadstsError is what one Entra ID (AADSTS) error code means.
type aadstsError struct {
	name    string // Entra's name, as LogonError carries it; "" when not sure
	meaning string // one clause, plain language
}

// aadsts holds the error codes most often seen on sign-ins by outside
// accounts, from Microsoft's "Microsoft Entra authentication and
// authorization error codes" page
// (https://learn.microsoft.com/en-us/entra/identity-platform/reference-error-codes).
// Whether a code counts as an interrupt or a failure is not stored here:
// explain asks the audit package (audit.Interrupts, where each interrupt
// cites its source), so it can never disagree with the engine; a test
// keeps every interrupt described here under the same name.
var aadsts = map[string]aadstsError{
	"16000":   {"InteractionRequired", "the account does not exist in the resource tenant and cannot use the application there until it is added as an external user"},
	"16001":   {"UserAccountSelectionInvalid", "the account picker: the account chosen was rejected and the user was offered the list of accounts again"},
	"16003":   {"SsoUserAccountNotFoundInResourceTenant", "the account has not been added as an external user in the resource tenant"},
	"50020":   {"UserUnauthorized", "the account is from another identity provider and has not been added to this tenant, so it cannot use the application here"},
	"50034":   {"UserAccountNotFound", "the account does not exist in the directory"},
	"50053":   {"IdsLocked", "the account is locked (too many wrong passwords, or sign-ins from a known malicious IP were blocked)"},
	"50055":   {"InvalidPasswordExpiredPassword", "the password has expired"},
	"50057":   {"UserDisabled", "the account is disabled"},
	"50058":   {"UserInformationNotProvided", "a silent sign-in found no usable session; the user has to sign in interactively"},
	"50072":   {"UserStrongAuthEnrollmentRequiredInterrupt", "the user must register for multi-factor authentication"},
	"50074":   {"UserStrongAuthClientAuthNRequiredInterrupt", "strong authentication (MFA) is required"},
	"50076":   {"UserStrongAuthClientAuthNRequired", "multi-factor authentication is required (by policy or because of a new location)"},
	"50079":   {"UserStrongAuthEnrollmentRequired", "the user must register for multi-factor authentication"},
	"50097":   {"DeviceAuthenticationRequired", "device authentication is required"},
	"50105":   {"EntitlementGrantsNotFound", "the account is not assigned to the application"},
	"50125":   {"PasswordResetRegistrationRequiredInterrupt", "the user must register for self-service password reset"},
	"50126":   {"InvalidUserNameOrPassword", "wrong user name or password"},
	"50129":   {"DeviceIsNotWorkplaceJoined", "the device must be workplace-joined"},
	"50133":   {"SsoArtifactRevoked", "the session is no longer valid (password changed or expired)"},
	"50140":   {"KmsiInterrupt", `the "Stay signed in?" prompt interrupted the sign-in; not a failure`},
	"50143":   {"", "the session did not match the account asked for"},
	"50144":   {"InvalidPasswordExpiredOnPremPassword", "the on-premises password has expired"},
	"50158":   {"ExternalSecurityChallenge", "an external security challenge (a third-party MFA or control) was not yet satisfied"},
	"50168":   {"ChromeBrowserSsoInterruptRequired", "the browser was asked for its single sign-on token"},
	"50199":   {"CmsiInterrupt", "Entra asked the user to confirm the sign-in for security reasons"},
	"53003":   {"BlockedByConditionalAccess", "blocked by a conditional access policy"},
	"65001":   {"DelegationDoesNotExist", "the user or an administrator has not consented to the application"},
	"70000":   {"InvalidGrant", "the grant (token or code) was invalid or expired"},
	"70011":   {"InvalidScope", "the application asked for an invalid scope"},
	"80012":   {"OnPremisePasswordValidationAccountLogonInvalidHours", "the account may not sign in at this time of day (on-premises logon hours)"},
	"81010":   {"DesktopSsoAuthTokenInvalid", "seamless single sign-on failed (expired or invalid Kerberos ticket)"},
	"81012":   {"DesktopSsoMismatchBetweenTokenUpnAndChosenUpn", "seamless single sign-on failed: the account signing in is not the one signed in to the device"},
	"90072":   {"PassThroughUserMfaError", "the external account does not exist in this tenant, so it cannot satisfy this tenant's MFA requirement"},
	"90095":   {"AdminConsentRequiredRequestAccess", "the user was told to ask an administrator for consent to the application"},
	"500121":  {"AuthenticationFailedSasError", "strong authentication (MFA) failed or was denied"},
	"530032":  {"BlockedByConditionalAccessOnSecurityPolicy", "blocked by a security policy the tenant set"},
	"1000002": {"BindCompleteInterruptError", "the bind completed and the user had to be informed"},
	"1002013": {"", "the user was prompted for an email one-time passcode (sign-up)"},
}
