package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/outsider-sec/outsider/internal/collect"
	"github.com/outsider-sec/outsider/internal/iostreams"
	"github.com/outsider-sec/outsider/internal/state"
	"github.com/outsider-sec/outsider/internal/textsafe"
	"github.com/outsider-sec/outsider/internal/watch"
)

// DisposeOptions are the flags and argument of 'outsider dispose'.
type DisposeOptions struct {
	User string
	// Tenant, instead of User, disposes of a whole home tenant; Withdraw
	// removes its disposition.
	Tenant   string
	Withdraw bool
	As       string
	Note     string
	State    string
}

const disposeLong = `Records an analyst's decision about an outside identity that 'outsider
watch' reported. The identity stays quiet (no finding) until new activity
makes its verdict worse than the verdict it had when disposed of; then it
is reported again, with this disposition, and is open once more.

USER is the identity as findings name it (any case).

With --tenant GUID --as benign instead of USER, the identities of that
home tenant (a known partner) raise no finding while the disposition
stands, except findings of high severity: a disposed partner must not
hide a breach, so those are reported, naming the tenant disposition.
--tenant GUID --withdraw removes it; held identities are then reported
on the next watch cycle.

Exit status: 0 done; 1 error (no such identity in the state); 2 usage.`

func newCmdDispose(f *factory, runF func(context.Context, *DisposeOptions) error) *cobra.Command {
	o := &DisposeOptions{}
	var a archiveFlags
	cmd := &cobra.Command{
		Use:   "dispose USER --as benign|malicious [--note TEXT] --archive DIR",
		Short: "record an analyst's decision about a reported identity",
		Long:  disposeLong,
		Example: `  outsider dispose pilar@fabrikam.com --as benign --note "partner tenant" --archive /var/lib/outsider
  outsider dispose --tenant 6babcaad-604b-40ac-a9d7-9fd97c0b779f --as benign --note "Fabrikam, partner" --archive /var/lib/outsider`,
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case o.Tenant != "":
				if len(args) != 0 {
					return usagef("dispose", "name an identity (USER) or --tenant, not both")
				}
				if err := checkTenants("dispose", "--tenant", []string{o.Tenant}); err != nil {
					return err
				}
				if o.Withdraw {
					if o.As != "" || o.Note != "" {
						return usagef("dispose", "--withdraw takes no --as or --note")
					}
					break
				}
				if v := enumValue(o.As); v == watch.Benign {
					o.As = v
				} else {
					return usagef("dispose", "--tenant: --as %q: want benign (or --withdraw)", o.As)
				}
			case o.Withdraw:
				return usagef("dispose", "--withdraw needs --tenant")
			default:
				if len(args) != 1 {
					return usagef("dispose", "name one identity (USER), or a tenant with --tenant")
				}
				if v := enumValue(o.As); v == watch.Benign || v == watch.Malicious {
					o.As = v
				} else {
					return usagef("dispose", "--as %q: want benign or malicious", o.As)
				}
				o.User = args[0]
			}
			var err error
			if o.State, err = statePathFor("dispose", f.Getenv, a); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runDispose(cmd.Context(), f.IO, o)
		},
	}
	a.add(cmd.Flags())
	cmd.Flags().StringVar(&o.As, "as", "", "the `decision`: benign or malicious")
	completeValues(cmd, "as", watch.Benign, watch.Malicious)
	cmd.Flags().StringVar(&o.Tenant, "tenant", "", "dispose of every identity of this home tenant (`GUID`) instead of one")
	cmd.Flags().BoolVar(&o.Withdraw, "withdraw", false, "remove the disposition of --tenant")
	cmd.Flags().StringVar(&o.Note, "note", "", "`text` saying why (kept with the decision and repeated if it is reopened)")
	return cmd
}

// statePathFor finds the state database of dispose and status, which
// must exist already (they never create one).
func statePathFor(cmd string, getenv func(string) string, a archiveFlags) (string, error) {
	statePath := a.state
	if statePath == "" {
		dir, err := archiveDir(cmd, getenv, a.archive, "")
		if err != nil {
			return "", err
		}
		statePath = collect.StatePath(dir)
	}
	if _, err := os.Stat(statePath); errors.Is(err, fs.ErrNotExist) {
		return "", withHints(fmt.Errorf("no state database at %s", statePath),
			"run 'outsider collect' or 'outsider watch' on the archive first")
	}
	return statePath, nil
}

func runDispose(ctx context.Context, ios *iostreams.IOStreams, o *DisposeOptions) error {
	st, err := state.Open(ctx, o.State)
	if err != nil {
		return err
	}
	defer st.Close()
	if o.Tenant != "" {
		return runDisposeTenant(ctx, ios, st, o)
	}
	id, err := watch.Dispose(ctx, st, o.User, o.As, o.Note, timeNow())
	if errors.Is(err, state.ErrUnknownIdentity) {
		return withHints(err, "'outsider status' lists the identities with open findings")
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(ios.Out, "%s disposed of as %s at verdict %s (%s); it stays quiet until its verdict gets worse\n",
		textsafe.Terminal(id.User), id.Disposition, id.DisposedVerdict, id.DisposedSeverity)
	return nil
}

func runDisposeTenant(ctx context.Context, ios *iostreams.IOStreams, st *state.DB, o *DisposeOptions) error {
	if o.Withdraw {
		found, err := st.WithdrawTenant(ctx, strings.ToLower(o.Tenant))
		if err != nil {
			return err
		}
		if !found {
			return fmt.Errorf("tenant %s: no disposition to withdraw", o.Tenant)
		}
		fmt.Fprintf(ios.Out, "tenant %s: disposition withdrawn; its held identities are reported on the next watch cycle\n", strings.ToLower(o.Tenant))
		return nil
	}
	t, err := watch.DisposeTenant(ctx, st, o.Tenant, o.As, o.Note, timeNow())
	if err != nil {
		return err
	}
	fmt.Fprintf(ios.Out, "tenant %s disposed of as %s: its identities raise no finding below %s severity while this stands\n",
		t.HomeTenant, t.Disposition, watch.TenantCeiling)
	return nil
}
