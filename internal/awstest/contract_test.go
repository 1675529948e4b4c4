package awstest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/pushvault/pushvault/internal/awstest/contract"
)

// collecting is a stand-in whose violations are collected rather than
// failing the test: the contract tests make it break the contract.
func collecting(t *testing.T) (*Server, func() []error) {
	t.Helper()
	var mu sync.Mutex
	var got []error
	s, err := newServer(func(err error) {
		mu.Lock()
		got = append(got, err)
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	s.URL = ts.URL
	return s, func() []error {
		mu.Lock()
		defer mu.Unlock()
		return append([]error(nil), got...)
	}
}

// TestServedOperationsAreInTheModel: every operation the stand-in serves
// is one of AWS's model, so no handler answers a call AWS has not.
func TestServedOperationsAreInTheModel(t *testing.T) {
	s := New(t)
	for key := range s.handlers() {
		svc, op, _ := strings.Cut(key, ".")
		m, err := contract.Load(contract.Service(svc))
		if err != nil {
			t.Fatal(err)
		}
		if m.Op(op) == nil {
			t.Errorf("%s is served but not in AWS's %s model", op, svc)
		}
	}
}

// TestContractCatchesOffModelAnswers flips the OffModel fault switch on
// one operation of each protocol shape (an XML result, an XML answer
// without a result, a JSON answer) and checks that the answer check
// reports each as a violation naming the operation and the member, and
// that the client gets a server error, not the broken answer.
func TestContractCatchesOffModelAnswers(t *testing.T) {
	s, violations := collecting(t)
	admin := newUserWithKey(t, s, "admin")
	c := ctx(t)
	if _, err := smClient(s, admin).CreateSecret(c, &secretsmanager.CreateSecretInput{Name: aws.String("n"), SecretString: aws.String("v")}); err != nil {
		t.Fatal(err)
	}
	calls := []struct {
		op  string
		run func() error
	}{
		{"GetCallerIdentity", func() error {
			_, err := stsClient(s, admin).GetCallerIdentity(c, &sts.GetCallerIdentityInput{})
			return err
		}},
		{"UpdateAccessKey", func() error {
			_, err := iamClient(s, admin).UpdateAccessKey(c, &iam.UpdateAccessKeyInput{AccessKeyId: aws.String(admin.AccessKeyID), Status: types.StatusTypeActive})
			return err
		}},
		{"DescribeSecret", func() error {
			_, err := smClient(s, admin).DescribeSecret(c, &secretsmanager.DescribeSecretInput{SecretId: aws.String("n")})
			return err
		}},
	}
	for _, call := range calls {
		t.Run(call.op, func(t *testing.T) {
			if err := call.run(); err != nil {
				t.Fatalf("on-model answer: %v", err)
			}
			before := len(violations())
			s.Fault(Fault{Operation: call.op, Kind: OffModel})
			err := call.run()
			if code := errorCode(t, err); code != "ServiceFailure" && code != "InternalServiceError" {
				t.Errorf("off-model answer reached the client as %q", code)
			}
			v := violations()[before:]
			if len(v) != 1 {
				t.Fatalf("violations %v, want one", v)
			}
			var cv *contract.Violation
			if !errors.As(v[0], &cv) || cv.Operation != call.op || cv.Where != "response" || !strings.Contains(cv.Error(), "StandInExtra") {
				t.Errorf("violation %v does not name %s's response and the member", v[0], call.op)
			}
			if err := call.run(); err != nil {
				t.Errorf("after the fault: %v", err)
			}
			if n := len(violations()); n != before+1 {
				t.Errorf("%d violations after the fault is spent, want %d", n, before+1)
			}
		})
	}
}

// signedRequest signs a raw request with aws-sdk-go-v2's signer.
func signedRequest(t *testing.T, s *Server, creds Credentials, service, target, contentType string, body []byte) *http.Request {
	t.Helper()
	r, err := http.NewRequest(http.MethodPost, s.URL+"/", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Content-Type", contentType)
	if target != "" {
		r.Header.Set("X-Amz-Target", target)
	}
	sum := sha256.Sum256(body)
	region := s.Region()
	if service == "iam" {
		region = "us-east-1"
	}
	err = v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey}, r, hex.EncodeToString(sum[:]), service, region, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestContractRefusesOffModelRequests sends correctly signed requests
// that AWS's model refuses — an unknown member, a missing required one,
// a value of the wrong type, a wrong API version — and checks each is
// answered with the protocol's validation error and reported.
func TestContractRefusesOffModelRequests(t *testing.T) {
	tests := []struct {
		name, service, target, ctype, body string
		wantCode, wantProblem              string
	}{
		{"query unknown member", "iam", "", "application/x-www-form-urlencoded", "Action=ListAccessKeys&Version=2010-05-08&Bogus=1", "ValidationError", "Bogus: member Bogus not in the shape"},
		{"query missing required", "iam", "", "application/x-www-form-urlencoded", "Action=UpdateAccessKey&Version=2010-05-08&AccessKeyId=AKIAX", "ValidationError", "Status: required member missing"},
		{"query wrong type", "iam", "", "application/x-www-form-urlencoded", "Action=ListAccessKeys&Version=2010-05-08&MaxItems=many", "ValidationError", "MaxItems: not an integer"},
		{"query wrong version", "sts", "", "application/x-www-form-urlencoded", "Action=GetCallerIdentity&Version=2010-05-08", "ValidationError", "Version"},
		{"json wrong type", "secretsmanager", "secretsmanager.DescribeSecret", "application/x-amz-json-1.1", `{"SecretId":5}`, "InvalidParameterException", "SecretId: not a string"},
		{"json unknown member", "secretsmanager", "secretsmanager.GetSecretValue", "application/x-amz-json-1.1", `{"SecretId":"a","Stage":"x"}`, "InvalidParameterException", "Stage: member not in the shape"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, violations := collecting(t)
			creds := newUserWithKey(t, s, "caller")
			resp, err := plain.Do(signedRequest(t, s, creds, tc.service, tc.target, tc.ctype, []byte(tc.body)))
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			buf.ReadFrom(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 400 || !strings.Contains(buf.String(), tc.wantCode) {
				t.Errorf("answered %d %s, want 400 %s", resp.StatusCode, buf.String(), tc.wantCode)
			}
			v := violations()
			if len(v) != 1 || !strings.Contains(v[0].Error(), tc.wantProblem) {
				t.Errorf("violations %v, want one naming %q", v, tc.wantProblem)
			}
		})
	}
}
