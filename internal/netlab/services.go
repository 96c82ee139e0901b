package netlab

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/skirmishgg/skirmish/internal/testenv"
)

// The outside services a Skirmish deployment uses, each started inside a
// host from the packages this machine has: Redis (redis-server), PostgreSQL
// (initdb and postgres from the PostgreSQL packages) and the SQS-compatible
// server the tests use (fauxqs, from npm; see testenv.Fauxqs).

// StartRedis runs redis-server on the host's address, without persistence,
// and returns its host:port once it answers.
func StartRedis(ctx context.Context, h *Host, port int) (*Process, string, error) {
	addr := h.HostPort(port)
	p, err := h.Start(ctx, "redis@"+h.Name, "redis-server", "--bind", h.Addr.String(), "--port", strconv.Itoa(port),
		"--save", "", "--appendonly", "no", "--protected-mode", "no")
	if err != nil {
		return nil, "", err
	}
	if err := waitTCP(ctx, p, addr); err != nil {
		return nil, "", err
	}
	return p, addr, nil
}

// StartPostgres makes a database cluster in dir (as the postgres user:
// PostgreSQL refuses to run as root), runs it on the host's address with
// trust authentication, creates the database name and returns its DSN.
// fsync is off: the cluster lives as long as the test.
func StartPostgres(ctx context.Context, h *Host, dir, name string) (*Process, string, error) {
	bin, err := postgresBin()
	if err != nil {
		return nil, "", err
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, "", fmt.Errorf("PostgreSQL runs as the postgres user: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, "", err
	}
	if err := os.Chown(dir, uid, gid); err != nil {
		return nil, "", err
	}
	// The test's temp dirs are root's: let the postgres user through them.
	for d := filepath.Dir(dir); d != "/" && d != "."; d = filepath.Dir(d) {
		if fi, err := os.Stat(d); err == nil && fi.Mode().Perm()&0o001 == 0 {
			_ = os.Chmod(d, fi.Mode().Perm()|0o001)
		}
	}
	asPostgres := []string{"--reuid=" + u.Uid, "--regid=" + u.Gid, "--init-groups"}
	initdb := exec.CommandContext(ctx, "setpriv", append(asPostgres, filepath.Join(bin, "initdb"),
		"-D", dir, "--auth=trust", "--username=postgres", "--no-sync", "--encoding=UTF8")...)
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, "", fmt.Errorf("initdb: %w: %s", err, lastLines(string(out)))
	}
	// Trust the lab's hosts (and the test, at the bridge's address).
	hba, err := os.OpenFile(filepath.Join(dir, "pg_hba.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return nil, "", err
	}
	_, err = hba.WriteString("host all all 198.18.0.0/15 trust\n")
	if cerr := hba.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, "", fmt.Errorf("pg_hba.conf: %w", err)
	}
	p, err := h.Start(ctx, "postgres@"+h.Name, "setpriv", append(asPostgres, filepath.Join(bin, "postgres"),
		"-D", dir, "-p", "5432", "-c", "listen_addresses="+h.Addr.String(), "-c", "unix_socket_directories="+dir,
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "max_connections=200")...)
	if err != nil {
		return nil, "", err
	}
	addr := h.HostPort(5432)
	if err := waitTCP(ctx, p, addr); err != nil {
		return nil, "", err
	}
	base := "postgres://postgres@" + addr
	var c *pgx.Conn
	for deadline := time.Now().Add(30 * time.Second); ; {
		if c, err = pgx.Connect(ctx, base+"/postgres?sslmode=disable"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			p.Kill()
			return nil, "", fmt.Errorf("connect to PostgreSQL on %s: %w", h.Name, err)
		}
		select { // the server listens a moment before it accepts sessions
		case <-ctx.Done():
			p.Kill()
			return nil, "", fmt.Errorf("connect to PostgreSQL on %s: %w", h.Name, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return nil, "", fmt.Errorf("create database %s: %w", name, err)
	}
	return p, base + "/" + name + "?sslmode=disable", nil
}

// postgresBin finds the PostgreSQL server programs: the directory of
// initdb on PATH, else the newest /usr/lib/postgresql/*/bin.
func postgresBin() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if r, err := filepath.EvalSymlinks(p); err == nil {
			return filepath.Dir(r), nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	if len(dirs) == 0 {
		return "", errors.New("no PostgreSQL server programs (initdb) found; apt-get install postgresql")
	}
	return dirs[len(dirs)-1], nil
}

// StartSQS runs the SQS-compatible server on the host's address and
// returns its endpoint URL once it listens. It exits with the test process
// (its standard input closes).
func StartSQS(ctx context.Context, h *Host, port int) (*Process, string, error) {
	dir, err := testenv.Fauxqs()
	if err != nil {
		return nil, "", err
	}
	cmd := h.Command(ctx, "node", filepath.Join(dir, "skirmish-fauxqs.mjs"), strconv.Itoa(port), h.Addr.String())
	cmd.Dir = dir
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, "", err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	out := &tailBuffer{max: 64 << 10}
	cmd.Stderr = out
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, "", fmt.Errorf("start fauxqs: %w", err)
	}
	p := &Process{Name: "sqs@" + h.Name, cmd: cmd, out: out, done: make(chan struct{}), stdin: stdin}
	listening := make(chan string, 1)
	go func() {
		r := bufio.NewReader(stdout)
		line, _ := r.ReadString('\n')
		listening <- strings.TrimSpace(line)
		_, _ = r.WriteTo(out)
		p.err = cmd.Wait()
		close(p.done)
	}()
	select {
	case line := <-listening:
		if !strings.HasPrefix(line, "listening ") {
			p.Kill()
			return nil, "", fmt.Errorf("fauxqs on %s did not start: %q %s", h.Name, line, p.Output(5))
		}
	case <-ctx.Done():
		p.Kill()
		return nil, "", ctx.Err()
	}
	return p, "http://" + h.HostPort(port), nil
}

// waitTCP waits until addr accepts connections, the process exits, or ctx
// ends.
func waitTCP(ctx context.Context, p *Process, addr string) error {
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-p.Done():
			return fmt.Errorf("%s exited before listening on %s: %v\n%s", p.Name, addr, p.Err(), p.Output(10))
		case <-ctx.Done():
			p.Kill()
			return fmt.Errorf("%s: not listening on %s: %w", p.Name, addr, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func lastLines(s string) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(l[max(0, len(l)-5):], " | ")
}
