package main

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/outsider-sec/outsider/internal/iostreams"
	"github.com/outsider-sec/outsider/internal/report"
	"github.com/outsider-sec/outsider/internal/source"
	"github.com/outsider-sec/outsider/internal/triage"
)

// testEnv is an environment for a factory: the variables given and
// nothing of the process's, with HOME in a temporary folder so that no
// config file of the machine's is ever read.
func testEnv(t *testing.T, vars map[string]string) func(string) string {
	t.Helper()
	env := map[string]string{"HOME": t.TempDir()}
	for k, v := range vars {
		env[k] = v
	}
	return func(k string) string { return env[k] }
}

// triageFlags runs 'outsider triage ARGS' up to its run function and
// returns the options it would run with.
func triageFlags(t *testing.T, getenv func(string) string, args ...string) (*TriageOptions, string, error) {
	t.Helper()
	ios, _, _, errOut := iostreams.Test()
	f := &factory{IO: ios, Getenv: getenv}
	var got *TriageOptions
	cmd := newCmdTriage(f, func(_ context.Context, o *TriageOptions) error { got = o; return nil })
	cmd.SetFlagErrorFunc(flagError)
	cmd.SetArgs(args)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	err := cmd.Execute()
	if err == nil && got == nil {
		t.Fatalf("triage %v: run not reached", args)
	}
	return got, errOut.String(), err
}

// chdir runs the test in a fresh folder (-o paths are relative).
func chdir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Chdir(dir)
	return dir
}

// TestTriageFlags: the flags land in the options, short and long, in any
// case, and -o's extension chooses the format.
func TestTriageFlags(t *testing.T) {
	chdir(t)
	env := testEnv(t, nil)
	for _, c := range []struct {
		args  []string
		check func(*TriageOptions) bool
	}{
		{[]string{"x"}, func(o *TriageOptions) bool {
			return o.Format == report.Text && o.Color == report.ColorAuto && o.FailOn == "" && o.MaxEvidence == triage.DefaultMaxEvidence
		}},
		{[]string{"-f", "JSON", "x"}, func(o *TriageOptions) bool { return o.Format == report.JSON }},
		{[]string{"x", "--format=Md"}, func(o *TriageOptions) bool { return o.Format == report.Markdown }},
		{[]string{"-o", "r.html", "x"}, func(o *TriageOptions) bool { return o.Format == report.HTML && o.Output == "r.html" }},
		{[]string{"--output", "r.JSON", "x"}, func(o *TriageOptions) bool { return o.Format == report.JSON }},
		{[]string{"-o", "r.csv", "x"}, func(o *TriageOptions) bool { return o.Format == report.CSV }},
		{[]string{"-o", "r.markdown", "x"}, func(o *TriageOptions) bool { return o.Format == report.Markdown }},
		{[]string{"-o", "r.txt", "x"}, func(o *TriageOptions) bool { return o.Format == report.Text }},
		{[]string{"-o", "report", "x"}, func(o *TriageOptions) bool { return o.Format == report.Text }},
		{[]string{"-o", "r.jsonl", "--format", "json", "x"}, func(o *TriageOptions) bool { return o.Format == report.JSON }},
		{[]string{"-o", "json", "--format", "json", "x"}, func(o *TriageOptions) bool { return o.Format == report.JSON && o.Output == "json" }},
		{[]string{"-o", "r.json", "--format", "json", "x"}, func(o *TriageOptions) bool { return o.Format == report.JSON }},
		{[]string{"-q", "x"}, func(o *TriageOptions) bool { return o.Quiet }},
		{[]string{"--color", "ALWAYS", "x"}, func(o *TriageOptions) bool { return o.Color == report.ColorAlways && o.colored }},
		{[]string{"--color", "always", "-o", "r.txt", "x"}, func(o *TriageOptions) bool { return !o.colored }},
		{[]string{"--fail-on", "High", "x"}, func(o *TriageOptions) bool { return o.FailOn == triage.SeverityHigh }},
		{[]string{"--fail-on", "NONE", "x"}, func(o *TriageOptions) bool { return o.FailOn == "" }},
		{[]string{"--input-format", "Entra-SignIn", "x"}, func(o *TriageOptions) bool { return o.InputFormat == source.EntraSignIn }},
		{[]string{"--tenant", "6a1e5b2c-9d3f-4b7a-8e21-3c5d7f9a1b2e,0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6", "--domain", "a.example", "--domain", "b.example", "x"}, func(o *TriageOptions) bool {
			return len(o.Tenants) == 2 && slices.Equal(o.Domains, []string{"a.example", "b.example"})
		}},
		{[]string{"--since", "2026-10-01", "--until", "2026-10-02T12:00:00Z", "x", "y"}, func(o *TriageOptions) bool {
			return o.Since.Format("2006-01-02") == "2026-10-01" && o.Until.Hour() == 12 && slices.Equal(o.Paths, []string{"x", "y"})
		}},
		{[]string{"--workers", "3", "--strict", "--max-evidence", "5", "x"}, func(o *TriageOptions) bool {
			return o.Workers == 3 && o.Strict && o.MaxEvidence == 5
		}},
		{[]string{"--", "-"}, func(o *TriageOptions) bool { return slices.Equal(o.Paths, []string{"-"}) }},
	} {
		o, _, err := triageFlags(t, env, c.args...)
		if err != nil {
			t.Errorf("triage %v: %v", c.args, err)
			continue
		}
		if !c.check(o) {
			t.Errorf("triage %v: options %+v", c.args, o)
		}
	}
}

