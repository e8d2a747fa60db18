package main

import (
	"github.com/spf13/cobra"
)

const completionLong = `Writes the script that makes a shell complete outsider's commands, flags
and flag values (formats, SIEMs, colour modes, ...) on Tab.

  bash        source <(outsider completion bash)
              (for every session: outsider completion bash > /etc/bash_completion.d/outsider;
              needs the bash-completion package)
  zsh         outsider completion zsh > "${fpath[1]}/_outsider"
              (compinit must be on: autoload -U compinit; compinit)
  fish        outsider completion fish > ~/.config/fish/completions/outsider.fish
  powershell  outsider completion powershell | Out-String | Invoke-Expression
              (for every session: add that line to $PROFILE)

Exit status: 0 done; 2 usage.`

// newCmdCompletion is 'outsider completion SHELL'. cobra's own would do
// the same, but with 'completion' alone or an unknown shell it prints its
// help and exits 0; here both are usage errors, as everywhere else.
func newCmdCompletion(f *factory) *cobra.Command {
	shells := []string{"bash", "zsh", "fish", "powershell"}
	return &cobra.Command{
		Use:       "completion bash|zsh|fish|powershell",
		Short:     "write the shell completion script for bash, zsh, fish or PowerShell",
		Long:      completionLong,
		ValidArgs: shells,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("completion", "name one shell: bash, zsh, fish or powershell")
			}
			root, out := cmd.Root(), f.IO.Out
			switch enumValue(args[0]) {
			case "bash":
				return root.GenBashCompletionV2(out, true)
			case "zsh":
				return root.GenZshCompletion(out)
			case "fish":
				return root.GenFishCompletion(out, true)
			case "powershell", "pwsh":
				return root.GenPowerShellCompletionWithDesc(out)
			}
			return usagef("completion", "unknown shell %q: want bash, zsh, fish or powershell", args[0])
		},
	}
}
