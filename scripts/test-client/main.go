// Command test-client checks redis-clone through a real Go client (go-redis v9), the way the original
// project's example and an ordinary go-redis user talk to a server.
//
// It starts the server itself on a free port of 127.0.0.1, waits until it answers PING, runs every
// check, then stops the server with SIGTERM and expects exit code 0.
//
//	test-client [flags] BINARY [EXTRA-ARGS...]   start BINARY --listenAddr 127.0.0.1:PORT EXTRA-ARGS...
//	test-client -redis-server [BINARY]           start Debian's redis-server instead (default: redis-server)
//	test-client -addr HOST:PORT                  run the checks against a server that is already running
//
// One line per check (PASS or FAIL), then exactly `test-client: N passed, M failed`; the exit code is 1
// when anything failed.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"
)

const (
	startupDeadline  = 10 * time.Second
	shutdownDeadline = 10 * time.Second
	checkDeadline    = 30 * time.Second // per check, always inside the overall -timeout
	serverLogTail    = 60               // lines of server output shown when something fails
)

func main() {
	useRedis := flag.Bool("redis-server", false, "start Debian's redis-server (--port PORT --save '' --appendonly no) instead of redis-clone")
	addr := flag.String("addr", "", "run the checks against an already running server at HOST:PORT (start and stop nothing)")
	timeout := flag.Duration("timeout", 60*time.Second, "deadline around everything (start, checks, stop)")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: %s [flags] BINARY [EXTRA-ARGS...]\n       %s -redis-server [BINARY]\n       %s -addr HOST:PORT\n", os.Args[0], os.Args[0], os.Args[0])
		flag.PrintDefaults()
	}
	flag.Parse()

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	// Ctrl-C or a SIGTERM to us ends the checks early; the server is still stopped below.
	ctx, stopSignals := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stopSignals()

	os.Exit(run(ctx, *useRedis, *addr, flag.Args()))
}

func run(ctx context.Context, useRedis bool, addr string, args []string) int {
	r := &reporter{}
	if addr != "" {
		runChecks(ctx, r, addr)
		return r.summary()
	}

	srv, err := startServer(ctx, useRedis, args)
	if srv != nil {
		defer os.RemoveAll(srv.tmpDir)
	}
	if err != nil {
		r.fail("server-start", err)
		if srv != nil {
			srv.kill()
			srv.printLog()
		}
		return r.summary()
	}
	r.pass("server-start", fmt.Sprintf("%s answers PING on %s after %v", srv.name, srv.addr, srv.readyAfter.Round(time.Millisecond)))

	runChecks(ctx, r, srv.addr)

	if err := srv.stop(); err != nil {
		r.fail("server-shutdown", err)
	} else {
		r.pass("server-shutdown", "exit code 0 after SIGTERM")
	}
	if r.failed > 0 {
		srv.printLog()
	}
	return r.summary()
}

// reporter prints one line per check and keeps the counts for the final line.
type reporter struct {
	passed, failed int
}

func (r *reporter) pass(name, detail string) {
	r.passed++
	if detail != "" {
		fmt.Printf("PASS %s: %s\n", name, detail)
	} else {
		fmt.Printf("PASS %s\n", name)
	}
}

func (r *reporter) fail(name string, err error) {
	r.failed++
	fmt.Printf("FAIL %s: %v\n", name, err)
}

func (r *reporter) summary() int {
	fmt.Printf("test-client: %d passed, %d failed\n", r.passed, r.failed)
	if r.failed > 0 {
		return 1
	}
	return 0
}

// server is one started server process and the tail of what it printed.
type server struct {
	name       string
	addr       string
	cmd        *exec.Cmd
	exited     chan struct{} // closed once cmd.Wait returned; cmd.ProcessState is then set
	waitErr    error
	readyAfter time.Duration
	log        *tailBuffer
	tmpDir     string
}

func startServer(ctx context.Context, useRedis bool, args []string) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("finding a free port: %w", err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)

	var argv []string
	switch {
	case useRedis:
		bin := "redis-server"
		if len(args) > 0 {
			bin, args = args[0], args[1:]
		}
		if _, err := exec.LookPath(bin); err != nil {
			return nil, fmt.Errorf("%s not found (on Debian: apt-get install redis-server): %w", bin, err)
		}
		argv = append([]string{bin, "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"}, args...)
	case len(args) == 0:
		return nil, errors.New("no server binary given (usage: test-client BINARY [EXTRA-ARGS...], or -redis-server, or -addr)")
	default:
		argv = append([]string{args[0], "--listenAddr", addr}, args[1:]...)
	}

	// A scratch working directory, so nothing the server might write lands in the tree.
	tmpDir, err := os.MkdirTemp("", "test-client-")
	if err != nil {
		return nil, err
	}
	s := &server{name: argv[0], addr: addr, exited: make(chan struct{}), log: &tailBuffer{max: serverLogTail}, tmpDir: tmpDir}
	s.cmd = exec.Command(argv[0], argv[1:]...)
	s.cmd.Dir = tmpDir
	s.cmd.Stdout = s.log
	s.cmd.Stderr = s.log
	// If test-client dies without stopping it, the kernel kills the server too.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	fmt.Printf("test-client: starting %s\n", strings.Join(quoteAll(argv), " "))
	start := time.Now()
	if err := s.cmd.Start(); err != nil {
		os.RemoveAll(tmpDir)
		return nil, fmt.Errorf("starting %s: %w", argv[0], err)
	}
	go func() {
		s.waitErr = s.cmd.Wait()
		close(s.exited)
	}()

	if err := s.waitForPing(ctx); err != nil {
		return s, err
	}
	s.readyAfter = time.Since(start)
	return s, nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// waitForPing polls with a raw RESP PING until the server answers +PONG, it exits, or the deadline passes.
