package main

import (
	"bufio"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/outsider-sec/outsider/internal/audit"
	"github.com/outsider-sec/outsider/internal/collect"
	"github.com/outsider-sec/outsider/internal/iostreams"
)

// CollectOptions are the flags of 'outsider collect'.
type CollectOptions struct {
	Archive string
	State   string
	Config  collect.Config
	Format  string
	Quiet   bool
	// Check runs the preflight check instead of collecting.
	Check bool
}

const collectLong = `Collects the tenant's audit records from the Office 365 Management Activity
API and its Entra ID sign-ins from Microsoft Graph into DIR, which
'outsider triage DIR/ual DIR/signins' reads directly (audit log first):

  DIR/ual/YYYY-MM-DD/<contentType>-<contentId>-<hash>.jsonl.gz   audit records
  DIR/signins/YYYY-MM-DD/signins-YYYY-MM-DDTHH.jsonl.gz          Graph sign-ins
  DIR/quarantine/<contentType>-<contentId>-<hash>.json.gz        malformed blobs, kept as sent
  DIR/.outsider/state.db                                         resume state (and watch's)
  DIR/.outsider/lock                                             held while a run works

Starts the subscriptions it needs, lists content in windows of at most 24
hours within the API's 7 days, and resumes where the last run stopped:
killed at any moment and run again, it leaves no gap and no duplicate.
A new subscription can take up to 12 hours before Microsoft lists any
content: a first run that archives nothing is not a fault.

Before the first run, --check tells in seconds whether collection can work:
the hosts reachable (DNS, TCP, TLS), this machine's clock, a token, its
permissions, each subscription, the Graph sign-ins, the archive writable
and the room left on its disk; each failure or warning with the next step
(exit 0 when nothing failed: warnings do not fail it).
docs/live-collection.md is the set-up step by step.

Failures are printed as they happen, the first of each kind with its cause
and the retry it leads to, then counted; a request that keeps failing
gives up after --give-up-after.

Credentials (an app registration with the Application permissions Office
365 Management APIs ActivityFeed.Read and Microsoft Graph AuditLog.Read.All,
admin-consented), first found wins: flags; then OUTSIDER_TENANT_ID,
OUTSIDER_CLIENT_ID and OUTSIDER_CLIENT_SECRET or OUTSIDER_CLIENT_CERTIFICATE
(a PEM file with the certificate and its key; the AZURE_* names of the Azure
SDKs also work); then --config FILE (JSON: tenant_id, client_id,
client_secret or client_secret_file, certificate_file, ...). A secret is
never given as a flag value, only as a file name.

Exit status: 0 done (--check: collection can work); 1 a source failed (the
others' work is kept; --check: a check failed); 2 usage; 130 interrupted.`

func newCmdCollect(f *factory, runF func(context.Context, *CollectOptions) error) *cobra.Command {
	o := &CollectOptions{}
	var l liveFlags
	cmd := &cobra.Command{
		Use:   "collect --archive DIR [flags]",
		Short: "pull audit records and sign-ins from Microsoft's APIs into an archive, resumably",
		Long:  collectLong,
		Example: `  outsider collect --check --archive /var/lib/outsider --config outsider.json
  outsider collect --archive /var/lib/outsider --tenant-id T --client-id C --certificate app.pem
  outsider triage /var/lib/outsider/ual /var/lib/outsider/signins`,
		Args: noArgs("collect", ": name the archive with --archive"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Format = enumValue(o.Format)
			if o.Format != "text" && o.Format != "json" {
				return usagef("collect", "--format %q: want text or json", o.Format)
			}
			o.State = l.state
			var err error
			if o.Archive, o.Config, err = l.resolve("collect", f); err != nil {
				return err
			}
			o.Check = l.check
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			if o.Check {
				return runCheck(cmd.Context(), f.IO, o.Archive, o.Config, o.Format)
			}
			return runCollect(cmd.Context(), f.IO, o)
		},
	}
	l.add(cmd)
	addFormatFlag(cmd, &o.Format, "text", []string{"text", "json"}, "summary `format`: text or json")
	cmd.Flags().BoolVarP(&o.Quiet, "quiet", "q", false, "print no summary (warnings still go to stderr)")
	return cmd
}

// liveFlags are the flags collect and watch share, as given.
type liveFlags struct {
	archiveFlags
	config                               string
	tenantID, clientID                   string
	secretFile, certFile, certKeyFile    string
	cloud, loginURL, manageURL, graphURL string
	caFile, publisherID                  string
	contentTypes                         []string
	noSignins                            bool
	since                                string
	concurrency                          int
	timeout                              string
	giveUpAfter                          string
	check                                bool
}

