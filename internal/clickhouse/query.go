package clickhouse

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/outsider-sec/outsider/internal/audit"
	"github.com/outsider-sec/outsider/internal/triage"
)

// TriageOptions control Triage.
type TriageOptions struct {
	// Triage carries what the in-process engine takes too: Tenants
	// (--tenant), Domains, Since, Until, MaxEvidence, Directory, GeoIP.
	Triage triage.Options
	// AllTenants makes one report per tenant in the table.
	AllTenants bool
	// Trace, if set, receives every statement sent (for the portability
	// check against current ClickHouse, and for debugging).
	Trace func(sql string)

	// rewrite, in tests, changes every statement before it is sent.
	rewrite func(sql string) string
}

// TenantReport is one tenant's report.
type TenantReport struct {
	// Tenant is the tenant judged ("" when the table holds records of no
	// tenant, or with --tenant several at once).
	Tenant string
	Report *triage.Report
}

// ErrSeveralTenants says the table holds several tenants and neither
// --tenant nor --all-tenants said which to judge.
var ErrSeveralTenants = errors.New("the table holds several tenants")

// Triage judges the records in the events table. With Triage.Tenants it
// judges those tenants' records (and records of no tenant, as the
// in-process engine keeps them); with AllTenants, each tenant in the period
// against its own records only, one report each; otherwise the table must
// hold one tenant. Each report is the one the in-process engine writes for
// the same records, byte for byte.
func Triage(ctx context.Context, c *Client, o TriageOptions) ([]TenantReport, error) {
	q := &querier{c: c, trace: o.Trace, rewrite: o.rewrite}
	if err := checkColumns(ctx, c); err != nil {
		return nil, err
	}
	since, until := int64(0), int64(0)
	if !o.Triage.Since.IsZero() {
		since = o.Triage.Since.UnixNano()
	}
	if !o.Triage.Until.IsZero() {
		until = o.Triage.Until.UnixNano()
	}
	if len(o.Triage.Tenants) > 0 {
		var ts []string
		for _, t := range o.Triage.Tenants {
			ts = append(ts, strings.ToLower(strings.TrimSpace(t)))
		}
		return q.oneReport(ctx, scope{tenants: ts, since: since, until: until}, ts, o.Triage)
	}
	tenants, err := q.tenants(ctx, scope{since: since, until: until})
	if err != nil {
		return nil, err
	}
	if !o.AllTenants {
		if len(tenants) > 1 {
			return nil, fmt.Errorf("%w in the period (%d: %s): name one with --tenant, or judge each with --all-tenants",
				ErrSeveralTenants, len(tenants), strings.Join(firstN(tenants, 5), ", "))
		}
		return q.oneReport(ctx, scope{since: since, until: until}, tenants, o.Triage)
	}
	var out []TenantReport
	for _, t := range tenants {
		opts := o.Triage
		opts.Tenants = []string{t}
		r, err := q.triage(ctx, scope{tenants: []string{t}, since: since, until: until}, opts)
		if err != nil {
			return nil, fmt.Errorf("tenant %s: %w", t, err)
		}
		out = append(out, TenantReport{Tenant: t, Report: r})
	}
	return out, nil
}

// oneReport judges sc as one report, named after its tenant when the
// scope holds exactly one (of tenants) and unnamed otherwise.
func (q *querier) oneReport(ctx context.Context, sc scope, tenants []string, o triage.Options) ([]TenantReport, error) {
	r, err := q.triage(ctx, sc, o)
	if err != nil {
		return nil, err
	}
	name := ""
	if len(tenants) == 1 {
		name = tenants[0]
	}
	return []TenantReport{{Tenant: name, Report: r}}, nil
}

func firstN(s []string, n int) []string {
	if len(s) <= n {
		return s
	}
	return append(slices.Clone(s[:n]), "...")
}

// scope is the records one report judges.
type scope struct {
	tenants      []string // nil: every tenant
	since, until int64    // Unix ns; 0: unbounded
}

// where is the scope as SQL over a table with tenant, time and ts columns.
// Records of no tenant are in every tenant's scope, as the in-process
// engine keeps records without an OrganizationId whatever --tenant says.
// The time column (seconds) lets the primary index skip granules; ts
// decides exactly.
//
// It is never a constant: 18.16 fails FINAL with a constant PREWHERE
// ("Block structure mismatch in ReplacingSorted stream") once a table
// has several parts, so an unbounded scope is a condition on the time
// column that every row meets.
func (s scope) where() string {
	conds := s.timeWhere()
	if s.tenants != nil {
		conds = append([]string{s.tenantWhere()}, conds...)
	}
	if len(conds) == 0 {
		return "time >= toDateTime(0)"
	}
	return strings.Join(conds, " AND ")
}

// tenantWhere is the tenant part of the scope.
func (s scope) tenantWhere() string {
	if s.tenants == nil {
		return "1"
	}
	var qs []string
	for _, t := range s.tenants {
		qs = append(qs, Quote(t))
	}
	qs = append(qs, "''")
	return "tenant IN (" + strings.Join(qs, ", ") + ")"
}

