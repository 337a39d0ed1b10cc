package crossproc_test

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/go-mtd/vat"
	"github.com/go-mtd/vat/pgstore"
	"github.com/go-mtd/vat/redislimit"
)

// The worker's environment.
const (
	envWorker    = "CROSSPROC_WORKER" // the worker's number; set only in workers
	envPG        = "CROSSPROC_PG"
	envRedis     = "CROSSPROC_REDIS"
	envSim       = "CROSSPROC_SIM"
	envClient    = "CROSSPROC_CLIENT" // client ID and secret, space-separated
	envKey       = "CROSSPROC_KEY"    // hex
	envUsers     = "CROSSPROC_USERS"  // user key=VRN, space-separated
	envRate      = "CROSSPROC_RATE"
	envGoroutine = "CROSSPROC_GOROUTINES"
)

// report is what a worker answers to each command, one JSON line.
type report struct {
	Worker  int      `json:"worker"`
	OK      int      `json:"ok"`
	Errors  []string `json:"errors,omitempty"`
	SignIn  int      `json:"signin"`  // errors asking the user to sign in again
	Slots   []int64  `json:"slots"`   // limiter slots, µs on Redis's clock
	Holding bool     `json:"holding"` // the lock asked for is held
}

// workerMain runs a worker: it reads commands on stdin, one a line, and
// answers each with a report on stdout.
//
//	run N   each goroutine makes N calls, spread over the users
//	hold U  take user U's lock and keep it
func workerMain() int {
	fail := func(err error) int {
		fmt.Fprintln(os.Stderr, "worker:", err)
		return 1
	}
	id, _ := strconv.Atoi(os.Getenv(envWorker))
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, os.Getenv(envPG))
	if err != nil {
		return fail(err)
	}
	defer pool.Close()
	secret, err := hex.DecodeString(os.Getenv(envKey))
	if err != nil {
		return fail(err)
	}
	store, err := pgstore.New(ctx, pool, pgstore.WithKeys(pgstore.Key{ID: "k1", Secret: secret}), pgstore.WithLockTimeout(10*time.Second))
	if err != nil {
		return fail(err)
	}
	rc := redis.NewClient(&redis.Options{Addr: os.Getenv(envRedis), MaxRetries: -1, DialTimeout: time.Second})
	defer rc.Close()
	rate, _ := strconv.ParseFloat(os.Getenv(envRate), 64)
	var mu sync.Mutex
	var slots []int64
	lim, err := redislimit.New(rc, "crossproc", rate, redislimit.WithGrantHook(func(at time.Time, _ bool) {
		mu.Lock()
		slots = append(slots, at.UnixMicro())
		mu.Unlock()
	}))
	if err != nil {
		return fail(err)
	}
	sim := os.Getenv(envSim)
	idSecret := strings.Fields(os.Getenv(envClient))
	oc, err := vat.NewOAuthConfig(vat.Sandbox, vat.OAuthApp{ClientID: idSecret[0], ClientSecret: idSecret[1], RedirectURL: "http://localhost:8080/callback"})
	if err != nil {
		return fail(err)
	}
	oc.Endpoint.AuthURL, oc.Endpoint.TokenURL = sim+"/oauth/authorize", sim+"/oauth/token"
	type account struct {
		key    string
		vrn    vat.VRN
		client *vat.Client
	}
	var accounts []*account
	for _, kv := range strings.Fields(os.Getenv(envUsers)) {
		k, v, _ := strings.Cut(kv, "=")
		ts, err := vat.NewUserTokenSource(oc, store.User(k))
		if err != nil {
			return fail(err)
		}
		c, err := vat.NewClient(vat.WithBaseURL(sim), vat.WithTokenSource(ts), vat.WithRateLimiter(lim))
		if err != nil {
			return fail(err)
		}
		accounts = append(accounts, &account{key: k, vrn: vat.VRN(v), client: c})
	}
	goroutines, _ := strconv.Atoi(os.Getenv(envGoroutine))

	in := bufio.NewScanner(os.Stdin)
	out := json.NewEncoder(os.Stdout)
	for in.Scan() {
		cmd, arg, _ := strings.Cut(in.Text(), " ")
		rep := report{Worker: id}
		switch cmd {
		case "hold":
			if _, err := store.User(arg).Lock(ctx); err != nil {
				rep.Errors = append(rep.Errors, err.Error())
			} else {
				rep.Holding = true
			}
		case "run":
			n, _ := strconv.Atoi(arg)
			var wg sync.WaitGroup
			var rmu sync.Mutex
			for g := range goroutines {
				wg.Go(func() {
					for k := range n {
						a := accounts[(id+g+k)%len(accounts)]
						cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
						_, err := a.client.Obligations(cctx, a.vrn, vat.ObligationsQuery{Status: vat.ObligationOpen})
						cancel()
						rmu.Lock()
						switch {
						case err == nil:
							rep.OK++
						case errors.Is(err, vat.ErrReauthorizationRequired):
							rep.SignIn++
							rep.Errors = append(rep.Errors, err.Error())
						default:
							rep.Errors = append(rep.Errors, err.Error())
						}
						rmu.Unlock()
					}
				})
			}
			wg.Wait()
		default:
			rep.Errors = append(rep.Errors, "unknown command "+cmd)
		}
		mu.Lock()
		rep.Slots, slots = slots, nil
		mu.Unlock()
		if err := out.Encode(rep); err != nil {
			return fail(err)
		}
	}
	return 0
}
