package main

import (
	"bufio"
	"context"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

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
}

const collectUsage = `Usage: outsider collect --archive DIR [flags]

Collects the tenant's audit records from the Office 365 Management Activity
API (and its Entra ID sign-ins from Microsoft Graph) into DIR, which
'outsider triage DIR/ual' reads directly:

  DIR/ual/YYYY-MM-DD/<contentType>-<contentId>-<hash>.jsonl.gz   audit records
  DIR/signins/YYYY-MM-DD/signins-YYYY-MM-DDTHH.jsonl.gz          Graph sign-ins
  DIR/quarantine/...                                             malformed blobs
  DIR/.outsider/state.db                                         resume state

Starts the subscriptions it needs, lists content in windows of at most 24
hours within the API's 7 days, and resumes where the last run stopped:
killed at any moment and run again, it leaves no gap and no duplicate.

Credentials (an app registration with Office 365 Management APIs
ActivityFeed.Read and Graph AuditLog.Read.All, admin-consented), first
found wins: flags; then OUTSIDER_TENANT_ID, OUTSIDER_CLIENT_ID and
OUTSIDER_CLIENT_SECRET or OUTSIDER_CLIENT_CERTIFICATE (a PEM file with the
certificate and its key; the AZURE_* names of the Azure SDKs also work);
then --config FILE (JSON: tenant_id, client_id, client_secret or
client_secret_file, certificate_file, ...). A secret is never given as a
flag value, only as a file name.

Exit status: 0 done; 1 a source failed (the others' work is kept); 2 usage;
130 interrupted.

Flags:
`

func runCollectCmd(ctx context.Context, ios *iostreams.IOStreams, args []string) error {
	opts, err := parseCollectFlags(ios, args)
	if err != nil {
		return err
	}
	return runCollect(ctx, ios, opts)
}

// liveFlags are the flags collect and watch share.
type liveFlags struct {
	archive, state, config               *string
	tenantID, clientID                   *string
	secretFile, certFile, certKeyFile    *string
	cloud, loginURL, manageURL, graphURL *string
	caFile, publisherID                  *string
	contentTypes                         listFlag
	noSignins                            *bool
	since                                *string
	concurrency                          *int
	timeout                              *string
}

func addLiveFlags(fs *flag.FlagSet) *liveFlags {
	l := &liveFlags{}
	l.archive = fs.String("archive", "", "the archive folder (default: $OUTSIDER_ARCHIVE)")
	l.state = fs.String("state", "", "the state database (default: ARCHIVE/.outsider/state.db)")
	l.config = fs.String("config", "", "a JSON config file with credentials and settings")
	l.tenantID = fs.String("tenant-id", "", "the tenant id (GUID)")
	l.clientID = fs.String("client-id", "", "the app registration's application (client) id")
	l.secretFile = fs.String("client-secret-file", "", "a file holding the client secret")
	l.certFile = fs.String("certificate", "", "a PEM file with the certificate and its RSA private key")
	l.certKeyFile = fs.String("certificate-key", "", "the private key's PEM file, when not in --certificate")
	l.cloud = fs.String("cloud", "", "commercial, gcc, gcchigh or dod (default commercial)")
	l.loginURL = fs.String("login-endpoint", "", "override the Entra ID endpoint (https, or http to a loopback address)")
	l.manageURL = fs.String("manage-endpoint", "", "override the Management Activity API endpoint")
	l.graphURL = fs.String("graph-endpoint", "", "override the Microsoft Graph endpoint")
	l.caFile = fs.String("ca-file", "", "also trust the CA certificates in this PEM file (TLS inspection proxies)")
	l.publisherID = fs.String("publisher-id", "", "PublisherIdentifier for the API's throttling quota (default: the tenant id)")
	fs.Var(&l.contentTypes, "content-types", "content types to collect (default "+strings.Join(collect.DefaultContentTypes, ",")+")")
	l.noSignins = fs.Bool("no-signins", false, "do not collect Graph sign-ins (they need Entra ID P1/P2 and AuditLog.Read.All)")
	l.since = fs.String("since", "", "where a first run starts (RFC 3339 or YYYY-MM-DD; default: 7 days back, all the API keeps)")
	l.concurrency = fs.Int("concurrency", 4, "content blobs and sign-in hours fetched at once")
	l.timeout = fs.String("timeout", "2m", "time limit of each request")
	return l
}

