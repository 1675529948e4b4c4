package awstest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

// sdkConfig is an aws-sdk-go-v2 configuration signing with creds in the
// stand-in's region, without retries (a retry would hide what the
// stand-in answered first) and with a short timeout.
func sdkConfig(s *Server, creds Credentials) aws.Config {
	return aws.Config{
		Region:           s.Region(),
		Credentials:      credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken),
		RetryMaxAttempts: 1,
		HTTPClient:       &timeoutClient,
	}
}

var timeoutClient = awsHTTPClient{}

func stsClient(s *Server, creds Credentials) *sts.Client {
	return sts.NewFromConfig(sdkConfig(s, creds), func(o *sts.Options) { o.BaseEndpoint = aws.String(s.URL) })
}

func iamClient(s *Server, creds Credentials) *iam.Client {
	return iam.NewFromConfig(sdkConfig(s, creds), func(o *iam.Options) { o.BaseEndpoint = aws.String(s.URL) })
}

func smClient(s *Server, creds Credentials) *secretsmanager.Client {
	return secretsmanager.NewFromConfig(sdkConfig(s, creds), func(o *secretsmanager.Options) { o.BaseEndpoint = aws.String(s.URL) })
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// errorCode is the AWS error code of err, "" for nil, or fails t when
// err is not an AWS API error.
func errorCode(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("not an AWS API error: %v", err)
	}
	return ae.ErrorCode()
}

// newUserWithKey makes a user with one key.
func newUserWithKey(t *testing.T, s *Server, name string) Credentials {
	t.Helper()
	if _, err := s.CreateUser(name); err != nil {
		t.Fatal(err)
	}
	c, err := s.CreateAccessKey(name)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
