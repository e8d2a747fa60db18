package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
)

// A tenant with one high (anomalous) and one info identity, from
// report.txtar's records without their hostile values.
const terminalUAL = `{"CreationTime":"2026-10-01T08:05:00","Id":"00000000-0000-4000-8000-000000000001","Operation":"UserLoggedIn","OrganizationId":"6a1e5b2c-9d3f-4b7a-8e21-3c5d7f9a1b2e","RecordType":15,"UserType":0,"Workload":"AzureActiveDirectory","ClientIP":"203.0.113.7","UserId":"pilar@fabrikam.com","Actor":[{"ID":"Unknown","Type":0},{"ID":"pilar@fabrikam.com","Type":5}],"ActorContextId":"0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6","ApplicationId":"0000000c-0000-0000-c000-000000000000","ExtendedProperties":[{"Name":"ResultStatusDetail","Value":"Success"}]}
{"CreationTime":"2026-10-01T08:10:00","Id":"00000000-0000-4000-8000-000000000002","Operation":"UserLoggedIn","OrganizationId":"6a1e5b2c-9d3f-4b7a-8e21-3c5d7f9a1b2e","RecordType":15,"UserType":0,"Workload":"AzureActiveDirectory","ClientIP":"192.0.2.66","UserId":"mallory@evil.example","Actor":[{"ID":"Unknown","Type":0},{"ID":"mallory@evil.example","Type":5}],"ActorContextId":"0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6","ApplicationId":"a1b2c3d4-0000-4000-8000-123456789abc","ExtendedProperties":[{"Name":"ResultStatusDetail","Value":"Success"}]}
{"CreationTime":"2026-10-01T08:11:00","Id":"00000000-0000-4000-8000-000000000003","Operation":"FileDownloaded","OrganizationId":"6a1e5b2c-9d3f-4b7a-8e21-3c5d7f9a1b2e","RecordType":6,"Workload":"SharePoint","UserId":"mallory@evil.example","ClientIP":"192.0.2.66","ObjectId":"https://contoso.sharepoint.com/sites/hr/q3.xlsx"}
`

