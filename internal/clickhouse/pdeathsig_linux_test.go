package clickhouse

import (
	"os/exec"
	"syscall"
)

// setPdeathsig makes a test server die with the test process, even when
// the test binary is killed before its cleanups run.
func setPdeathsig(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