func (s scope) timeWhere() []string {
	var conds []string
	if s.since != 0 {
		conds = append(conds, fmt.Sprintf("time >= toDateTime(%d) AND ts >= %d", max(floorDiv(s.since, 1e9), 0), s.since))
	}
	if s.until != 0 {
		conds = append(conds, fmt.Sprintf("time <= toDateTime(%d) AND ts < %d", min(max(floorDiv(s.until, 1e9), 0), maxDateTime), s.until))
	}
	return conds
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// querier runs the queries of one triage.
type querier struct {
	c       *Client
	trace   func(string)
	rewrite func(string) string
}

// extNames is the external table of account names a query is about;
// extIPs the addresses that link records to them.
const (
	extNames = "ext_names"
	extIPs   = "ext_ips"
	// extIDs and extKeys: the Ids, and the (Id, line) pairs, of the
	// records the accessed lists are made from.
	extIDs  = "ext_ids"
	extKeys = "ext_keys"
)

// extTable is an external table of one String column.
func extTable(name, column string, values []string) External {
	var b []byte
	for _, v := range values {
		b = AppendTSV(b, []byte(v))
		b = append(b, '\n')
	}
	return External{Name: name, Structure: column + " String", Rows: b}
}

func (q *querier) query(ctx context.Context, sql string, names []string, want int, row func(f []string) error) error {
	var ext []External
	if names != nil {
		ext = []External{extTable(extNames, "user", names)}
	}
	return q.queryExt(ctx, sql, ext, want, row)
}

// queryExt is query with any external tables.
func (q *querier) queryExt(ctx context.Context, sql string, ext []External, want int, row func(f []string) error) error {
	if q.rewrite != nil {
		sql = q.rewrite(sql)
	}
	if q.trace != nil {
		q.trace(sql)
	}
	return q.c.Query(ctx, sql, ext, func(f []string) error {
		if len(f) != want {
			return fmt.Errorf("clickhouse %s: a result row has %d fields, want %d (%q)", q.c, len(f), want, truncate(strings.Join(f, "\t"), 200))
		}
		return row(f)
	})
}

// tenants lists the tenants with records in the period.
func (q *querier) tenants(ctx context.Context, s scope) ([]string, error) {
	where := "tenant != ''"
	if tw := s.timeWhere(); len(tw) > 0 {
		where += " AND " + strings.Join(tw, " AND ")
	}
	var out []string
	err := q.query(ctx, "SELECT tenant FROM "+EventsTable+" WHERE "+where+" GROUP BY tenant ORDER BY tenant FORMAT TSV", nil, 1,
		func(f []string) error {
			out = append(out, f[0])
			return nil
		})
	return out, err
}

// parser collects the first error of many conversions.
type parser struct{ err error }

func (p *parser) i64(s string) int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil && p.err == nil {
		p.err = fmt.Errorf("clickhouse: bad number %q in a result", truncate(s, 40))
	}
	return n
}

func (p *parser) u64(s string) uint64 {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil && p.err == nil {
		p.err = fmt.Errorf("clickhouse: bad number %q in a result", truncate(s, 40))
	}
	return n
}

func (p *parser) ips(s string) []netip.Addr {
	if s == "" {
		return nil
	}
	var out []netip.Addr
	for _, f := range strings.Split(s, " ") {
		a, err := netip.ParseAddr(f)
		if err != nil {
			if p.err == nil {
				p.err = fmt.Errorf("clickhouse: bad address %q in a result", truncate(f, 60))
			}
			continue
		}
		out = append(out, a)
	}
	return out
}

// files reads the files table: the inputs in load order, each path once
// with its latest load, and for every file_seq the index of its path (or
// -1 when the path is not in this scope).
type fileList struct {
	files []triage.FileInfo
	index map[uint64]int
}

func (q *querier) files(ctx context.Context, s scope) (*fileList, error) {
	in := "1"
	if s.tenants != nil {
		var conds []string
		for _, t := range s.tenants {
			conds = append(conds, "has(tenants, "+Quote(hex.EncodeToString([]byte(t)))+")")
		}
		in = strings.Join(conds, " OR ") + " OR has(tenants, '') OR empty(tenants)"
	}
	type row struct {
		seq              uint64
		path, format     string
		records, skipped int64
		in               bool
	}
	latest := map[string]row{}
	seqPath := map[uint64]string{}
	var p parser
	err := q.query(ctx, "SELECT seq, path, format, records, skipped, "+in+" FROM "+FilesTable+" ORDER BY seq FORMAT TSV", nil, 6,
		func(f []string) error {
			r := row{seq: p.u64(f[0]), path: f[1], format: f[2], records: p.i64(f[3]), skipped: p.i64(f[4]), in: f[5] == "1"}
			latest[r.path] = r // rows come in seq order: the last is the latest load
			seqPath[r.seq] = r.path
			return p.err
		})
	if err != nil {
		return nil, err
	}
	var rows []row
	for _, r := range latest {
		if r.in {
			rows = append(rows, r)
		}
	}
	slices.SortFunc(rows, func(a, b row) int {
		switch {
		case a.seq < b.seq:
			return -1
		case a.seq > b.seq:
			return 1
		}
		return 0
	})
	fl := &fileList{files: []triage.FileInfo{}, index: map[uint64]int{}}
	pathIndex := map[string]int{}
	for i, r := range rows {
		fl.files = append(fl.files, triage.FileInfo{Path: r.path, Format: r.format, Records: r.records, Skipped: r.skipped})
		pathIndex[r.path] = i
	}
	for seq, path := range seqPath {
		if i, ok := pathIndex[path]; ok {
			fl.index[seq] = i
		}
	}
	return fl, nil
}

