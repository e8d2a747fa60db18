// Command gen-apps builds the embedded catalogue of Microsoft first-party
// application ids used by package internal/apps.
//
// It reads the CSV files described in SOURCES.md from the folder given by
// -shared and writes catalogue.tsv and tenants.tsv into the folder given by
// -out. Without flags both are found from the repository root (the folder
// holding go.mod): -shared defaults to <root>/../shared/appids and -out to
// <root>/internal/apps. The usual way to run it is
//
//	go generate ./internal/apps
//
// Only trusted rows are used: outsider_core_apps.csv, learn_first_party_apps.csv
// and the merill rows whose Source is Graph or GitHub. merill rows whose Source
// is EntraDocs come from a documentation dictionary (known-guids.json) that
// mixes permission ids, licence SKU ids, tenant ids and placeholders, so they
// are dropped. Dropped rows are counted per reason on stderr.
//
// The output is sorted by application id and holds no time stamps or paths,
// so a rerun on the same inputs gives byte-identical files.
package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

// run is main without the exit, for tests.
func run(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("gen-apps", flag.ContinueOnError)
	fs.SetOutput(stderr)
	shared := fs.String("shared", "", "folder holding the appids CSV files and SOURCES.md (default <repo root>/../shared/appids)")
	out := fs.String("out", "", "folder to write catalogue.tsv and tenants.tsv into (default <repo root>/internal/apps)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "gen-apps: error: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if *shared == "" || *out == "" {
		root, err := repoRoot()
		if err != nil {
			fmt.Fprintf(stderr, "gen-apps: error: %v\n", err)
			fmt.Fprintln(stderr, "hint: pass -shared and -out")
			return 1
		}
		if *shared == "" {
			*shared = filepath.Join(root, "..", "shared", "appids")
		}
		if *out == "" {
			*out = filepath.Join(root, "internal", "apps")
		}
	}

	res, err := generate(*shared, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "gen-apps: error: %v\n", err)
		return 1
	}
	for _, f := range []struct {
		name string
		data []byte
	}{{"catalogue.tsv", res.catalogue}, {"tenants.tsv", res.tenants}} {
		if err := writeFileAtomic(filepath.Join(*out, f.name), f.data); err != nil {
			fmt.Fprintf(stderr, "gen-apps: error: %v\n", err)
			return 1
		}
	}
	fmt.Fprintf(stderr, "gen-apps: wrote %s (%d apps) and %s (%d tenants)\n",
		filepath.Join(*out, "catalogue.tsv"), res.apps, filepath.Join(*out, "tenants.tsv"), res.tenantCount)
	return 0
}

// repoRoot walks up from the working directory to the folder holding go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("failed to find the repository root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("failed to find the repository root: no go.mod above the working directory")
		}
		dir = parent
	}
}

func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("failed to write %s: %w", path, err)
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("failed to write %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("failed to write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("failed to write %s: %w", path, err)
	}
	return nil
}

// Source tags, as written in the catalogue's sources column, in the order
// they are listed there.
const (
	tagCore   = "core"
	tagLearn  = "learn"
	tagGraph  = "graph"
	tagGitHub = "github"
)

var tagOrder = []string{tagCore, tagLearn, tagGraph, tagGitHub}

// Name precedence, best first: core DisplayName > merill Graph > Learn >
// merill GitHub. Within GitHub the community list itself comes before its
// copy in MicrosoftApps.csv, whose names carry a " [Community Contributed]"
// suffix.
const (
	rankCore = iota
	rankGraph
	rankLearn
	rankGitHubOther
	rankGitHubMain
)

// Input files. The commits and origins are those listed in SOURCES.md; the
// sha256 of each file is computed when it is read and checked against the
// SHA-256 block of SOURCES.md.
const (
	fileCore    = "outsider_core_apps.csv"
	fileLearn   = "learn_first_party_apps.csv"
	fileMerill  = "merill_MicrosoftApps.csv"
	fileOther   = "merill_OtherMicrosoftApps.csv"
	fileTenants = "microsoft_tenant_ids.csv"
	fileSources = "SOURCES.md"

	merillCommit = "43b8a5d9fb6648f3ef36ec051acd988fdd19558b"
	learnCommit  = "0d3f7df548cd71a22db472afbe5edffb29319976"
)

