package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/outsider-sec/outsider/internal/clickhouse"
	"github.com/outsider-sec/outsider/internal/directory"
	"github.com/outsider-sec/outsider/internal/enrich"
	"github.com/outsider-sec/outsider/internal/iostreams"
	"github.com/outsider-sec/outsider/internal/report"
	"github.com/outsider-sec/outsider/internal/tenant"
	"github.com/outsider-sec/outsider/internal/triage"
)

// checkClickHouseFlags checks the flags of 'outsider triage --clickhouse'.
// The reading flags have nothing to read there: the records were read,
// decoded and deduplicated by 'outsider load'.
func checkClickHouseFlags(o *TriageOptions) error {
	if o.ClickHouse == "" {
		if o.AllTenants {
			return usagef("triage", "--all-tenants goes with --clickhouse (files are judged as one tenant, or --tenant)")
		}
		return nil
	}
	if len(o.Paths) > 0 {
		return usagef("triage", "--clickhouse reads the records 'outsider load' stored: give no PATH")
	}
	if o.AllTenants && len(o.Tenants) > 0 {
		return usagef("triage", "--all-tenants and --tenant: give one")
	}
	if o.Strict || o.CPUProfile != "" || o.MemProfile != "" || o.TempDir != "" || o.dateOrder != "" {
		return usagef("triage", "--strict, --cpuprofile, --memprofile, --temp-dir and --date-order concern reading files; with --clickhouse, 'outsider load' reads them")
	}
	if _, err := clickhouse.Open(o.ClickHouse); err != nil {
		return usagef("triage", "--clickhouse: %s", err)
	}
	return nil
}

// runTriageClickHouse is 'outsider triage --clickhouse': the due diligence
// in SQL, the verdicts by the engine, the reports as from files.
func runTriageClickHouse(ctx context.Context, ios *iostreams.IOStreams, o *TriageOptions, dir *directory.Directory, geo *enrich.DB) error {
	c, _ := clickhouse.Open(o.ClickHouse) // checked by checkClickHouseFlags
	reps, err := clickhouse.Triage(ctx, c, clickhouse.TriageOptions{
		AllTenants: o.AllTenants,
		Triage: triage.Options{
			Tenants: o.Tenants, Domains: o.Domains, Since: o.Since, Until: o.Until, MaxEvidence: o.MaxEvidence,
			Directory: dir, DirectoryPath: o.Directory, GeoIP: geo,
			PartnerNames: o.partnerNames, SkipAccessed: o.NoAccessed,
		},
	})
	if err != nil {
		return clickhouseError(err)
	}
	if len(reps) == 0 {
		fmt.Fprintln(ios.ErrOut, "outsider: no tenant has records in the period")
		return nil
	}
	// Provenance names the DSN (redacted) instead of log files (a
	// --directory or --geoip file is still listed); the engine's own
	// report carries none, so the package's tests still compare the two
	// byte for byte. Every tenant's report shares it (read-only).
	prov, err := o.provenance(o.args, nil, nil)
	if err != nil {
		return err
	}
	all := make([]tenantReport, len(reps))
	for i, r := range reps {
		r.Report.Provenance = prov
		all[i] = tenantReport{tenant: r.Tenant, report: r.Report}
	}
	if err := writeReports(ios, o, all); err != nil {
		return err
	}
	if !o.Quiet {
		for _, r := range reps {
			if r.Report.Input.Skipped > 0 {
				fmt.Fprintf(ios.ErrOut, "outsider: %s were skipped when loading; the report covers the %d stored\n",
					plural(int(r.Report.Input.Skipped), "unreadable record", "unreadable records"), r.Report.Input.Records)
			}
		}
	}
	return outcome(ios, o, all)
}

// tenantFileName names a tenant's report file. Tenant ids come from the
// records (OrganizationId), so anything but a GUID is hashed: a hostile id
// must not name a path.
func tenantFileName(t string) string {
	if t == "" {
		return "no-tenant"
	}
	if tenant.ValidateID(t) == nil {
		return t
	}
	h := sha256.Sum256([]byte(t))
	return "tenant-" + hex.EncodeToString(h[:8])
}

// extension is the file extension of a report format.
func extension(f report.Format) string {
	if f == report.Text {
		return "txt"
	}
	return string(f)
}
