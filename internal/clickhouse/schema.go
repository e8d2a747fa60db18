package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// The tables. With a cluster, each is a Distributed table of that name over
// a local table "<name>_local" on every server; without one, the name is
// the local table itself. Queries read the name either way.
const (
	// EventsTable holds one row per record, normalised by the engine's code.
	EventsTable = "outsider_events"
	// DuplicatesTable holds one row per repeat dropped while loading (for
	// input.duplicates, counted in the report's period and tenant).
	DuplicatesTable = "outsider_duplicates"
	// FilesTable holds one row per input file completely loaded: what
	// input.files reports.
	FilesTable = "outsider_files"
	// AliasesTable joins external-unknown names that the UAL and the
	// Entra sign-in log gave one account.
	AliasesTable = "outsider_aliases"
)

// column is one column of a table: name, type and why it is there.
type column struct{ name, typ string }

// eventColumns are outsider_events' columns, in insert order. Everything
// is normalised in Go by the engine's own code (canonical users, canonical
// IP strings sorted as the engine sorts them, outcome, categories, the
// sharing target), so the SQL parses no JSON and no addresses, which
// ClickHouse versions do differently.
var eventColumns = []column{
	{"tenant", "String"},       // OrganizationId, lower-case; '' when the record has none
	{"user", "String"},         // the account the engine aggregates the record under
	{"time", "DateTime"},       // CreationTime to the second: partitions and the primary index
	{"id", "String"},           // the record's Id (a sign-in log record: the sign-in's id)
	{"nokey", "UInt64"},        // 0, or for a record without Id a hash of where it was read: keeps such records apart
	{"ts", "Int64"},            // CreationTime in Unix nanoseconds: exact ordering and --since/--until
	{"kind", "UInt8"},          // 0 UAL, 1 Entra sign-in log
	{"copy", "UInt8"},          // 1: a sign-in already counted from the other log (only its facts count); 1+o: also its app and outcome (triage.Decoded.MovedFrom o)
	{"outcome", "UInt8"},       // 0 not a sign-in, 1 success, 2 interrupted, 3 failure
	{"user_kind", "UInt8"},     // audit.UserKind of the UserId
	{"raw_user", "String"},     // UserId as written (evidence)
	{"ips", "Array(String)"},   // the record's addresses, canonical, in netip order
	{"op", "String"},           // Operation
	{"cats", "UInt8"},          // audit.Category bits of a non-sign-in record
	{"app", "String"},          // ApplicationId, lower-case
	{"ua", "String"},           // user agent
	{"actor_tenant", "String"}, // ActorContextId / homeTenantId, lower-case
	{"guest", "UInt8"},         // sign-in by a #EXT# UPN or UserType 10
	{"guest_host", "String"},   // host domain of a #EXT# UPN (ours)
	{"actor_unknown", "UInt8"}, // an Actor entry says Unknown
	{"object", "String"},       // ObjectId
	{"target", "String"},       // sharing target as written
	{"share_to", "String"},     // canonical sharing target, for sharing records that name one
	{"cross_tenant", "String"}, // sign-in log: crossTenantAccessType, lower-case
	{"user_type", "String"},    // sign-in log: userType, lower-case
	{"location", "String"},     // sign-in log: "country|state|city", '' when none
	{"ca_status", "String"},    // sign-in log: conditionalAccessStatus
	{"risk", "String"},         // sign-in log: risk level
	{"client_app", "String"},   // sign-in log: clientAppUsed
	{"interactive", "UInt8"},   // sign-in log: 0 unknown, 1 interactive, 2 non-interactive
	{"app_name", "String"},     // sign-in log: the app's name as the log gives it (triage.SigninAppName)
	{"home_name", "String"},    // sign-in log: actor_tenant's name as the log gives it (triage.SigninTenantName)
	{"file_seq", "UInt64"},     // the file the record was read from (outsider_files.seq)
	{"line", "Int64"},          // line or row where it starts
	{"workload", "UInt8"},      // audit.Workload: the input's coverage per workload and day
	// The fields that name the objects a record touched, as
	// triage.ObjectFields reads them ('' for a sign-in): what the report's
	// accessed lists are made from.
	{"site_url", "String"},      // SiteUrl
	{"object_id", "String"},     // ObjectId as the object parser reads it, '' when objects_read is 2
	{"rel_url", "String"},       // SourceRelativeUrl
	{"file_name", "String"},     // SourceFileName
	{"mailbox_owner", "String"}, // MailboxOwnerUPN
	{"folders", "String"},       // paths of Folders[] and Item.ParentFolder: a JSON array of strings, '' for none
	{"team", "String"},          // TeamName
	{"channel", "String"},       // ChannelName
	// 1: the load read the fields above; 2: the same, and the object
	// parser's ObjectId is the decoder's (the object column), so it is
	// not stored twice. 0 in rows an older outsider loaded, whose fields
	// were never read: their objects are unknown, not none.
	{"objects_read", "UInt8"},
	// triage.SigninKey of the sign-in an app-less UAL success records
	// (IntraSystemId), and of the sign-in a copy that took such a success
	// away records (copy 1+success): the empty application's first
	// success is one not taken away (triage's noAppFirsts). '' otherwise,
	// and in rows an older outsider loaded, as the engine then had it.
	{"signin", "String"},
}