var origins = map[string]string{
	fileCore:    "derived by outsider from the three sources below (adds Family tags)",
	fileMerill:  "merill/microsoft-info@" + merillCommit + " _info/MicrosoftApps.csv (MIT)",
	fileOther:   "merill/microsoft-info@" + merillCommit + " customdata/OtherMicrosoftApps.csv (MIT)",
	fileLearn:   "MicrosoftDocs/SupportArticles-docs@" + learnCommit + " support/entra/entra-id/governance/verify-first-party-apps-sign-in.md (both tables, transcribed)",
	fileTenants: "derived by outsider from merill EntraDocs rows (Entra docs known-guids.json labels) and the Learn article",
}

// Reasons a row is dropped, as printed on stderr.
const (
	reasonEntraDocs     = "merill Source=EntraDocs (docs dictionary, not an app list)"
	reasonUnknownSource = "merill Source not Graph, GitHub or EntraDocs"
	reasonInvalidGUID   = "invalid GUID"
	reasonPlaceholder   = "placeholder GUID"
	reasonDuplicate     = "duplicate row"
)

var guidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// normGUID trims and lower-cases s and reports whether it is a GUID.
func normGUID(s string) (string, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	return s, guidRE.MatchString(s)
}

// isPlaceholder reports whether a (normalised) GUID is a placeholder rather
// than a real id: every hex digit the same (00000000-…, 11111111-…), or all
// zero but the last group (00000000-0000-0000-0000-000000000001, used for
// built-in role ids).
func isPlaceholder(id string) bool {
	hex := strings.ReplaceAll(id, "-", "")
	if strings.Count(hex, hex[:1]) == len(hex) {
		return true
	}
	return strings.HasPrefix(id, "00000000-0000-0000-0000-")
}

