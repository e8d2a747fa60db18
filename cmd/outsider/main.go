// Command outsider triages Microsoft 365 / Entra ID sign-ins by accounts
// from outside the organisation: who they were, whether there was a
// breach, and what they accessed. See the README for usage.
package main

import (
	"os"

	"github.com/outsider-sec/outsider/internal/iostreams"
)

func main() {
	os.Exit(Main(os.Args[1:], iostreams.System()))
}