// file maps a file_seq to the report's file index; a record of a file
// whose load never finished (no files row) cites "?", as the engine
// cites an index it does not know.
func (fl *fileList) file(seq uint64) int {
	if i, ok := fl.index[seq]; ok {
		return i
	}
	return len(fl.files) + 1<<20
}

// sqlConsts substitutes the engine's constants into the SQL text.
var sqlConsts = strings.NewReplacer(
	"$UNUSABLE", strconv.Itoa(int(audit.UserUnusable)),
	"$SUCCESS", strconv.Itoa(int(audit.Success)),
	"$INTERRUPTED", strconv.Itoa(int(audit.Interrupted)),
	"$FAILURE", strconv.Itoa(int(audit.Failure)),
	"$SIGNINLOG", strconv.Itoa(int(audit.KindSignIn)),
	"$ACCESS", strconv.Itoa(int(audit.CatAccess)),
	"$MAILBOX", strconv.Itoa(int(audit.CatMailbox)),
	"$ADMIN", strconv.Itoa(int(audit.CatAdmin)),
	"$EVENTS", EventsTable,
	"$DUPS", DuplicatesTable,
	"$ALIASES", AliasesTable,
	"$NAMES", extNames,
	"$DAY", "(intDiv(ts, 86400000000000) - if(ts < 0 AND ts % 86400000000000 != 0, 1, 0))",
	"$IPS", extIPs,
	"$IDS", extIDs,
	"$KEYS", extKeys,
	"$NOAPP", strconv.Itoa(triage.NoAppCands),
)

// sql fills in a statement: the bucket filter, the engine's constants and
// the evidence cap, then the layout is squeezed, and only then the scope's
// values, in one pass: nothing a value holds is read as a placeholder or
// touched by the squeezing.
func sql(text string, s scope, k int) string {
	text = strings.ReplaceAll(text, "$BUCKETS", bucketFilter)
	text = sqlConsts.Replace(text)
	text = strings.ReplaceAll(text, "$K", strconv.Itoa(k))
	text = strings.Join(strings.Fields(text), " ")
	return strings.NewReplacer("$SCOPE", s.where(), "$TENANTS", s.tenantWhere()).Replace(text)
}

