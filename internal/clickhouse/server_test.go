package clickhouse

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The integration tests start real ClickHouse servers on loopback: a
// config in a temporary folder, free ports, and with several servers a
// cluster of one shard each. They skip only when no server binary is
// installed (CI installs Debian's clickhouse-server).

// testServer is one server started for a test.
type testServer struct {
	http, tcp int
	dir       string
	cmd       *exec.Cmd
	client    *Client
	log       string
}

// serverCommand finds a ClickHouse server binary: Debian's
// clickhouse-server, or the single clickhouse binary of newer packages.
func serverCommand() ([]string, bool) {
	if p, err := exec.LookPath("clickhouse-server"); err == nil {
		return []string{p}, true
	}
	if p, err := exec.LookPath("clickhouse"); err == nil {
		return []string{p, "server"}, true
	}
	return nil, false
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

const serverConfig = `<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><console>1</console></logger>
  <http_port>%d</http_port>
  <tcp_port>%d</tcp_port>
  <listen_host>127.0.0.1</listen_host>
  <path>%[3]s/data/</path>
  <tmp_path>%[3]s/tmp/</tmp_path>
  <user_files_path>%[3]s/user_files/</user_files_path>
  <format_schema_path>%[3]s/format_schemas/</format_schema_path>
  <mark_cache_size>67108864</mark_cache_size>
  <max_concurrent_queries>50</max_concurrent_queries>
  <users><default><password></password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks><profile>default</profile><quota>default</quota></default></users>
  <profiles><default></default></profiles>
  <quotas><default></default></quotas>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <remote_servers><%[4]s>%[5]s</%[4]s></remote_servers>
</yandex>
`

// testCluster is the cluster name the test servers share.
const testCluster = "outsider_test"

// initServers starts n servers and creates outsider's tables on them: on
// the one server alone, or across testCluster when there are more.
func initServers(t *testing.T, n int) []*testServer {
	t.Helper()
	servers := startServers(t, n)
	var clients []*Client
	for _, s := range servers {
		clients = append(clients, s.client)
	}
	cluster := ""
	if n > 1 {
		cluster = testCluster
	}
	if err := Init(context.Background(), clients, cluster); err != nil {
		t.Fatal(err)
	}
	return servers
}

// startServers starts n servers, each one shard of testCluster; t.Cleanup
// stops them.
func startServers(t *testing.T, n int) []*testServer {
	t.Helper()
	cmdline, ok := serverCommand()
	if !ok {
		t.Skip("no ClickHouse server installed (apt-get install clickhouse-server): the ClickHouse tests need one")
	}
	servers := make([]*testServer, n)
	var shards strings.Builder
	for i := range servers {
		s := &testServer{http: freePort(t), tcp: freePort(t), dir: t.TempDir()}
		servers[i] = s
		fmt.Fprintf(&shards, "<shard><replica><host>127.0.0.1</host><port>%d</port></replica></shard>", s.tcp)
	}
	for _, s := range servers {
		conf := filepath.Join(s.dir, "config.xml")
		if err := os.WriteFile(conf, fmt.Appendf(nil, serverConfig, s.http, s.tcp, s.dir, testCluster, shards.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		s.log = filepath.Join(s.dir, "server.log")
		logf, err := os.Create(s.log)
		if err != nil {
			t.Fatal(err)
		}
		args := append(append([]string{}, cmdline[1:]...), "--config-file="+conf)
		s.cmd = exec.Command(cmdline[0], args...)
		s.cmd.Dir = s.dir
		s.cmd.Stdout, s.cmd.Stderr = logf, logf
		setPdeathsig(s.cmd)
		if err := s.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		logf.Close()
		t.Cleanup(func() { s.stop() })
		if s.client, err = Open(fmt.Sprintf("http://127.0.0.1:%d/default", s.http)); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range servers {
		s.wait(t)
	}
	return servers
}

// wait polls until the server answers.
func (s *testServer) wait(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		_, err := s.client.Ping(context.Background())
		if err == nil {
			return
		}
		if time.Now().After(deadline) || s.cmd.ProcessState != nil {
			log, _ := os.ReadFile(s.log)
			t.Fatalf("ClickHouse on port %d did not start: %v\n%s", s.http, err, tail(string(log), 2000))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stop kills the server (ours, by its process) and waits for it.
func (s *testServer) stop() {
	if s.cmd == nil || s.cmd.Process == nil || s.cmd.ProcessState != nil {
		return
	}
	s.cmd.Process.Kill()
	s.cmd.Wait()
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}
