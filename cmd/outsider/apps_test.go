package main

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"

	"github.com/outsider-sec/outsider/internal/apps"
)

// TestAppsCSVIsSafe: the lookup table's cells never start a formula and
// never hold a line break or control character, whatever a catalogue
// source put in a name, and the file reads back as one row per app.
func TestAppsCSVIsSafe(t *testing.T) {
	hostile := []apps.App{
		{ID: "00000000-0000-0000-0000-000000000001", Name: "=HYPERLINK(\"http://evil.example\",\"x\")", Aliases: []string{"+cmd", "-1+1"}, Sources: []string{"graph"}},
		{ID: "00000000-0000-0000-0000-000000000002", Name: "@SUM(A1)\nline two\r\x00", Family: "|pipe", Owner: "%0A", Sources: []string{"learn", "github"}},
		{ID: "00000000-0000-0000-0000-000000000003", Name: "\tTab\u202eevil", Sources: []string{"core"}},
	}
	var b bytes.Buffer
	if err := writeAppsCSV(&b, hostile); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(b.String(), "\n"); n != len(hostile)+1 {
		t.Fatalf("%d lines, want %d (a line break got into a cell):\n%s", n, len(hostile)+1, b.String())
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rows[0], ",") != "id,name,family,owner_tenant,aliases,sources" {
		t.Errorf("header %v", rows[0])
	}
	for _, row := range rows[1:] {
		for _, c := range row {
			if c != "" && strings.ContainsRune("=+-@\t\r|%", rune(c[0])) {
				t.Errorf("cell %q starts a formula", c)
			}
			if strings.ContainsAny(c, "\x00\r\n\u202e") {
				t.Errorf("cell %q holds a control or bidi character", c)
			}
		}
	}
	if rows[2][5] != "learn github" || rows[1][4] != "'+cmd; -1+1" {
		t.Errorf("sources %q, aliases %q", rows[2][5], rows[1][4])
	}
}