// TestTriageFlagErrors: each mistake is a usage error (exit 2) with its
// own message, or for a folder that does not exist a plain error, found
// before any input is read.
func TestTriageFlagErrors(t *testing.T) {
	chdir(t)
	env := testEnv(t, nil)
	for _, c := range []struct {
		args  []string
		usage bool
		msg   string
		hint  string
	}{
		{[]string{}, true, "no input: name files, folders or - for stdin", ""},
		{[]string{"-o", "r.json", "-f", "csv", "x"}, true, "--format csv does not match -o r.json (a .json name)", "drop --format"},
		{[]string{"-o", "r.HTML", "--format", "text", "x"}, true, "--format text does not match -o r.HTML (a .html name)", ""},
		{[]string{"-o", "json", "x"}, true, `-o json writes a file named "json"`, "give --format json"},
		{[]string{"-o", "HTML", "x"}, true, `-o HTML writes a file named "HTML"`, "give --format html"},
		{[]string{"-o", "txt", "x"}, true, `-o txt writes a file named "txt"`, "give --format text (or name the file report.txt)"},
		{[]string{"-o", "r.jsonl", "x"}, true, `-o r.jsonl: cannot tell the format from ".jsonl"`, "give --format"},
		{[]string{"-o", "nodir/r.json", "x"}, false, "-o nodir/r.json: folder nodir does not exist", "mkdir"},
		{[]string{"--format", "yaml", "x"}, true, `--format: unknown format "yaml"`, ""},
		{[]string{"--color", "sometimes", "x"}, true, `--color: unknown colour mode "sometimes"`, ""},
		{[]string{"--fail-on", "critical", "x"}, true, `--fail-on "critical": want high, medium, low, info or none`, ""},
		{[]string{"--workers", "many", "x"}, true, `--workers "many": want a whole number`, ""},
		{[]string{"--format"}, true, "-f/--format needs a value", ""},
		{[]string{"--formt", "json", "x"}, true, "unknown flag --formt", "did you mean --format?"},
		{[]string{"--tenant", "nope", "x"}, true, `--tenant: tenant id "nope" is not a GUID`, ""},
		{[]string{"--all-tenants", "x"}, true, "--all-tenants goes with --clickhouse", ""},
	} {
		_, _, err := triageFlags(t, env, c.args...)
		var ue *usageError
		var he *hintError
		switch {
		case err == nil:
			t.Errorf("triage %v: no error", c.args)
			continue
		case errors.As(err, &ue) != c.usage:
			t.Errorf("triage %v: %T %v, usage error %v", c.args, err, err, c.usage)
			continue
		case !strings.HasPrefix(err.Error(), c.msg):
			t.Errorf("triage %v: %q, want %q", c.args, err, c.msg)
		}
		hints := ""
		if ue != nil {
			hints = strings.Join(ue.hints, "\n")
		} else if errors.As(err, &he) {
			hints = strings.Join(he.hints, "\n")
		}
		if !strings.Contains(hints, c.hint) {
			t.Errorf("triage %v: hints %q, want %q", c.args, hints, c.hint)
		}
	}
	if _, err := os.Stat("nodir"); err == nil {
		t.Error("-o nodir/r.json created nodir")
	}
}