func (l *liveFlags) add(cmd *cobra.Command) {
	fs := cmd.Flags()
	l.archiveFlags.add(fs)
	fs.StringVar(&l.config, "config", "", "a JSON config `file` with credentials and settings")
	fs.StringVar(&l.tenantID, "tenant-id", "", "the tenant id (`GUID`)")
	fs.StringVar(&l.clientID, "client-id", "", "the app registration's application (client) `id`")
	fs.StringVar(&l.secretFile, "client-secret-file", "", "a `file` holding the client secret")
	fs.StringVar(&l.certFile, "certificate", "", "a PEM `file` with the certificate and its RSA private key")
	fs.StringVar(&l.certKeyFile, "certificate-key", "", "the private key's PEM `file`, when not in --certificate")
	fs.StringVar(&l.cloud, "cloud", "", "the Microsoft `cloud`: commercial, gcc, gcchigh or dod (default commercial)")
	completeValues(cmd, "cloud", "commercial", "gcc", "gcchigh", "dod")
	fs.StringVar(&l.loginURL, "login-endpoint", "", "override the Entra ID endpoint (`URL`: https, or http to a loopback address)")
	fs.StringVar(&l.manageURL, "manage-endpoint", "", "override the Management Activity API endpoint (`URL`)")
	fs.StringVar(&l.graphURL, "graph-endpoint", "", "override the Microsoft Graph endpoint (`URL`)")
	fs.StringVar(&l.caFile, "ca-file", "", "also trust the CA certificates in this PEM `file` (TLS inspection proxies)")
	fs.StringVar(&l.publisherID, "publisher-id", "", "PublisherIdentifier for the API's throttling quota (`GUID`; default: the tenant id)")
	addListFlag(fs, &l.contentTypes, "content-types", "content `types` to collect (default "+strings.Join(collect.DefaultContentTypes, ",")+")")
	fs.BoolVar(&l.noSignins, "no-signins", false, "do not collect Graph sign-ins (they need Entra ID P1/P2 and AuditLog.Read.All)")
	fs.StringVar(&l.since, "since", "", "where a first run starts (`time`: RFC 3339 or YYYY-MM-DD; default: 7 days back, all the API keeps)")
	fs.IntVar(&l.concurrency, "concurrency", 4, "content blobs and sign-in hours fetched at once (`n`)")
	fs.StringVar(&l.timeout, "timeout", "2m", "time limit of each request (a `duration`)")
	fs.StringVar(&l.giveUpAfter, "give-up-after", "10m", "stop retrying a failing request after this long (a `duration`); watch: stop, exit 1, when a source has failed every cycle this long (0: never)")
	fs.BoolVar(&l.check, "check", false, "check the set-up in seconds (hosts, token, permissions, subscriptions, sign-ins, archive) and exit: 0 when collection can work")
}