// configFile is --config's JSON.
type configFile struct {
	TenantID           string   `json:"tenant_id"`
	ClientID           string   `json:"client_id"`
	ClientSecret       string   `json:"client_secret"`
	ClientSecretFile   string   `json:"client_secret_file"`
	CertificateFile    string   `json:"certificate_file"`
	CertificateKeyFile string   `json:"certificate_key_file"`
	Cloud              string   `json:"cloud"`
	LoginEndpoint      string   `json:"login_endpoint"`
	ManageEndpoint     string   `json:"manage_endpoint"`
	GraphEndpoint      string   `json:"graph_endpoint"`
	CAFile             string   `json:"ca_file"`
	PublisherID        string   `json:"publisher_id"`
	ContentTypes       []string `json:"content_types"`
	Archive            string   `json:"archive"`
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

func envFirst(names ...string) string {
	for _, n := range names {
		if v := os.Getenv(n); v != "" {
			return v
		}
	}
	return ""
}

// archiveDir resolves --archive (or $OUTSIDER_ARCHIVE).
func archiveDir(cmd string, flagValue, fromConfig string) (string, error) {
	dir := first(flagValue, os.Getenv("OUTSIDER_ARCHIVE"), fromConfig)
	if dir == "" {
		return "", usagef(cmd, "no archive: give --archive DIR (or set OUTSIDER_ARCHIVE)")
	}
	return dir, nil
}

// resolve turns the flags, the environment and the config file into a
// collector configuration (flags first, then environment, then file).
func (l *liveFlags) resolve(cmd string, stderr io.Writer) (archive string, cfg collect.Config, err error) {
	var cf configFile
	if *l.config != "" {
		b, err := os.ReadFile(*l.config)
		if err != nil {
			return "", cfg, fmt.Errorf("--config: %w", err)
		}
		if err := json.Unmarshal(b, &cf); err != nil {
			return "", cfg, fmt.Errorf("--config %s: not valid JSON: %v", *l.config, err)
		}
		if cf.ClientSecret != "" {
			if st, err := os.Stat(*l.config); err == nil && runtime.GOOS != "windows" && st.Mode().Perm()&0o077 != 0 {
				fmt.Fprintf(stderr, "outsider: warning: %s holds a client secret and other users can read it (chmod 600 it)\n", *l.config)
			}
		}
	}
	if archive, err = archiveDir(cmd, *l.archive, cf.Archive); err != nil {
		return "", cfg, err
	}
	cred := &collect.Credentials{
		TenantID: first(*l.tenantID, envFirst("OUTSIDER_TENANT_ID", "AZURE_TENANT_ID"), cf.TenantID),
		ClientID: first(*l.clientID, envFirst("OUTSIDER_CLIENT_ID", "AZURE_CLIENT_ID"), cf.ClientID),
	}
	// The secret or certificate comes whole from the first level that
	// has one: flags, environment, config file.
	type level struct{ secretFile, secret, cert, key string }
	for _, lv := range []level{
		{secretFile: *l.secretFile, cert: *l.certFile, key: *l.certKeyFile},
		{secretFile: os.Getenv("OUTSIDER_CLIENT_SECRET_FILE"), secret: envFirst("OUTSIDER_CLIENT_SECRET", "AZURE_CLIENT_SECRET"),
			cert: envFirst("OUTSIDER_CLIENT_CERTIFICATE", "AZURE_CLIENT_CERTIFICATE_PATH"), key: os.Getenv("OUTSIDER_CLIENT_CERTIFICATE_KEY")},
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
	cloudName := first(*l.cloud, cf.Cloud, "commercial")
	cloud, err := collect.LookupCloud(cloudName)
	if err != nil {
		return "", cfg, usagef(cmd, "--cloud: %s", err)
	}
	for _, o := range []struct {
		name string
		val  string
		dst  *string
	}{
		{"--login-endpoint", first(*l.loginURL, cf.LoginEndpoint), &cloud.LoginURL},
		{"--manage-endpoint", first(*l.manageURL, cf.ManageEndpoint), &cloud.ManageURL},
		{"--graph-endpoint", first(*l.graphURL, cf.GraphEndpoint), &cloud.GraphURL},
	} {
		if o.val == "" {
			continue
		}
		if *o.dst, err = collect.CheckEndpoint(o.val); err != nil {
			return "", cfg, usagef(cmd, "%s: %s", o.name, err)
		}
	}
	cfg = collect.Config{Cloud: cloud, Credentials: cred, PublisherID: first(*l.publisherID, cf.PublisherID), Signins: !*l.noSignins}
	if caFile := first(*l.caFile, cf.CAFile); caFile != "" {
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
	cts := []string(l.contentTypes)
	if len(cts) == 0 {
		cts = cf.ContentTypes
	}
	for _, ct := range cts {
		if err := collect.CheckContentType(ct); err != nil {
			return "", cfg, usagef(cmd, "--content-types: %s", err)
		}
	}
	cfg.ContentTypes = cts
	if *l.since != "" {
		if cfg.Since, err = parseTimeFlag(*l.since); err != nil {
			return "", cfg, usagef(cmd, "--since: %s", err)
		}
	}
	if *l.concurrency < 1 || *l.concurrency > 64 {
		return "", cfg, usagef(cmd, "--concurrency must be between 1 and 64")
	}
	cfg.Concurrency = *l.concurrency
	if cfg.Timeout, err = parseDuration(*l.timeout); err != nil || cfg.Timeout <= 0 {
		return "", cfg, usagef(cmd, "--timeout: want a duration such as 90s or 2m")
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

func parseCollectFlags(ios *iostreams.IOStreams, args []string) (*CollectOptions, error) {
	fs := newFlagSet("collect", collectUsage, ios.Out)
	l := addLiveFlags(fs)
	format := fs.String("format", "text", "summary format: text or json")
	quiet := fs.Bool("quiet", false, "print no summary (warnings still go to stderr)")
	pos, err := parseArgs(fs, "collect", args)
	if err != nil {
		return nil, err
	}
	if len(pos) > 0 {
		return nil, usagef("collect", "unexpected argument %q: name the archive with --archive", pos[0])
	}
	if *format != "text" && *format != "json" {
		return nil, usagef("collect", "--format %q: want text or json", *format)
	}
	o := &CollectOptions{State: *l.state, Format: *format, Quiet: *quiet}
	if o.Archive, o.Config, err = l.resolve("collect", ios.ErrOut); err != nil {
		return nil, err
	}
	return o, nil
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

// writeCollectSummary is the text summary: a row per source.
func writeCollectSummary(w io.Writer, sum *collect.Summary) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tFROM\tTO\tWINDOWS\tLISTED\tHAD\tARCHIVED\tRECORDS\tEXPIRED\tQUARANTINED\tSTATUS")
	for _, s := range sum.Sources {
		status := "ok"
		if s.Error != "" {
			status = "FAILED"
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
