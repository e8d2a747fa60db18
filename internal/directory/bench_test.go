package directory

import (
	"fmt"
	"strings"
	"testing"
)

// synthUsers makes n users as a Graph page and as a portal CSV: a member
// and a guest in turn, with the fields Lookup indexes.
func synthUsers(n int) (page, csv []byte) {
	var j, c strings.Builder
	j.WriteString(`{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#users","value":[`)
	c.WriteString("userPrincipalName,displayName,mail,id,userType,accountEnabled,alternateEmailAddress,creationType,invitationState,identityIssuer\r\n")
	for i := range n {
		if i > 0 {
			j.WriteByte(',')
		}
		upn, mail, ut, ct := fmt.Sprintf("user%d@contoso.com", i), fmt.Sprintf("first.last%d@contoso.com", i), "Member", ""
		if i%2 == 1 {
			upn, mail, ut, ct = fmt.Sprintf("guest%d_fabrikam.com#EXT#@contoso.onmicrosoft.com", i), fmt.Sprintf("guest%d@fabrikam.com", i), "Guest", "Invitation"
		}
		id := fmt.Sprintf("%08x-0000-4000-8000-000000000000", i)
		fmt.Fprintf(&j, `{"id":%q,"displayName":"User %d","userPrincipalName":%q,"mail":%q,"otherMails":[%q],"proxyAddresses":["SMTP:%s"],"userType":%q,"creationType":null,"externalUserState":null,"identities":[{"signInType":"userPrincipalName","issuer":"contoso.onmicrosoft.com","issuerAssignedId":%q}],"accountEnabled":true}`,
			id, i, upn, mail, mail, mail, ut, upn)
		fmt.Fprintf(&c, "%s,User %d,%s,%s,%s,True,%s,%s,,contoso.onmicrosoft.com\r\n", upn, i, mail, id, ut, mail, ct)
	}
	j.WriteString("]}")
	return []byte(j.String()), []byte(c.String())
}

func BenchmarkLoadJSON(b *testing.B) {
	page, _ := synthUsers(20000)
	benchLoad(b, "bench.json", page)
}

func BenchmarkLoadCSV(b *testing.B) {
	_, csv := synthUsers(20000)
	benchLoad(b, "bench.csv", csv)
}

// benchLoad measures loading a directory export, named name (its
// extension chooses the reader), from data.
func benchLoad(b *testing.B, name string, data []byte) {
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, _, err := load(name, data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLookup(b *testing.B) {
	page, _ := synthUsers(20000)
	d, _, err := load("bench.json", page)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, _, ok := d.Lookup("guest12345@fabrikam.com"); !ok {
			b.Fatal("not found")
		}
	}
}