// The statements. Every read of the events is FINAL: copies of a record
// stored twice (a file loaded again, a load rerun) are replaced there, and
// sharding by id keeps them on one shard, so FINAL on each shard is exact.
// What selects the rows is a PREWHERE, which 18.16 and current versions
// apply before FINAL's merge: FINAL then merges only the rows a statement
// is about instead of every row (on a million records the sharing records
// read 12 MB instead of 145, and the whole triage takes 1.0 s instead of
// 4.4). That is
// exact here because a PREWHERE only reads columns that every copy of a
// record holds alike (tenant, times, account, addresses, operation,
// sharing target), never copy or the file.
//
// An IN whose right side is a subquery must be GLOBAL: over a Distributed
// table a plain IN runs its subquery on each shard against that shard's
// rows only and silently answers from part of the data. None is needed:
// what a statement is about travels as external tables ($NAMES, $IPS),
// which are no subquery: the server sends them to every shard a query
// reaches (TestAddressesOnEveryShard), and a plain IN on them keeps the
// primary index (tenant, user, ...) usable, where GLOBAL IN makes 18.16
// read every row.
const (
	// qTotals: records kept (sign-in copies included) and the period of
	// the counted ones, per tenant (the inferred tenant ids).
	qTotals = `SELECT tenant, count(), countIf(copy = 0), minIf(ts, copy = 0), maxIf(ts, copy = 0)
		FROM $EVENTS FINAL PREWHERE $SCOPE GROUP BY tenant FORMAT TSV`
	qDups = `SELECT count() FROM $DUPS FINAL PREWHERE $SCOPE FORMAT TSV`
	// qCoverage: records kept (sign-in copies included) per workload and
	// UTC day (floor division, as triage.UTCDay), with the first and last
	// time: the input's coverage.
	qCoverage = `SELECT workload, $DAY AS d, count(), min(ts), max(ts)
		FROM $EVENTS FINAL PREWHERE $SCOPE GROUP BY workload, d FORMAT TSV`
	// qUsers: what classification reads of every sign-in account. The
	// outcomes are the counted sign-ins' (copy 0), where a copy that gives
	// the counted sign-in its outcome (copy 1+o, triage.Decoded.MovedFrom)
	// has it instead of o.
	qUsers = `SELECT user, max(user_kind = $UNUSABLE),
		countIf(copy != 1 AND outcome = $SUCCESS) - countIf(copy = 1 + $SUCCESS),
		countIf(copy != 1 AND outcome = $INTERRUPTED) - countIf(copy = 1 + $INTERRUPTED),
		countIf(copy != 1 AND outcome = $FAILURE) - countIf(copy = 1 + $FAILURE),
		max(copy = 0 AND guest = 1), max(copy = 0 AND actor_unknown = 1), groupBitOr(bitShiftLeft(toUInt8(1), kind)),
		max(kind = $SIGNINLOG AND user_type = 'guest'), max(kind = $SIGNINLOG AND user_type = 'member')
		FROM $EVENTS FINAL PREWHERE $SCOPE AND outcome > 0 GROUP BY user FORMAT TSV`
	// qUserCounts: per account, counted sign-ins per actor tenant (t),
	// sign-ins per cross-tenant access type (x), and the host domains of
	// its #EXT# UPNs (g: our domains).
	qUserCounts = `SELECT user, f.1, f.2, count() FROM $EVENTS FINAL
		ARRAY JOIN [('t', if(copy = 0, actor_tenant, '')), ('x', if(kind = $SIGNINLOG, cross_tenant, '')),
			('g', if(copy = 0, guest_host, ''))] AS f
		PREWHERE $SCOPE AND outcome > 0 WHERE f.2 != '' GROUP BY user, f.1, f.2 FORMAT TSV`
	// qAliases: external-unknown names the two logs gave one account.
	qAliases = `SELECT a_name, a_kind, b_name, b_kind, tenant FROM $ALIASES FINAL WHERE $TENANTS FORMAT TSV`

	// The outside identities' own sign-ins ($NAMES, external data).
	qIdentities = `SELECT user, minIf(ts, copy = 0), maxIf(ts, copy = 0),
		countIf(kind = $SIGNINLOG AND interactive = 1), countIf(kind = $SIGNINLOG AND interactive = 2)
		FROM $EVENTS FINAL PREWHERE $SCOPE AND outcome > 0 AND user IN $NAMES GROUP BY user FORMAT TSV`
	// qIdentityCounts: the sign-in log's facts (l, c, r, a), the IPs (i)
	// and the UTC days of the counted sign-ins (d).
	qIdentityCounts = `SELECT user, f.1, f.2, count() FROM $EVENTS FINAL
		ARRAY JOIN arrayConcat([('l', if(kind = $SIGNINLOG, location, '')), ('c', if(kind = $SIGNINLOG, ca_status, '')),
			('r', if(kind = $SIGNINLOG, risk, '')), ('a', if(kind = $SIGNINLOG, client_app, '')),
			('d', if(copy = 0, toString($DAY), ''))],
			arrayMap(x -> ('i', x), if(copy = 0, ips, emptyArrayString()))) AS f
		PREWHERE $SCOPE AND outcome > 0 AND user IN $NAMES WHERE f.2 != '' GROUP BY user, f.1, f.2 FORMAT TSV`
	// qUserAgents: the 20 smallest distinct, as the engine keeps them.
	qUserAgents = `SELECT user, ua FROM $EVENTS FINAL
		PREWHERE $SCOPE AND outcome > 0 AND ua != '' AND user IN $NAMES WHERE copy = 0
		GROUP BY user, ua ORDER BY user, ua LIMIT 20 BY user FORMAT TSV`
	// qApps: per application, sign-ins, successes and the earliest success.
	// A counted sign-in (copy 0) counts for its app; so does a copy that
	// gives the counted sign-in (of outcome copy-1) its application and
	// outcome (copy 2-4, triage.Decoded.MovedFrom), which is also the
	// success to cite, and which takes the sign-in (and a success) from the
	// empty app. The second element of m is ('', 0, 0) for a counted
	// sign-in, dropped.
	// The empty app's earliest success is, as the engine's noAppFirsts
	// has it, the earliest of its $NOAPP earliest successes whose sign-in
	// (signin) no copy took away, none when every one was: the last
	// column says whether there is one.
	qApps = `SELECT user, m.1, sum(m.2), sum(m.3),
		arrayFilter(x -> tupleElement(x, 5) = '' OR NOT has(groupUniqArrayIf(signin, m.2 < 0 AND signin != ''), tupleElement(x, 5)),
			arraySlice(arraySort(groupArrayIf(tuple(ts, id, file_seq, line, signin), outcome = $SUCCESS AND m.2 > 0 AND m.1 = '')), 1, $NOAPP)) AS noapp,
		if(m.1 = '', tupleElement(noapp[1], 1), minIf(ts, outcome = $SUCCESS AND m.2 > 0)),
		if(m.1 = '', tupleElement(noapp[1], 2), argMinIf(id, tuple(ts, id, file_seq, line), outcome = $SUCCESS AND m.2 > 0)),
		if(m.1 = '', tupleElement(noapp[1], 3), argMinIf(file_seq, tuple(ts, id, file_seq, line), outcome = $SUCCESS AND m.2 > 0)),
		if(m.1 = '', tupleElement(noapp[1], 4), argMinIf(line, tuple(ts, id, file_seq, line), outcome = $SUCCESS AND m.2 > 0)),
		m.1 != '' OR length(noapp) > 0
		FROM $EVENTS FINAL
		ARRAY JOIN [(app, toInt64(1), toInt64(outcome = $SUCCESS)),
			('', -toInt64(copy != 0), -toInt64(copy = 1 + $SUCCESS))] AS m
		PREWHERE $SCOPE AND outcome > 0 AND user IN $NAMES WHERE copy != 1 AND m.2 != 0
		GROUP BY user, m.1 FORMAT TSV`
	// qAppNames: per application, the names the sign-in log gives it and
	// how many sign-ins gave each, copies included (the engine keeps the
	// names of every copy: only the sign-in log has them).
	qAppNames = `SELECT user, app, app_name, count() FROM $EVENTS FINAL
		PREWHERE $SCOPE AND outcome > 0 AND user IN $NAMES WHERE app_name != ''
		GROUP BY user, app, app_name FORMAT TSV`
	// qTenantNames: per home tenant, the names the sign-in log gives it and
	// how many sign-ins gave each, copies included, as qAppNames.
	qTenantNames = `SELECT user, actor_tenant, home_name, count() FROM $EVENTS FINAL
		PREWHERE $SCOPE AND outcome > 0 AND user IN $NAMES WHERE home_name != ''
		GROUP BY user, actor_tenant, home_name FORMAT TSV`

	// $BUCKETS selects U and P of every outside identity at once: its own
	// records, and every record from an address it signed in from that
	// can link records ($IPS, external data: the identities' addresses
	// that audit.Identifying accepts, decided in Go as the engine decides
	// them, so a documentation or loopback address shared by a whole
	// sanitised log brings back nothing).
	bucketFilter = `(user IN $NAMES OR arrayExists(x -> x IN $IPS, ips))`
	// qBuckets: per (account, address set), counts per operation and
	// category: the bucket's counters and histograms.
	qBuckets = `SELECT user, arrayStringConcat(ips, ' '), outcome > 0, op, cats, min(user_kind), count()
		FROM $EVENTS FINAL PREWHERE $SCOPE AND $BUCKETS WHERE copy = 0
		GROUP BY user, ips, outcome > 0, op, cats FORMAT TSV`
	// qEvidence: per bucket the K earliest records of each class: 0 not a
	// sign-in, 1 a sign-in (not needed for outside identities' own
	// buckets, whose sign-ins are never evidence), 2 mailbox, 3 admin,
	// 4 not opening shared content (2-4: only the first is used).
	qEvidence = `SELECT user, arrayStringConcat(ips, ' '), c, ts, id, file_seq, line, op, raw_user, if(outcome > 0, app, object)
		FROM $EVENTS FINAL
		ARRAY JOIN arrayFilter(x -> x >= 0, [if(outcome > 0, if(user IN $NAMES, -1, 1), 0),
			if(outcome = 0 AND bitAnd(cats, $MAILBOX) != 0, 2, -1), if(outcome = 0 AND bitAnd(cats, $ADMIN) != 0, 3, -1),
			if(outcome = 0 AND bitAnd(cats, $ACCESS) = 0, 4, -1)]) AS c
		PREWHERE $SCOPE AND $BUCKETS WHERE copy = 0
		ORDER BY user, ips, c, ts, id, file_seq, line LIMIT $K BY user, ips, c FORMAT TSV`
	// qShares and qShareEvidence: H, the sharing records naming them.
	qShares = `SELECT share_to, count() FROM $EVENTS FINAL
		PREWHERE $SCOPE AND share_to IN $NAMES WHERE copy = 0 GROUP BY share_to FORMAT TSV`
	qShareEvidence = `SELECT share_to, ts, id, file_seq, line, op, raw_user, object, target FROM $EVENTS FINAL
		PREWHERE $SCOPE AND share_to IN $NAMES WHERE copy = 0
		ORDER BY share_to, ts, id, file_seq, line LIMIT $K BY share_to FORMAT TSV`
	// qObjects: the object fields of the records the accessed lists are
	// made from, by Id ($IDS) and then (Id, line) ($KEYS); the file is
	// matched in Go. The line is read after FINAL: copies of a record
	// from two files may hold different lines.
	qObjects = `SELECT file_seq, line, id, objects_read, site_url, if(objects_read = 2, object, object_id), rel_url, file_name,
		mailbox_owner, folders, team, channel
		FROM $EVENTS FINAL PREWHERE $SCOPE AND outcome = 0 AND id IN $IDS WHERE (id, line) IN $KEYS FORMAT TSV`
)