// TestConfigPrecedence: --tenant, --domain, --directory and --geoip come
// from the flag, else OUTSIDER_*, else the config file; paths in the file
// are relative to it.
func TestConfigPrecedence(t *testing.T) {
	chdir(t)
	const (
		fileTenant = "6a1e5b2c-9d3f-4b7a-8e21-3c5d7f9a1b2e"
		envTenant  = "0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6"
		flagTenant = "11111111-2222-4333-8444-555555555555"
	)
	xdg := t.TempDir()
	writeFile(t, filepath.Join(xdg, "outsider", "config.json"), `{"tenant": "`+fileTenant+`",
 "domain": ["contoso.com", "contoso.onmicrosoft.com"], "directory": "users.csv", "geoip": ["/db/City.mmdb", "ASN.mmdb"],
 "partner_names": "partners.csv"}`)
	other := filepath.Join(t.TempDir(), "other.json")
	writeFile(t, other, `{"domain": "fabrikam.com", "tenants": "typo"}`)
	cfgDir := filepath.Join(xdg, "outsider")

	for _, c := range []struct {
		name       string
		env        map[string]string
		args       []string
		tenants    []string
		domains    []string
		directory  string
		geoip      []string
		partners   string
		stderr     string
		tenantFrom string
	}{
		{name: "file", env: map[string]string{"XDG_CONFIG_HOME": xdg}, args: []string{"x"},
			tenants: []string{fileTenant}, domains: []string{"contoso.com", "contoso.onmicrosoft.com"},
			directory: filepath.Join(cfgDir, "users.csv"), geoip: []string{"/db/City.mmdb", filepath.Join(cfgDir, "ASN.mmdb")},
			partners: filepath.Join(cfgDir, "partners.csv"), tenantFrom: "config file"},
		{name: "environment over file", env: map[string]string{"XDG_CONFIG_HOME": xdg, "OUTSIDER_TENANT": envTenant,
			"OUTSIDER_DIRECTORY": "dir,with,commas.csv", "OUTSIDER_GEOIP": "a.mmdb, b.mmdb", "OUTSIDER_PARTNER_NAMES": "names,v2.csv"}, args: []string{"x"},
			tenants: []string{envTenant}, domains: []string{"contoso.com", "contoso.onmicrosoft.com"},
			directory: "dir,with,commas.csv", geoip: []string{"a.mmdb", "b.mmdb"}, partners: "names,v2.csv", tenantFrom: "environment OUTSIDER_TENANT"},
		{name: "flag over environment", env: map[string]string{"XDG_CONFIG_HOME": xdg, "OUTSIDER_TENANT": envTenant, "OUTSIDER_DOMAIN": "env.example",
			"OUTSIDER_PARTNER_NAMES": "env.csv"},
			args:    []string{"x", "--tenant", flagTenant, "--directory", "d.json", "--geoip", "g.mmdb", "--partner-names", "p.csv"},
			tenants: []string{flagTenant}, domains: []string{"env.example"}, directory: "d.json", geoip: []string{"g.mmdb"},
			partners: "p.csv", tenantFrom: "flag --tenant"},
		{name: "no XDG: ~/.config", env: map[string]string{"HOME": filepath.Dir(xdg) + "/home"}, args: []string{"x"},
			tenantFrom: ""},
		{name: "--config", env: map[string]string{"XDG_CONFIG_HOME": xdg}, args: []string{"x", "--config", other},
			domains: []string{"fabrikam.com"}, stderr: `outsider: warning: ` + other + `: unknown key "tenants" (ignored)`},
		{name: "relative XDG ignored", env: map[string]string{"XDG_CONFIG_HOME": "relative"}, args: []string{"x"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			o, stderr, err := triageFlags(t, testEnv(t, c.env), c.args...)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(o.Tenants, c.tenants) || !slices.Equal(o.Domains, c.domains) || o.Directory != c.directory || !slices.Equal(o.GeoIP, c.geoip) {
				t.Errorf("tenants %q domains %q directory %q geoip %q;\nwant %q %q %q %q", o.Tenants, o.Domains, o.Directory, o.GeoIP,
					c.tenants, c.domains, c.directory, c.geoip)
			}
			if o.PartnerNames != c.partners {
				t.Errorf("partner names %q, want %q", o.PartnerNames, c.partners)
			}
			if o.Settings.Tenant.Source != c.tenantFrom {
				t.Errorf("tenant from %q, want %q", o.Settings.Tenant.Source, c.tenantFrom)
			}
			if strings.TrimSpace(stderr) != c.stderr {
				t.Errorf("stderr %q, want %q", stderr, c.stderr)
			}
		})
	}

	// ~/.config when XDG_CONFIG_HOME is not set.
	home := t.TempDir()
	writeFile(t, filepath.Join(home, ".config", "outsider", "config.json"), `{"domain": "home.example"}`)
	o, _, err := triageFlags(t, testEnv(t, map[string]string{"HOME": home}), "x")
	if err != nil || !slices.Equal(o.Domains, []string{"home.example"}) {
		t.Errorf("~/.config: %v %+v", err, o)
	}

	// --all-tenants is a flag, and wins over a default tenant.
	o, _, err = triageFlags(t, testEnv(t, map[string]string{"XDG_CONFIG_HOME": xdg}), "--clickhouse", "http://127.0.0.1:1", "--all-tenants")
	if err != nil || len(o.Tenants) != 0 {
		t.Errorf("--all-tenants with a default tenant: %v %q", err, o.Tenants)
	}

	// A bad default names where it came from.
	_, _, err = triageFlags(t, testEnv(t, map[string]string{"OUTSIDER_TENANT": "contoso"}), "x")
	if err == nil || !strings.HasPrefix(err.Error(), `--tenant (from environment OUTSIDER_TENANT): tenant id "contoso" is not a GUID`) {
		t.Errorf("bad OUTSIDER_TENANT: %v", err)
	}
	// --config names a file that must exist; the default one may not.
	_, _, err = triageFlags(t, testEnv(t, nil), "x", "--config", "nosuch.json")
	if err == nil || !strings.Contains(err.Error(), "--config: open nosuch.json") {
		t.Errorf("--config nosuch.json: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	writeFile(t, bad, `{"tenant": 7}`)
	_, _, err = triageFlags(t, testEnv(t, nil), "x", "--config", bad)
	if err == nil || !strings.Contains(err.Error(), `"tenant": want a string or a list of strings`) {
		t.Errorf("tenant 7: %v", err)
	}
}

// TestConfigShow: what is in force and where each came from, as text and
// as JSON.
func TestConfigShow(t *testing.T) {
	xdg := t.TempDir()
	path := filepath.Join(xdg, "outsider", "config.json")
	writeFile(t, path, `{"tenant": "6a1e5b2c-9d3f-4b7a-8e21-3c5d7f9a1b2e", "directory": "/srv/users.csv", "client_id": "app-1", "partner_names": "/srv/partners.csv"}`)
	show := func(env map[string]string, args ...string) (string, string, int) {
		ios, _, out, errOut := iostreams.Test()
		code := run(context.Background(), append([]string{"config", "show"}, args...), &factory{IO: ios, Getenv: testEnv(t, env)})
		return out.String(), errOut.String(), code
	}
	out, errOut, code := show(map[string]string{"XDG_CONFIG_HOME": xdg, "OUTSIDER_DOMAIN": "contoso.com,contoso.net"})
	want := "config file: " + path + `
tenant         6a1e5b2c-9d3f-4b7a-8e21-3c5d7f9a1b2e  config file
domain         contoso.com,contoso.net               environment OUTSIDER_DOMAIN
directory      /srv/users.csv                        config file
geoip          -                                     not set
partner-names  /srv/partners.csv                     config file
`
	if code != 0 || out != want || errOut != "" {
		t.Errorf("config show: exit %d\n%s\nwant\n%s\nstderr %q", code, out, want, errOut)
	}
	out, _, code = show(map[string]string{"XDG_CONFIG_HOME": xdg}, "-f", "JSON")
	wantJSON := `{
  "config_file": "` + path + `",
  "config_file_found": true,
  "settings": [
    {
      "key": "tenant",
      "values": [
        "6a1e5b2c-9d3f-4b7a-8e21-3c5d7f9a1b2e"
      ],
      "source": "config file"
    },
    {
      "key": "domain",
      "values": [],
      "source": ""
    },
    {
      "key": "directory",
      "values": [
        "/srv/users.csv"
      ],
      "source": "config file"
    },
    {
      "key": "geoip",
      "values": [],
      "source": ""
    },
    {
      "key": "partner-names",
      "values": [
        "/srv/partners.csv"
      ],
      "source": "config file"
    }
  ]
}
`
	if code != 0 || out != wantJSON {
		t.Errorf("config show --format json: exit %d\n%s", code, out)
	}
	home := t.TempDir()
	out, _, code = show(map[string]string{"HOME": home})
	if code != 0 || !strings.HasPrefix(out, "config file: "+filepath.Join(home, ".config", "outsider", "config.json")+" (not found)\n") {
		t.Errorf("config show without a file: exit %d\n%s", code, out)
	}
	_, errOut, code = show(nil, "--config", filepath.Join(home, "nosuch.json"))
	if code != 1 || !strings.Contains(errOut, "--config: open ") {
		t.Errorf("config show --config nosuch: exit %d %q", code, errOut)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// testReports are two tenants' reports: one with a high identity, one
// that judged nothing.
func testReports() []tenantReport {
	high := &triage.Report{Schema: triage.Schema, Identities: []triage.Identity{
		{User: "mallory@evil.example", Verdict: triage.VerdictAnomalous, Severity: triage.SeverityHigh},
		{User: "pilar@fabrikam.com", Verdict: triage.VerdictSigninOnly, Severity: triage.SeverityInfo},
	}}
	nothing := &triage.Report{Schema: triage.Schema, Summary: triage.Summary{NothingJudged: "nothing was judged: no record was read"}}
	return []tenantReport{{tenant: "6a1e5b2c-9d3f-4b7a-8e21-3c5d7f9a1b2e", report: high}, {tenant: "x/../../evil", report: nothing}}
}

// TestWriteReports: the one writer of both triage paths: -o FILE, -o
// DIR with --all-tenants (created; file names from tenant ids, hashed
// when not GUIDs), stdout; the confirmation only on a terminal.
func TestWriteReports(t *testing.T) {
	dir := chdir(t)
	reps := testReports()
	ios, _, out, errOut := iostreams.Test()
	ios.StderrTTY = true
	o := &TriageOptions{Format: report.JSON, Output: filepath.Join("new", "reports"), AllTenants: true}
	if err := writeReports(ios, o, reps); err != nil {
		t.Fatal(err)
	}
	names, _ := filepath.Glob(filepath.Join(dir, "new", "reports", "*"))
	for i := range names {
		names[i] = filepath.Base(names[i])
	}
	if want := []string{"6a1e5b2c-9d3f-4b7a-8e21-3c5d7f9a1b2e.json", "tenant-" + tenantFileName("x/../../evil")[len("tenant-"):] + ".json"}; !slices.Equal(names, want) {
		t.Errorf("files %q, want %q", names, want)
	}
	wantErr := "wrote " + filepath.Join("new", "reports", "6a1e5b2c-9d3f-4b7a-8e21-3c5d7f9a1b2e.json") + " (json, 2 identities, 1 high)\n" +
		"wrote " + filepath.Join("new", "reports", tenantFileName("x/../../evil")+".json") + " (json, nothing judged)\n"
	if errOut.String() != wantErr || out.Len() != 0 {
		t.Errorf("stderr\n%s\nwant\n%s\nstdout %q", errOut, wantErr, out)
	}

	// One file: both reports one after the other, one line.
	errOut.Reset()
	o = &TriageOptions{Format: report.CSV, Output: "both.csv"}
	if err := writeReports(ios, o, reps); err != nil {
		t.Fatal(err)
	}
	if want := "wrote both.csv (csv, 2 identities, 1 high)\n"; errOut.String() != want {
		t.Errorf("stderr %q, want %q", errOut, want)
	}
	b, _ := os.ReadFile("both.csv")
	if strings.Count(string(b), "severity,verdict,user,") != 2 {
		t.Errorf("both.csv:\n%s", b)
	}

	// Not on a terminal, or --quiet: no line.
	for _, c := range []struct{ tty, quiet bool }{{false, false}, {true, true}} {
		errOut.Reset()
		ios.StderrTTY = c.tty
		o = &TriageOptions{Format: report.Text, Output: "r.txt", Quiet: c.quiet}
		if err := writeReports(ios, o, reps[:1]); err != nil || errOut.Len() != 0 {
			t.Errorf("tty %v quiet %v: %v %q", c.tty, c.quiet, err, errOut)
		}
	}

	// stdout.
	o = &TriageOptions{Format: report.CSV}
	if err := writeReports(ios, o, reps); err != nil || strings.Count(out.String(), "severity,verdict,user,") != 2 {
		t.Errorf("stdout: %v\n%s", err, out)
	}
}

// TestOutcome: exit 3 (--fail-on reached) comes before exit 4 (a report
// judged nothing), and 4 says why on stderr unless the text report on
// stdout already led with it.
func TestOutcome(t *testing.T) {
	reps := testReports()
	for _, c := range []struct {
		failOn string
		format report.Format
		output string
		reps   []tenantReport
		want   error
		stderr string
	}{
		{triage.SeverityHigh, report.Text, "", reps, errFinding, ""},
		{triage.SeverityInfo, report.Text, "", reps[1:], errNothingJudged, ""},
		{"", report.Text, "", reps, errNothingJudged, ""},
		{"", report.JSON, "", reps, errNothingJudged, "outsider: cannot tell: nothing was judged: no record was read\n"},
		{"", report.Text, "r.txt", reps, errNothingJudged, "outsider: cannot tell: nothing was judged: no record was read\n"},
		{"", report.Text, "", reps[:1], nil, ""},
		{triage.SeverityHigh, report.Text, "", []tenantReport{{report: &triage.Report{Identities: []triage.Identity{{Severity: triage.SeverityMedium}}}}}, nil, ""},
	} {
		ios, _, _, errOut := iostreams.Test()
		err := outcome(ios, &TriageOptions{FailOn: c.failOn, Format: c.format, Output: c.output}, c.reps)
		if !errors.Is(err, c.want) || (c.want == nil && err != nil) || errOut.String() != c.stderr {
			t.Errorf("fail-on %q format %s -o %q, %d reports: %v %q; want %v %q", c.failOn, c.format, c.output, len(c.reps), err, errOut, c.want, c.stderr)
		}
	}
}

// TestUsageErrorOutput: a usage error is one error line and one hint on
// stderr, and nothing on stdout, whatever the mistake; exit 2.
func TestUsageErrorOutput(t *testing.T) {
	for _, c := range []struct {
		args   []string
		stderr string
	}{
		{[]string{"triage", "--nosuchflag", "x.jsonl"}, "outsider: error: unknown flag --nosuchflag\nhint: run 'outsider triage --help'\n"},
		{[]string{"triage", "x.jsonl", "--formt", "json"}, "outsider: error: unknown flag --formt\nhint: did you mean --format?\n"},
		{[]string{"triage", "x.jsonl", "--quite"}, "outsider: error: unknown flag --quite\nhint: did you mean --quiet?\n"},
		{[]string{"triage", "-Z", "x.jsonl"}, "outsider: error: unknown flag -Z\nhint: run 'outsider triage --help'\n"},
		{[]string{"triage", "-qZ", "x.jsonl"}, "outsider: error: unknown flag -Z\nhint: run 'outsider triage --help'\n"},
		{[]string{"hunt", "--sime", "splunk"}, "outsider: error: unknown flag --sime\nhint: did you mean --siem?\n"},
		{[]string{"triag", "x.jsonl", "--format", "json"}, "outsider: error: unknown command \"triag\"\nhint: did you mean 'outsider triage'?\n"},
		{[]string{"frobnicate"}, "outsider: error: unknown command \"frobnicate\"\nhint: run 'outsider help' for the commands\n"},
		{[]string{"help", "hnut"}, "outsider: error: unknown command \"hnut\"\nhint: did you mean 'outsider hunt'?\n"},
		{[]string{"config", "shwo"}, "outsider: error: unknown command \"shwo\" for 'outsider config'\nhint: did you mean 'outsider config show'?\n"},
		{[]string{"config"}, "outsider: error: 'outsider config' needs a command: show\nhint: run 'outsider config --help'\n"},
		{[]string{"completion", "tcsh"}, "outsider: error: unknown shell \"tcsh\": want bash, zsh, fish or powershell\nhint: run 'outsider completion --help'\n"},
		{[]string{"version", "extra"}, "outsider: error: unexpected argument \"extra\"\nhint: run 'outsider version --help'\n"},
		{[]string{"apps", "--json", "--format", "text"}, "outsider: error: --json and --format text: give one\nhint: run 'outsider apps --help'\n"},
	} {
		ios, _, out, errOut := iostreams.Test()
		code := run(context.Background(), c.args, &factory{IO: ios, Getenv: testEnv(t, nil)})
		if code != exitUsage || out.Len() != 0 || errOut.String() != c.stderr {
			t.Errorf("outsider %s: exit %d\nstdout %q\nstderr %q\nwant   %q", strings.Join(c.args, " "), code, out, errOut, c.stderr)
		}
	}
}

// TestLongFlagsWithOneDash: -format is --format (the standard library's
// spelling outsider had), and nothing else changes.
func TestLongFlagsWithOneDash(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	root := newCmdRoot(&factory{IO: ios, Getenv: testEnv(t, nil)})
	for _, c := range []struct{ in, want string }{
		{"triage -format json x", "triage --format json x"},
		{"triage -format=json -o r.json x", "triage --format=json -o r.json x"},
		{"triage -o -format x", "triage -o -format x"},                 // -o's value
		{"triage --directory -quiet x", "triage --directory -quiet x"}, // --directory's value
		{"triage -quiet -qf json x", "triage --quiet -qf json x"},      // bool; shorthands together
		{"triage -nosuch x", "triage -nosuch x"},                       // pflag says it is unknown
		{"triage x -- -format", "triage x -- -format"},
		{"-version", "--version"},
		{"-help", "--help"},
		{"hunt -siem splunk -from -", "hunt --siem splunk --from -"},
	} {
		if got := strings.Join(longFlagsWithOneDash(root, strings.Fields(c.in)), " "); got != c.want {
			t.Errorf("%q -> %q, want %q", c.in, got, c.want)
		}
	}
}

// TestHelp: every command's help is on stdout, exits 0, and shows its
// flags with both spellings; 'outsider help CMD' is 'outsider CMD --help'.
func TestHelp(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	root := newCmdRoot(&factory{IO: ios, Getenv: testEnv(t, nil)})
	var paths [][]string
	var walk func(c *cobra.Command, path []string)
	walk = func(c *cobra.Command, path []string) {
		paths = append(paths, path)
		for _, s := range c.Commands() {
			if s.IsAvailableCommand() {
				walk(s, append(slices.Clone(path), s.Name()))
			}
		}
	}
	walk(root, nil)
	if len(paths) < 15 {
		t.Fatalf("only %d commands", len(paths))
	}
	for _, p := range paths {
		help := func(args ...string) string {
			ios, _, out, errOut := iostreams.Test()
			if code := run(context.Background(), args, &factory{IO: ios, Getenv: testEnv(t, nil)}); code != 0 || errOut.Len() != 0 {
				t.Errorf("outsider %s: exit %d, stderr %q", strings.Join(args, " "), code, errOut)
			}
			return out.String()
		}
		a := help(append(slices.Clone(p), "--help")...)
		b := help(append([]string{"help"}, p...)...)
		c := help(append(slices.Clone(p), "-h")...)
		if a != b || a != c {
			t.Errorf("outsider %s: --help, -h and help differ", strings.Join(p, " "))
		}
		if !strings.HasPrefix(a, "Usage: outsider") || !strings.Contains(a, "  -h, --help ") {
			t.Errorf("outsider %s --help:\n%s", strings.Join(p, " "), a)
		}
		if len(p) == 1 && !strings.Contains(a, "Exit status") && p[0] != "help" {
			t.Errorf("outsider %s --help has no exit status", p[0])
		}
	}
}
