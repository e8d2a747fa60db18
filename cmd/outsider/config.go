package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/outsider-sec/outsider/internal/iostreams"
	"github.com/outsider-sec/outsider/internal/textsafe"
)

// configFile is outsider's config file, JSON. Triage reads its defaults
// from it ($XDG_CONFIG_HOME/outsider/config.json, else
// ~/.config/outsider/config.json, or --config FILE); collect and watch
// read their credentials and settings from the file --config names. One
// shape for both, so that one file can serve every command.
type configFile struct {
	// Triage's defaults: a flag wins over the OUTSIDER_* variable, which
	// wins over these.
	Tenant       stringList `json:"tenant"`
	Domain       stringList `json:"domain"`
	Directory    string     `json:"directory"`
	GeoIP        stringList `json:"geoip"`
	PartnerNames string     `json:"partner_names"`

	// Live collection (collect, watch).
	TenantID           string     `json:"tenant_id"`
	ClientID           string     `json:"client_id"`
	ClientSecret       string     `json:"client_secret"`
	ClientSecretFile   string     `json:"client_secret_file"`
	CertificateFile    string     `json:"certificate_file"`
	CertificateKeyFile string     `json:"certificate_key_file"`
	Cloud              string     `json:"cloud"`
	LoginEndpoint      string     `json:"login_endpoint"`
	ManageEndpoint     string     `json:"manage_endpoint"`
	GraphEndpoint      string     `json:"graph_endpoint"`
	CAFile             string     `json:"ca_file"`
	PublisherID        string     `json:"publisher_id"`
	ContentTypes       stringList `json:"content_types"`
	Archive            string     `json:"archive"`
}

// stringList is a config value that may be one string or a list of them.
type stringList []string

func (l *stringList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*l = splitList(one)
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("want a string or a list of strings")
	}
	*l = nil
	for _, s := range many {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

// configKeys are the keys configFile knows, from its tags.
var configKeys = func() []string {
	var keys []string
	t := reflect.TypeFor[configFile]()
	for i := range t.NumField() {
		keys = append(keys, strings.Split(t.Field(i).Tag.Get("json"), ",")[0])
	}
	return keys
}()

// readConfigFile reads a config file. A key it does not know is a
// warning, not an error (a file written for a later outsider still
// works), but is never silent: "tenants" for "tenant" would otherwise
// leave the tenant to be inferred without a word.
func readConfigFile(path string) (cf *configFile, warnings []string, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(b, &keys); err != nil {
		return nil, nil, fmt.Errorf("%s: not valid JSON: %v", path, err)
	}
	cf = &configFile{}
	for k, v := range keys {
		i := slices.Index(configKeys, k)
		if i < 0 {
			warnings = append(warnings, fmt.Sprintf("%s: unknown key %q (ignored)", path, k))
			continue
		}
		if err := json.Unmarshal(v, reflect.ValueOf(cf).Elem().Field(i).Addr().Interface()); err != nil {
			return nil, nil, fmt.Errorf("%s: %q: %v", path, k, err)
		}
	}
	slices.Sort(warnings)
	return cf, warnings, nil
}

// defaultConfigPath is where the config file is looked for without
// --config: $XDG_CONFIG_HOME/outsider/config.json, else (Windows)
// %APPDATA%\outsider\config.json, else ~/.config/outsider/config.json;
// "" when none of these is set. A relative XDG_CONFIG_HOME is ignored,
// as the XDG base directory specification says.
func defaultConfigPath(getenv func(string) string) string {
	if x := getenv("XDG_CONFIG_HOME"); x != "" && filepath.IsAbs(x) {
		return filepath.Join(x, "outsider", "config.json")
	}
	if runtime.GOOS == "windows" {
		if a := getenv("APPDATA"); a != "" {
			return filepath.Join(a, "outsider", "config.json")
		}
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".config", "outsider", "config.json")
	}
	return ""
}

// setting is one triage default in force and where it came from.
type setting struct {
	Key    string   `json:"key"`
	Values []string `json:"values"`
	// Source is "flag --tenant", "environment OUTSIDER_TENANT", "config
	// file" or "" (not set).
	Source string `json:"source"`
}