// triage judges one scope: (a) the accounts' sign-ins and what
// classification needs, (b) the engine's classification picks the outside
// identities, (c) only their sign-ins, the records by them or from their
// addresses, and the sharing naming them come back, (d) the engine's
// aggregates are rebuilt from those rows and its judge writes the report.
func (q *querier) triage(ctx context.Context, s scope, opts triage.Options) (*triage.Report, error) {
	k := opts.MaxEvidence
	if k <= 0 {
		k = triage.DefaultMaxEvidence
	}
	var p parser
	fl, err := q.files(ctx, s)
	if err != nil {
		return nil, err
	}

	// (a) Totals, our tenant, every sign-in account.
	var kept, minT, maxT, dups int64
	orgs := map[string]int64{}
	if err := q.query(ctx, sql(qTotals, s, k), nil, 5, func(f []string) error {
		kept += p.i64(f[1])
		if counted := p.i64(f[2]); counted > 0 {
			if lo := p.i64(f[3]); minT == 0 || lo < minT {
				minT = lo
			}
			maxT = max(maxT, p.i64(f[4]))
			if f[0] != "" {
				orgs[f[0]] += counted
			}
		}
		return p.err
	}); err != nil {
		return nil, err
	}
	if err := q.query(ctx, sql(qDups, s, k), nil, 1, func(f []string) error {
		dups = p.i64(f[0])
		return p.err
	}); err != nil {
		return nil, err
	}
	type coverageRow struct {
		w              audit.Workload
		day            int32
		n, first, last int64
	}
	var cover []coverageRow
	if err := q.query(ctx, sql(qCoverage, s, k), nil, 5, func(f []string) error {
		cover = append(cover, coverageRow{audit.Workload(p.u64(f[0])), int32(p.i64(f[1])), p.i64(f[2]), p.i64(f[3]), p.i64(f[4])})
		return p.err
	}); err != nil {
		return nil, err
	}
	var hosts []string
	users := map[string]*triage.User{}
	if err := q.query(ctx, sql(qUsers, s, k), nil, 10, func(f []string) error {
		users[f[0]] = &triage.User{Name: f[0], Unusable: f[1] == "1",
			Success: p.i64(f[2]), Interrupted: p.i64(f[3]), Failure: p.i64(f[4]),
			Guest: f[5] == "1", ActorUnknown: f[6] == "1", Sources: uint8(p.u64(f[7])),
			GuestType: f[8] == "1", MemberType: f[9] == "1"}
		return p.err
	}); err != nil {
		return nil, err
	}
	if err := q.query(ctx, sql(qUserCounts, s, k), nil, 4, func(f []string) error {
		u := users[f[0]]
		if u == nil {
			return fmt.Errorf("clickhouse: counts for an account %q the sign-ins did not list", truncate(f[0], 80))
		}
		c := triage.Count{Value: f[2], N: p.i64(f[3])}
		switch f[1] {
		case "t":
			u.Tenants = append(u.Tenants, c)
		case "x":
			u.CrossTenant = append(u.CrossTenant, c)
		case "g":
			hosts = append(hosts, f[2])
		}
		return p.err
	}); err != nil {
		return nil, err
	}
	var aliases []triage.AliasPair
	if err := q.query(ctx, sql(qAliases, s, k), nil, 5, func(f []string) error {
		aliases = append(aliases, triage.AliasPair{Tenant: f[4],
			A: triage.Alias{Name: f[0], Kind: audit.Kind(p.u64(f[1]))}, B: triage.Alias{Name: f[2], Kind: audit.Kind(p.u64(f[3]))}})
		return p.err
	}); err != nil {
		return nil, err
	}
	fill := func(x *triage.Aggregates) {
		x.SetTotals(kept, dups, 0, minT, maxT)
		for org, n := range orgs {
			x.AddOrg(org, n)
		}
		for _, h := range hosts {
			x.AddGuestHost(h)
		}
		for _, a := range aliases {
			x.AddAlias(a)
		}
		for _, c := range cover {
			x.AddCoverage(c.w, c.day, c.n, c.first, c.last)
		}
	}

	// (b) Classify with the engine's code.
	light := triage.NewAggregates(k)
	fill(light)
	for _, u := range users {
		light.AddUser(u)
	}
	names := light.Externals(opts)

	x := triage.NewAggregates(k)
	fill(x)
	if len(names) > 0 {
		// (c) Only the outside identities come back in full.
		if err := q.identities(ctx, s, k, names, users, fl); err != nil {
			return nil, err
		}
		if err := q.buckets(ctx, s, k, names, linking(names, users), fl, x); err != nil {
			return nil, err
		}
		if err := q.shares(ctx, s, k, names, fl, x); err != nil {
			return nil, err
		}
	}
	// (d) The engine's own judge, then what was touched.
	for _, u := range users {
		x.AddUser(u)
	}
	r := x.Finish(fl.files, opts)
	if opts.SkipAccessed {
		r.DropAccessed(triage.AccessedNotAsked)
		return r, nil
	}
	if err := q.accessed(ctx, s, k, r, fl); err != nil {
		return nil, err
	}
	return r, nil
}