// outsiderCommand is the outsider binary testscript put on PATH (the test
// binary itself, run as "outsider": TestMain), in a folder holding the
// records, with an environment of nothing but PATH and HOME: no NO_COLOR
// or CLICOLOR_FORCE from the machine running the tests.
func outsiderCommand(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	bin, err := exec.LookPath("outsider")
	if err != nil {
		t.Skipf("outsider is not on PATH (TestMain puts it there): %v", err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ual.jsonl"), []byte(terminalUAL), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	// OUTSIDER_PAGER=cat: these tests are about what reaches the terminal;
	// less would wait for a key (TestTerminalPager pages).
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "TERM=xterm", "OUTSIDER_PAGER=cat"}
	return cmd
}

// withEnv returns cmd's environment with name set to value (replacing it).
func withEnv(cmd *exec.Cmd, name, value string) []string {
	var env []string
	for _, kv := range cmd.Env {
		if !strings.HasPrefix(kv, name+"=") {
			env = append(env, kv)
		}
	}
	return append(env, name+"="+value)
}

// TestTerminalPager: text on a terminal goes through the pager
// ($OUTSIDER_PAGER, then $PAGER), coloured and laid out for the terminal's
// width; --no-pager, a pipe, -o or another format do not page; a pager
// that is not installed leaves the text on stdout.
func TestTerminalPager(t *testing.T) {
	sed, err := exec.LookPath("sed")
	if err != nil {
		t.Skip("no sed to stand in for a pager")
	}
	pagerCmd := sed + " s/^/PAGED:/"
	paged := func(t *testing.T, env map[string]string, args ...string) (string, int) {
		t.Helper()
		master, slave := openPTY(t)
		cmd := outsiderCommand(t, args...)
		for k, v := range env {
			cmd.Env = withEnv(cmd, k, v)
		}
		cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
		return runOnTerminal(t, cmd, master, slave)
	}
	screen, code := paged(t, map[string]string{"OUTSIDER_PAGER": pagerCmd}, "triage", "ual.jsonl")
	if code != 0 || !strings.Contains(screen, "PAGED:outsider: 2 outside identities") ||
		!strings.Contains(screen, "\x1b[1;31mHIGH anomalous\x1b[0m: mallory@evil.example") {
		t.Errorf("OUTSIDER_PAGER: exit %d, not paged (or not coloured):\n%q", code, screen)
	}
	screen, _ = paged(t, map[string]string{"OUTSIDER_PAGER": "", "PAGER": pagerCmd}, "triage", "ual.jsonl")
	if !strings.Contains(screen, "PAGED:outsider: 2 outside identities") {
		t.Errorf("PAGER is not used when OUTSIDER_PAGER is unset:\n%q", screen)
	}
	screen, _ = paged(t, map[string]string{"OUTSIDER_PAGER": pagerCmd}, "triage", "ual.jsonl", "--no-pager")
	if strings.Contains(screen, "PAGED:") || !strings.Contains(screen, "Who were they?") {
		t.Errorf("--no-pager paged:\n%q", screen)
	}
	screen, _ = paged(t, map[string]string{"OUTSIDER_PAGER": pagerCmd}, "triage", "ual.jsonl", "--format", "json")
	if strings.Contains(screen, "PAGED:") {
		t.Errorf("JSON was paged:\n%q", screen)
	}
	screen, code = paged(t, map[string]string{"OUTSIDER_PAGER": "no-such-pager-here --x"}, "triage", "ual.jsonl")
	if code != 0 || !strings.Contains(screen, "Who were they?") {
		t.Errorf("a pager that is not installed: exit %d:\n%q", code, screen)
	}
	// Into a pipe: never paged.
	master, slave := openPTY(t)
	var out bytes.Buffer
	cmd := outsiderCommand(t, "triage", "ual.jsonl")
	cmd.Env = withEnv(cmd, "OUTSIDER_PAGER", pagerCmd)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, &out, slave
	runOnTerminal(t, cmd, master, slave)
	if strings.Contains(out.String(), "PAGED:") || !strings.Contains(out.String(), "Who were they?") {
		t.Errorf("into a pipe: %q", out.String())
	}
}

// TestTerminalWidth: the text table is laid out for the terminal's width
// (a pty of 60 columns here), cutting cells after the user with ….
func TestTerminalWidth(t *testing.T) {
	master, slave := openPTY(t)
	if err := pty.Setsize(master, &pty.Winsize{Rows: 24, Cols: 60}); err != nil {
		t.Fatal(err)
	}
	cmd := outsiderCommand(t, "triage", "ual.jsonl", "--color", "never")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	screen, code := runOnTerminal(t, cmd, master, slave)
	if code != 0 || !strings.Contains(screen, "mallory@evil.example\r\n                high     anom…      1/0") {
		t.Errorf("60 columns: exit %d:\n%s", code, screen)
	}
}

// openPTY is a pseudo-terminal of 100 columns: the master to read what
// was written, the slave to give the command.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	master, slave, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal here: %v", err)
	}
	t.Cleanup(func() { master.Close(); slave.Close() })
	if err := pty.Setsize(master, &pty.Winsize{Rows: 24, Cols: 100}); err != nil {
		t.Fatal(err)
	}
	return master, slave
}

// runOnTerminal runs cmd, whose streams the caller has set (some on
// slave), and returns what reached the terminal and the exit status.
func runOnTerminal(t *testing.T, cmd *exec.Cmd, master, slave *os.File) (string, int) {
	t.Helper()
	var screen bytes.Buffer
	done := make(chan struct{})
	go func() {
		io.Copy(&screen, master) // ends with EIO once no one holds the slave
		close(done)
	}()
	err := cmd.Run()
	slave.Close()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the terminal did not close")
	}
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return screen.String(), code
}