// from names a setting and where its value came from, for error
// messages: "--directory", or "--directory (from config file)". s may be
// nil (options built without the environment, in tests).
func (s *settings) from(key string) string {
	if s != nil {
		for _, st := range s.all() {
			if st.Key == key && st.Source != "" && !strings.HasPrefix(st.Source, "flag ") {
				return "--" + key + " (from " + st.Source + ")"
			}
		}
	}
	return "--" + key
}

// settings are triage's defaults from the environment and the config
// file, before flags.
type settings struct {
	File      string  `json:"config_file"`
	FileFound bool    `json:"config_file_found"`
	Tenant    setting `json:"-"`
	Domain    setting `json:"-"`
	Directory setting `json:"-"`
	GeoIP     setting `json:"-"`
	// PartnerNames is --partner-names (file key partner_names).
	PartnerNames setting `json:"-"`
	warnings     []string
}

func (s *settings) all() []*setting {
	return []*setting{&s.Tenant, &s.Domain, &s.Directory, &s.GeoIP, &s.PartnerNames}
}

// onePath reports whether a setting is one file's path, which may hold
// commas, rather than a list.
func (st *setting) onePath() bool { return st.Key == "directory" || st.Key == "partner-names" }

// envName is a setting's variable: OUTSIDER_ and its key, upper-case,
// with _ for - (OUTSIDER_PARTNER_NAMES).
func (st *setting) envName() string {
	return "OUTSIDER_" + strings.ToUpper(strings.ReplaceAll(st.Key, "-", "_"))
}

