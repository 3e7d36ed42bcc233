package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// A check returns a short detail for its PASS line, or the first mismatch.
type check struct {
	name string
	run  func(ctx context.Context, addr string) (string, error)
}

var checks = []check{
	{"1 set-get-original-example", checkOriginalExample},
	{"2 set-get-default-options", checkDefaultOptions},
	{"3 get-missing-is-nil", checkGetMissing},
	{"4 concurrent-set-get", checkConcurrent},
	{"5 pipeline-1000", checkPipeline},
	{"6a set-ex-expires", checkSetEX},
	{"6b set-px-expires", checkSetPX},
	{"6c exists-del", checkExistsDel},
	{"6d ping-echo", checkPingEcho},
	{"6e setnx-setargs-nx-get", checkSetNXAndGet},
	{"6f select-db-3", checkSelectDB},
	{"6g client-name", checkClientName},
	{"7 pubsub", checkPubSub},
}

func runChecks(ctx context.Context, r *reporter, addr string) {
	for _, c := range checks {
		if err := ctx.Err(); err != nil {
			r.fail(c.name, fmt.Errorf("not run: %w", context.Cause(ctx)))
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, checkDeadline)
		detail, err := c.run(cctx, addr)
		cancel()
		if err != nil {
			r.fail(c.name, err)
		} else {
			r.pass(c.name, detail)
		}
	}
}

// newClient is a client with retries off, so a dropped connection or a bad reply shows up instead of
// being retried away; mod adjusts the options per check.
func newClient(addr string, mod func(*redis.Options)) *redis.Client {
	opt := &redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: 3 * time.Second}
	if mod != nil {
		mod(opt)
	}
	return redis.NewClient(opt)
}

// 1. The example from the original project's README, with client identity (CLIENT SETINFO) turned off.
func checkOriginalExample(ctx context.Context, addr string) (string, error) {
	rdb := redis.NewClient(&redis.Options{
		Addr:             addr,
		Password:         "",
		DB:               0,
		DisableIndentity: true, //nolint:staticcheck // the spelling the original example uses
	})
	defer rdb.Close()
	rec := &commandRecorder{}
	rdb.AddHook(rec)
	if err := rdb.Set(ctx, "foo", "bar", 0).Err(); err != nil {
		return "", fmt.Errorf("SET foo bar: %w", err)
	}
	val, err := rdb.Get(ctx, "foo").Result()
	if err != nil {
		return "", fmt.Errorf("GET foo: %w", err)
	}
	if val != "bar" {
		return "", fmt.Errorf("GET foo = %q, want \"bar\"", val)
	}
	if sent := rec.findAll("client", "setinfo"); len(sent) > 0 {
		return "", fmt.Errorf("DisableIndentity is set, yet go-redis sent %s", sent[0].String())
	}
	return `SET foo bar, GET foo = "bar"`, nil
}

// 2. Default options: go-redis sends HELLO 3 and CLIENT SETINFO on every new connection and quietly
// falls back to RESP2 when they fail, so a hook records them and the check insists they succeeded.
func checkDefaultOptions(ctx context.Context, addr string) (string, error) {
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	rec := &commandRecorder{}
	rdb.AddHook(rec)

	if err := rdb.Set(ctx, "tc:default:key", "value-with-defaults", 0).Err(); err != nil {
		return "", fmt.Errorf("SET: %w (connection setup: %s)", err, rec.describe())
	}
	val, err := rdb.Get(ctx, "tc:default:key").Result()
	if err != nil {
		return "", fmt.Errorf("GET: %w (connection setup: %s)", err, rec.describe())
	}
	if val != "value-with-defaults" {
		return "", fmt.Errorf("GET = %q, want \"value-with-defaults\"", val)
	}

	hello := rec.find("hello")
	if hello == nil {
		return "", fmt.Errorf("go-redis sent no HELLO (commands seen: %s)", rec.describe())
	}
	if err := hello.Err(); err != nil {
		return "", fmt.Errorf("%s failed: %w (go-redis fell back to RESP2)", hello.String(), err)
	}
	helloCmd, ok := hello.(*redis.MapStringInterfaceCmd)
	if !ok {
		return "", fmt.Errorf("HELLO came back as %T", hello)
	}
	reply := helloCmd.Val()
	if proto, _ := reply["proto"].(int64); proto != 3 {
		return "", fmt.Errorf("HELLO 3 replied proto=%v (%T), want 3; full reply %v", reply["proto"], reply["proto"], reply)
	}
	// CLIENT SETINFO is Redis 7.2; Redis 7.0 answers "ERR unknown subcommand 'setinfo'...". go-redis
	// ignores an error reply here but drops the connection on anything else, so either OK or an error
	// reply passes, as long as the connection then works (the SET/GET above).
	setinfo := rec.findAll("client", "setinfo")
	if len(setinfo) != 2 {
		return "", fmt.Errorf("saw %d CLIENT SETINFO commands, want 2 (LIB-NAME, LIB-VER); commands seen: %s", len(setinfo), rec.describe())
	}
	outcomes := make([]string, 0, len(setinfo))
	for _, c := range setinfo {
		args := c.Args()
		field := fmt.Sprint(args[2])
		var redisErr redis.Error
		switch err := c.Err(); {
		case err == nil:
			outcomes = append(outcomes, field+" OK")
		case errors.As(err, &redisErr):
			outcomes = append(outcomes, fmt.Sprintf("%s -> error reply %q", field, err.Error()))
		default:
			return "", fmt.Errorf("%s: %w (not a reply; go-redis drops the connection)", c.String(), err)
		}
	}
	if rest := rec.findAll("client", "maint_notifications"); len(rest) > 0 {
		if err := rest[0].Err(); err != nil {
			outcomes = append(outcomes, fmt.Sprintf("CLIENT MAINT_NOTIFICATIONS -> error reply %q", err.Error()))
		}
	}
	return fmt.Sprintf("HELLO 3 -> proto 3 (server=%v version=%v); CLIENT SETINFO %s; SET/GET OK",
		reply["server"], reply["version"], strings.Join(outcomes, ", ")), nil
}

