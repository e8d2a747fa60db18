package source

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"strings"
	"sync"
	"testing"

	"github.com/outsider-sec/outsider/internal/testutil"
)

// benchRecord returns a realistic UAL record (an Entra STS logon) of
// about 1.2 KB, varied by i.
func benchRecord(rng *rand.Rand, i int) string {
	ops := []string{"UserLoggedIn", "UserLoginFailed", "FileAccessed", "MailItemsAccessed"}
	return fmt.Sprintf(`{"CreationTime":"2024-03-%02dT%02d:%02d:%02d","Id":"%08x-%04x-%04x-%04x-%012x","Operation":"%s","OrganizationId":"8d4121ed-0008-406d-bff9-0d5bb312183c","RecordType":15,"ResultStatus":"Success","UserKey":"1003200%09d","UserType":0,"Version":1,"Workload":"AzureActiveDirectory","ClientIP":"203.0.%d.%d","ObjectId":"00000003-0000-0ff1-ce00-000000000000","UserId":"user%d@contoso.onmicrosoft.com","AzureActiveDirectoryEventType":1,"ExtendedProperties":[{"Name":"ResultStatusDetail","Value":"Success"},{"Name":"UserAgent","Value":"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0"},{"Name":"RequestType","Value":"OAuth2:Authorize"}],"ModifiedProperties":[],"Actor":[{"ID":"%08x-1111-2222-3333-444455556666","Type":0},{"ID":"user%d@contoso.onmicrosoft.com","Type":5}],"ActorContextId":"8d4121ed-0008-406d-bff9-0d5bb312183c","ActorIpAddress":"203.0.%d.%d","InterSystemsId":"%08x-aaaa-bbbb-cccc-ddddeeeeffff","IntraSystemId":"%08x-9999-8888-7777-666655554444","SupportTicketId":"","Target":[{"ID":"Unknown","Type":0}],"TargetContextId":"8d4121ed-0008-406d-bff9-0d5bb312183c","ApplicationId":"89bee1f7-5e6e-4d8a-9f3d-ecd601259da7","DeviceProperties":[{"Name":"OS","Value":"Windows10"},{"Name":"BrowserType","Value":"Edge"},{"Name":"IsCompliantAndManaged","Value":"False"},{"Name":"SessionId","Value":"%08x-0000-1111-2222-333344445555"}],"ErrorNumber":"0","Path":"C:\\Users\\u%d\\x"}`,
		1+i%28, i%24, i%60, (i/60)%60, rng.Uint32(), i&0xffff, rng.Intn(0xffff), rng.Intn(0xffff), rng.Int63n(1<<48), ops[i%len(ops)],
		i, i%250, (i/250)%250, i%5000, rng.Uint32(), i%5000, i%250, (i/250)%250, rng.Uint32(), rng.Uint32(), rng.Uint32(), i)
}

var benchData struct {
	once                  sync.Once
	jsonl, csv, arr, pcsv []byte
	pretty                []byte
}

const benchSize = 64 << 20

func loadBench(b *testing.B) {
	benchData.once.Do(func() {
		rng := rand.New(rand.NewSource(1))
		var jl, cs, arr bytes.Buffer
		cs.WriteString(`"RecordType","CreationDate","UserIds","Operations","AuditData","ResultIndex","ResultCount","Identity","IsValid","ObjectState"` + "\r\n")
		arr.WriteString("[")
		for i := 0; jl.Len() < benchSize; i++ {
			r := benchRecord(rng, i)
			jl.WriteString(r)
			jl.WriteByte('\n')
			fmt.Fprintf(&cs, `"AzureActiveDirectoryStsLogon","3/%d/2024 1:14:02 PM","user%d@contoso.onmicrosoft.com","UserLoggedIn","%s","%d","50000","%08x-0000-0000-0000-000000000000","True","Unchanged"`+"\r\n",
				1+i%28, i%5000, strings.ReplaceAll(r, `"`, `""`), i, i)
			if i > 0 {
				arr.WriteString(",")
			}
			arr.WriteString(r)
		}
		arr.WriteString("]")
		var pretty bytes.Buffer
		// ConvertTo-Json style: deep indentation, CRLF.
		if err := json.Indent(&pretty, arr.Bytes(), "", "    "); err != nil {
			panic(err)
		}
		benchData.jsonl, benchData.csv, benchData.arr = jl.Bytes(), cs.Bytes(), arr.Bytes()
		benchData.pretty = bytes.ReplaceAll(pretty.Bytes(), []byte("\n"), []byte("\r\n"))
	})
	// The first benchmark to get here paid for generating the data.
	b.ResetTimer()
}

