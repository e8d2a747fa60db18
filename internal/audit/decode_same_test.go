package audit

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/outsider-sec/outsider/internal/testutil"
)

// eventDiff names the first field in which got differs from want, with
// both values, or is "" when the events are equal.
func eventDiff(got, want *Event) string {
	g, w := reflect.ValueOf(got).Elem(), reflect.ValueOf(want).Elem()
	for i := range g.NumField() {
		if a, b := g.Field(i).Interface(), w.Field(i).Interface(); !reflect.DeepEqual(a, b) {
			return fmt.Sprintf("%s: %#v, reference %#v", g.Type().Field(i).Name, a, b)
		}
	}
	return ""
}

// FuzzDecodeSameAsReference holds the JSON decoders as the engine runs
// them to the reference walk, on arbitrary bytes (UTF-8 or not): the UAL,
// sign-in and OfficeActivity decoders working from the bitmaps of the
// pass the CPU is given at run time (AVX-512, AVX2 or SSE2 on amd64, the
// Go pass elsewhere or under purego), built by the decode itself or by
// Prepare, give the event the byte-by-byte walk (noMasks) gives, field by
// field, or the same error, as text. Every bitmap pass the CPU has must
// also give the Go pass's bitmaps of the input (checkMaskPasses).
func FuzzDecodeSameAsReference(f *testing.F) {
	testutil.AddSeedFiles(f, "testdata/records/*.json", "testdata/signins/*.json")
	pad := func(n int) string { return strings.Repeat("a", n) }
	for _, s := range []string{
		`{"CreationTime":"2026-10-01T00:00:00","Id":"` + pad(40) + `\"","UserId":"u\u00e9"}`,
		`{"CreationTime":"2026-10-01T00:00:00","X":{"a":["` + pad(50) + `\\","]"]},"Operation":"op"}`,
		`{"AuditData":"{\"CreationTime\":\"2026-10-01T00:00:00\",\"Id\":\"x\\\"y\"}","Identity":"i"}`,
		`{"CreationTime":"2026-10-01T00:00:00","ObjectId":"` + pad(30) + "é" + pad(30) + `"}`,
		`{"createdDateTime":"2026-10-06T09:14:03Z","status":{"errorCode":0},"x":[[{"]":"["}]]}`,
		`{"TimeGenerated":"2026-10-01T00:00:00Z","OfficeId":"o","ExtendedProperties":"[{\"Name\":\"UserAgent\",\"Value\":\"ua\"}]"}`,
		`{"CreationTime":"2026-10-01T00:00:00"} \ `,
		`{"a":"` + pad(59) + `\`,
	} {
		f.Add([]byte(s))
	}
	decoders := []struct {
		name string
		f    func(*Decoder, []byte, *Event) error
	}{
		{"UAL", (*Decoder).Decode},
		{"sign-in", (*Decoder).DecodeSignIn},
		{"OfficeActivity", func(d *Decoder, data []byte, ev *Event) error {
			d.ResetArena()
			return d.DecodeOfficeKeep(data, ev)
		}},
	}
	fast, prep, ref := &Decoder{}, &Decoder{}, &Decoder{noMasks: true}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkMaskPasses(t, data)
		for _, dec := range decoders {
			var got, prepared, want Event
			errWant := dec.f(ref, data, &want)
			errGot := dec.f(fast, data, &got)
			prep.Prepare(data)
			errPrep := dec.f(prep, data, &prepared)
			if fmt.Sprint(errGot) != fmt.Sprint(errWant) || fmt.Sprint(errPrep) != fmt.Sprint(errWant) {
				t.Fatalf("%s: error %v with the bitmaps, %v prepared, %v by the reference walk", dec.name, errGot, errPrep, errWant)
			}
			if errWant != nil {
				continue
			}
			if diff := eventDiff(&got, &want); diff != "" {
				t.Fatalf("%s: with the bitmaps, %s", dec.name, diff)
			}
			if diff := eventDiff(&prepared, &want); diff != "" {
				t.Fatalf("%s: prepared, %s", dec.name, diff)
			}
		}
	})
}

// TestEventIndependentOfHistory: an event depends on its record alone, not
// on what the decoder read before. An unusable user came back as nil from
// a fresh decoder and as an empty slice of the arena from one that had
// unescaped a string before (found by FuzzDecodeSameAsReference).
func TestEventIndependentOfHistory(t *testing.T) {
	records := []string{
		`{"CreationTime":"2026-10-01T00:00:00","UserId":"Unknown","Id":"a"}`,
		`{"CreationTime":"2026-10-01T00:00:00","UserId":"","Id":"b"}`,
		`{"CreationTime":"2026-10-01T00:00:00","UserId":"urn:spo:guest#","Id":"c"}`,
		`{"CreationTime":"2026-10-01T00:00:00","Id":"d"}`,
		`{"createdDateTime":"2026-10-06T09:14:03Z","id":"e","userPrincipalName":"Not Available"}`,
	}
	used := &Decoder{}
	var scratch Event
	if err := used.Decode([]byte(`{"CreationTime":"2026-10-01T00:00:00","UserId":"A\u00e9@B.C"}`), &scratch); err != nil {
		t.Fatal(err)
	}
	for _, r := range records {
		for _, signIn := range []bool{false, true} {
			var fresh, again Event
			var e1, e2 error
			if signIn {
				e1, e2 = (&Decoder{}).DecodeSignIn([]byte(r), &fresh), used.DecodeSignIn([]byte(r), &again)
			} else {
				e1, e2 = (&Decoder{}).Decode([]byte(r), &fresh), used.Decode([]byte(r), &again)
			}
			if fmt.Sprint(e1) != fmt.Sprint(e2) {
				t.Fatalf("%s: error %v fresh, %v after another record", r, e1, e2)
			}
			if diff := eventDiff(&again, &fresh); e1 == nil && diff != "" {
				t.Errorf("%s (sign-in %v): after another record, %s", r, signIn, diff)
			}
		}
	}
}
