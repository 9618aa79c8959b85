// Command clientv3check runs one check of etcd's own Go client (go.etcd.io/etcd/clientv3, v3.4 as Debian packages it)
// against an etcd v3 endpoint: RaftKv in tests/RaftKv.EndToEnd.Tests/Etcd/Clients/GoClientV3Tests.cs, and etcd 3.4
// by hand to prove a check right. It prints "ok <check>" and exits 0, or prints what differed and exits 1.
//
// Built in GOPATH mode against Debian's packages (no module download):
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o clientv3check .
//
// Keys are written under go/<check>/<random>/ and deleted at the end, so checks can share a cluster.
package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"io/ioutil"
	"math/rand"
	"os"
	"sort"
	"strings"
	"time"

	"go.etcd.io/etcd/clientv3"
	"go.etcd.io/etcd/pkg/transport"
	"go.uber.org/zap"
	"google.golang.org/grpc/grpclog"
)

// env is what every check gets: a client on the endpoints, a key prefix of its own, and the flags.
type env struct {
	cli       *clientv3.Client
	endpoints []string
	pfx       string
	seconds   int
	until     string
	proxied   bool
	seed      int64
	tls       *tls.Config
	user      string
	password  string
	newClient func(user, password string) (*clientv3.Client, error)
}

var checks = map[string]func(ctx context.Context, e *env) error{
	"kv":              checkKv,
	"kv-errors":       checkKvErrors,
	"txn":             checkTxn,
	"watch":           checkWatch,
	"watch-compacted": checkWatchCompacted,
	"lease":           checkLease,
	"kube":            checkKube,
	"mutex":           checkMutex,
	"election":        checkElection,
	"stm":             checkStm,
	"leasing":         checkLeasing,
	"namespace":       checkNamespace,
	"ordering":        checkOrdering,
	"mirror":          checkMirror,
	"maintenance":     checkMaintenance,
	"auth":            checkAuth,
	"failover":        checkFailover,
}

func main() {
	endpoints := flag.String("endpoints", "127.0.0.1:2379", "comma-separated endpoints")
	cacert := flag.String("cacert", "", "CA file (TLS)")
	user := flag.String("user", "", "user name (auth)")
	password := flag.String("password", "", "password (auth)")
	seconds := flag.Int("seconds", 20, "how long the auth check works across token expiry; the failover check's cap")
	prefix := flag.String("prefix", "", "the key prefix (default go/CHECK/RANDOM/)")
	proxied := flag.Bool("proxied", false, "the endpoint is etcd's grpc-proxy, which does not pass watch progress requests on")
	seed := flag.Int64("seed", 0, "the random seed (default: from the clock; printed to stderr either way)")
	until := flag.String("until", "", "the failover check writes until this file exists (or -seconds pass)")
	flag.Parse()
	if flag.NArg() != 1 || checks[flag.Arg(0)] == nil {
		names := make([]string, 0, len(checks))
		for n := range checks {
			names = append(names, n)
		}
		sort.Strings(names)
		fmt.Fprintf(os.Stderr, "usage: clientv3check [flags] CHECK\nchecks: %s\n", strings.Join(names, " "))
		os.Exit(2)
	}
	grpclog.SetLoggerV2(grpclog.NewLoggerV2(ioutil.Discard, ioutil.Discard, os.Stderr))
	name := flag.Arg(0)

	var tlsConfig *tls.Config
	if *cacert != "" {
		info := transport.TLSInfo{TrustedCAFile: *cacert}
		c, err := info.ClientConfig()
		if err != nil {
			fail(name, "tls: %v", err)
		}
		tlsConfig = c
	}
	eps := strings.Split(*endpoints, ",")
	newClient := func(u, p string) (*clientv3.Client, error) {
		return clientv3.New(clientv3.Config{
			Endpoints:   eps,
			DialTimeout: 10 * time.Second,
			TLS:         tlsConfig,
			Username:    u,
			Password:    p,
			LogConfig:   &zap.Config{Level: zap.NewAtomicLevelAt(zap.WarnLevel), Encoding: "console", OutputPaths: []string{"stderr"}, ErrorOutputPaths: []string{"stderr"}},
		})
	}
	cli, err := newClient(*user, *password)
	if err != nil {
		fail(name, "connect: %v", err)
	}
	defer cli.Close()

	if *seed == 0 {
		*seed = time.Now().UnixNano()
	}
	fmt.Fprintf(os.Stderr, "seed %d (rerun with -seed %d)\n", *seed, *seed)
	rand.Seed(*seed)
	pfx := *prefix
	if pfx == "" {
		pfx = fmt.Sprintf("go/%s/%08x/", name, rand.Uint32())
	}
	e := &env{cli: cli, endpoints: eps, pfx: pfx, seconds: *seconds, until: *until, proxied: *proxied, seed: *seed, tls: tlsConfig, user: *user, password: *password, newClient: newClient}
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(*seconds+150)*time.Second)
	defer cancel()
	err = checks[name](ctx, e)
	if _, derr := cli.Delete(context.Background(), e.pfx, clientv3.WithPrefix()); derr != nil && err == nil {
		err = fmt.Errorf("cleanup: %v", derr)
	}
	if err != nil {
		fail(name, "%v", err)
	}
	fmt.Printf("ok %s\n", name)
}

func fail(name, format string, args ...interface{}) {
	fmt.Printf("FAIL %s: %s\n", name, fmt.Sprintf(format, args...))
	os.Exit(1)
}

// expect turns a false condition into an error naming it.
func expect(ok bool, format string, args ...interface{}) error {
	if ok {
		return nil
	}
	return fmt.Errorf(format, args...)
}

// expectErr checks that err is exactly etcd's typed error want (clientv3 maps a status to its rpctypes error by the
// status's message, so a server whose message differs from etcd's fails here).
func expectErr(err, want error, what string) error {
	if err != want {
		return fmt.Errorf("%s: got error %v, want %v", what, err, want)
	}
	return nil
}

// eventually polls cond every 50 ms until it holds or ctx ends.
func eventually(ctx context.Context, timeout time.Duration, what string, cond func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		ok, err := cond()
		if err != nil {
			return fmt.Errorf("%s: %v", what, err)
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: not within %v", what, timeout)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %v", what, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// first returns the first error of errs.
func first(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
