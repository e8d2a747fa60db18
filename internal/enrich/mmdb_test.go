package enrich

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// This file writes small MaxMind DB files for cases MaxMind's test
// databases do not cover: two databases disagreeing, an Enterprise layout,
// an IPv4-only database, an unsupported or mismatched layout. It implements
// just enough of the format (https://maxmind.github.io/MaxMind-DB/): 24-bit
// records, and maps, strings, unsigned integers, booleans and arrays in the
// data section.

// network is one entry of a test database: a prefix and its record.
type network struct {
	prefix string
	data   map[string]any
}

// mmdbSpec describes a test database.
type mmdbSpec struct {
	dbType    string
	ipVersion int // 4 or 6
	nets      []network
	// meta overrides or adds metadata keys (to write corrupt headers).
	meta map[string]any
}

// slot is one of a tree node's two records: a node, a data record or empty.
type slot struct {
	node int // > 0: index of a node (the root, 0, is never a child)
	data int // >= 0 when node == 0: index of a data record; -1: empty
}

var empty = slot{data: -1}

// buildMMDB returns the bytes of the database spec describes.
func buildMMDB(t testing.TB, spec mmdbSpec) []byte {
	t.Helper()
	bits := 128
	if spec.ipVersion == 4 {
		bits = 32
	}
	nodes := [][2]slot{{empty, empty}}
	var datas []map[string]any
	for _, n := range spec.nets {
		p := netip.MustParsePrefix(n.prefix)
		addr, plen := p.Addr().AsSlice(), p.Bits()
		if p.Addr().Is4() && bits == 128 {
			// IPv4 networks live at ::a.b.c.d in an IPv6 tree.
			addr = append(make([]byte, 12), addr...)
			plen += 96
		}
		if len(addr)*8 != bits || plen == 0 {
			t.Fatalf("prefix %s does not fit a %d-bit tree", n.prefix, bits)
		}
		datas = append(datas, n.data)
		leaf := slot{data: len(datas) - 1}
		cur := 0
		for i := range plen {
			bit := int(addr[i/8]>>(7-i%8)) & 1
			if i == plen-1 {
				nodes[cur][bit] = leaf
				break
			}
			s := nodes[cur][bit]
			if s.node == 0 {
				// Split an empty or data slot: the new node's halves keep
				// what the wider slot had, so nested networks work when the
				// wider one comes first.
				nodes = append(nodes, [2]slot{s, s})
				nodes[cur][bit] = slot{node: len(nodes) - 1}
			}
			cur = nodes[cur][bit].node
		}
	}

	var data bytes.Buffer
	offsets := make([]int, len(datas))
	for i, m := range datas {
		offsets[i] = data.Len()
		encode(t, &data, m)
	}
	nodeCount := len(nodes)
	record := func(s slot) int {
		switch {
		case s.node > 0:
			return s.node
		case s.data < 0:
			return nodeCount
		default:
			return nodeCount + 16 + offsets[s.data]
		}
	}
	var out bytes.Buffer
	for _, n := range nodes {
		for _, s := range n {
			v := record(s)
			if v >= 1<<24 {
				t.Fatal("test database too big for 24-bit records")
			}
			out.Write([]byte{byte(v >> 16), byte(v >> 8), byte(v)})
		}
	}
	out.Write(make([]byte, 16))
	out.Write(data.Bytes())
	out.WriteString("\xAB\xCD\xEFMaxMind.com")
	meta := map[string]any{
		"binary_format_major_version": uint16(2),
		"binary_format_minor_version": uint16(0),
		"build_epoch":                 uint64(1767225600), // 2026-01-01
		"database_type":               spec.dbType,
		"description":                 map[string]any{"en": "outsider test database"},
		"ip_version":                  uint16(spec.ipVersion),
		"languages":                   []any{"en"},
		"node_count":                  uint32(nodeCount),
		"record_size":                 uint16(24),
	}
	for k, v := range spec.meta {
		meta[k] = v
	}
	encode(t, &out, meta)
	return out.Bytes()
}

// writeMMDB writes the database spec describes to a file in dir.
func writeMMDB(t testing.TB, dir, name string, spec mmdbSpec) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, buildMMDB(t, spec), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// encode appends v in the MaxMind DB data format.
func encode(t testing.TB, b *bytes.Buffer, v any) {
	switch v := v.(type) {
	case string:
		ctrl(b, 2, len(v))
		b.WriteString(v)
	case uint16:
		uintBytes(b, 5, uint64(v))
	case uint32:
		uintBytes(b, 6, uint64(v))
	case uint64:
		uintBytes(b, 9, v)
	case bool:
		n := 0
		if v {
			n = 1
		}
		ctrl(b, 14, n)
	case []any:
		ctrl(b, 11, len(v))
		for _, e := range v {
			encode(t, b, e)
		}
	case map[string]any:
		ctrl(b, 7, len(v))
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys) // deterministic bytes
		for _, k := range keys {
			encode(t, b, k)
			encode(t, b, v[k])
		}
	default:
		t.Fatalf("encode: unsupported %T", v)
	}
}

// uintBytes writes an unsigned integer of type typ in as few bytes as it needs.
func uintBytes(b *bytes.Buffer, typ int, v uint64) {
	var buf [8]byte
	binary.BigEndian.PutUint64(buf[:], v)
	n := 8
	for n > 0 && buf[8-n] == 0 {
		n--
	}
	ctrl(b, typ, n)
	b.Write(buf[8-n:])
}

// ctrl writes a control byte (and extended type and size bytes) for a
// field of type typ and payload size n.
func ctrl(b *bytes.Buffer, typ, n int) {
	var first byte
	var ext []byte
	if typ <= 7 {
		first = byte(typ << 5)
	} else {
		ext = []byte{byte(typ - 7)}
	}
	var size []byte
	switch {
	case n < 29:
		first |= byte(n)
	case n < 29+256:
		first |= 29
		size = []byte{byte(n - 29)}
	case n < 285+65536:
		first |= 30
		size = []byte{byte((n - 285) >> 8), byte(n - 285)}
	default:
		panic(fmt.Sprintf("ctrl: size %d too big for a test", n))
	}
	b.WriteByte(first)
	b.Write(ext)
	b.Write(size)
}