// objectColumns are the columns added for the accessed lists, in
// eventColumns' order.
var objectColumns = []string{"site_url", "object_id", "rel_url", "file_name", "mailbox_owner", "folders", "team", "channel", "objects_read"}

var duplicateColumns = []column{
	{"tenant", "String"}, {"time", "DateTime"}, {"ts", "Int64"}, {"id", "String"},
	{"path", "String"}, {"line", "Int64"},
}

var fileColumns = []column{
	{"seq", "UInt64"},            // (load start in ms << 20) | input index: load order
	{"path", "String"},           // as the report cites it
	{"format", "String"},         // sniffed or forced format
	{"records", "Int64"},         // records read (before deduplication)
	{"skipped", "Int64"},         // records that could not be read
	{"tenants", "Array(String)"}, // hex of each OrganizationId in the file ('' for none)
	{"loaded", "DateTime"},       // when the load finished
}

var aliasColumns = []column{
	{"tenant", "String"}, {"a_name", "String"}, {"a_kind", "UInt8"}, {"b_name", "String"}, {"b_kind", "UInt8"},
}

// table is one table's definition.
type table struct {
	name    string
	columns []column
	// added are columns added after the table was first defined: DDL
	// adds them to tables an older outsider created.
	added []string
	// engine is the local table's engine clause.
	engine string
	// shard is the Distributed table's sharding key.
	shard string
}

// tables: ReplacingMergeTree keyed by what identifies a row, so a file
// loaded again (or a load killed half-way and rerun) replaces its rows
// instead of adding to them; queries read with FINAL, and records are
// sharded by id so that the copies of a record always meet on one shard.
var tables = []table{
	{EventsTable, eventColumns, append(append([]string{"app_name", "home_name"}, objectColumns...), "signin"),
		"ReplacingMergeTree PARTITION BY toYYYYMM(time) ORDER BY (tenant, user, time, id, kind, nokey)", "cityHash64(id)"},
	{DuplicatesTable, duplicateColumns, nil,
		"ReplacingMergeTree PARTITION BY toYYYYMM(time) ORDER BY (tenant, time, id, path, line)", "cityHash64(id)"},
	{FilesTable, fileColumns, nil, "MergeTree ORDER BY seq", "cityHash64(path)"},
	{AliasesTable, aliasColumns, nil, "ReplacingMergeTree ORDER BY (tenant, a_name, a_kind, b_name, b_kind)", "cityHash64(a_name)"},
}

func names(cols []column) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.name
	}
	return out
}

