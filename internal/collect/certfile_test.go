package collect

import (
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadCertificateNamesFile: each mistake an admin makes with the PEM
// files (the certificate without its key, the key of another
// certificate, the key alone, an encrypted key) is refused with a
// message naming the file and what to do.
func TestReadCertificateNamesFile(t *testing.T) {
	dir := t.TempDir()
	both, _ := testCert(t, t.TempDir())
	other, _ := testCert(t, t.TempDir())
	blocks := func(path string) (cert, key *pem.Block) {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for {
			var blk *pem.Block
			if blk, b = pem.Decode(b); blk == nil {
				return
			}
			if blk.Type == "CERTIFICATE" {
				cert = blk
			} else {
				key = blk
			}
		}
	}
	write := func(name string, bs ...*pem.Block) string {
		var out []byte
		for _, b := range bs {
			out = append(out, pem.EncodeToMemory(b)...)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, out, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cert, _ := blocks(both)
	_, otherKey := blocks(other)
	certOnly := write("cert.pem", cert)
	otherKeyFile := write("other-key.pem", otherKey)
	keyOnly := write("key.pem", otherKey)
	mixed := write("mixed.pem", cert, otherKey)
	encrypted := write("enc.pem", cert, &pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{1, 2, 3}})
	for _, tc := range []struct {
		name      string
		cert, key string
		want      []string
	}{
		{"certificate without its key", certOnly, "", []string{certOnly, "no private key", "--certificate-key"}},
		{"the key of another certificate", mixed, "", []string{mixed, "does not belong", "thumbprint "}},
		{"another certificate's key file", certOnly, otherKeyFile, []string{certOnly, otherKeyFile, "does not belong"}},
		{"the key file as the certificate", keyOnly, "", []string{keyOnly, "no CERTIFICATE block", "cat cert.pem key.pem"}},
		{"an encrypted key", encrypted, "", []string{encrypted, "encrypted", "openssl pkey"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ReadCertificate(tc.cert, tc.key)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%v\nlacks %q", err, w)
				}
			}
		})
	}
}
