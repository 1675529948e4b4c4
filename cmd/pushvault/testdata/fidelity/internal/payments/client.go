// Package payments talks to Stripe.
package payments

import (
	"net/http"
	"time"
)

const apiBase = "https://api.stripe.com/v1"

var stripeSecretKey = "@@STRIPE@@"

// Client calls Stripe's API.
type Client struct {
	http *http.Client
	key  string
}

// New returns a client with a sane timeout.
func New() *Client {
	return &Client{http: &http.Client{Timeout: 10 * time.Second}, key: stripeSecretKey}
}

// Base is the API root.
func (c *Client) Base() string { return apiBase }
