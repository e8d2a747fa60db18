package explain

import "github.com/outsider-sec/outsider/internal/audit"

// recordTypes maps the numeric RecordType of a Unified Audit Log record to
// its AuditLogRecordType member name: the audit package's table, which the
// decoders also use to read RecordType names.
var recordTypes = audit.RecordTypeNames()