var clusterName = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,200}$`)

// ValidateCluster checks a --cluster name.
func ValidateCluster(name string) error {
	if !clusterName.MatchString(name) {
		return fmt.Errorf("cluster name %q: want letters, digits, '_', '.' or '-'", name)
	}
	return nil
}

// DDL returns the statements that create the tables on one server: the
// local tables, and with cluster the Distributed tables over them.
func DDL(database, cluster string) []string {
	var out []string
	for _, t := range tables {
		local := t.name
		if cluster != "" {
			local += "_local"
		}
		var cols []string
		for _, c := range t.columns {
			cols = append(cols, c.name+" "+c.typ)
		}
		out = append(out, "CREATE TABLE IF NOT EXISTS "+QuoteIdent(local)+" ("+strings.Join(cols, ", ")+") ENGINE = "+t.engine)
		if cluster != "" {
			out = append(out, "CREATE TABLE IF NOT EXISTS "+QuoteIdent(t.name)+" AS "+QuoteIdent(local)+
				" ENGINE = Distributed("+Quote(cluster)+", "+Quote(database)+", "+Quote(local)+", "+t.shard+")")
		}

	}
	return out
}

// ErrOldSchema says a table was created by an older outsider and lacks
// columns this one reads: its rows cannot be judged as they were loaded.
var ErrOldSchema = errors.New("the tables were created by an older outsider")

// checkColumns makes sure the events table (if it exists) has every
// column outsider reads. CREATE TABLE IF NOT EXISTS leaves an older table
// as it was; adding a column there would give old rows a default that
// misreads them (every record of "workload" 0 would count as a sign-in),
// so the answer is to load again into new tables, never to guess.
func checkColumns(ctx context.Context, c *Client) error {
	have := map[string]bool{}
	err := c.Query(ctx, "SELECT name FROM system.columns WHERE database = currentDatabase() AND table = "+Quote(EventsTable)+" FORMAT TSV", nil,
		func(f []string) error {
			if len(f) > 0 {
				have[f[0]] = true
			}
			return nil
		})
	if err != nil || len(have) == 0 {
		return err // no table yet: the statements that need it say so
	}
	var missing []string
	for _, col := range eventColumns {
		if !have[col.name] {
			missing = append(missing, col.name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %s in database %s lacks %s; drop the outsider_* tables (or use a new database) and run 'outsider load' again",
			ErrOldSchema, EventsTable, c.Database, columnWords(missing))
	}
	return nil
}

// Init creates the tables on every server given (ClickHouse without
// ZooKeeper has no ON CLUSTER DDL: each server gets its local tables and,
// with a cluster, the Distributed tables, so that any of them can load and
// answer). Tables that exist keep their rows; columns added since an older
// outsider created them are added.
func Init(ctx context.Context, servers []*Client, cluster string) error {
	for _, c := range servers {
		for _, stmt := range DDL(c.Database, cluster) {
			if err := c.Exec(ctx, stmt); err != nil {
				return fmt.Errorf("creating the tables: %w", err)
			}
		}
		if err := addColumns(ctx, c, cluster); err != nil {
			return fmt.Errorf("adding columns to the tables: %w", err)
		}
		if err := checkColumns(ctx, c); err != nil {
			return err
		}
	}
	return nil
}

// addColumns adds the columns of tables.added that a table created by an
// older outsider lacks (the local table, and the Distributed one over it);
// rows loaded before have the type's default. ClickHouse 18 has no ADD
// COLUMN IF NOT EXISTS, so the columns are looked up first.
func addColumns(ctx context.Context, c *Client, cluster string) error {
	for _, t := range tables {
		if len(t.added) == 0 {
			continue
		}
		names := []string{t.name}
		if cluster != "" {
			names = []string{t.name + "_local", t.name}
		}
		for _, name := range names {
			have := map[string]bool{}
			err := c.Query(ctx, "SELECT name FROM system.columns WHERE database = "+Quote(c.Database)+
				" AND table = "+Quote(name)+" FORMAT TSV", nil, func(f []string) error {
				have[f[0]] = true
				return nil
			})
			if err != nil {
				return err
			}
			for _, col := range t.columns {
				if slices.Contains(t.added, col.name) && !have[col.name] {
					if err := c.Exec(ctx, "ALTER TABLE "+QuoteIdent(name)+" ADD COLUMN "+col.name+" "+col.typ); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

// columnWords names missing columns: "column workload", "columns a, b".
func columnWords(names []string) string {
	if len(names) == 1 {
		return "column " + names[0]
	}
	return "columns " + strings.Join(names, ", ")
}