// cleanText collapses runs of white space (tabs, newlines, no-break spaces)
// into one space and trims the ends, so a value fits one TSV cell.
func cleanText(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

type nameOf struct {
	rank int
	name string
	file string
}

type ownerOf struct {
	rank  int
	owner string
	tag   string
}

type entry struct {
	id     string
	family string
	tags   map[string]bool
	names  []nameOf
	owners []ownerOf
}

type stats struct {
	log       io.Writer
	dropped   map[string]int
	entraKept int // EntraDocs rows whose id is kept from a trusted source
	warnings  int
}

func (s *stats) drop(reason string) { s.dropped[reason]++ }

func (s *stats) warnf(format string, args ...any) {
	s.warnings++
	fmt.Fprintf(s.log, "gen-apps: warning: "+format+"\n", args...)
}

type result struct {
	catalogue   []byte
	tenants     []byte
	apps        int
	tenantCount int
}

type inputFile struct {
	name   string
	sum    string
	listed string // sha256 listed in SOURCES.md, "" if none
	rows   []map[string]string
	line   []int // line of each row, for messages
}

// generate reads the inputs in dir and renders both output files.
func generate(dir string, log io.Writer) (*result, error) {
	st := &stats{log: log, dropped: map[string]int{}}

	sourcesMD, err := os.ReadFile(filepath.Join(dir, fileSources))
	if err != nil {
		st.warnf("cannot read %s, so the input hashes are not checked: %v", fileSources, err)
	}
	listed := listedHashes(sourcesMD)
	for _, c := range []string{merillCommit, learnCommit} {
		if sourcesMD != nil && !bytes.Contains(sourcesMD, []byte(c)) {
			st.warnf("%s does not mention commit %s: update the commits in scripts/gen-apps", fileSources, c)
		}
	}

	read := func(name string, required ...string) (*inputFile, error) {
		f, err := readCSV(filepath.Join(dir, name), required)
		if err != nil {
			return nil, err
		}
		f.listed = listed[name]
		if f.listed != "" && f.listed != f.sum {
			st.warnf("%s has sha256 %s but %s lists %s", name, f.sum, fileSources, f.listed)
		}
		return f, nil
	}
	// Each input and the columns it must have, read in this order.
	var core, learn, merill, other, tenantsIn *inputFile
	for _, in := range []struct {
		dst      **inputFile
		name     string
		required []string
	}{
		{&core, fileCore, []string{"AppId", "DisplayName", "Family", "AppOwnerTenantId"}},
		{&learn, fileLearn, []string{"AppId", "AppDisplayName", "LearnTable", "AppOwnerTenantId"}},
		{&merill, fileMerill, []string{"AppId", "AppDisplayName", "AppOwnerOrganizationId", "Source"}},
		{&other, fileOther, []string{"AppId", "AppDisplayName", "AppOwnerOrganizationId", "Source"}},
		{&tenantsIn, fileTenants, []string{"TenantId", "Label", "Meaning for outsider"}},
	} {
		if *in.dst, err = read(in.name, in.required...); err != nil {
			return nil, err
		}
	}

	// Tenants first: app owners are checked against them.
	tenants, tenantBody := buildTenants(tenantsIn, st)

	apps := map[string]*entry{}
	seen := map[string]bool{} // tag|file|id|name|owner
	var entraIDs []string
	add := func(f *inputFile, i int, tag string, rank int, rawID, rawName, rawOwner, family string) {
		id, ok := normGUID(rawID)
		if !ok {
			st.drop(reasonInvalidGUID)
			fmt.Fprintf(st.log, "gen-apps: %s:%d: dropped: invalid GUID %q\n", f.name, f.line[i], rawID)
			return
		}
		if isPlaceholder(id) {
			st.drop(reasonPlaceholder)
			fmt.Fprintf(st.log, "gen-apps: %s:%d: dropped: placeholder GUID %s\n", f.name, f.line[i], id)
			return
		}
		name := cleanText(rawName)
		owner := ""
		if o := strings.TrimSpace(rawOwner); o != "" {
			if n, ok := normGUID(o); ok {
				owner = n
			} else {
				st.warnf("%s:%d: ignoring owner %q of %s: not a GUID", f.name, f.line[i], rawOwner, id)
			}
		}
		key := strings.Join([]string{tag, f.name, id, name, owner}, "|")
		if seen[key] {
			st.drop(reasonDuplicate)
			fmt.Fprintf(st.log, "gen-apps: %s:%d: dropped: duplicate row for %s\n", f.name, f.line[i], id)
			return
		}
		seen[key] = true
		e := apps[id]
		if e == nil {
			e = &entry{id: id, tags: map[string]bool{}}
			apps[id] = e
		}
		e.tags[tag] = true
		if family != "" {
			e.family = family
		}
		if name != "" {
			e.names = append(e.names, nameOf{rank, name, f.name})
		}
		if owner != "" {
			e.owners = append(e.owners, ownerOf{rank, owner, tag})
		}
	}
	for i, r := range core.rows {
		add(core, i, tagCore, rankCore, r["AppId"], r["DisplayName"], r["AppOwnerTenantId"], cleanText(r["Family"]))
	}
	merillRows := func(f *inputFile, githubRank int) {
		for i, r := range f.rows {
			switch src := strings.TrimSpace(r["Source"]); src {
			case "Graph":
				add(f, i, tagGraph, rankGraph, r["AppId"], r["AppDisplayName"], r["AppOwnerOrganizationId"], "")
			case "GitHub":
				add(f, i, tagGitHub, githubRank, r["AppId"], r["AppDisplayName"], r["AppOwnerOrganizationId"], "")
			case "EntraDocs":
				st.drop(reasonEntraDocs)
				entraIDs = append(entraIDs, r["AppId"])
			default:
				st.drop(reasonUnknownSource)
				fmt.Fprintf(st.log, "gen-apps: %s:%d: dropped: Source %q\n", f.name, f.line[i], src)
			}
		}
	}
	merillRows(merill, rankGitHubMain)
	for i, r := range learn.rows {
		add(learn, i, tagLearn, rankLearn, r["AppId"], r["AppDisplayName"], r["AppOwnerTenantId"], "")
	}
	merillRows(other, rankGitHubOther)
	for _, raw := range entraIDs {
		if id, ok := normGUID(raw); ok && apps[id] != nil {
			st.entraKept++
		}
	}

	ids := make([]string, 0, len(apps))
	for id := range apps {
		ids = append(ids, id)
	}
	slices.Sort(ids)

	var body bytes.Buffer
	perTag := map[string]int{}
	unnamed := 0
	for _, id := range ids {
		e := apps[id]
		slices.SortStableFunc(e.names, func(a, b nameOf) int { return a.rank - b.rank })
		slices.SortStableFunc(e.owners, func(a, b ownerOf) int { return a.rank - b.rank })
		var name string
		var aliases []string
		for _, n := range e.names {
			v := strings.ReplaceAll(n.name, "|", "/") // '|' separates aliases
			switch {
			case name == "":
				name = v
			case strings.EqualFold(v, name) || slices.ContainsFunc(aliases, func(a string) bool { return strings.EqualFold(a, v) }):
			default:
				aliases = append(aliases, v)
			}
		}
		if name == "" {
			unnamed++
		}
		owner := ""
		if len(e.owners) > 0 {
			owner = e.owners[0].owner
			for _, o := range e.owners[1:] {
				if o.owner != owner {
					st.warnf("owner conflict for %s (%s): %s says %s, %s says %s; keeping %s",
						id, name, e.owners[0].tag, owner, o.tag, o.owner, owner)
					break
				}
			}
			if !tenants[owner] {
				st.warnf("owner %s of %s (%s) is not in %s", owner, id, name, fileTenants)
			}
		}
		var tags []string
		for _, t := range tagOrder {
			if e.tags[t] {
				tags = append(tags, t)
				perTag[t]++
			}
		}
		fmt.Fprintf(&body, "%s\t%s\t%s\t%s\t%s\t%s\n", id, name, e.family, owner,
			strings.Join(tags, ","), strings.Join(aliases, "|"))
	}

	var cat bytes.Buffer
	cat.WriteString("# Microsoft first-party application ids, embedded by package internal/apps.\n")
	cat.WriteString("# generated by scripts/gen-apps; do not edit. Regenerate with: go generate ./internal/apps\n")
	cat.WriteString("# Trusted rows only: " + fileCore + ", " + fileLearn + ", and merill rows with Source Graph or GitHub.\n")
	cat.WriteString("# merill rows with Source EntraDocs are excluded (permission, licence SKU and tenant ids, placeholders).\n")
	cat.WriteString("# Name precedence: core > merill Graph > Learn > merill GitHub; the other names are aliases.\n")
	for _, f := range []*inputFile{core, merill, other, learn} {
		writeInputLine(&cat, f)
	}
	cat.WriteString("# columns: id\tname\tfamily\towner\tsources\taliases ('|'-separated)\n")
	cat.Write(body.Bytes())

	var ten bytes.Buffer
	ten.WriteString("# Microsoft tenant ids, embedded by package internal/apps.\n")
	ten.WriteString("# generated by scripts/gen-apps; do not edit. Regenerate with: go generate ./internal/apps\n")
	writeInputLine(&ten, tenantsIn)
	ten.WriteString("# columns: id\tlabel\tmeaning\n")
	ten.Write(tenantBody)

	// Report.
	total := 0
	reasons := make([]string, 0, len(st.dropped))
	for r, n := range st.dropped {
		reasons = append(reasons, r)
		total += n
	}
	slices.Sort(reasons)
	for _, f := range []*inputFile{core, learn, merill, other, tenantsIn} {
		fmt.Fprintf(log, "gen-apps: read %s: %d rows\n", f.name, len(f.rows))
	}
	fmt.Fprintf(log, "gen-apps: dropped %d rows\n", total)
	for _, r := range reasons {
		fmt.Fprintf(log, "gen-apps:   %5d  %s\n", st.dropped[r], r)
	}
	if n := st.dropped[reasonEntraDocs]; n > 0 {
		fmt.Fprintf(log, "gen-apps:          (%d of the %d EntraDocs rows name an id that a trusted source lists; it is kept from there)\n", st.entraKept, n)
	}
	fmt.Fprintf(log, "gen-apps: %d apps: core %d, learn %d, graph %d, github %d; %d with no name in any trusted source\n",
		len(ids), perTag[tagCore], perTag[tagLearn], perTag[tagGraph], perTag[tagGitHub], unnamed)
	if st.warnings > 0 {
		fmt.Fprintf(log, "gen-apps: %d warnings\n", st.warnings)
	}
	return &result{catalogue: cat.Bytes(), tenants: ten.Bytes(), apps: len(ids), tenantCount: len(tenants)}, nil
}

func writeInputLine(w *bytes.Buffer, f *inputFile) {
	fmt.Fprintf(w, "# input %s sha256=%s", f.name, f.sum)
	if f.listed != "" && f.listed != f.sum {
		fmt.Fprintf(w, " (SOURCES.md lists %s)", f.listed)
	}
	fmt.Fprintf(w, ": %s\n", origins[f.name])
}

// buildTenants validates the tenant rows and renders them sorted by id. It
// returns the set of tenant ids and the TSV body.
func buildTenants(f *inputFile, st *stats) (map[string]bool, []byte) {
	type tenant struct{ id, label, meaning string }
	var list []tenant
	set := map[string]bool{}
	for i, r := range f.rows {
		id, ok := normGUID(r["TenantId"])
		if !ok {
			st.drop(reasonInvalidGUID)
			fmt.Fprintf(st.log, "gen-apps: %s:%d: dropped: invalid GUID %q\n", f.name, f.line[i], r["TenantId"])
			continue
		}
		if set[id] {
			st.drop(reasonDuplicate)
			fmt.Fprintf(st.log, "gen-apps: %s:%d: dropped: duplicate tenant %s\n", f.name, f.line[i], id)
			continue
		}
		set[id] = true
		list = append(list, tenant{id, cleanText(r["Label"]), cleanText(r["Meaning for outsider"])})
	}
	slices.SortFunc(list, func(a, b tenant) int { return strings.Compare(a.id, b.id) })
	var b bytes.Buffer
	for _, t := range list {
		fmt.Fprintf(&b, "%s\t%s\t%s\n", t.id, t.label, t.meaning)
	}
	return set, b.Bytes()
}

// readCSV reads a CSV file with a header row into maps keyed by column name.
// Every column in required must be present.
func readCSV(path string, required []string) (*inputFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("failed to read input: %w", err)
	}
	sum := sha256.Sum256(data)
	f := &inputFile{name: filepath.Base(path), sum: hex.EncodeToString(sum[:])}
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	cr := csv.NewReader(bytes.NewReader(data))
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: failed to read the header: %w", path, err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimSpace(h)] = i
	}
	for _, c := range required {
		if _, ok := col[c]; !ok {
			return nil, fmt.Errorf("%s: missing column %q", path, c)
		}
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		line, _ := cr.FieldPos(0)
		row := make(map[string]string, len(col))
		for name, i := range col {
			row[name] = rec[i]
		}
		f.rows = append(f.rows, row)
		f.line = append(f.line, line)
	}
	return f, nil
}

// listedHashes reads the "<sha256>  <file>" lines of SOURCES.md.
func listedHashes(md []byte) map[string]string {
	out := map[string]string{}
	line := regexp.MustCompile(`^([0-9a-f]{64})\s+(\S+)\s*$`)
	sc := bufio.NewScanner(bytes.NewReader(md))
	for sc.Scan() {
		if m := line.FindStringSubmatch(sc.Text()); m != nil {
			out[m[2]] = m[1]
		}
	}
	return out
}