// 3. GET of a missing key is redis.Nil, in RESP3 (`_`) and in RESP2 (`$-1`).
func checkGetMissing(ctx context.Context, addr string) (string, error) {
	for _, proto := range []int{3, 2} {
		rdb := newClient(addr, func(o *redis.Options) { o.Protocol = proto })
		_, err := rdb.Get(ctx, "tc:missing:never-set").Result()
		rdb.Close()
		if !errors.Is(err, redis.Nil) {
			return "", fmt.Errorf("RESP%d: GET missing key: err = %v, want redis.Nil", proto, err)
		}
	}
	return "redis.Nil with RESP3 and RESP2", nil
}

// 4. 50 goroutines, 1000 SET+GET each on their own keys, every value checked.
func checkConcurrent(ctx context.Context, addr string) (string, error) {
	const goroutines, perGoroutine = 50, 1000
	rdb := newClient(addr, func(o *redis.Options) { o.PoolSize = goroutines })
	defer rdb.Close()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	start := time.Now()
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < perGoroutine && ctx.Err() == nil; i++ {
				key := fmt.Sprintf("tc:conc:g%02d:i%04d", g, i)
				want := fmt.Sprintf("value-g%02d-i%04d", g, i)
				if err := rdb.Set(ctx, key, want, 0).Err(); err != nil {
					cancel(fmt.Errorf("goroutine %d: SET %s: %w", g, key, err))
					return
				}
				got, err := rdb.Get(ctx, key).Result()
				if err != nil {
					cancel(fmt.Errorf("goroutine %d: GET %s: %w", g, key, err))
					return
				}
				if got != want {
					cancel(fmt.Errorf("goroutine %d: GET %s = %q, want %q", g, key, got, want))
					return
				}
			}
		}(g)
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return "", err
	}
	return fmt.Sprintf("%d goroutines x %d SET+GET in %v", goroutines, perGoroutine, time.Since(start).Round(time.Millisecond)), nil
}

// 5. One pipeline of 1000 commands: SET k_i, GET k_i alternating, so order matters, every reply checked.
func checkPipeline(ctx context.Context, addr string) (string, error) {
	const pairs = 500
	rdb := newClient(addr, nil)
	defer rdb.Close()

	pipe := rdb.Pipeline()
	sets := make([]*redis.StatusCmd, pairs)
	gets := make([]*redis.StringCmd, pairs)
	for i := 0; i < pairs; i++ {
		key := fmt.Sprintf("tc:pipe:%03d", i)
		sets[i] = pipe.Set(ctx, key, fmt.Sprintf("pipelined-%03d", i), 0)
		gets[i] = pipe.Get(ctx, key)
	}
	if n := pipe.Len(); n != 2*pairs {
		return "", fmt.Errorf("pipeline holds %d commands, want %d", n, 2*pairs)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return "", fmt.Errorf("EXEC of the pipeline: %w", err)
	}
	for i := 0; i < pairs; i++ {
		if got, err := sets[i].Result(); err != nil || got != "OK" {
			return "", fmt.Errorf("command %d (SET tc:pipe:%03d): %q, %v; want OK", 2*i, i, got, err)
		}
		want := fmt.Sprintf("pipelined-%03d", i)
		if got, err := gets[i].Result(); err != nil || got != want {
			return "", fmt.Errorf("command %d (GET tc:pipe:%03d): %q, %v; want %q", 2*i+1, i, got, err, want)
		}
	}
	return fmt.Sprintf("%d SET + %d GET in one pipeline, all replies in order", pairs, pairs), nil
}