// loadSettings reads triage's defaults: each from its OUTSIDER_*
// variable, else from the config file (explicit, from --config, must
// exist; the default one may not). Paths in the file are relative to the
// file's folder; ~/ is the home folder.
func loadSettings(getenv func(string) string, explicit string) (*settings, error) {
	s := &settings{
		Tenant:    setting{Key: "tenant"},
		Domain:    setting{Key: "domain"},
		Directory: setting{Key: "directory"},
		GeoIP:     setting{Key: "geoip"},

		PartnerNames: setting{Key: "partner-names"},
	}
	var cf *configFile
	s.File = explicit
	if explicit == "" {
		s.File = defaultConfigPath(getenv)
	}
	if s.File != "" {
		var err error
		cf, s.warnings, err = readConfigFile(s.File)
		switch {
		case err == nil:
			s.FileFound = true
		case explicit == "" && errors.Is(err, fs.ErrNotExist):
			cf = nil
		case explicit != "" && errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("--config: %w", err)
		default:
			return nil, err
		}
	}
	path := func(p string) string {
		if strings.HasPrefix(p, "~/") || strings.HasPrefix(p, `~\`) {
			if h := first(getenv("HOME"), getenv("USERPROFILE")); h != "" {
				return filepath.Join(h, p[2:])
			}
		}
		if !filepath.IsAbs(p) {
			return filepath.Join(filepath.Dir(s.File), p)
		}
		return p
	}
	for _, st := range s.all() {
		env := st.envName()
		if v := strings.TrimSpace(getenv(env)); v != "" {
			st.Values, st.Source = splitList(v), "environment "+env
			if st.onePath() {
				st.Values = []string{v}
			}
			continue
		}
		if cf == nil {
			continue
		}
		var vs []string
		switch st.Key {
		case "tenant":
			vs = cf.Tenant
		case "domain":
			vs = cf.Domain
		case "directory":
			if cf.Directory != "" {
				vs = []string{path(cf.Directory)}
			}
		case "partner-names":
			if cf.PartnerNames != "" {
				vs = []string{path(cf.PartnerNames)}
			}
		case "geoip":
			for _, g := range cf.GeoIP {
				vs = append(vs, path(g))
			}
		}
		if len(vs) > 0 {
			st.Values, st.Source = vs, "config file"
		}
	}
	return s, nil
}

// printWarnings shows the config file's warnings on stderr.
func (s *settings) printWarnings(ios *iostreams.IOStreams) {
	for _, w := range s.warnings {
		fmt.Fprintf(ios.ErrOut, "outsider: warning: %s\n", textsafe.Line(w))
	}
}

// ConfigShowOptions are the flags of 'outsider config show'.
type ConfigShowOptions struct {
	Config string
	Format string
	Getenv func(string) string
}

// newCmdConfig is 'outsider config', which holds 'config show'.
func newCmdConfig(f *factory) *cobra.Command {
	cmd := newGroupCmd("config", "show the defaults triage takes from the environment and the config file",
		`Triage's --tenant, --domain, --directory, --geoip and --partner-names may
come from the environment and from a config file, so that they need not be
typed on every run. A flag wins; then the variable (OUTSIDER_TENANT,
OUTSIDER_DOMAIN, OUTSIDER_DIRECTORY, OUTSIDER_GEOIP, OUTSIDER_PARTNER_NAMES;
lists comma-separated); then the config file:
$XDG_CONFIG_HOME/outsider/config.json, else ~/.config/outsider/config.json
(%APPDATA%\outsider\config.json on Windows), or the file --config names.
The file is JSON:

  {"tenant": "6a1e5b2c-9d3f-4b7a-8e21-3c5d7f9a1b2e",
   "domain": ["contoso.com", "contoso.onmicrosoft.com"],
   "directory": "users.csv",
   "geoip": ["GeoLite2-City.mmdb", "GeoLite2-ASN.mmdb"],
   "partner_names": "partners.csv"}

Paths in it are relative to its folder. The same file may hold the
live collection's settings (tenant_id, client_id, ...: see 'outsider
collect --help'), which collect and watch read with --config.`)
	cmd.AddCommand(newCmdConfigShow(f, nil))
	return cmd
}

func newCmdConfigShow(f *factory, runF func(*ConfigShowOptions) error) *cobra.Command {
	o := &ConfigShowOptions{Getenv: f.Getenv}
	cmd := &cobra.Command{
		Use:   "show [flags]",
		Short: "print triage's defaults in force and where each came from",
		Long: `Prints the defaults triage takes for --tenant, --domain, --directory,
--geoip and --partner-names, each with where it came from (an OUTSIDER_*
variable or the config file), and which config file was read. Flags given to triage win over all
of these.

Exit status: 0 done; 1 error (a config file that cannot be read); 2 usage.`,
		Args: noArgs("config show", ""),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Format = enumValue(o.Format)
			if o.Format != "text" && o.Format != "json" {
				return usagef("config show", "--format %q: want text or json", o.Format)
			}
			if runF != nil {
				return runF(o)
			}
			return runConfigShow(f.IO, o)
		},
	}
	cmd.Flags().StringVar(&o.Config, "config", "", "read this config `file` instead of the default one")
	addFormatFlag(cmd, &o.Format, "text", []string{"text", "json"}, "output `format`: text or json")
	return cmd
}

func runConfigShow(ios *iostreams.IOStreams, o *ConfigShowOptions) error {
	s, err := loadSettings(o.Getenv, o.Config)
	if err != nil {
		return err
	}
	s.printWarnings(ios)
	w := bufio.NewWriter(ios.Out)
	if o.Format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		out := struct {
			*settings
			Settings []*setting `json:"settings"`
		}{s, s.all()}
		for _, st := range out.Settings {
			if st.Values == nil {
				st.Values = []string{}
			}
		}
		if err := enc.Encode(out); err != nil {
			return err
		}
		return w.Flush()
	}
	switch {
	case s.File == "":
		fmt.Fprintln(w, "config file: none (neither XDG_CONFIG_HOME nor HOME is set)")
	case s.FileFound:
		fmt.Fprintf(w, "config file: %s\n", textsafe.Terminal(s.File))
	default:
		fmt.Fprintf(w, "config file: %s (not found)\n", textsafe.Terminal(s.File))
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, st := range s.all() {
		value, source := "-", "not set"
		if len(st.Values) > 0 {
			value, source = textsafe.Terminal(strings.Join(st.Values, ",")), st.Source
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", st.Key, value, source)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return w.Flush()
}