// accessedBeforeObjects is why a report has no accessed lists when some of
// the records they are made from were loaded before outsider stored the
// objects records name: their objects are unknown, and lists made without
// them would read as fewer objects touched, or none.
const accessedBeforeObjects = "%d of the records the lists are made from were loaded by an outsider older than the one that stores the objects a record names (column objects_read is 0 in their rows); load their files again (the tables replace the rows) to see what was touched"

// accessed fills the report's accessed lists from the object columns of
// the records they are made from (triage.Report.AccessedRecords): the
// lists the in-process engine makes from the same records read again.
func (q *querier) accessed(ctx context.Context, s scope, k int, r *triage.Report, fl *fileList) error {
	keys := r.AccessedRecords()
	want := make(map[triage.RecordKey]bool, len(keys))
	var ids []string
	var keyRows []byte
	for _, key := range keys {
		want[key] = true
		ids = append(ids, key.ID)
		keyRows = AppendTSV(keyRows, []byte(key.ID))
		keyRows = strconv.AppendInt(append(keyRows, '\t'), key.Line, 10)
		keyRows = append(keyRows, '\n')
	}
	objects := make(map[triage.RecordKey]triage.ObjectFields, len(keys))
	old := 0
	if len(keys) > 0 {
		ext := []External{extTable(extIDs, "id", ids), {Name: extKeys, Structure: "id String, line Int64", Rows: keyRows}}
		var p parser
		err := q.queryExt(ctx, sql(qObjects, s, k), ext, 12, func(f []string) error {
			key := triage.RecordKey{File: fl.file(p.u64(f[0])), Line: p.i64(f[1]), ID: f[2]}
			if p.err != nil || !want[key] {
				return p.err
			}
			if f[3] == "0" {
				old++
				return nil
			}
			o := triage.ObjectFields{SiteURL: f[4], ObjectID: f[5], RelativeURL: f[6], FileName: f[7], Owner: f[8], Team: f[10], Channel: f[11]}
			if f[9] != "" {
				if err := json.Unmarshal([]byte(f[9]), &o.Folders); err != nil {
					return fmt.Errorf("clickhouse: bad folders %q in a result: %w", truncate(f[9], 80), err)
				}
			}
			objects[key] = o
			return nil
		})
		if err != nil {
			return err
		}
	}
	if old > 0 {
		r.DropAccessed(fmt.Sprintf(accessedBeforeObjects, old))
		return nil
	}
	r.FillAccessed(objects)
	return nil
}