// first returns the first non-empty value.
func first(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// envFirst is the first of the variables names that is set.
func envFirst(getenv func(string) string, names ...string) string {
	for _, n := range names {
		if v := getenv(n); v != "" {
			return v
		}
	}
	return ""
}

// tenantIDSource names the setting the tenant id came from, in the
// order resolve reads them, so that an error about it names what to edit.
func tenantIDSource(flagValue string, getenv func(string) string, config string) string {
	switch {
	case flagValue != "":
		return "--tenant-id"
	case getenv("OUTSIDER_TENANT_ID") != "":
		return "OUTSIDER_TENANT_ID"
	case getenv("AZURE_TENANT_ID") != "":
		return "AZURE_TENANT_ID"
	}
	return "tenant_id in " + config
}

// checkTenantID refuses a tenant id that is not a GUID before any
// request. Entra ID's token endpoint takes a verified domain name in
// place of the id, so a domain would get a token and then fail at the
// Management Activity API, whose URLs and PublisherIdentifier take the
// tenant GUID ("Office 365 Management Activity API reference",
// https://learn.microsoft.com/office/office-365-management-api/office-365-management-activity-api-reference).
// A placeholder GUID (the nil GUID, 11111111-..., the documentation's
// examples) is the example config copied unchanged.
func checkTenantID(id, source string) error {
	next := "give the Directory (tenant) ID shown on the app's Overview page in the Microsoft Entra admin center"
	switch {
	case !audit.IsGUID([]byte(id)):
		what := "is not a GUID"
		if strings.Contains(id, ".") {
			what = "is a domain name, not the tenant's GUID"
		}
		return fmt.Errorf("tenant id %q (%s) %s: %s", id, source, what, next)
	case audit.IsPlaceholderGUID([]byte(id)):
		return fmt.Errorf("tenant id %q (%s) is a placeholder, as in the documentation's examples: %s", id, source, next)
	}
	return nil
}

// archiveDir resolves --archive (or $OUTSIDER_ARCHIVE).
func archiveDir(cmd string, getenv func(string) string, flagValue, fromConfig string) (string, error) {
	dir := first(flagValue, getenv("OUTSIDER_ARCHIVE"), fromConfig)
	if dir == "" {
		return "", usagef(cmd, "no archive: give --archive DIR (or set OUTSIDER_ARCHIVE)")
	}
	return dir, nil
}

// resolve turns the flags, the environment and the config file into a
// collector configuration (flags first, then environment, then file).
func (l *liveFlags) resolve(cmd string, f *factory) (archive string, cfg collect.Config, err error) {
	getenv := f.Getenv
	var cf configFile
	if l.config != "" {
		c, warnings, err := readConfigFile(l.config)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return "", cfg, fmt.Errorf("--config: %w", err)
			}
			return "", cfg, err
		}
		cf = *c
		for _, w := range warnings {
			fmt.Fprintf(f.IO.ErrOut, "outsider: warning: %s\n", w)
		}
		if cf.ClientSecret != "" {
			if st, err := os.Stat(l.config); err == nil && runtime.GOOS != "windows" && st.Mode().Perm()&0o077 != 0 {
				fmt.Fprintf(f.IO.ErrOut, "outsider: warning: %s holds a client secret and other users can read it (chmod 600 it)\n", l.config)
			}
		}
	}
	if archive, err = archiveDir(cmd, getenv, l.archive, cf.Archive); err != nil {
		return "", cfg, err
	}
	cred := &collect.Credentials{
		TenantID: first(l.tenantID, envFirst(getenv, "OUTSIDER_TENANT_ID", "AZURE_TENANT_ID"), cf.TenantID),
		ClientID: first(l.clientID, envFirst(getenv, "OUTSIDER_CLIENT_ID", "AZURE_CLIENT_ID"), cf.ClientID),
	}
	// The secret or certificate comes whole from the first level that
	// has one: flags, environment, config file.
	type level struct{ secretFile, secret, cert, key string }
	for _, lv := range []level{
		{secretFile: l.secretFile, cert: l.certFile, key: l.certKeyFile},
		{secretFile: getenv("OUTSIDER_CLIENT_SECRET_FILE"), secret: envFirst(getenv, "OUTSIDER_CLIENT_SECRET", "AZURE_CLIENT_SECRET"),
			cert: envFirst(getenv, "OUTSIDER_CLIENT_CERTIFICATE", "AZURE_CLIENT_CERTIFICATE_PATH"), key: getenv("OUTSIDER_CLIENT_CERTIFICATE_KEY")},
		{secretFile: cf.ClientSecretFile, secret: cf.ClientSecret, cert: cf.CertificateFile, key: cf.CertificateKeyFile},
	} {
		if lv.secretFile == "" && lv.secret == "" && lv.cert == "" {
			continue
		}
		switch {
		case lv.cert != "" && (lv.secretFile != "" || lv.secret != ""):
			return "", cfg, usagef(cmd, "both a client secret and a certificate are given: choose one")
		case lv.cert != "":
			if cred.Cert, cred.Key, err = collect.ReadCertificate(lv.cert, lv.key); err != nil {
				return "", cfg, err
			}
		case lv.secretFile != "":
			if cred.Secret, err = collect.ReadSecretFile(lv.secretFile); err != nil {
				return "", cfg, err
			}
		default:
			cred.Secret = collect.NewSecret(strings.TrimSpace(lv.secret))
		}
		break
	}
	if err := cred.Check(); err != nil {
		return "", cfg, usagef(cmd, "%s", err)
	}
	if err := checkTenantID(cred.TenantID, tenantIDSource(l.tenantID, getenv, l.config)); err != nil {
		return "", cfg, usagef(cmd, "%s", err)
	}
	cloudName := first(l.cloud, cf.Cloud, "commercial") // LookupCloud takes any case
	cloud, err := collect.LookupCloud(cloudName)
	if err != nil {
		return "", cfg, usagef(cmd, "--cloud: %s", err)
	}
	for _, o := range []struct {
		name string
		val  string
		dst  *string
	}{
		{"--login-endpoint", first(l.loginURL, cf.LoginEndpoint), &cloud.LoginURL},
		{"--manage-endpoint", first(l.manageURL, cf.ManageEndpoint), &cloud.ManageURL},
		{"--graph-endpoint", first(l.graphURL, cf.GraphEndpoint), &cloud.GraphURL},
	} {
		if o.val == "" {
			continue
		}
		if *o.dst, err = collect.CheckEndpoint(o.val); err != nil {
			return "", cfg, usagef(cmd, "%s: %s", o.name, err)
		}
	}
	cfg = collect.Config{Cloud: cloud, Credentials: cred, PublisherID: first(l.publisherID, cf.PublisherID), Signins: !l.noSignins}
	if caFile := first(l.caFile, cf.CAFile); caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return "", cfg, fmt.Errorf("--ca-file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return "", cfg, fmt.Errorf("--ca-file %s: no PEM certificate in it", caFile)
		}
		cfg.RootCAs = pool
	}
	cts := l.contentTypes
	if len(cts) == 0 {
		cts = cf.ContentTypes
	}
	for _, ct := range cts {
		if err := collect.CheckContentType(ct); err != nil {
			return "", cfg, usagef(cmd, "--content-types: %s", err)
		}
	}
	cfg.ContentTypes = cts
	if l.since != "" {
		if cfg.Since, err = parseTimeFlag(l.since); err != nil {
			return "", cfg, usagef(cmd, "--since: %s", err)
		}
	}
	if l.concurrency < 1 || l.concurrency > 64 {
		return "", cfg, usagef(cmd, "--concurrency must be between 1 and 64")
	}
	cfg.Concurrency = l.concurrency
	if cfg.Timeout, err = parseDuration(l.timeout); err != nil || cfg.Timeout <= 0 {
		return "", cfg, usagef(cmd, "--timeout: want a duration such as 90s or 2m")
	}
	if cfg.GiveUpAfter, err = parseDuration(l.giveUpAfter); err != nil || cfg.GiveUpAfter < 0 {
		return "", cfg, usagef(cmd, "--give-up-after: want a duration such as 10m or 1h")
	}
	if cfg.GiveUpAfter == 0 {
		cfg.GiveUpAfter = -1 // never: only the attempts bound a request
	}
	return archive, cfg, nil
}

