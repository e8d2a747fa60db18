//go:build !linux

package clickhouse

import "os/exec"

// setPdeathsig does nothing where the platform has no parent-death signal.
func setPdeathsig(*exec.Cmd) {}
