package main

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/pushvault/pushvault/githubapp"
	"github.com/pushvault/pushvault/internal/webhookload"
)

// Ack-under-attack figures: how many signed pings each phase sends, and
// the attack (internal/webhookload, as TestWebhookUnderSlowAndLargeRequests
// runs it).
const (
	ackPings       = 200
	slowHeaderConn = 100 // connections dribbling their headers
	slowBodyConn   = 2   // connections dribbling a body (each holds one of webhook.max_concurrent)
	floodClients   = 4   // clients posting unsigned 25 MiB bodies
)

// ackFigures are signed deliveries' ack latencies without and with the
// attack.
type ackFigures struct {
	quiet, attacked []measurement
	slow            *webhookload.Slowloris
	flood           *webhookload.Flood
}

// ackUnderAttack sends ackPings signed pings to serve's webhook one after
// another, then again while a slowloris client and an unsigned flood run,
// timing each from request to 202. Any other answer is an error.
func ackUnderAttack(addr string, secret []byte) (ackFigures, error) {
	url := "http://" + addr + "/webhook"
	client := &http.Client{Timeout: 10 * time.Second}
	f := ackFigures{
		slow: &webhookload.Slowloris{Addr: addr, HeaderConns: slowHeaderConn, BodyConns: slowBodyConn,
			BodyBytes: githubapp.DefaultMaxBody, Every: 100 * time.Millisecond},
		flood: &webhookload.Flood{URL: url, Clients: floodClients, Bytes: githubapp.DefaultMaxBody, Header: webhookload.Unsigned()},
	}
	var err error
	if f.quiet, err = pings(client, url, secret, "quiet"); err != nil {
		return f, err
	}
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, run := range []func(context.Context){f.slow.Run, f.flood.Run} {
		wg.Add(1)
		go func() { defer wg.Done(); run(ctx) }()
	}
	time.Sleep(500 * time.Millisecond) // the slow connections open
	f.attacked, err = pings(client, url, secret, "attacked")
	stop()
	wg.Wait()
	return f, err
}

// pings sends ackPings signed pings and times each.
func pings(client *http.Client, url string, secret []byte, phase string) ([]measurement, error) {
	var ms []measurement
	for i := 0; i < ackPings; i++ {
		status, took, err := webhookload.Ping(context.Background(), client, url, secret, fmt.Sprintf("bench-ack-%s-%d", phase, i))
		if err != nil {
			return nil, err
		}
		if status != http.StatusAccepted {
			return nil, fmt.Errorf("signed ping %d (%s): status %d, want 202", i, phase, status)
		}
		ms = append(ms, measurement{wall: took})
	}
	return ms, nil
}

// print writes the figures' one line.
func (f ackFigures) print() {
	answers, unanswered := f.flood.Answers()
	refused := unanswered
	for _, n := range answers {
		refused += n
	}
	fmt.Printf("\nsigned webhook ack p99: %.1f ms quiet, %.1f ms under slowloris (%d+%d slow connections) and an unsigned 25 MiB flood (%d clients, %d bodies refused); %d pings each, all 202\n",
		ms(percentile(f.quiet, 99)), ms(percentile(f.attacked, 99)), f.slow.HeaderConns, f.slow.BodyConns, f.flood.Clients, refused, ackPings)
}