func benchRead(b *testing.B, data []byte, want Format) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	var n int
	for i := 0; i < b.N; i++ {
		n = 0
		ins, err := Read(context.Background(), []string{"-"}, Options{Stdin: bytes.NewReader(data)}, func(bt *Batch) error {
			n += len(bt.Records)
			bt.Release()
			return nil
		}, func(p Problem) { b.Fatal(p.Error()) })
		if err != nil || ins[0].Format != want {
			b.Fatal(err, ins)
		}
	}
	b.ReportMetric(float64(n), "records")
}

func BenchmarkJSONLines(b *testing.B) {
	loadBench(b)
	benchRead(b, benchData.jsonl, UALJSONL)
}

// BenchmarkJSONLinesFile reads the same data from a file (in the page
// cache once the first iteration has run).
func BenchmarkJSONLinesFile(b *testing.B) {
	loadBench(b)
	p := testutil.WriteFile(b, b.TempDir(), "ual.jsonl", benchData.jsonl)
	b.SetBytes(int64(len(benchData.jsonl)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_, err := Read(context.Background(), []string{p}, Options{}, func(bt *Batch) error { bt.Release(); return nil }, func(p Problem) { b.Fatal(p.Error()) })
		if err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCSV(b *testing.B) {
	loadBench(b)
	benchRead(b, benchData.csv, ExportCSV)
}

func BenchmarkJSONArrayCompact(b *testing.B) {
	loadBench(b)
	benchRead(b, benchData.arr, UALJSON)
}

func BenchmarkJSONArrayPretty(b *testing.B) {
	loadBench(b)
	benchRead(b, benchData.pretty, UALJSON)
}

// BenchmarkCSVField is the decoder's side of CSV: unquoting AuditData.
func BenchmarkCSVField(b *testing.B) {
	loadBench(b)
	benchCSVField(b, bytes.Split(benchData.csv[:1<<20], []byte("\r\n"))[1:100], 4, ',')
}

// benchCSVField times CSVFieldSep on rows separated by sep, the AuditData
// cell being field col: with ',' that is CSVField, after one compare.
func benchCSVField(b *testing.B, rows [][]byte, col int, sep byte) {
	var size int64
	for _, r := range rows {
		size += int64(len(r))
	}
	b.SetBytes(size)
	b.ReportAllocs()
	b.ResetTimer()
	var scratch []byte
	for i := 0; i < b.N; i++ {
		for _, r := range rows {
			var err error
			// scratch is appended to (a caller may keep several rows'
			// fields); emptied per row as the engine does per batch.
			if _, scratch, err = CSVFieldSep(r, col, sep, scratch[:0]); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkCSVFieldPurview is BenchmarkCSVField on rows shaped as
// Purview's exports are (the fields before AuditData unquoted, so
// CSVField jumps to its column: nthComma with AVX-512).
func BenchmarkCSVFieldPurview(b *testing.B) {
	loadBench(b)
	rng := rand.New(rand.NewSource(1))
	var rows [][]byte
	for i := range 99 {
		r := fmt.Sprintf(`%08x-0000-0000-0000-000000000000,3/%d/2024 1:14:02 PM,15,UserLoggedIn,user%d@contoso.onmicrosoft.com,"%s",,`,
			i, 1+i%28, i, strings.ReplaceAll(benchRecord(rng, i), `"`, `""`))
		rows = append(rows, []byte(r))
	}
	benchCSVField(b, rows, 5, ',')
}

// BenchmarkCSVFieldSemicolon is BenchmarkCSVFieldPurview on the same rows
// saved again by Excel with ';' (csvFieldFrom from the first field), for
// comparison: such exports are rare, the comma path is the one to keep
// fast.
func BenchmarkCSVFieldSemicolon(b *testing.B) {
	loadBench(b)
	rng := rand.New(rand.NewSource(1))
	var rows [][]byte
	for i := range 99 {
		r := fmt.Sprintf(`%08x-0000-0000-0000-000000000000;3.%d.2024 13:14;15;UserLoggedIn;user%d@contoso.onmicrosoft.com;"%s";;`,
			i, 1+i%28, i, strings.ReplaceAll(benchRecord(rng, i), `"`, `""`))
		rows = append(rows, []byte(r))
	}
	benchCSVField(b, rows, 5, ';')
}

// BenchmarkScanNestedRaw and BenchmarkScanNestedRawCompact time the JSON
// scanner's inner loop alone, without buffer management.
func BenchmarkScanNestedRaw(b *testing.B) {
	loadBench(b)
	benchScanNested(b, benchData.pretty[1:])
}

func BenchmarkScanNestedRawCompact(b *testing.B) {
	loadBench(b)
	benchScanNested(b, benchData.arr[1:])
}

func benchScanNested(b *testing.B, data []byte) {
	b.SetBytes(int64(len(data)))
	for i := 0; i < b.N; i++ {
		j := &jsonScanner{base: -1, depth: 0}
		pos := 0
		for pos < len(data) {
			pos, _ = j.scanNested(data, pos)
		}
	}
}