// identities completes the outside identities' User: period, addresses,
// agents, applications and the sign-in log's facts.
func (q *querier) identities(ctx context.Context, s scope, k int, names []string, users map[string]*triage.User, fl *fileList) error {
	var p parser
	get := func(name string) (*triage.User, error) {
		if u := users[name]; u != nil {
			return u, nil
		}
		return nil, fmt.Errorf("clickhouse: sign-ins of an account %q the first query did not list", truncate(name, 80))
	}
	// Each query's rows start with the account they complete.
	steps := []struct {
		query string
		cols  int
		row   func(u *triage.User, f []string) error
	}{
		{qIdentities, 5, func(u *triage.User, f []string) error {
			u.First, u.Last, u.Interactive, u.NonInteractive = p.i64(f[1]), p.i64(f[2]), p.i64(f[3]), p.i64(f[4])
			return p.err
		}},
		{qIdentityCounts, 4, func(u *triage.User, f []string) error {
			c := triage.Count{Value: f[2], N: p.i64(f[3])}
			switch f[1] {
			case "l":
				u.Locations = append(u.Locations, c)
			case "c":
				u.ConditionalAccess = append(u.ConditionalAccess, c)
			case "r":
				u.RiskLevels = append(u.RiskLevels, c)
			case "a":
				u.ClientApps = append(u.ClientApps, c)
			case "i":
				u.IPs = append(u.IPs, p.ips(f[2])...)
			case "d":
				u.SigninDays = append(u.SigninDays, int32(p.i64(f[2])))
			}
			return p.err
		}},
		{qUserAgents, 2, func(u *triage.User, f []string) error {
			u.UserAgents = append(u.UserAgents, f[1])
			return nil
		}},
		{qApps, 10, func(u *triage.User, f []string) error {
			app := triage.UserApp{ID: f[1], Count: p.i64(f[2]), Success: p.i64(f[3])}
			if app.Success > 0 && f[9] == "1" {
				app.FirstSuccess = &triage.Ref{Time: p.i64(f[5]), ID: f[6], File: fl.file(p.u64(f[7])), Line: p.i64(f[8])}
			}
			u.Apps = append(u.Apps, app)
			return p.err
		}},
		{qAppNames, 4, func(u *triage.User, f []string) error {
			i := slices.IndexFunc(u.Apps, func(a triage.UserApp) bool { return a.ID == f[1] })
			if i < 0 {
				// Names from copies of sign-ins counted under another app.
				u.Apps = append(u.Apps, triage.UserApp{ID: f[1]})
				i = len(u.Apps) - 1
			}
			u.Apps[i].Names = append(u.Apps[i].Names, triage.Count{Value: f[2], N: p.i64(f[3])})
			return p.err
		}},
		{qTenantNames, 4, func(u *triage.User, f []string) error {
			u.TenantNames = append(u.TenantNames, triage.TenantName{Tenant: f[1], Name: f[2], N: p.i64(f[3])})
			return p.err
		}},
	}
	for _, st := range steps {
		if err := q.query(ctx, sql(st.query, s, k), names, st.cols, func(f []string) error {
			u, err := get(f[0])
			if err != nil {
				return err
			}
			return st.row(u, f)
		}); err != nil {
			return err
		}
	}
	return nil
}

