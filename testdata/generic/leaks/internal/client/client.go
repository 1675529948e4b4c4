package client

import "net/http"

const (
	defaultClientID     = "shop-web"
	defaultClientSecret = "l2f7P4baFrpF6UyBMIzLaak69iCS7Z1Y"
	tokenURL            = "https://auth.acme-corp.io/oauth/token"
)

// New returns a client for the orders API.
func New() *Client {
	return &Client{http: http.DefaultClient, apiToken: "436193e9af7462453559eabbb349db325b1793d4"}
}