// TestTerminalColour: text on a terminal is coloured; the same command
// into a pipe is not, and neither is it with NO_COLOR.
func TestTerminalColour(t *testing.T) {
	const red = "\x1b[1;31mHIGH anomalous\x1b[0m: mallory@evil.example"

	master, slave := openPTY(t)
	cmd := outsiderCommand(t, "triage", "ual.jsonl")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	screen, code := runOnTerminal(t, cmd, master, slave)
	if code != 0 || !strings.Contains(screen, red) {
		t.Errorf("on a terminal: exit %d, no colour:\n%q", code, screen)
	}

	// stdout a pipe, stderr the terminal: no colour in the pipe.
	master, slave = openPTY(t)
	var out bytes.Buffer
	cmd = outsiderCommand(t, "triage", "ual.jsonl")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, &out, slave
	screen, code = runOnTerminal(t, cmd, master, slave)
	if code != 0 || strings.Contains(out.String(), "\x1b") || !strings.Contains(out.String(), "HIGH anomalous: mallory@evil.example") {
		t.Errorf("into a pipe: exit %d:\n%q", code, out.String())
	}
	if strings.Contains(screen, "\x1b[1;31m") {
		t.Errorf("into a pipe, the terminal got colour: %q", screen)
	}

	// NO_COLOR on a terminal.
	master, slave = openPTY(t)
	cmd = outsiderCommand(t, "triage", "ual.jsonl")
	cmd.Env = append(cmd.Env, "NO_COLOR=1")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	screen, _ = runOnTerminal(t, cmd, master, slave)
	if strings.Contains(screen, "\x1b[1;31m") || !strings.Contains(screen, "HIGH anomalous: mallory@evil.example") {
		t.Errorf("NO_COLOR on a terminal:\n%q", screen)
	}
}

// TestTerminalConfirmation: -o says what it wrote on stderr when stderr
// is a terminal, and nothing into a pipe.
func TestTerminalConfirmation(t *testing.T) {
	const line = "wrote report.html (html, 2 identities, 1 high)"

	master, slave := openPTY(t)
	cmd := outsiderCommand(t, "triage", "ual.jsonl", "-o", "report.html")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	screen, code := runOnTerminal(t, cmd, master, slave)
	if code != 0 || !strings.Contains(screen, line) {
		t.Errorf("on a terminal: exit %d, no %q:\n%q", code, line, screen)
	}
	if b, err := os.ReadFile(filepath.Join(cmd.Dir, "report.html")); err != nil || !bytes.HasPrefix(b, []byte("<!DOCTYPE html>")) {
		t.Errorf("report.html: %v %.40q", err, b)
	}

	// --quiet on a terminal: nothing.
	master, slave = openPTY(t)
	cmd = outsiderCommand(t, "triage", "ual.jsonl", "-o", "report.html", "--quiet")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	if screen, _ := runOnTerminal(t, cmd, master, slave); strings.Contains(screen, "wrote") {
		t.Errorf("--quiet on a terminal: %q", screen)
	}

	// stderr a pipe (stdout still the terminal): nothing on stderr.
	master, slave = openPTY(t)
	var errOut bytes.Buffer
	cmd = outsiderCommand(t, "triage", "ual.jsonl", "-o", "report.html")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, &errOut
	screen, code = runOnTerminal(t, cmd, master, slave)
	if code != 0 || errOut.Len() != 0 || strings.Contains(screen, "wrote") {
		t.Errorf("stderr into a pipe: exit %d, stderr %q, terminal %q", code, errOut.String(), screen)
	}
}

// TestInterrupt: SIGINT ends a command with exit 130 and one line; a
// watch, which otherwise runs until then, is the command to interrupt.
func TestInterrupt(t *testing.T) {
	cmd := outsiderCommand(t, "watch", "--no-collect", "--archive", "archive", "--interval", "1h")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The first cycle's line: the signal handler is in place by then.
	var got bytes.Buffer
	buf := make([]byte, 4096)
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(got.String(), "outsider: watch:") {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no cycle line: %q", got.String())
		}
		n, err := stderr.Read(buf)
		got.Write(buf[:n])
		if err != nil {
			break
		}
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(stderr)
	got.Write(rest)
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitCancelled {
		t.Fatalf("exit %v, want %d; stderr %q", err, exitCancelled, got.String())
	}
	if !strings.HasSuffix(got.String(), "outsider: interrupted\n") {
		t.Errorf("stderr does not end in 'outsider: interrupted': %q", got.String())
	}
}