// linking lists, sorted, the addresses of the outside identities' sign-ins
// that link records (audit.Identifying): the only addresses the engine's
// judge looks up.
func linking(names []string, users map[string]*triage.User) []string {
	set := map[netip.Addr]bool{}
	for _, n := range names {
		if u := users[n]; u != nil {
			for _, ip := range u.IPs {
				if audit.Identifying(ip) {
					set[ip] = true
				}
			}
		}
	}
	out := make([]string, 0, len(set))
	for ip := range set {
		out = append(out, ip.String())
	}
	slices.Sort(out)
	return out
}

// buckets fetches every bucket that meets an outside identity: its own
// records and the records from its addresses that link (ips).
func (q *querier) buckets(ctx context.Context, s scope, k int, names, ips []string, fl *fileList, x *triage.Aggregates) error {
	ext := []External{extTable(extNames, "user", names), extTable(extIPs, "ip", ips)}
	var p parser
	type key struct{ user, ips string }
	buckets := map[key]*triage.Bucket{}
	var order []key
	get := func(user, ips string) *triage.Bucket {
		kk := key{user, ips}
		b := buckets[kk]
		if b == nil {
			b = &triage.Bucket{User: user, IPs: p.ips(ips), Kind: audit.UserKind(255)}
			buckets[kk] = b
			order = append(order, kk)
		}
		return b
	}
	if err := q.queryExt(ctx, sql(qBuckets, s, k), ext, 7, func(f []string) error {
		b := get(f[0], f[1])
		n := p.i64(f[6])
		cats := audit.Category(p.u64(f[4]))
		if kind := audit.UserKind(p.u64(f[5])); kind < b.Kind {
			b.Kind = kind
		}
		c := triage.Count{Value: f[3], N: n}
		if f[2] == "1" {
			b.Signins += n
			b.SigninOps = append(b.SigninOps, c)
			return p.err
		}
		b.NonSignin += n
		b.Cats |= cats
		b.Ops = append(b.Ops, c)
		if cats&audit.CatAccess == 0 {
			b.NonAccess += n
		}
		if cats&audit.CatAnonLinkUsed != 0 {
			b.AnonUsed += n
		}
		return p.err
	}); err != nil {
		return err
	}
	if err := q.queryExt(ctx, sql(qEvidence, s, k), ext, 10, func(f []string) error {
		b := buckets[key{f[0], f[1]}]
		if b == nil {
			return fmt.Errorf("clickhouse: evidence for a bucket the counts did not list (%q)", truncate(f[0], 80))
		}
		r := triage.Ref{Time: p.i64(f[3]), ID: f[4], File: fl.file(p.u64(f[5])), Line: p.i64(f[6]), Op: f[7], User: f[8], Object: f[9]}
		if len(b.IPs) > 0 {
			r.IP = b.IPs[0]
		}
		first := func(dst **triage.Ref) {
			if *dst == nil { // rows come earliest first
				c := r
				*dst = &c
			}
		}
		switch f[2] {
		case "0":
			b.Evidence = append(b.Evidence, r)
		case "1":
			b.SigninEvidence = append(b.SigninEvidence, r)
		case "2":
			first(&b.FirstMailbox)
		case "3":
			first(&b.FirstAdmin)
		case "4":
			first(&b.FirstNonAccess)
		}
		return p.err
	}); err != nil {
		return err
	}
	for _, kk := range order {
		x.AddBucket(buckets[kk])
	}
	return nil
}

// shares fetches H: the sharing records naming an outside identity.
func (q *querier) shares(ctx context.Context, s scope, k int, names []string, fl *fileList, x *triage.Aggregates) error {
	var p parser
	shares := map[string]*triage.Shared{}
	if err := q.query(ctx, sql(qShares, s, k), names, 2, func(f []string) error {
		shares[f[0]] = &triage.Shared{Target: f[0], Count: p.i64(f[1])}
		return p.err
	}); err != nil {
		return err
	}
	if err := q.query(ctx, sql(qShareEvidence, s, k), names, 9, func(f []string) error {
		sh := shares[f[0]]
		if sh == nil {
			return fmt.Errorf("clickhouse: sharing evidence for a target the counts did not list (%q)", truncate(f[0], 80))
		}
		sh.Evidence = append(sh.Evidence, triage.Ref{Time: p.i64(f[1]), ID: f[2], File: fl.file(p.u64(f[3])), Line: p.i64(f[4]),
			Op: f[5], User: f[6], Object: f[7], Target: f[8]})
		return p.err
	}); err != nil {
		return err
	}
	for _, sh := range shares {
		x.AddShared(sh)
	}
	return nil
}
