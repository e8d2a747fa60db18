package report

import (
	"encoding/csv"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/outsider-sec/outsider/internal/textsafe"
	"github.com/outsider-sec/outsider/internal/triage"
)

// csvHeader is the column order of the CSV output: one row per identity.
var csvHeader = []string{
	"severity", "verdict", "user", "class", "consumer", "home_tenant",
	"signins_success", "signins_failure", "first_signin", "last_signin",
	"ips", "apps", "user_agents", "by_user", "by_ip", "operations", "sharing",
	"ip_also_used_by", "reasons", "sources", "in_directory", "partner", "accessed",
}

// RenderCSV writes one row per identity. Lists are joined with "; ".
// Every cell is formula-safe: spreadsheets execute cells that start with
// = + - @ (and tab or CR), and UPNs, user agents and file names are chosen
// by whoever wrote the record.
func RenderCSV(w io.Writer, r *triage.Report) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	for _, id := range r.Identities {
		apps := make([]string, 0, len(id.Signins.Apps))
		for _, a := range id.Signins.Apps {
			if a.ID == "" {
				apps = append(apps, noAppText(a))
				continue
			}
			name := appName(a, a.ID)
			fp := "first-party"
			if !a.FirstParty {
				fp = "NOT first-party"
			}
			apps = append(apps, name+" ("+a.ID+", "+fp+") x"+strconv.FormatInt(a.Count, 10))
		}
		ops := make([]string, 0, len(id.Activity.Operations))
		for _, op := range slices.Sorted(maps.Keys(id.Activity.Operations)) {
			ops = append(ops, op+" "+strconv.FormatInt(id.Activity.Operations[op], 10))
		}
		row := []string{
			id.Severity, id.Verdict, id.User, id.Class, strconv.FormatBool(id.Consumer), id.HomeTenant,
			strconv.FormatInt(id.Signins.Success, 10), strconv.FormatInt(id.Signins.Failure, 10),
			id.Signins.First, id.Signins.Last,
			strings.Join(id.Signins.IPs, "; "), strings.Join(apps, "; "), strings.Join(id.Signins.UserAgents, "; "),
			strconv.FormatInt(id.Activity.ByUser, 10), strconv.FormatInt(id.Activity.ByIP, 10),
			strings.Join(ops, "; "), strconv.FormatInt(id.SharingCount, 10),
			strings.Join(id.IPAlsoUsedBy, "; "), strings.Join(id.Reasons, " | "),
			strings.Join(id.Sources, "; "), inDirectoryCell(id.InDirectory), id.Partner, accessedCell(id),
		}
		for i := range row {
			row[i] = textsafe.CSVCell(row[i])
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// inDirectoryCell writes in_directory as the JSON does: true, false or
// unknown.
func inDirectoryCell(d triage.InDirectory) string {
	b, _ := d.MarshalJSON()
	return strings.Trim(string(b), `"`)
}
