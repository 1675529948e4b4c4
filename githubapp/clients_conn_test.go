package githubapp_test

import (
	"context"
	"sync"
	"testing"

	"github.com/pushvault/pushvault/githubapp"
	"github.com/pushvault/pushvault/githubapp/githubtest"
)

// TestClientsReuseConnections: workers calling GitHub at once, round after
// round, open as many connections as they make calls at once, then reuse
// them; none is dialled (on github.com, TLS-handshaken) per call.
func TestClientsReuseConnections(t *testing.T) {
	srv := githubtest.New(t)
	if err := srv.CreateRepo("acme", "shop", map[string]string{"README.md": "shop\n"}); err != nil {
		t.Fatal(err)
	}
	inst := srv.Install("acme")
	app := srv.App()
	clients, err := githubapp.NewClients(githubapp.ClientsConfig{AppID: app.ID, PrivateKey: app.PrivateKeyPEM, APIURL: srv.URL + "/"})
	if err != nil {
		t.Fatal(err)
	}
	gh, err := clients.Installation(inst)
	if err != nil {
		t.Fatal(err)
	}
	const workers, rounds = 8, 4
	for round := 0; round < rounds; round++ {
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, _, err := gh.Repositories.Get(context.Background(), "acme", "shop"); err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	}
	// At most one per worker, and one for the token request.
	if n := srv.Connections(); n > workers+1 {
		t.Errorf("%d rounds of %d calls at once opened %d connections, want at most %d", rounds, workers, n, workers+1)
	}
}