func (s *server) waitForPing(ctx context.Context) error {
	deadline := time.Now().Add(startupDeadline)
	var lastErr error
	for attempt := 0; attempt < 1000 && time.Now().Before(deadline); attempt++ {
		select {
		case <-s.exited:
			return fmt.Errorf("server exited during startup: %s", s.exitDescription())
		case <-ctx.Done():
			return fmt.Errorf("waiting for PING: %w", ctx.Err())
		default:
		}
		if lastErr = rawPing(s.addr); lastErr == nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("no PONG from %s within %v (last error: %v)", s.addr, startupDeadline, lastErr)
}

func rawPing(addr string) error {
	conn, err := net.DialTimeout("tcp", addr, 500*time.Millisecond)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(time.Second)); err != nil {
		return err
	}
	if _, err := conn.Write([]byte("*1\r\n$4\r\nPING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return err
	}
	if line != "+PONG\r\n" {
		return fmt.Errorf("PING answered %q, want \"+PONG\\r\\n\"", line)
	}
	return nil
}

// stop sends SIGTERM and expects exit code 0 within shutdownDeadline; otherwise the server is killed.
func (s *server) stop() error {
	select {
	case <-s.exited:
		return fmt.Errorf("server was no longer running before SIGTERM: %s", s.exitDescription())
	default:
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		s.kill()
		return fmt.Errorf("sending SIGTERM: %w", err)
	}
	start := time.Now()
	select {
	case <-s.exited:
		if code := s.cmd.ProcessState.ExitCode(); code != 0 {
			return fmt.Errorf("server ended after SIGTERM with %s, want exit code 0", s.exitDescription())
		}
		return nil
	case <-time.After(shutdownDeadline):
		s.kill()
		return fmt.Errorf("server still running %v after SIGTERM; killed with SIGKILL (%v)", shutdownDeadline, time.Since(start).Round(time.Millisecond))
	}
}

// kill sends SIGKILL and waits (bounded) until the process is gone.
func (s *server) kill() {
	select {
	case <-s.exited:
		return
	default:
	}
	_ = s.cmd.Process.Kill()
	select {
	case <-s.exited:
	case <-time.After(5 * time.Second):
		fmt.Fprintf(os.Stderr, "test-client: server pid %d did not go away after SIGKILL\n", s.cmd.Process.Pid)
	}
}

func (s *server) exitDescription() string {
	st := s.cmd.ProcessState
	if st == nil {
		return fmt.Sprintf("unknown state (%v)", s.waitErr)
	}
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return fmt.Sprintf("signal %v", ws.Signal())
	}
	return fmt.Sprintf("exit code %d", st.ExitCode())
}

func (s *server) printLog() {
	lines := s.log.lines()
	if len(lines) == 0 {
		fmt.Fprintf(os.Stderr, "test-client: the server printed nothing\n")
		return
	}
	fmt.Fprintf(os.Stderr, "test-client: last %d lines the server printed:\n", len(lines))
	for _, l := range lines {
		fmt.Fprintf(os.Stderr, "  | %s\n", l)
	}
}

// tailBuffer keeps the last max lines written to it (the server's stdout and stderr).
type tailBuffer struct {
	mu      sync.Mutex
	max     int
	partial string
	tail    []string
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	parts := strings.Split(t.partial+string(p), "\n")
	t.partial = parts[len(parts)-1]
	if len(t.partial) > 4096 {
		t.partial = t.partial[:4096]
	}
	for _, l := range parts[:len(parts)-1] {
		t.tail = append(t.tail, strings.TrimRight(l, "\r"))
	}
	if len(t.tail) > t.max {
		t.tail = append([]string(nil), t.tail[len(t.tail)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) lines() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := append([]string(nil), t.tail...)
	if t.partial != "" {
		out = append(out, t.partial)
	}
	return out
}

func quoteAll(argv []string) []string {
	out := make([]string, len(argv))
	for i, a := range argv {
		if a == "" || strings.ContainsAny(a, " \t'\"") {
			out[i] = fmt.Sprintf("%q", a)
		} else {
			out[i] = a
		}
	}
	return out
}