// parseDuration reads Go durations plus days: 30d, 12h, 5m.
func parseDuration(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseFloat(d, 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("duration %q is not a number of days", s)
		}
		return time.Duration(n * float64(24*time.Hour)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("duration %q: want e.g. 90s, 5m, 12h or 30d", s)
	}
	return d, nil
}

// redactWriter removes secrets from what passes through it: everything
// collect and watch print goes through one.
type redactWriter struct {
	w      io.Writer
	redact func(string) string
}

func (r redactWriter) Write(p []byte) (int, error) {
	if _, err := io.WriteString(r.w, r.redact(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// redactedError prints its error with secrets removed and unwraps to it
// (so an interruption still exits 130).
type redactedError struct {
	err    error
	redact func(string) string
}

func (e redactedError) Error() string { return e.redact(e.err.Error()) }
func (e redactedError) Unwrap() error { return e.err }

func runCollect(ctx context.Context, ios *iostreams.IOStreams, o *CollectOptions) (err error) {
	redact := o.Config.Credentials.Redact
	defer func() {
		if err != nil {
			err = redactedError{err, redact}
		}
	}()
	o.Config.Log = redactWriter{ios.ErrOut, redact}
	a, err := collect.OpenArchive(ctx, o.Archive, o.State)
	if err != nil {
		return err
	}
	defer a.Close()
	sum, runErr := collect.Run(ctx, a, o.Config)
	if sum != nil && !o.Quiet {
		w := bufio.NewWriter(redactWriter{ios.Out, redact})
		if o.Format == "json" {
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			enc.Encode(sum)
		} else {
			writeCollectSummary(w, sum)
		}
		if err := w.Flush(); err != nil {
			return err
		}
	}
	return runErr
}

// runCheck runs the preflight check of collect --check and watch --check.
func runCheck(ctx context.Context, ios *iostreams.IOStreams, archive string, cfg collect.Config, format string) error {
	redact := cfg.Credentials.Redact
	rep := collect.Check(ctx, archive, cfg)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	w := bufio.NewWriter(redactWriter{ios.Out, redact})
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(rep)
	} else {
		collect.WriteCheck(w, rep)
		if rep.OK {
			fmt.Fprintln(w, "collection can work")
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if !rep.OK {
		checks := "checks"
		if rep.Failed() == 1 {
			checks = "check"
		}
		return fmt.Errorf("collection cannot work: %d %s failed (see the next steps above)", rep.Failed(), checks)
	}
	return nil
}

// writeCollectSummary is the text summary: a row per source.
func writeCollectSummary(w io.Writer, sum *collect.Summary) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tFROM\tTO\tWINDOWS\tLISTED\tHAD\tARCHIVED\tRECORDS\tEXPIRED\tQUARANTINED\tSTATUS")
	for _, s := range sum.Sources {
		status := "ok"
		switch {
		case s.Error != "":
			status = "FAILED"
		case s.Interrupted:
			status = "interrupted"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\n", s.Source, dash(s.From), dash(s.To),
			s.Windows, s.Listed, s.AlreadyHad, s.Archived, s.Records, s.Expired, s.Quarantined, status)
	}
	tw.Flush()
	fmt.Fprintf(w, "%d requests, %d retries, %d throttled, %d token renewals after a 401\n", sum.Requests, sum.Retries, sum.Throttled, sum.TokenRefreshes)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
