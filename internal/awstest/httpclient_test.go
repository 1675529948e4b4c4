package awstest

import (
	"net/http"
	"time"
)

// awsHTTPClient is aws.HTTPClient over a plain client with a timeout.
type awsHTTPClient struct{}

var plain = &http.Client{Timeout: 20 * time.Second}

func (awsHTTPClient) Do(r *http.Request) (*http.Response, error) { return plain.Do(r) }