// 6a. Set(ctx, k, v, time.Second) sends SET k v EX 1: the key is there at once and gone after a second.
func checkSetEX(ctx context.Context, addr string) (string, error) {
	return checkExpiry(ctx, addr, "tc:ttl:ex", time.Second)
}

// 6b. A duration that is not whole seconds makes go-redis send PX.
func checkSetPX(ctx context.Context, addr string) (string, error) {
	return checkExpiry(ctx, addr, "tc:ttl:px", 300*time.Millisecond)
}

func checkExpiry(ctx context.Context, addr, key string, ttl time.Duration) (string, error) {
	rdb := newClient(addr, nil)
	defer rdb.Close()
	start := time.Now()
	cmd := rdb.Set(ctx, key, "expiring", ttl)
	if err := cmd.Err(); err != nil {
		return "", fmt.Errorf("%s: %w", cmd.String(), err)
	}
	if n, err := rdb.Exists(ctx, key).Result(); err != nil || n != 1 {
		return "", fmt.Errorf("EXISTS right after %s = %d, %v; want 1", cmd.Args(), n, err)
	}
	if v, err := rdb.Get(ctx, key).Result(); err != nil || v != "expiring" {
		return "", fmt.Errorf("GET right after %s = %q, %v; want \"expiring\"", cmd.Args(), v, err)
	}
	// Poll until it is gone: not before ttl (less a margin for the server's clock granularity), and no
	// later than ttl + 1.5 s.
	limit := ttl + 1500*time.Millisecond
	for attempt := 0; attempt < 200; attempt++ {
		n, err := rdb.Exists(ctx, key).Result()
		if err != nil {
			return "", fmt.Errorf("EXISTS while waiting for expiry: %w", err)
		}
		elapsed := time.Since(start)
		if n == 0 {
			if elapsed < ttl-100*time.Millisecond {
				return "", fmt.Errorf("key from %s vanished after only %v", cmd.Args(), elapsed.Round(time.Millisecond))
			}
			if _, err := rdb.Get(ctx, key).Result(); !errors.Is(err, redis.Nil) {
				return "", fmt.Errorf("EXISTS is 0 but GET of the expired key: err = %v, want redis.Nil", err)
			}
			return fmt.Sprintf("%v: present at once, gone after %v", cmd.Args(), elapsed.Round(10*time.Millisecond)), nil
		}
		if elapsed > limit {
			return "", fmt.Errorf("key from %s still exists after %v", cmd.Args(), elapsed.Round(time.Millisecond))
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return "", fmt.Errorf("key from %s did not expire within the polling budget", cmd.Args())
}

// 6c. EXISTS counts every key argument (duplicates too); DEL returns how many keys it removed.
func checkExistsDel(ctx context.Context, addr string) (string, error) {
	rdb := newClient(addr, nil)
	defer rdb.Close()
	for _, k := range []string{"tc:del:a", "tc:del:b", "tc:del:c"} {
		if err := rdb.Set(ctx, k, "x", 0).Err(); err != nil {
			return "", fmt.Errorf("SET %s: %w", k, err)
		}
	}
	steps := []struct {
		what string
		cmd  func() *redis.IntCmd
		want int64
	}{
		{"EXISTS a b c missing", func() *redis.IntCmd { return rdb.Exists(ctx, "tc:del:a", "tc:del:b", "tc:del:c", "tc:del:missing") }, 3},
		{"EXISTS a a", func() *redis.IntCmd { return rdb.Exists(ctx, "tc:del:a", "tc:del:a") }, 2},
		{"DEL a b missing", func() *redis.IntCmd { return rdb.Del(ctx, "tc:del:a", "tc:del:b", "tc:del:missing") }, 2},
		{"EXISTS a b c", func() *redis.IntCmd { return rdb.Exists(ctx, "tc:del:a", "tc:del:b", "tc:del:c") }, 1},
		{"DEL a b", func() *redis.IntCmd { return rdb.Del(ctx, "tc:del:a", "tc:del:b") }, 0},
		{"DEL c c", func() *redis.IntCmd { return rdb.Del(ctx, "tc:del:c", "tc:del:c") }, 1},
		{"EXISTS c", func() *redis.IntCmd { return rdb.Exists(ctx, "tc:del:c") }, 0},
	}
	for _, s := range steps {
		got, err := s.cmd().Result()
		if err != nil {
			return "", fmt.Errorf("%s: %w", s.what, err)
		}
		if got != s.want {
			return "", fmt.Errorf("%s = %d, want %d", s.what, got, s.want)
		}
	}
	return fmt.Sprintf("%d EXISTS/DEL counts as Redis gives them", len(steps)), nil
}

// 6d. PING and ECHO, including an empty and a binary message.
func checkPingEcho(ctx context.Context, addr string) (string, error) {
	rdb := newClient(addr, nil)
	defer rdb.Close()
	if got, err := rdb.Ping(ctx).Result(); err != nil || got != "PONG" {
		return "", fmt.Errorf("PING = %q, %v; want PONG", got, err)
	}
	for _, msg := range []string{"hello world", "", "bin\r\n\x00\xff"} {
		if got, err := rdb.Echo(ctx, msg).Result(); err != nil || got != msg {
			return "", fmt.Errorf("ECHO %q = %q, %v", msg, got, err)
		}
	}
	return "PING = PONG, ECHO of plain, empty and binary messages", nil
}

// 6e. SETNX semantics through SetNX and through SetArgs{Mode: "NX", Get: true} (Redis 7 allows NX+GET).
func checkSetNXAndGet(ctx context.Context, addr string) (string, error) {
	rdb := newClient(addr, nil)
	defer rdb.Close()

	if ok, err := rdb.SetNX(ctx, "tc:nx:a", "first", 0).Result(); err != nil || !ok {
		return "", fmt.Errorf("SET tc:nx:a first NX on a new key = %v, %v; want true", ok, err)
	}
	if ok, err := rdb.SetNX(ctx, "tc:nx:a", "second", 0).Result(); err != nil || ok {
		return "", fmt.Errorf("SET tc:nx:a second NX on an existing key = %v, %v; want false", ok, err)
	}
	if v, err := rdb.Get(ctx, "tc:nx:a").Result(); err != nil || v != "first" {
		return "", fmt.Errorf("GET after the refused SETNX = %q, %v; want \"first\"", v, err)
	}
	if ok, err := rdb.SetNX(ctx, "tc:nx:ttl", "v", 10*time.Second).Result(); err != nil || !ok {
		return "", fmt.Errorf("SET tc:nx:ttl v EX 10 NX = %v, %v; want true", ok, err)
	}

	nxGet := redis.SetArgs{Mode: "NX", Get: true}
	// Missing key: it is set, and the old value is nil.
	if old, err := rdb.SetArgs(ctx, "tc:nx:b", "one", nxGet).Result(); !errors.Is(err, redis.Nil) {
		return "", fmt.Errorf("SET tc:nx:b one NX GET on a new key = %q, %v; want redis.Nil", old, err)
	}
	// Existing key: nothing changes, the reply is the current value.
	if old, err := rdb.SetArgs(ctx, "tc:nx:b", "two", nxGet).Result(); err != nil || old != "one" {
		return "", fmt.Errorf("SET tc:nx:b two NX GET on an existing key = %q, %v; want \"one\"", old, err)
	}
	if v, err := rdb.Get(ctx, "tc:nx:b").Result(); err != nil || v != "one" {
		return "", fmt.Errorf("GET after SET NX GET on an existing key = %q, %v; want \"one\"", v, err)
	}
	// Plain GET option: replaces and returns the old value.
	if old, err := rdb.SetArgs(ctx, "tc:nx:b", "three", redis.SetArgs{Get: true}).Result(); err != nil || old != "one" {
		return "", fmt.Errorf("SET tc:nx:b three GET = %q, %v; want \"one\"", old, err)
	}
	if v, err := rdb.Get(ctx, "tc:nx:b").Result(); err != nil || v != "three" {
		return "", fmt.Errorf("GET after SET GET = %q, %v; want \"three\"", v, err)
	}
	return "SetNX true/false, SET NX GET -> nil then old value, SET GET swaps", nil
}

// 6f. Options.DB makes go-redis SELECT 3 on each connection; its keys are apart from DB 0's.
func checkSelectDB(ctx context.Context, addr string) (string, error) {
	db3 := newClient(addr, func(o *redis.Options) { o.DB = 3 })
	defer db3.Close()
	db0 := newClient(addr, nil)
	defer db0.Close()
	const key = "tc:db:key"

	if err := db3.Set(ctx, key, "in-db3", 0).Err(); err != nil {
		return "", fmt.Errorf("DB 3: SET: %w", err)
	}
	if v, err := db0.Get(ctx, key).Result(); !errors.Is(err, redis.Nil) {
		return "", fmt.Errorf("DB 0: GET of a key set only in DB 3 = %q, %v; want redis.Nil", v, err)
	}
	if err := db0.Set(ctx, key, "in-db0", 0).Err(); err != nil {
		return "", fmt.Errorf("DB 0: SET: %w", err)
	}
	if v, err := db3.Get(ctx, key).Result(); err != nil || v != "in-db3" {
		return "", fmt.Errorf("DB 3: GET = %q, %v; want \"in-db3\"", v, err)
	}
	if v, err := db0.Get(ctx, key).Result(); err != nil || v != "in-db0" {
		return "", fmt.Errorf("DB 0: GET = %q, %v; want \"in-db0\"", v, err)
	}
	if n, err := db3.Del(ctx, key).Result(); err != nil || n != 1 {
		return "", fmt.Errorf("DB 3: DEL = %d, %v; want 1", n, err)
	}
	if v, err := db0.Get(ctx, key).Result(); err != nil || v != "in-db0" {
		return "", fmt.Errorf("DB 0: GET after DEL in DB 3 = %q, %v; want \"in-db0\"", v, err)
	}
	return "SELECT 3 via Options.DB, keys isolated from DB 0 both ways", nil
}

// 6g. Options.ClientName is sent at connect (HELLO ... SETNAME and CLIENT SETNAME); CLIENT GETNAME
// returns it, and nil on a connection without a name.
func checkClientName(ctx context.Context, addr string) (string, error) {
	for _, proto := range []int{3, 2} {
		name := fmt.Sprintf("test-client-resp%d", proto)
		named := newClient(addr, func(o *redis.Options) { o.Protocol = proto; o.ClientName = name })
		got, err := named.ClientGetName(ctx).Result()
		named.Close()
		if err != nil || got != name {
			return "", fmt.Errorf("RESP%d: CLIENT GETNAME with ClientName %q = %q, %v", proto, name, got, err)
		}
	}
	anon := newClient(addr, nil)
	defer anon.Close()
	if got, err := anon.ClientGetName(ctx).Result(); !errors.Is(err, redis.Nil) {
		return "", fmt.Errorf("CLIENT GETNAME without a name = %q, %v; want redis.Nil", got, err)
	}
	return "CLIENT GETNAME = ClientName (RESP3 and RESP2), nil without a name", nil
}

// commandRecorder is a go-redis hook that keeps every command a client sends, including those it
// sends itself while setting up a connection (HELLO, CLIENT SETINFO), which it otherwise hides.
type commandRecorder struct {
	mu   sync.Mutex
	cmds []redis.Cmder
}

func (r *commandRecorder) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) { return next(ctx, network, addr) }
}

func (r *commandRecorder) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		r.mu.Lock()
		r.cmds = append(r.cmds, cmd)
		r.mu.Unlock()
		return err
	}
}

func (r *commandRecorder) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		r.mu.Lock()
		r.cmds = append(r.cmds, cmds...)
		r.mu.Unlock()
		return err
	}
}

// findAll returns the recorded commands whose first words are words (case-insensitive).
func (r *commandRecorder) findAll(words ...string) []redis.Cmder {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []redis.Cmder
	for _, c := range r.cmds {
		args := c.Args()
		if len(args) < len(words) {
			continue
		}
		match := true
		for i, w := range words {
			if !strings.EqualFold(fmt.Sprint(args[i]), w) {
				match = false
				break
			}
		}
		if match {
			out = append(out, c)
		}
	}
	return out
}

func (r *commandRecorder) find(words ...string) redis.Cmder {
	if all := r.findAll(words...); len(all) > 0 {
		return all[0]
	}
	return nil
}

func (r *commandRecorder) describe() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	parts := make([]string, 0, len(r.cmds))
	for _, c := range r.cmds {
		parts = append(parts, c.String())
	}
	return "[" + strings.Join(parts, "; ") + "]"
}
