// A ClickHouse HTTP interface in front of chDB (current ClickHouse, embedded
// in the npm package "chdb"), enough for outsider's load and triage: the
// query in the URL or the body, data after an INSERT in the body, external
// data tables (multipart/form-data with <name>_structure), errors as HTTP
// 500 with ClickHouse's "Code: N" text. It lets scripts/chdb-check.sh run
// the very statements outsider sends to 18.16 against current ClickHouse,
// unchanged, end to end. Settings in the URL are accepted and ignored
// (they concern transport and distribution, which chDB does not have).
//
// Usage: node clickhouse-http.mjs PORT DATADIR [LOGFILE]   (chdb resolvable
// from the working directory; DATADIR must be this server's own: two
// sessions on one folder corrupt each other).
import http from "node:http";
import fs from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(process.cwd() + "/");
const { Session } = require("chdb");
const session = new Session(process.argv[3]);
// chDB turns inserts asynchronous by default, and refuses those whose data
// follows the statement; a server inserts synchronously.
session.query("SET async_insert = 0");
const port = Number(process.argv[2] || 8123);
const log = process.argv[4] ? fs.openSync(process.argv[4], "a") : null;

// multipart parses multipart/form-data into {name: Buffer}.
function multipart(body, contentType) {
  const m = /boundary=(?:"([^"]+)"|([^;]+))/.exec(contentType);
  const boundary = Buffer.from("--" + (m[1] || m[2]));
  const parts = {};
  let pos = body.indexOf(boundary);
  while (pos >= 0) {
    const start = pos + boundary.length;
    if (body.slice(start, start + 2).toString() === "--") break;
    const headEnd = body.indexOf("\r\n\r\n", start);
    const head = body.slice(start, headEnd).toString();
    const next = body.indexOf(boundary, headEnd);
    const name = /name="([^"]+)"/.exec(head)[1];
    parts[name] = body.slice(headEnd + 4, next - 2); // minus the CRLF before the boundary
    pos = next;
  }
  return parts;
}

// run executes one statement. Session.query, not queryAsync: chDB's async
// path refuses an INSERT whose data follows the statement. Results are
// strings (UTF-8), which is what outsider's generated tenants hold.
function run(sql) {
  if (log) fs.writeSync(log, sql.split("\n")[0] + "\n");
  return Buffer.from(session.query(sql, "TSV") || "", "utf8");
}

// insert runs "INSERT INTO t (cols) FORMAT TSV" with data, as a server
// reads it from the request body: the data goes through a file (FROM
// INFILE), the statement otherwise as sent. chDB 3.4 sometimes reads the
// first INSERT of a session from a stale buffer (the text of an earlier
// request: "Cannot parse input ... at row 1"); the same statement on the
// same file then succeeds, so a parse error at row 1 is tried once more
// (a real one fails again and is reported).
const spool = process.argv[3] + ".insert.tsv";
function insert(statement, data) {
  if (log) fs.writeSync(log, statement + "\n");
  const m = /^(INSERT INTO .*) (FORMAT TSV)\s*$/s.exec(statement);
  if (!m) throw new Error("Code: 62. DB::Exception: the shim takes INSERT ... FORMAT TSV only, not: " + statement.slice(0, 200));
  fs.writeFileSync(spool, data);
  const sql = `${m[1]} FROM INFILE '${spool}' ${m[2]}`;
  try {
    session.query(sql, "TSV");
  } catch (e) {
    if (!/Code: 27\..*\(at row 1\)/s.test(String(e.message))) throw e;
    console.error("chDB misread an INSERT's data at row 1; trying it once more");
    session.query(sql, "TSV");
  }
  return Buffer.alloc(0);
}

http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const body = Buffer.concat(chunks);
    const url = new URL(req.url, "http://x");
    let query = url.searchParams.get("query");
    const ext = [];
    try {
      let data = body;
      if ((req.headers["content-type"] || "").startsWith("multipart/form-data")) {
        const parts = multipart(body, req.headers["content-type"]);
        for (const [name, rows] of Object.entries(parts)) {
          const structure = url.searchParams.get(name + "_structure");
          ext.push(name);
          run(`CREATE TABLE ${name} (${structure}) ENGINE = Memory`);
          if (rows.length) insert(`INSERT INTO ${name} FORMAT TSV`, rows);
        }
        data = Buffer.alloc(0);
      }
      let out;
      if (query === null) {
        query = data.toString("utf8");
        out = run(query);
      } else if (data.length) {
        out = insert(query, data);
      } else {
        out = run(query);
      }
      res.writeHead(200, { "Content-Type": "text/tab-separated-values" });
      res.end(out);
    } catch (e) {
      const msg = String(e && e.message ? e.message : e);
      console.error(`error: ${msg.slice(0, 300)} in: ${(query || "").slice(0, 200)} body: ${JSON.stringify(body.slice(0, 200).toString())} (${body.length} bytes)`);
      res.writeHead(500, { "Content-Type": "text/plain" });
      res.end(/^Code: \d+/.test(msg) ? msg : "Code: 1000. DB::Exception: " + msg);
    } finally {
      for (const name of ext) {
        try { run(`DROP TABLE IF EXISTS ${name}`); } catch {}
      }
    }
  });
}).listen(port, "127.0.0.1", () => console.error(`chdb ClickHouse HTTP on 127.0.0.1:${port}`));
