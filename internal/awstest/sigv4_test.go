package awstest

import (
	"encoding/hex"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// TestSigV4Vectors checks the canonical request, string to sign and key
// derivation against published signatures: aws-sdk-go-v2's own signer
// test (aws/signer/v4/v4_test.go TestSignRequest, in the module cache),
// and the IAM ListUsers example of AWS's SigV4 documentation ("Create a
// signed AWS API request").
func TestSigV4Vectors(t *testing.T) {
	tests := []struct {
		name           string
		method, target string
		host           string
		headers        [][2]string
		body           string
		secret         string
		date, region   string
		service        string
		signed         string
		want           string
	}{{
		name:   "aws-sdk-go-v2 TestSignRequest",
		method: "POST", target: "/bucket/key-._~,!@#$%^&*()", host: "dynamodb.us-east-1.amazonaws.com",
		headers: [][2]string{
			{"X-Amz-Target", "prefix.Operation"},
			{"Content-Type", "application/x-amz-json-1.0"},
			{"X-Amz-Meta-Other-Header", "some-value=!@#$%^&* (+)"},
			{"X-Amz-Meta-Other-Header_With_Underscore", "some-value=!@#$%^&* (+)"},
			{"X-Amz-Meta-Other-Header_With_Underscore", "some-value=!@#$%^&* (+)"},
			{"X-Amz-Date", "19700101T000000Z"},
			{"X-Amz-Security-Token", "SESSION"},
		},
		body: "{}", secret: "SECRET", date: "19700101", region: "us-east-1", service: "dynamodb",
		signed: "content-length;content-type;host;x-amz-date;x-amz-meta-other-header;x-amz-meta-other-header_with_underscore;x-amz-security-token;x-amz-target",
		want:   "a518299330494908a70222cec6899f6f32f297f8595f6df1776d998936652ad9",
	}, {
		name:   "AWS documentation IAM ListUsers",
		method: "GET", target: "/?Action=ListUsers&Version=2010-05-08", host: "iam.amazonaws.com",
		headers: [][2]string{
			{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"},
			{"X-Amz-Date", "20150830T123600Z"},
		},
		secret: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", date: "20150830", region: "us-east-1", service: "iam",
		signed: "content-type;host;x-amz-date",
		want:   "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, "http://"+tc.host+"/", strings.NewReader(tc.body))
			r.RequestURI = tc.target
			_, rawQuery, _ := strings.Cut(tc.target, "?")
			r.URL.RawQuery = rawQuery
			r.Host = tc.host
			for _, h := range tc.headers {
				r.Header.Add(h[0], h[1])
			}
			canonical, err := canonicalRequest(r, []byte(tc.body), strings.Split(tc.signed, ";"))
			if err != nil {
				t.Fatal(err)
			}
			amzDate := r.Header.Get("X-Amz-Date")
			scope := tc.date + "/" + tc.region + "/" + tc.service + "/aws4_request"
			got := hex.EncodeToString(hmacSHA256(signingKey(tc.secret, tc.date, tc.region, tc.service), stringToSign(amzDate, scope, canonical)))
			if got != tc.want {
				t.Errorf("signature %s, want %s\ncanonical request:\n%s", got, tc.want, canonical)
			}
		})
	}
}

// TestSigV4RefusesWhatAWSRefuses signs GetCallerIdentity with
// aws-sdk-go-v2's signer and checks the stand-in answers as STS does: the
// issued key works; an unknown key, a wrong secret, a request signed for
// another region, and a clock 6 minutes off are refused with AWS's codes.
func TestSigV4RefusesWhatAWSRefuses(t *testing.T) {
	var offset time.Duration
	s := New(t, WithClock(func() time.Time { return time.Now().Add(offset) }))
	good := newUserWithKey(t, s, "alice")

	out, err := stsClient(s, good).GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("GetCallerIdentity with an issued key: %v", err)
	}
	if want := "arn:aws:iam::" + DefaultAccount + ":user/alice"; aws.ToString(out.Arn) != want || aws.ToString(out.Account) != DefaultAccount {
		t.Errorf("caller %s in %s, want %s in %s", aws.ToString(out.Arn), aws.ToString(out.Account), want, DefaultAccount)
	}

	wrongSecret := good
	wrongSecret.SecretAccessKey = strings.Repeat("x", 40)
	unknown := Credentials{AccessKeyID: "AKIA" + strings.Repeat("Q", 16), SecretAccessKey: good.SecretAccessKey}
	otherRegion := stsClient(s, good)
	tests := []struct {
		name   string
		client *sts.Client
		skew   time.Duration
		want   string
	}{
		{"unknown key", stsClient(s, unknown), 0, "InvalidClientTokenId"},
		{"wrong secret", stsClient(s, wrongSecret), 0, "SignatureDoesNotMatch"},
		{"another region", sts.NewFromConfig(sdkConfig(s, good), func(o *sts.Options) {
			o.BaseEndpoint = aws.String(s.URL)
			o.Region = "eu-west-3"
		}), 0, "SignatureDoesNotMatch"},
		{"server clock 6 min ahead", otherRegion, 6 * time.Minute, "SignatureDoesNotMatch"},
		{"server clock 6 min behind", otherRegion, -6 * time.Minute, "SignatureDoesNotMatch"},
		{"server clock 4 min ahead", otherRegion, 4 * time.Minute, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			offset = tc.skew
			defer func() { offset = 0 }()
			_, err := tc.client.GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{})
			if got := errorCode(t, err); got != tc.want {
				t.Errorf("error code %q, want %q (%v)", got, tc.want, err)
			}
			if err != nil && strings.Contains(err.Error(), good.SecretAccessKey) {
				t.Error("the error shows the secret access key")
			}
		})
	}
}
